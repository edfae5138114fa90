"""Frame-exact windows of the clips: where each scene starts and ends on the output timeline, and how far
each clip reaches past its scene so that crossfades centred on the boundaries have picture to blend.

Boundary k sits on frame F_k = round(scene_k.start * fps) (F_0 = 0; the last boundary is the output's
total_frames). A crossfade at boundary k overlaps h_k frames on each side of it; a cut overlaps none.
Clip k spans output frames [F_k - h_k, F_{k+1} + h_{k+1}), so once the clips are chained (concat at cuts,
xfade of 2*h_k frames at crossfades) the result has exactly total_frames frames and every boundary lands
on the frame of its beat."""

from __future__ import annotations

from pydantic import Field

from shared.errors import StageError
from shared.models.base import Frozen
from shared.models.plan import ScenePlan, Transition


class ClipWindow(Frozen):
    """The stretch of output frames one clip must cover."""

    index: int = Field(ge=0, description="Index of the scene (and clip).")
    start_frame: int = Field(ge=0, description="First output frame the clip covers (lead-in included).")
    frames: int = Field(ge=1, description="Frames the clip must have: lead-in + scene + lead-out.")
    lead_in: float = Field(ge=0, description="Seconds of the clip before the scene starts.")
    lead_out: float = Field(ge=0, description="Seconds of the clip after the scene ends.")
    lead_in_frames: int = Field(ge=0, description="Frames blended with the previous clip (0: a cut).")
    lead_out_frames: int = Field(ge=0, description="Frames blended with the next clip (0: a cut).")
    scene_start_frame: int = Field(ge=0, description="F_k: the frame on the scene's beat.")
    scene_end_frame: int = Field(ge=1, description="F_{k+1}: the frame on the next scene's beat.")

    @property
    def end_frame(self) -> int:
        return self.start_frame + self.frames


def boundary_frames(*, plan: ScenePlan) -> list[int]:
    """F_0 .. F_n: the frame of every scene start, then the output's last frame boundary."""
    fps = plan.output.fps
    total = plan.output.total_frames
    bounds = [0] + [round(s.start * fps) for s in plan.scenes[1:]] + [total]
    for k in range(1, len(bounds)):
        if bounds[k] <= bounds[k - 1]:
            raise StageError(
                f"scene boundaries are not increasing at scene {k} "
                f"(frame {bounds[k]} after frame {bounds[k - 1]}, {total} frames in all)",
                stage="compose",
                hint="every scene must last at least one frame and end within the output duration",
            )
    return bounds


def overlap_frames(*, plan: ScenePlan, bounds: list[int]) -> list[int]:
    """h_0 .. h_n: frames each side of boundary k that its crossfade blends (0 at a cut and at both ends).

    A crossfade never takes more than half of either neighbouring scene, so the two crossfades of one
    scene never overlap each other; a scene too short for any blend gets a cut."""
    fps = plan.output.fps
    h = [0] * len(bounds)
    for k in range(1, len(plan.scenes)):
        scene = plan.scenes[k]
        if scene.transition_in != Transition.crossfade:
            continue
        wanted = max(1, round(scene.transition_seconds * fps / 2))
        room = min((bounds[k] - bounds[k - 1]) // 2, (bounds[k + 1] - bounds[k]) // 2)
        h[k] = min(wanted, room)
    return h


def clip_windows(*, plan: ScenePlan) -> list[ClipWindow]:
    """The window of every clip of `plan`, in scene order."""
    if not plan.scenes:
        raise StageError("the plan has no scenes", stage="compose")
    fps = plan.output.fps
    bounds = boundary_frames(plan=plan)
    h = overlap_frames(plan=plan, bounds=bounds)
    windows = []
    for k in range(len(plan.scenes)):
        start = bounds[k] - h[k]
        end = bounds[k + 1] + h[k + 1]
        windows.append(
            ClipWindow(
                index=k,
                start_frame=start,
                frames=end - start,
                lead_in=h[k] / fps,
                lead_out=h[k + 1] / fps,
                lead_in_frames=h[k],
                lead_out_frames=h[k + 1],
                scene_start_frame=bounds[k],
                scene_end_frame=bounds[k + 1],
            )
        )
    return windows
