"""How much of each frame is the photo, and whether faces stay whole: the local renderer's framing on real photos.

Runs what `momentloop make` runs up to the first pixel: photo analysis (faces, subject), a generated song
and its beat analysis (about 3 s a photo, the CLI's default length), the local planner for the aspect, the
clip windows compose uses, and the local renderer's shot for each scene. Then, for every frame of every clip
(crossfade leads included), from the renderer's own geometry (the view on the canvas, the photo's place on
it):

  fill    share of the frame's pixels that are the blurred fill, not the photo
  faces   whether each detected face (its head: hair included) lies wholly inside the frame

    python bench/framing.py [--media ../shared/media] [--aspect 9:16 --aspect 16:9 ...] [--sheet DIR]

`--sheet DIR` also writes, per aspect, a contact sheet of each scene's first, middle and last frame
(rendered small by the real renderer) with the faces' heads outlined, for a person to look at.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from functions.analyze import analyze_music, analyze_photo  # noqa: E402
from functions.analyze.subject import head_box  # noqa: E402
from functions.clips.camera import Rect, View  # noqa: E402
from functions.clips.framing import box_rect, fill_share  # noqa: E402
from functions.clips.renderer import Shot, plan_shot, render_frames  # noqa: E402
from functions.clips.yuv import Planes  # noqa: E402
from functions.compose.timing import clip_windows  # noqa: E402
from functions.music import run_music  # noqa: E402
from functions.pipeline.runner import DEFAULT_SECONDS_PER_PHOTO  # noqa: E402
from functions.plan.planner import plan_locally  # noqa: E402
from shared.errors import PhotoError  # noqa: E402
from shared.media.pictures import load_bgr  # noqa: E402
from shared.models.base import Aspect, OutputSpec  # noqa: E402
from shared.models.media import (  # noqa: E402
    AnalyzeMusicRequest,
    AnalyzePhotoRequest,
    MusicInfo,
    MusicRequest,
    PhotoInfo,
    PhotoSource,
)
from shared.models.plan import PlanRequest, ScenePlan  # noqa: E402
from shared.models.render import ClipRequest  # noqa: E402
from shared.store import LocalStore  # noqa: E402

ASPECTS: tuple[Aspect, ...] = get_args(Aspect)
FACE_TOLERANCE = 1e-6
"""Relative slack of the inside test (floating point), as a share of the view's size."""


@dataclass(frozen=True)
class SceneFraming:
    """One scene's clip, measured frame by frame."""

    photo: str
    move: str
    framing: str
    seconds: float
    fills: list[float]
    """Share of each frame that is fill."""
    faces_inside: list[bool]
    """One entry per (frame, face): the face's head wholly inside the frame."""


@dataclass(frozen=True)
class AspectFraming:
    aspect: str
    scenes: list[SceneFraming]

    @property
    def fill(self) -> float:
        """Share of all output pixels of the video (every frame of every clip) that are fill."""
        fills = [f for s in self.scenes for f in s.fills]
        return sum(fills) / len(fills)

    @property
    def fill_per_photo(self) -> float:
        """Mean over photos of each photo's mean fill (every photo weighs the same, however long its scene)."""
        by_photo: dict[str, list[float]] = {}
        for s in self.scenes:
            by_photo.setdefault(s.photo, []).extend(s.fills)
        return statistics.mean(statistics.mean(v) for v in by_photo.values())

    @property
    def face_frames(self) -> tuple[int, int]:
        """(face-frames wholly inside, all face-frames)."""
        checks = [ok for s in self.scenes for ok in s.faces_inside]
        return sum(checks), len(checks)


def holds(view: View, box: Rect) -> bool:
    r = view.rect
    tol = FACE_TOLERANCE * max(r.w, r.h)
    return r.x <= box.x + tol and r.y <= box.y + tol and r.right >= box.right - tol and r.bottom >= box.bottom - tol


@dataclass(frozen=True)
class Survey:
    """Real photos analysed once, and a song for a video of about 3 s a photo: plan and measure any aspect."""

    store: LocalStore
    photos: list[PhotoInfo]
    music: MusicInfo
    seconds: float
    skipped: list[str]
    """Photos that could not be used, with the reason (as `make` would report them)."""

    @classmethod
    def of(cls, *, paths: list[Path], work: Path) -> Survey:
        store = LocalStore(work / "artifacts")
        photos, skipped = [], []
        for i, path in enumerate(paths):
            key = f"inputs/{i:02d}{path.suffix}"
            store.put_bytes(key, path.read_bytes())
            source = PhotoSource(key=key, name=path.name, index=i)
            try:
                photos.append(analyze_photo(request=AnalyzePhotoRequest(source=source), store=store))
            except PhotoError as err:  # `make` leaves such a photo out too, and says why
                skipped.append(str(err))
        seconds = DEFAULT_SECONDS_PER_PHOTO * len(photos)
        # A little longer than the video, as `make` asks of a generated song (the planner ends on a downbeat).
        track = run_music(request=MusicRequest(duration=seconds + 6, seed=7), store=store)
        music = analyze_music(request=AnalyzeMusicRequest(track=track), store=store)
        return cls(store=store, photos=photos, music=music, seconds=seconds, skipped=skipped)

    def plan(self, aspect: Aspect) -> ScenePlan:
        output = OutputSpec.for_aspect(aspect=aspect, duration=self.seconds)
        return plan_locally(request=PlanRequest(photos=self.photos, music=self.music, output=output, look="ghibli"))

    def shots(self, plan: ScenePlan) -> list[tuple[ClipRequest, PhotoInfo, Shot]]:
        """The renderer's shot of every scene, for the clip windows compose gives the local renderer."""
        by_index = {p.source.index: p for p in self.photos}
        out = []
        for scene, w in zip(plan.scenes, clip_windows(plan=plan), strict=True):
            info = by_index[scene.photo_index]
            request = ClipRequest(image_key=scene.image_key, scene=scene, output=plan.output, frames=w.frames,
                                  lead_in=w.lead_in, lead_out=w.lead_out)
            out.append((request, info, plan_shot(photo_w=info.width, photo_h=info.height, request=request)))
        return out

    def measure(self, aspect: Aspect) -> AspectFraming:
        scenes = []
        for request, info, shot in self.shots(self.plan(aspect)):
            photo = shot.layout.photo
            heads = [box_rect(head_box(f), photo=photo) for f in info.faces]
            scenes.append(SceneFraming(
                photo=info.source.name,
                move=request.scene.move.value,
                framing=shot.layout.framing.value,
                seconds=request.scene.duration,
                fills=[fill_share(view=v, photo=photo) for v in shot.views],
                faces_inside=[holds(v, h) for v in shot.views for h in heads],
            ))
        return AspectFraming(aspect=aspect, scenes=scenes)


