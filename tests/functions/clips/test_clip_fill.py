"""A video a person would post: the photo fills the frame, and faces stay whole.

On the real photos, planned and framed as `momentloop make` does it (bench/framing.py), for each aspect:
the share of output pixels that are blurred fill, and whether every detected face's head lies wholly
inside every frame of its clip. The geometry is checked against real rendered frames: a render whose fill
is flat magenta shows magenta exactly where the geometry says fill, and a head outlined on the photo never
reaches a frame's edge."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from bench.framing import ASPECTS, AspectFraming, Survey, report
from functions.analyze import analyze_photo
from functions.analyze.subject import head_box, union_box
from functions.clips import framing as framing_module
from functions.clips import run_clip
from functions.clips.camera import MIN_PUSH_ZOOM
from functions.clips.framing import box_rect, fill_share
from functions.clips.renderer import plan_shot
from functions.plan.planner import plan_locally
from shared.models.base import Box, OutputSpec
from shared.models.media import AnalyzePhotoRequest, PhotoInfo, PhotoSource
from shared.models.plan import PlanRequest
from shared.models.render import ClipRequest
from shared.store import LocalStore
from tests.functions.clips.clip_inputs import clip_path, put_photo
from tests.videocheck import decode_rgb_frames

MAX_FILL_9X16 = 0.20
"""The issue's bar: in 9:16, at most a fifth of the video's pixels may be fill (it was 31 %)."""
FOX_STATUE = Box(x=0.17, y=0.09, w=0.43, h=0.91)
"""The white fox statue in fox_parade.jpg, measured by eye: nose at 17.7 % of the width, tail at 58.7 %."""
SMALL = 2
"""Pixel checks render at half the output's size: the same geometry, 4x fewer pixels."""


