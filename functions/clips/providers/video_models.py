"""What each video model can make: its allowed lengths, shapes and sizes, and what a second costs.

A model is asked for the nearest allowed length: the shortest one needing at most `max_stretch` of
slow-motion (compose retimes it to the scene), else the shortest one at least as long as the clip
window (compose trims it), else the longest there is. Cuts stay on the beat whatever the model returns,
because compose fits every clip to its window by frame count."""

from __future__ import annotations

from pydantic import Field

from shared.models.base import Frozen
from shared.providers.prices import Price

MATCH_IMAGE = "match_image"
"""The output takes the first frame's shape (any ratio the model accepts)."""


def ratio_value(ratio: str) -> float:
    w, _, h = ratio.partition(":")
    return float(w) / float(h)


class VideoModel(Frozen):
    vendor: str
    model: str
    durations: list[float] = Field(description="Allowed lengths, seconds, ascending.")
    aspects: list[str] = Field(description="Shapes it returns, or [match_image].")
    resolutions: list[str]
    resolution: str = Field(description="The resolution we ask for.")
    short_side: int = Field(description="Pixels on the short side at `resolution`.")
    fps: int
    price: Price

    def choose_duration(self, *, needed: float, max_stretch: float) -> float:
        for d in self.durations:
            if d >= needed * (1.0 - max_stretch) - 1e-6:
                return d
        return self.durations[-1]

    def choose_aspect(self, *, output_aspect: str) -> str:
        """The shape to ask for: the output's own when the model has it (or follows the image), else the
        nearest one with the same orientation first (compose crops it to the output)."""
        if self.aspects == [MATCH_IMAGE] or output_aspect in self.aspects:
            return output_aspect
        import math

        target = math.log(ratio_value(output_aspect))
        return min(self.aspects, key=lambda a: abs(math.log(ratio_value(a)) - target))

    def frame_size(self, *, aspect: str) -> tuple[int, int]:
        """The first frame's pixel size for `aspect` at our resolution (even numbers)."""
        r = ratio_value(aspect)
        if r >= 1:
            h = self.short_side
            w = round(h * r / 2) * 2
        else:
            w = self.short_side
            h = round(w / r / 2) * 2
        return w, h

    def cost(self, *, seconds: float) -> float:
        return self.price.cost(seconds=seconds)


KLING = VideoModel(
    vendor="replicate", model="kwaivgi/kling-v2.1", durations=[5, 10], aspects=[MATCH_IMAGE],
    resolutions=["720p", "1080p"], resolution="720p", short_side=720, fps=24,
    price=Price(per_second=0.05, source="Replicate: kling-v2.1 standard (720p), $0.25 per 5 s (2025)"),
)
SEEDANCE = VideoModel(
    vendor="replicate", model="bytedance/seedance-1-pro-fast", durations=[float(s) for s in range(2, 13)],
    aspects=[MATCH_IMAGE], resolutions=["480p", "720p", "1080p"], resolution="720p", short_side=720, fps=24,
    price=Price(per_second=0.025, source="Replicate: seedance-1-pro-fast at 720p, about $0.025 per second (2025)"),
)
VEO = VideoModel(
    vendor="gemini", model="veo-3.1-generate-preview", durations=[4, 6, 8], aspects=["16:9", "9:16"],
    resolutions=["720p", "1080p"], resolution="720p", short_side=720, fps=24,
    price=Price(per_second=0.40, source="Gemini API: Veo 3.1 with audio, $0.40 per second (2025)"),
)
# openai 3.x marks the videos API deprecated: "The Sora API is scheduled to permanently shut down on
# September 24, 2026." That date has passed: accounts without access get an error that the fallback
# chain records before moving on ("sora,kling,local"), so keep sora out of default chains.
SORA = VideoModel(
    vendor="openai", model="sora-2", durations=[4, 8, 12], aspects=["9:16", "16:9"],
    resolutions=["720x1280", "1280x720"], resolution="720p", short_side=720, fps=30,
    price=Price(per_second=0.10, source="OpenAI: sora-2 at 720p, $0.10 per second (2025)"),
)

MODELS: dict[str, VideoModel] = {m.model: m for m in (KLING, SEEDANCE, VEO, SORA)}
DEFAULT_MODEL = {"replicate": KLING.model, "gemini": VEO.model, "openai": SORA.model}
ALIASES = {
    "kling": f"replicate:{KLING.model}",
    "seedance": f"replicate:{SEEDANCE.model}",
    "veo": f"gemini:{VEO.model}",
    "sora": f"openai:{SORA.model}",
}
