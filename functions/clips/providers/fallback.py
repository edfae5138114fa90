"""A chain of clip providers ("kling,veo,local"): each scene tries the links in order; the first clip that
passes its checks wins, and the failures before it are kept on the clip's result."""

from __future__ import annotations

from pathlib import Path

from functions.clips.providers.base import ClipProvider
from shared.models import ClipRequest
from shared.progress import Reporter
from shared.providers.fallback import Usage, run_chain
from shared.providers.prices import ItemEstimate
from shared.store import ArtifactStore


class FallbackClipProvider:
    def __init__(self, links: list[ClipProvider]) -> None:
        self.links = links
        self.name = ",".join(link.name for link in links)
        # Until a link has rendered, a cached clip is measured leniently (it may come from a video model).
        self.exact = False
        self.usage: Usage | None = None

    def estimate(self, *, request: ClipRequest) -> ItemEstimate:
        costs = [link_estimate(link, request=request) for link in self.links]
        return ItemEstimate(expected=costs[0], worst=max(costs), provider=self.name)

    def render(self, *, request: ClipRequest, store: ArtifactStore, dest: Path, report: Reporter) -> None:
        def on_failure(attempt: object) -> None:
            # The item starts over with the next link: its progress does too.
            report(percent=0.0, message=f"{getattr(attempt, 'provider', '?')} failed: "
                                        f"{getattr(attempt, 'reason', '')}; trying the next provider")

        _, link, attempts = run_chain(
            links=self.links,
            label=lambda p: p.name,
            call=lambda p: p.render(request=request, store=store, dest=dest, report=report),
            stage="clips",
            on_failure=on_failure,
        )
        self.exact = link.exact
        used = getattr(link, "usage", None) or Usage(provider=link.name)
        self.usage = Usage(provider=used.provider,
                           cost_usd=round(used.cost_usd + sum(a.cost_usd for a in attempts), 6), attempts=attempts)


def link_estimate(provider: object, *, request: ClipRequest) -> float:
    estimate = getattr(provider, "estimate_usd", None)
    return float(estimate(request=request)) if estimate is not None else 0.0
