"""modal_app.py: the app graph imports without credentials, and every stage function runs with `.local()`
on real inputs, end to end, producing a real video."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shared.media.probe import probe
from shared.settings import get_settings
from shared.store import LocalStore

STAGES = ("analyze_photo", "analyze_music", "music", "plan", "style", "clips", "compose")


@pytest.fixture()
def modal_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("MOMENTLOOP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MOMENTLOOP_OUTPUT_PRESET", "veryfast")
    get_settings.cache_clear()
    import modal_app as app_module

    yield app_module
    get_settings.cache_clear()


def test_every_stage_is_a_cpu_function_with_the_volume(modal_app: Any) -> None:
    assert modal_app.app.name == "momentloop"
    images = {id(modal_app.STAGE_FUNCTIONS[name]._spec_.image) for name in STAGES}
    assert len(images) == 1, "every CPU stage runs in the one CPU image (ffmpeg + the pipeline's packages)"
    for name in STAGES:
        fn = modal_app.STAGE_FUNCTIONS[name]
        spec = fn._spec_
        assert spec.gpus is None, f"{name} must not ask for a GPU"
        assert spec.image is not None
        assert modal_app.ARTIFACTS_PATH in spec.volumes
        options = modal_app.STAGE_OPTIONS[name]
        assert spec.cpu == options["cpu"] and spec.memory == options["memory"]
        assert options["timeout"] >= 120 and options["retries"] >= 1
    assert modal_app.STAGE_OPTIONS["clips"]["max_containers"] >= 20, "clips fan out wide"


def test_stage_functions_run_locally_end_to_end(modal_app: Any, good_photos: list[Path]) -> None:
    from functions.compose import clip_windows
    from functions.pipeline.ingest import ingest_photos
    from shared.models import (
        AnalyzePhotoRequest,
        ClipRequest,
        ComposeRequest,
        OutputSpec,
        PlanRequest,
        ScenePlan,
        StyleRequest,
    )

    store = LocalStore(get_settings().artifacts_dir)
    picks = [p for p in good_photos if p.name in ("coffee.png", "chelsea_cat.png", "astronaut.png")]
    sources = ingest_photos(store=store, paths=picks)
    infos = [modal_app.analyze_photo.local(AnalyzePhotoRequest(source=s).model_dump(mode="json")) for s in sources]
    assert [i["source"]["name"] for i in infos] == [p.name for p in picks]

    track = modal_app.music.local({"duration": 6.0})
    assert track["origin"] == "generated" and store.exists(track["audio_key"])
    music = modal_app.analyze_music.local({"track": track})
    assert music["beats"] and music["tempo"] > 0

    output = OutputSpec(aspect="1:1", width=320, height=320, fps=24, duration=6.0)
    plan = ScenePlan.model_validate(modal_app.plan.local(
        PlanRequest(photos=infos, music=music, output=output, look="lego").model_dump(mode="json")))
    assert len(plan.scenes) >= 2

    styled = {
        sc.image_key: modal_app.style.local(StyleRequest(image_key=sc.image_key, look="lego").model_dump())["image_key"]
        for sc in plan.scenes
    }
    clips = [
        modal_app.clips.local(ClipRequest(image_key=styled[sc.image_key], scene=sc, output=plan.output,
                                          frames=w.frames, lead_in=w.lead_in, lead_out=w.lead_out).model_dump())
        for sc, w in zip(plan.scenes, clip_windows(plan=plan), strict=True)
    ]
    video = modal_app.compose.local(
        ComposeRequest(plan=plan, clips=clips, audio_key=track["audio_key"], preset="veryfast").model_dump())
    with store.local_path(video["video_key"]) as path:
        info = probe(path)
    assert (info.width, info.height) == (320, 320)
    assert abs(info.duration - plan.output.duration) <= 1 / 24 + 1e-6
