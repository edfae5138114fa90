"""What can go wrong when a cloud provider is called, one type per family.

The family decides what happens next: a transient failure is retried (shared/providers/retry.py); any failure
makes a fallback chain try its next link (shared/providers/fallback.py); a refusal or a rejected input is never
retried, because the same request gets the same answer. Messages are one line, never carry a key
(`redact`), and say which provider answered."""

from __future__ import annotations

from typing import Literal

from shared.errors import MomentLoopError, PicklesWhole
from shared.providers.keys import MissingKeyError, redact

FailureKind = Literal[
    "timeout", "rate_limited", "server", "refused", "invalid_input", "auth", "bad_output", "failed", "budget",
    "missing_key", "error",
]

_MAX_MESSAGE = 300


def one_line(text: str, *, limit: int = _MAX_MESSAGE) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class ProviderError(PicklesWhole, MomentLoopError):
    """A provider call failed. `provider` names the link (e.g. "replicate:kwaivgi/kling-v2.1")."""

    kind: FailureKind = "failed"
    transient = False
    spent_usd: float = 0.0
    """What the failed call was billed all the same (a generation whose output we refused)."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        kind: FailureKind | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        hint: str = "",
    ) -> None:
        self.detail = one_line(redact(message))
        super().__init__(f"{provider}: {self.detail}", hint=hint)
        self.provider = provider
        if kind is not None:
            self.kind = kind
        self.status = status
        self.retry_after = retry_after


class ProviderTransientError(ProviderError):
    """A timeout, a 429 or a 5xx: the same call may well succeed if tried again a little later."""

    kind: FailureKind = "server"
    transient = True


class ProviderRefusedError(ProviderError):
    """The provider's safety system refused the request or filtered its output. Never retried."""

    kind: FailureKind = "refused"


class ProviderInputError(ProviderError):
    """The provider rejected what we sent (bad parameters, unsupported size, bad credentials). Never retried."""

    kind: FailureKind = "invalid_input"


class ProviderOutputError(ProviderError):
    """The provider answered, but not with something we can use: malformed JSON, a download that does not
    decode, a clip of the wrong size or length."""

    kind: FailureKind = "bad_output"


class BudgetExceededError(MomentLoopError):
    """Going on would spend more than the job's budget. Raised before the spending call, never after."""

    def __init__(self, *, stage: str, needed: float, spent: float, budget: float) -> None:
        left = max(0.0, budget - spent)
        super().__init__(
            f"budget: {stage} could cost up to ${needed:.2f} but only ${left:.2f} of the ${budget:.2f} budget "
            f"is left (${spent:.2f} spent); stopped before spending it",
            hint="raise --budget, choose cheaper providers, or run with --dry-run to see the estimate",
        )
        self.stage = stage
        self.needed = needed
        self.spent = spent
        self.budget = budget


def failure_kind(exc: BaseException) -> FailureKind:
    """The family of any exception, for the record a fallback chain keeps."""
    if isinstance(exc, ProviderError):
        return exc.kind
    if isinstance(exc, MissingKeyError):
        return "missing_key"
    if isinstance(exc, BudgetExceededError):
        return "budget"
    return "error"


def failure_reason(exc: BaseException) -> str:
    """One line saying why, without the provider's name when the error already carries it."""
    if isinstance(exc, ProviderError):
        return exc.detail
    if isinstance(exc, MomentLoopError):
        return one_line(redact(str(exc)))
    return one_line(redact(f"{exc.__class__.__name__}: {exc}"))
