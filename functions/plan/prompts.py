"""Animation prompts: one sentence per scene in the words an image-to-video model takes."""

from __future__ import annotations

from shared.models.media import PhotoInfo
from shared.models.plan import CameraMove, ScenePlan

_MOVE_WORDS: dict[CameraMove, str] = {
    CameraMove.push_in: "slow dolly push-in",
    CameraMove.pull_out: "slow dolly pull-back revealing the surroundings",
    CameraMove.pan_left: "smooth lateral pan from right to left",
    CameraMove.pan_right: "smooth lateral pan from left to right",
    CameraMove.pan_up: "gentle tilt up",
    CameraMove.pan_down: "gentle tilt down",
    CameraMove.drift: "gentle handheld drift with a subtle zoom",
}

_LOOK_WORDS: dict[str, str] = {
    "ghibli": "hand-painted anime film style with soft light and drifting clouds",
    "lego": "LEGO brick world, stop-motion feel, plastic sheen",
    "minecraft": "blocky voxel world, Minecraft style",
    "simpsons": "flat 2D cartoon animation with bold outlines",
}


def scene_prompt(*, photo: PhotoInfo, move: CameraMove, look: str) -> str:
    if photo.faces:
        who = "the person" if len(photo.faces) == 1 else "the people"
        subject = f"toward {who}'s face; {who} blink and smile naturally, hair and clothes stir in a light breeze"
    elif photo.subject_kind == "saliency":
        subject = "toward the main subject; subtle natural motion in the scene, light shifts softly"
    else:
        subject = "across the scene; leaves, water and clouds move gently"
    return f"{_first_upper(_MOVE_WORDS[move])} {subject}. {style_sentence(look)}"


def style_sentence(look: str) -> str:
    style = _LOOK_WORDS.get(look, f"{look} style")
    return f"{_first_upper(style)}, consistent with the first frame, steady cinematic camera, no cuts, no text."


def restyle_plan(plan: ScenePlan, *, look: str) -> ScenePlan:
    """The same edit in another look: only the look and the prompts' style sentence change, so a new look
    never re-plans (and never moves a cut). A prompt the user wrote without the style sentence is theirs:
    it is left as written."""
    if plan.look == look:
        return plan
    old, new = style_sentence(plan.look), style_sentence(look)
    scenes = [s.model_copy(update={"prompt": s.prompt.removesuffix(old) + new}) if s.prompt.endswith(old) else s
              for s in plan.scenes]
    return plan.model_copy(update={"look": look, "scenes": scenes})


def _first_upper(text: str) -> str:
    # str.capitalize() would lower-case the rest ("LEGO" → "Lego").
    return text[:1].upper() + text[1:]
