"""What turns a plan into pictures and the video: the style, clips and compose stages' requests and results."""

from __future__ import annotations

from pydantic import Field

from shared.models.base import Frozen, OutputSpec, ProviderAttempt
from shared.models.plan import Scene, ScenePlan


class StyleRequest(Frozen):
    image_key: str
    look: str
    provider: str = "local"
    max_side: int = 2048
    seed: int = 0


class StyledImage(Frozen):
    image_key: str
    look: str
    provider: str
    width: int
    height: int
    cost_usd: float = Field(default=0.0, ge=0, description="What painting it cost, US dollars.")
    attempts: list[ProviderAttempt] = Field(default_factory=list, description="Links that failed first.")


class FinalEncoding(Frozen):
    """The final video's libx264 settings. Pictures encoded with them (at the output's size and fps, by
    `shared.media.h264`) can be copied into the final video untouched."""

    preset: str = "medium"
    crf: int = Field(default=20, ge=0, le=51)


class ClipRequest(Frozen):
    """Render one scene. The clip runs `lead_in` seconds before the scene and `lead_out` after it,
    so that crossfades centred on the scene's boundaries have picture to blend."""

    image_key: str = Field(description="The styled image.")
    scene: Scene
    output: OutputSpec
    frames: int = Field(ge=1, description="Exact number of frames to render.")
    lead_in: float = Field(ge=0)
    lead_out: float = Field(ge=0)
    provider: str = "local"
    seed: int = 0
    head_frames: int = Field(default=0, ge=0, description="Leading frames compose blends with the previous clip.")
    tail_frames: int = Field(default=0, ge=0, description="Trailing frames compose blends with the next clip.")
    final: FinalEncoding | None = Field(
        default=None,
        description="When set, a provider that can writes the frames between head and tail (the body) with "
        "the final video's settings, and head and tail apart: compose then copies the body untouched.",
    )


class ClipResult(Frozen):
    clip_key: str = Field(description="The clip; only its body when `head_key` or `tail_key` hold its ends.")
    provider: str
    frames: int = Field(description="All of the clip's frames: head, body and tail.")
    duration: float = Field(gt=0, description="Measured from the encoded file.")
    width: int
    height: int
    fps: float
    cost_usd: float = Field(default=0.0, ge=0, description="What generating it cost, US dollars.")
    attempts: list[ProviderAttempt] = Field(default_factory=list, description="Links that failed first.")
    head_key: str | None = Field(default=None, description="The clip's first `head_frames` frames, apart.")
    head_frames: int = Field(default=0, ge=0)
    tail_key: str | None = Field(default=None, description="The clip's last `tail_frames` frames, apart.")
    tail_frames: int = Field(default=0, ge=0)
    final: FinalEncoding | None = Field(
        default=None, description="Set when `clip_key` was encoded with the final video's settings."
    )

    @property
    def body_frames(self) -> int:
        return self.frames - self.head_frames - self.tail_frames

    @property
    def part_keys(self) -> list[str]:
        """Every file of the clip, in frame order."""
        return [k for k in (self.head_key, self.clip_key, self.tail_key) if k is not None]


class ComposeRequest(Frozen):
    plan: ScenePlan
    clips: list[ClipResult]
    audio_key: str
    preset: str = "medium"
    crf: int = 20
    target_lufs: float = -14.0
    true_peak_db: float = -1.5


class ComposeResult(Frozen):
    video_key: str
    poster_key: str | None = None
    duration: float
    width: int
    height: int
    fps: float
    loudness_lufs: float | None = None
    copied_frames: int = Field(
        default=0, ge=0, description="Frames copied from clips already encoded at the final settings."
    )
