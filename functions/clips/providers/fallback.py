"""A chain of clip providers ("kling,veo,local"): each scene tries the links in order; the first clip that
passes its checks wins, and the failures before it are kept on the clip's result."""

from __future__ import annotations

from pathlib import Path

from functions.clips.providers.base import ClipProvider
from shared.models.base import ProviderAttempt
from shared.models.render import ClipRequest
from shared.progress import Reporter
from shared.providers.fallback import Chain, Usage
from shared.store import ArtifactStore


class FallbackClipProvider(Chain[ClipProvider]):
    stage = "clips"

    def __init__(self, links: list[ClipProvider]) -> None:
        super().__init__(links)
        # Until a link has rendered, a cached clip is measured leniently (it may come from a video model).
        self.exact = False
        self.usage: Usage | None = None

    def render(self, *, request: ClipRequest, store: ArtifactStore, dest: Path, report: Reporter) -> None:
        def on_failure(attempt: ProviderAttempt) -> None:
            # The item starts over with the next link: its progress does too.
            report(percent=0.0, message=f"{attempt.provider} failed: {attempt.reason}; trying the next provider")

        _, link, attempts = self.run(lambda p: p.render(request=request, store=store, dest=dest, report=report),
                                     on_failure=on_failure)
        self.exact = link.exact
        used = getattr(link, "usage", None) or Usage(provider=link.name)
        self.usage = Usage(provider=used.provider,
                           cost_usd=round(used.cost_usd + sum(a.cost_usd for a in attempts), 6), attempts=attempts)
