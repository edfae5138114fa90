"""Provider chains: "kling,veo,local" tries each link in order and keeps, for the job, why each one that
was passed over failed. Fallback is composition: a chain is itself a provider of its stage.

A link is `name` or `name:model` ("replicate:bytedance/seedance-1-pro-fast", "gemini:veo-3.1-generate-preview").
A budget stop is never absorbed by a chain: it ends the job."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Generic, Protocol, TypeVar

from shared.errors import OptionError
from shared.models.base import Frozen, ProviderAttempt
from shared.providers.errors import BudgetExceededError, ProviderError, failure_kind, failure_reason

log = logging.getLogger(__name__)

P = TypeVar("P")
R = TypeVar("R")


class Named(Protocol):
    """What every provider of every stage has: the name a chain and a job's record call it by."""

    name: str


N = TypeVar("N", bound=Named)


class Link(Frozen):
    name: str
    model: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name}:{self.model}" if self.model else self.name


def parse_chain(spec: str, *, aliases: dict[str, str] | None = None) -> list[Link]:
    """"a, b:model" → [Link(a), Link(b, model)]. `aliases` maps short names ("kling") to full links."""
    links: list[Link] = []
    for raw in spec.split(","):
        part = raw.strip()
        if not part:
            continue
        part = (aliases or {}).get(part, part)
        name, _, model = part.partition(":")
        if not name.strip():
            raise OptionError(f"provider {raw!r} has no name (expected NAME or NAME:MODEL)")
        links.append(Link(name=name.strip(), model=model.strip() or None))
    if not links:
        raise OptionError(f"no provider named in {spec!r}")
    return links


@dataclass
class Usage:
    """What one stage item's provider call did: which link answered, what it cost, who failed before it."""

    provider: str = "local"
    cost_usd: float = 0.0
    attempts: list[ProviderAttempt] = field(default_factory=list)


class ChainFailedError(ProviderError):
    """Every link of a chain failed; the message lists each link and why."""

    def __init__(self, *, attempts: list[ProviderAttempt], stage: str, last: BaseException) -> None:
        detail = "; ".join(f"{a.provider}: {a.reason}" for a in attempts)
        super().__init__(
            f"all {len(attempts)} providers failed ({detail})",
            provider=stage,
            kind=failure_kind(last),
            hint="see each provider's reason; add 'local' at the end of the chain to always get a result",
        )
        self.attempts = attempts


def run_chain(
    *,
    links: Sequence[P],
    label: Callable[[P], str],
    call: Callable[[P], R],
    stage: str,
    on_failure: Callable[[ProviderAttempt], None] | None = None,
) -> tuple[R, P, list[ProviderAttempt]]:
    """Call each link until one returns. Returns (result, the link that gave it, the failed attempts)."""
    attempts: list[ProviderAttempt] = []
    for i, link in enumerate(links):
        try:
            return call(link), link, attempts
        except BudgetExceededError:
            raise
        except Exception as exc:
            if len(links) == 1:
                raise
            attempt = ProviderAttempt(provider=label(link), kind=failure_kind(exc), reason=failure_reason(exc),
                                      cost_usd=float(getattr(exc, "spent_usd", 0.0)))
            attempts.append(attempt)
            nxt = label(links[i + 1]) if i + 1 < len(links) else None
            log.warning("%s: %s failed (%s: %s)%s", stage, attempt.provider, attempt.kind, attempt.reason,
                        f"; trying {nxt}" if nxt else "")
            if on_failure is not None:
                on_failure(attempt)
            if nxt is None:
                raise ChainFailedError(attempts=attempts, stage=stage, last=exc) from exc
    raise AssertionError("unreachable: a chain has at least one link")


class Chain(Generic[N]):
    """A stage's provider made of links tried in order: each stage's fallback provider is one, with the
    stage's own method calling `run`. Its name is its links' names, comma-separated."""

    stage: ClassVar[str]

    def __init__(self, links: list[N]) -> None:
        self.links = links
        self.name = ",".join(link.name for link in links)

    def run(self, call: Callable[[N], R], *, on_failure: Callable[[ProviderAttempt], None] | None = None
            ) -> tuple[R, N, list[ProviderAttempt]]:
        """`call` on each link until one returns: (its result, that link, the attempts that failed before it)."""
        return run_chain(links=self.links, label=lambda p: p.name, call=call, stage=self.stage, on_failure=on_failure)
