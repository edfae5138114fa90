"""Uploads over HTTP: real photos and songs in, upright thumbnails and waveforms out; the bad-photo corpus
answered one file at a time; oversize bodies cut off at the limit; broken uploads leaving nothing."""

from __future__ import annotations

import contextlib
import io
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from functions.music.user_track import convert_user_track
from shared.errors import MusicError, PhotoError
from shared.media.photos import decode_photo
from tests.api.conftest import Api, LiveServer
from tests.api.rawhttp import answer, connect


def _jpeg(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    image.load()
    return image


def test_photos_upload_upright_with_thumbnails_and_keep_their_order(api: Api, good_photos: list[Path]) -> None:
    pid = api.project()["id"]
    # Orientation 6 and 8 JPEGs and an iPhone HEIC: the asset's size is the upright one.
    picks = {p.name: p for p in good_photos}
    names = ["canon_lamp_orient6.jpg", "person_portrait_orient8.jpg", "coffee.png", "iphone13_kitchen.heic"]
    assets = []
    for name in names:
        r = api.upload(pid, picks[name])
        assert r.status_code == 201, r.text
        assets.append(r.json())
    assert [a["position"] for a in assets] == [0, 1, 2, 3]
    assert [(a["width"], a["height"]) for a in assets] == [(1536, 2048), (1200, 1800), (600, 400), (3024, 4032)]
    assert all(a["kind"] == "photo" and a["duration"] is None for a in assets)
    assert assets[0]["size_bytes"] == picks[names[0]].stat().st_size

    for asset in assets:
        r = api.http.get(asset["thumbnail_url"])
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
        thumb = _jpeg(r.content)
        assert max(thumb.size) == 384
        assert abs(thumb.width / thumb.height - asset["width"] / asset["height"]) < 0.01, "upright, not rotated"

    project = api.http.get(f"/api/projects/{pid}").json()
    assert project["photo_count"] == 4

    ids = [a["id"] for a in assets]
    new_order = [ids[2], ids[0], ids[3], ids[1]]
    r = api.http.put(f"/api/projects/{pid}/assets/order", json={"asset_ids": new_order})
    assert r.status_code == 200, r.text
    assert [a["id"] for a in r.json()] == new_order
    assert [a["position"] for a in r.json()] == [0, 1, 2, 3]
    for bad in ([ids[0], ids[1]], [*ids, ids[0]], [*ids[:3], "someone-elses"]):
        r = api.http.put(f"/api/projects/{pid}/assets/order", json={"asset_ids": bad})
        assert (r.status_code == 409 and "every photo" in r.json()["detail"]) or "more than once" in r.json()["detail"]
    assert [a["id"] for a in api.http.get(f"/api/projects/{pid}/assets").json()] == new_order

    assert api.http.delete(f"/api/projects/{pid}/assets/{ids[0]}").status_code == 204
    left = api.http.get(f"/api/projects/{pid}/assets").json()
    assert [a["id"] for a in left] == [ids[2], ids[3], ids[1]] and [a["position"] for a in left] == [0, 1, 2]
    assert api.http.get(assets[0]["thumbnail_url"]).status_code == 404


def test_a_song_is_music_with_a_waveform_and_a_new_one_replaces_it(api: Api, media_dir: Path,
                                                                     good_photos: list[Path]) -> None:
    pid = api.project()["id"]
    photo = api.upload(pid, good_photos[0]).json()
    kick = media_dir / "beats" / "beatnet_808kick" / "808kick120bpm.mp3"
    r = api.upload(pid, kick)
    assert r.status_code == 201, r.text
    song = r.json()
    assert (song["kind"], song["position"], song["thumbnail_url"], song["width"]) == ("music", None, None, None)
    assert abs(song["duration"] - 10.0) < 0.2

    wave = api.http.get(f"/api/assets/{song['id']}/waveform").json()
    assert abs(wave["duration"] - song["duration"]) < 0.2
    peaks = np.array(wave["peaks"])
    assert len(peaks) == 800 and peaks.max() == 1.0 and peaks.min() >= 0
    # An 808 kick every 0.5 s: loud slices come back 20 times over 10 s, with quiet ones in between.
    loud = peaks > 0.5
    onsets = int(np.sum(loud[1:] & ~loud[:-1])) + int(loud[0])
    assert 15 <= onsets <= 25, onsets

    listed = api.http.get(f"/api/projects/{pid}/assets").json()
    assert [a["kind"] for a in listed] == ["photo", "music"]
    assert api.http.get(f"/api/projects/{pid}").json()["music"]["id"] == song["id"]

    wav = media_dir / "beats" / "madmom_sample" / "sample.wav"
    second = api.upload(pid, wav).json()
    assert second["kind"] == "music" and abs(second["duration"] - 2.8) < 0.1
    listed = api.http.get(f"/api/projects/{pid}/assets").json()
    assert [a["id"] for a in listed] == [photo["id"], second["id"]], "one song per project"
    assert api.http.get(f"/api/assets/{photo['id']}/waveform").status_code == 404
    assert api.http.get(f"/api/assets/{second['id']}/thumbnail").status_code == 404


def test_every_bad_photo_is_an_asset_or_a_one_line_4xx(api: Api, bad_photos: list[Path], live: LiveServer) -> None:
    pid = api.project()["id"]
    accepted, refused = [], {}
    for path in bad_photos:
        r = api.upload(pid, path)
        # The decoder the pipeline itself uses is the oracle: what it can use must be accepted, upright.
        try:
            expected = decode_photo(path=path, max_pixels=live.settings.max_pixels, max_side=64)
        except PhotoError:
            expected = None
        if expected is None:
            assert r.status_code in (415, 422), (path.name, r.status_code, r.text)
            detail = r.json()["detail"]
            assert path.name in detail and "\n" not in detail and len(detail) < 300, detail
            assert r.json()["hint"]
            refused[path.name] = detail
        else:
            assert r.status_code == 201, (path.name, r.text)
            asset = r.json()
            assert (asset["width"], asset["height"]) == (expected.original_width, expected.original_height)
            thumb = _jpeg(api.http.get(asset["thumbnail_url"]).content)
            assert thumb.mode == "RGB" and abs(thumb.width / thumb.height - asset["width"] / asset["height"]) < 0.05
            accepted.append(path.name)
    assert {"zero_bytes.jpg", "broken.png", "decompression_bomb.gif", "truncated_400B.jpg"} <= refused.keys()
    assert "4364696535 pixels" in refused["decompression_bomb.gif"]
    assert {"cmyk.jpg", "lab.tif", "gray16.tif", "rgba.webp", "kimono_irot90.avif", "stereo.mpo"} <= set(accepted)
    listed = api.http.get(f"/api/projects/{pid}/assets").json()
    assert sorted(a["name"] for a in listed) == sorted(accepted), "a refused file never becomes an asset"
    assert not any(live.settings.uploads_dir.iterdir()), "no upload leftovers"


def test_a_song_refused_at_upload_is_refused_in_the_same_words_as_by_the_cli(api: Api, media_dir: Path,
                                                                          tmp_path: Path) -> None:
    """One check of a song (functions/music/user_track.py: check_song) for the upload and the conversion."""
    short = media_dir / "videos" / "big_buck_bunny_1s.webm"
    with pytest.raises(MusicError) as refused:
        convert_user_track(src=short, dst=tmp_path / "out.wav", name=short.name)
    r = api.upload(api.project()["id"], short)
    assert r.status_code == 422 and r.json()["detail"] == str(refused.value), r.json()


def test_what_is_not_a_photo_or_song_is_refused(api: Api, media_dir: Path) -> None:
    pid = api.project()["id"]
    http = api.http
    r = http.post(f"/api/projects/{pid}/assets", files={"file": ("notes.txt", b"just some text\n" * 20)})
    assert r.status_code == 415 and "not a photo or a song" in r.json()["detail"]
    r = http.post(f"/api/projects/{pid}/assets", files={"file": ("doc.pdf", b"%PDF-1.7\n" + b"0" * 500)})
    assert r.status_code == 415
    video = api.upload(pid, media_dir / "videos" / "smpte_bars_10s.mp4")  # a video with a sound track
    assert video.status_code == 201 and video.json()["kind"] == "music", video.text
    r = api.upload(pid, media_dir / "videos" / "big_buck_bunny_1s.webm")
    assert r.status_code == 422 and "at least 2 s" in r.json()["detail"]
    empty_song = media_dir / "videos" / "bad" / "zero_bytes.webm"
    r = api.upload(pid, empty_song)
    assert r.status_code == 422 and "empty" in r.json()["detail"]
    short = api.upload(pid, media_dir / "beats" / "madmom_sample" / "sample.wav", name="short.wav")
    assert short.status_code == 201  # 2.8 s: just long enough; it replaces the video's sound

    # Not a multipart form, no `file` field, two files, a cut-short form.
    assert http.post(f"/api/projects/{pid}/assets", json={"file": "x"}).status_code == 415
    r = http.post(f"/api/projects/{pid}/assets", data={"other": "x"}, files={"photo": ("a.jpg", b"\xff\xd8\xff")})
    assert r.status_code == 422 and "no `file` field" in r.json()["detail"]
    r = http.post(f"/api/projects/{pid}/assets", files=[("file", ("a.jpg", b"1")), ("file", ("b.jpg", b"2"))])
    assert r.status_code == 422 and "one file" in r.json()["detail"]
    truncated = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\n\xff\xd8\xff\xe0"
    r = http.post(f"/api/projects/{pid}/assets", content=truncated,
                  headers={"content-type": "multipart/form-data; boundary=XyZ"})
    assert r.status_code == 422 and "cut short" in r.json()["detail"]
    r = http.post(f"/api/projects/{pid}/assets", content=b"garbage", headers={"content-type": "multipart/form-data"})
    assert r.status_code == 415
    assert [a["name"] for a in http.get(f"/api/projects/{pid}/assets").json()] == ["short.wav"]


# ---------------------------------------------------------------- the body as it arrives on the socket


def _request_head(*, live: LiveServer, token: str, path: str, boundary: str, length: int | None) -> bytes:
    host = live.url.removeprefix("http://")
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n{framing}\r\n\r\n").encode()


def _part_head(boundary: str, name: str) -> bytes:
    return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode()


def test_oversize_upload_is_cut_off_at_the_limit(api: Api, live: LiveServer) -> None:
    pid = api.project()["id"]
    path = f"/api/projects/{pid}/assets"
    limit = live.settings.max_upload_bytes

    # Declared too big: refused before a byte of the body is read.
    with connect(live.url, timeout=30) as sock:
        sock.sendall(_request_head(live=live, token=api.token, path=path, boundary="b0", length=100 * limit))
        assert answer(sock)[0] == 413

    # Streamed (chunked, no length): the answer comes once the limit is passed, while the client still
    # has most of its 40x-the-limit body to send; the server never waited for (or stored) the rest.
    chunk = b"\xff" * (256 * 1024)
    sent = 0
    with connect(live.url, timeout=30) as sock:
        sock.sendall(_request_head(live=live, token=api.token, path=path, boundary="b1", length=None))
        sock.sendall(b"%x\r\n%s\r\n" % (len(_part_head("b1", "huge.jpg")), _part_head("b1", "huge.jpg")))
        sock.settimeout(0.05)
        status = None
        while sent < 40 * limit and status is None:
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            with contextlib.suppress(TimeoutError):
                status = answer(sock)[0]
        sock.settimeout(10)
        if status is None:
            status = answer(sock)[0]
    assert status == 413
    assert sent < 3 * limit, f"the client got to send {sent / limit:.1f}x the limit before the answer"
    assert api.http.get(f"/api/projects/{pid}/assets").json() == []
    time.sleep(0.1)
    assert not any(live.settings.uploads_dir.iterdir())


def test_an_upload_the_client_abandons_leaves_nothing(api: Api, live: LiveServer, good_photos: list[Path]) -> None:
    pid = api.project()["id"]
    photo = good_photos[0].read_bytes()
    boundary = uuid.uuid4().hex
    body = _part_head(boundary, "half.png") + photo + f"\r\n--{boundary}--\r\n".encode()
    with connect(live.url, timeout=30) as sock:
        sock.sendall(_request_head(live=live, token=api.token, path=f"/api/projects/{pid}/assets",
                                   boundary=boundary, length=len(body)))
        sock.sendall(body[: len(body) // 2])
        time.sleep(0.3)  # the server is now writing the first half to disk
        assert any(live.settings.uploads_dir.iterdir()), "the upload was being received"
    deadline = time.monotonic() + 5
    while any(live.settings.uploads_dir.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(live.settings.uploads_dir.iterdir()), "the half-received file was removed"
    assert api.http.get(f"/api/projects/{pid}/assets").json() == []
