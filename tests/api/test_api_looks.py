"""Looks over HTTP: the list, a user's photo in one look (fast, cached), several side by side."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
from PIL import Image

from tests.api.conftest import Api


def _rgb(data: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    return np.asarray(image.convert("RGB"), dtype=np.float32)


def test_looks_are_listed_with_descriptions(api: Api) -> None:
    looks = api.http.get("/api/styles").json()
    names = [look["name"] for look in looks]
    assert {"ghibli", "lego", "minecraft", "simpsons"} <= set(names) and len(names) >= 6
    assert all(look["description"].strip() for look in looks)


def test_a_photo_in_a_look_is_its_own_picture_restyled(api: Api, good_photos: list[Path]) -> None:
    pid = api.project()["id"]
    coffee = next(p for p in good_photos if p.name == "coffee.png")
    asset = api.upload(pid, coffee).json()  # 600x400
    original = np.asarray(Image.open(coffee).convert("RGB").resize((512, 341)), dtype=np.float32)

    timings = {}
    pictures = {}
    for look in ("lego", "sketch"):
        started = time.perf_counter()
        r = api.http.get(f"/api/assets/{asset['id']}/styles/{look}")
        timings[look] = time.perf_counter() - started
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg", r.text
        pictures[look] = _rgb(r.content)
        assert pictures[look].shape == (341, 512, 3), "long side 512, the photo's own shape"
    # Each look is the same photo (it still correlates with the original) but visibly changed.
    for look, pic in pictures.items():
        grey, orig = pic.mean(axis=2), original.mean(axis=2)
        corr = float(np.corrcoef(grey.ravel(), orig.ravel())[0, 1])
        assert corr > 0.3, (look, corr)
        assert float(np.abs(pic - original).mean()) > 8, look
    assert float(np.abs(pictures["lego"] - pictures["sketch"]).mean()) > 8, "two looks differ"
    assert max(timings.values()) < 5.0, timings

    started = time.perf_counter()
    again = api.http.get(f"/api/assets/{asset['id']}/styles/lego")
    assert time.perf_counter() - started < 1.0
    assert np.array_equal(_rgb(again.content), pictures["lego"]), "served from the store, identical"

    r = api.http.get(f"/api/assets/{asset['id']}/previews", params={"looks": "lego,comic,lego"})
    assert r.json() == [{"look": "lego", "url": f"/api/assets/{asset['id']}/styles/lego"},
                        {"look": "comic", "url": f"/api/assets/{asset['id']}/styles/comic"}]
    everything = api.http.get(f"/api/assets/{asset['id']}/previews").json()
    assert [p["look"] for p in everything] == [look["name"] for look in api.http.get("/api/styles").json()]
    for preview in r.json():
        assert api.http.get(preview["url"]).status_code == 200

    bad = api.http.get(f"/api/assets/{asset['id']}/previews", params={"looks": "lego,vaporwave"})
    assert bad.status_code == 422 and "vaporwave" in bad.json()["detail"]
    assert api.http.get(f"/api/assets/{asset['id']}/styles/vaporwave").status_code == 404


def test_a_song_has_no_look(api: Api, media_dir: Path) -> None:
    pid = api.project()["id"]
    song = api.upload(pid, media_dir / "beats" / "madmom_sample" / "sample.wav").json()
    assert api.http.get(f"/api/assets/{song['id']}/styles/lego").status_code == 404
    assert api.http.get(f"/api/assets/{song['id']}/previews").status_code == 404