def contact_sheet(*, survey: Survey, aspect: Aspect, dest: Path) -> None:
    """First, middle and last frame of each scene, rendered small by the real renderer, heads outlined in green."""
    plan = survey.plan(aspect)
    small = plan.output.model_copy(update={"width": plan.output.width // 6 // 2 * 2,
                                           "height": plan.output.height // 6 // 2 * 2})
    rows = []
    for request, info, shot in survey.shots(plan):
        request = request.model_copy(update={"output": small})
        photo = load_bgr(store=survey.store, key=info.image_key)
        frames: list[Planes] = list(render_frames(photo=photo, request=request))
        tiles = []
        for i in (0, len(frames) // 2, len(frames) - 1):
            p = frames[i]
            u = cv2.resize(p.u, (small.width, small.height))
            v = cv2.resize(p.v, (small.width, small.height))
            bgr = cv2.cvtColor(np.dstack([p.y, v, u]), cv2.COLOR_YCrCb2BGR)
            view = shot.views[i].rect
            for face in info.faces:
                h = box_rect(head_box(face), photo=shot.layout.photo)
                sx, sy = small.width / view.w, small.height / view.h
                cv2.rectangle(bgr, (round((h.x - view.x) * sx), round((h.y - view.y) * sy)),
                              (round((h.right - view.x) * sx), round((h.bottom - view.y) * sy)), (0, 255, 0), 1)
            tiles.append(bgr)
        row = np.hstack([np.pad(t, ((2, 2), (2, 2), (0, 0))) for t in tiles])
        cv2.putText(row, f"{info.source.name} {request.scene.move.value}", (4, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.35,
                    (255, 255, 255), 1)
        rows.append(row)
    per_line = max(1, 1600 // rows[0].shape[1])
    blank = np.zeros_like(rows[0])
    lines = [np.hstack(rows[i:i + per_line] + [blank] * (per_line - len(rows[i:i + per_line])))
             for i in range(0, len(rows), per_line)]
    cv2.imwrite(str(dest), np.vstack(lines))


def report(results: list[AspectFraming]) -> str:
    lines = ["| aspect | fill, share of all output pixels | fill, mean per photo | worst scene | "
             "faces wholly inside (face-frames) |", "|---|---|---|---|---|"]
    for r in results:
        worst = max(r.scenes, key=lambda s: statistics.mean(s.fills))
        inside, total = r.face_frames
        share = f"{100 * inside / total:.1f} % ({inside}/{total})" if total else "no faces"
        lines.append(f"| {r.aspect} | {100 * r.fill:.1f} % | {100 * r.fill_per_photo:.1f} % | "
                     f"{worst.photo} {100 * statistics.mean(worst.fills):.0f} % | {share} |")
    lines.append("")
    for r in results:
        lines.append(f"{r.aspect}: " + ", ".join(
            f"{s.photo.rsplit('.', 1)[0]} {s.move}/{s.framing} {s.seconds:.1f}s {100 * statistics.mean(s.fills):.0f}%"
            + ("" if all(s.faces_inside) else " FACE CUT")
            for s in r.scenes))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--media", type=Path, default=ROOT.parent / "shared" / "media")
    parser.add_argument("--aspect", action="append", choices=ASPECTS, help="default: all three")
    parser.add_argument("--sheet", type=Path, help="write contact sheets (PNG) into this folder")
    args = parser.parse_args()
    good = args.media / "photos" / "good"
    if not good.is_dir():
        parser.exit(2, f"no photos at {good}: pass --media\n")
    paths = sorted(p for p in good.iterdir() if p.is_file())
    aspects = tuple(args.aspect or ASPECTS)
    with tempfile.TemporaryDirectory(prefix="ml-framing-") as tmp:
        survey = Survey.of(paths=paths, work=Path(tmp))
        for reason in survey.skipped:
            print(f"skipped {reason}", file=sys.stderr)
        print(report([survey.measure(a) for a in aspects]))
        if args.sheet:
            args.sheet.mkdir(parents=True, exist_ok=True)
            for a in aspects:
                contact_sheet(survey=survey, aspect=a, dest=args.sheet / f"framing-{a.replace(':', 'x')}.png")


if __name__ == "__main__":
    main()