@pytest.fixture(scope="module")
def survey(good_photos: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Survey:
    survey = Survey.of(paths=good_photos, work=tmp_path_factory.mktemp("framing-survey"))
    # Every good photo must be usable; one that is not is the decoder's bug, and measuring without it
    # would flatter the figures.
    assert not survey.skipped, survey.skipped
    return survey


@pytest.fixture(scope="module")
def measured(survey: Survey) -> dict[str, AspectFraming]:
    results: dict[str, AspectFraming] = {aspect: survey.measure(aspect) for aspect in ASPECTS}
    print("\n" + report(list(results.values())))
    return results


def test_real_photos_fill_a_tall_frame(measured: dict[str, AspectFraming]) -> None:
    tall = measured["9:16"]
    assert tall.fill <= MAX_FILL_9X16, report([tall])
    assert tall.fill_per_photo <= MAX_FILL_9X16, report([tall])
    for aspect in ("16:9", "1:1"):
        assert measured[aspect].fill <= MAX_FILL_9X16, report([measured[aspect]])


def test_every_face_stays_whole_in_every_frame(measured: dict[str, AspectFraming]) -> None:
    for aspect, result in measured.items():
        inside, total = result.face_frames
        assert total > 0, "the photos hold a face: the check must have something to check"
        cut = f"{aspect}: a head is cut in {total - inside} of {total} face-frames"
        assert inside == total, cut + "\n" + report([result])


@pytest.mark.parametrize("seconds", [2.0, 3.0, 4.0])
def test_the_fox_statue_is_travelled_over_not_cut_in_half(survey: Survey, seconds: float) -> None:
    """Every part of the statue is on screen at some point of its scene, in every aspect, however long the
    scene."""
    (fox,) = [p for p in survey.photos if p.source.name == "fox_parade.jpg"]
    for aspect in ASPECTS:
        output = OutputSpec.for_aspect(aspect=aspect, duration=seconds)
        plan = plan_locally(request=PlanRequest(photos=[fox], music=survey.music, output=output, look="ghibli"))
        (scene,) = plan.scenes
        request = ClipRequest(image_key=fox.image_key, scene=scene, output=output,
                              frames=round(seconds * output.fps), lead_in=0.0, lead_out=0.0)
        shot = plan_shot(photo_w=fox.width, photo_h=fox.height, request=request)
        statue = box_rect(FOX_STATUE, photo=shot.layout.photo)
        rects = [v.rect for v in shot.views]
        seen = (min(r.x for r in rects), max(r.right for r in rects))
        assert seen[0] <= statue.x and seen[1] >= statue.right, (
            f"{aspect}, {seconds:g} s: the {scene.move} shows x {seen[0]:.0f}..{seen[1]:.0f} of the statue's "
            f"{statue.x:.0f}..{statue.right:.0f}"
        )


def _magenta(frame: np.ndarray) -> np.ndarray:
    r, g, b = (frame[..., i].astype(np.int16) for i in range(3))
    return (r > 200) & (b > 200) & (g < 80)


def _small(request: ClipRequest) -> ClipRequest:
    out = request.output
    small = out.model_copy(update={"width": out.width // SMALL // 2 * 2, "height": out.height // SMALL // 2 * 2})
    return request.model_copy(update={"output": small})


def _render(store: LocalStore, request: ClipRequest) -> np.ndarray:
    out = request.output
    return decode_rgb_frames(clip_path(store, run_clip(request=request, store=store).clip_key),
                             size=(out.width, out.height))


def test_magenta_fill_lies_where_the_geometry_says(
    survey: Survey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rendered with a flat magenta fill, each frame's magenta share is the fill share the survey measures."""

    def magenta_fill(*, photo: np.ndarray, width: int, height: int) -> np.ndarray:
        down = framing_module.FILL_DOWNSCALE
        small = np.empty((max(2, height // down), max(2, width // down), 3), np.uint8)
        small[:] = (255, 0, 255)
        return small

    monkeypatch.setattr(framing_module, "blurred_fill", magenta_fill)
    store = LocalStore(tmp_path / "magenta")
    shots = {info.source.name: (request, info) for request, info, _ in survey.shots(survey.plan("9:16"))}
    checked_fill = 0.0
    for name in ("nokia_harbour_wide.jpg", "nokia_sunset_street.heif", "astronaut.png", "fox_parade.jpg"):
        request, info = shots[name]
        with survey.store.local_path(info.image_key) as path:
            photo = cv2.imread(str(path), cv2.IMREAD_COLOR)
        assert photo is not None and not _magenta(photo[..., ::-1]).any(), f"{name} itself holds magenta"
        request = _small(request).model_copy(update={"image_key": put_photo(store, photo)})
        shot = plan_shot(photo_w=photo.shape[1], photo_h=photo.shape[0], request=request)
        frames = _render(store, request)
        assert len(frames) == len(shot.views)
        for i, (frame, view) in enumerate(zip(frames, shot.views, strict=True)):
            expected = fill_share(view=view, photo=shot.layout.photo)
            seen = float(_magenta(frame).mean())
            # A row or column of 4:2:0 chroma blends at the photo's edge: ~1 % of a 120 px wide frame.
            assert abs(seen - expected) < 0.02, f"{name} frame {i}: {seen:.3f} magenta, geometry says {expected:.3f}"
            checked_fill += expected
    assert checked_fill > 1.0, "no frame with fill was checked: the comparison proves nothing"


def _outlined(photo: np.ndarray, heads: list[Box]) -> np.ndarray:
    """The photo with each head's box drawn in magenta, just inside the box."""
    out = photo.copy()
    h, w = photo.shape[:2]
    t = max(3, round(max(w, h) / 80))
    for head in heads:
        x0, y0 = round(head.x * w) + t, round(head.y * h) + t
        x1, y1 = round((head.x + head.w) * w) - t, round((head.y + head.h) * h) - t
        cv2.rectangle(out, (x0, y0), (x1, y1), (255, 0, 255), t)
    return out


def _assert_heads_whole(frames: np.ndarray, *, heads: int, what: str) -> None:
    """Each head's outline is on screen with all four sides: a frame edge cutting into the head would take
    the side it crosses away (the outline lies a few pixels inside the head's box)."""
    for i, frame in enumerate(frames):
        mask = cv2.dilate(_magenta(frame).astype(np.uint8), np.ones((5, 5), np.uint8))
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask)
        outlines = [k for k in range(1, count) if stats[k, cv2.CC_STAT_AREA] > 20]
        assert len(outlines) == heads, f"{what} frame {i}: {len(outlines)} of {heads} head outlines on screen"
        for k in outlines:
            x, y, w, h = (int(stats[k, c]) for c in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP, cv2.CC_STAT_WIDTH,
                                                     cv2.CC_STAT_HEIGHT))
            box = labels[y : y + h, x : x + w] == k
            # The densest of the three outermost rows (columns): a speck beside a side does not hide it.
            rows, cols = box.mean(axis=1), box.mean(axis=0)
            sides = {"top": rows[:3].max(), "bottom": rows[-3:].max(), "left": cols[:3].max(),
                     "right": cols[-3:].max()}
            missing = [side for side, share in sides.items() if share < 0.6]
            assert not missing, f"{what} frame {i}: the head outline at ({x}, {y}) lacks its {missing} side(s)"


def test_a_portrait_keeps_its_hair_in_every_aspect(survey: Survey, tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "outlined")
    for aspect in ASPECTS:
        (request, info, _), = [s for s in survey.shots(survey.plan(aspect)) if s[1].source.name == "astronaut.png"]
        with survey.store.local_path(info.image_key) as path:
            photo = cv2.imread(str(path), cv2.IMREAD_COLOR)
        assert photo is not None and not _magenta(photo[..., ::-1]).any()
        heads = [head_box(f) for f in info.faces]
        request = _small(request).model_copy(update={"image_key": put_photo(store, _outlined(photo, heads))})
        _assert_heads_whole(_render(store, request), heads=len(heads), what=f"{aspect} astronaut")


@pytest.fixture(scope="module")
def group(good_photos: list[Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[LocalStore, PhotoInfo]:
    """Two real faces far apart in a real street: wider apart than a tall frame over the photo can hold."""
    folder = tmp_path_factory.mktemp("group")
    astronaut = cv2.imread(str(next(p for p in good_photos if p.name == "astronaut.png")), cv2.IMREAD_COLOR)
    street = cv2.imread(str(next(p for p in good_photos if p.name == "hato_pigeon.jpg")), cv2.IMREAD_COLOR)
    assert astronaut is not None and street is not None
    scene = cv2.resize(street, (1500, 997), interpolation=cv2.INTER_AREA)
    person = astronaut[:240, 120:360]  # head and shoulders
    scene[560:800, 100:340] = person
    scene[520:760, 1160:1400] = person
    store = LocalStore(folder / "artifacts")
    ok, png = cv2.imencode(".png", scene)
    assert ok
    store.put_bytes("inputs/group.png", png.tobytes())
    info = analyze_photo(request=AnalyzePhotoRequest(source=PhotoSource(key="inputs/group.png", name="group.png",
                                                                         index=0)), store=store)
    assert len(info.faces) == 2, info.faces
    return store, info


def test_faces_wider_apart_than_the_frame_zoom_out_only_as_far_as_needed(
    group: tuple[LocalStore, PhotoInfo], survey: Survey
) -> None:
    store, info = group
    output = OutputSpec.for_aspect(aspect="9:16", duration=4.0)
    plan = plan_locally(request=PlanRequest(photos=[info], music=survey.music, output=output, look="ghibli"))
    (scene,) = plan.scenes
    request = ClipRequest(image_key=info.image_key, scene=scene, output=output, frames=round(4.0 * output.fps),
                          lead_in=0.0, lead_out=0.0)
    shot = plan_shot(photo_w=info.width, photo_h=info.height, request=request)
    photo = shot.layout.photo
    heads = [head_box(f) for f in info.faces]
    boxes = [box_rect(h, photo=photo) for h in heads]
    for i, view in enumerate(shot.views):
        r = view.rect
        for b in boxes:
            assert r.x <= b.x and r.y <= b.y and r.right >= b.right and r.bottom >= b.bottom, f"frame {i} cuts a head"
    # As little fill as needed: the widest frame is no wider than the heads' span and the move's room.
    span = box_rect(union_box(boxes=heads), photo=photo)
    needed = 1 - photo.h / (span.w * MIN_PUSH_ZOOM / output.width * output.height)
    contain = 1 - photo.h / (photo.w / output.width * output.height)
    fills = [fill_share(view=v, photo=photo) for v in shot.views]
    assert 0 < max(fills) <= needed + 0.01 < contain, (max(fills), needed, contain)

    outlined = LocalStore(store.root.parent / "outlined")
    with store.local_path(info.image_key) as path:
        picture = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert picture is not None and not _magenta(picture[..., ::-1]).any()
    small = _small(request).model_copy(update={"image_key": put_photo(outlined, _outlined(picture, heads))})
    _assert_heads_whole(_render(outlined, small), heads=2, what="group")
