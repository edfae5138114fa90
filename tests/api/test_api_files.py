"""Which bytes a `Range` header asks for, as the video route answers it from any store (RFC 9110); and the file
routes over HTTP on the folder and on S3: HEAD, ETag and 304, ranges served or ignored, If-Range."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.files import ByteRange, UnsatisfiableRangeError, parse_range
from tests.api.conftest import BACKENDS, Api, LiveServer


@pytest.mark.parametrize(("header", "expected"), [
    (None, None),
    ("bytes=0-99", ByteRange(0, 99)),
    ("bytes=100-", ByteRange(100, 999)),
    ("bytes=900-5000", ByteRange(900, 999)),  # an end past the file is the file's end
    ("bytes=-64", ByteRange(936, 999)),
    ("bytes=-5000", ByteRange(0, 999)),
    ("bytes=0-0", ByteRange(0, 0)),
    ("bytes=0-9,20-29", None),  # several ranges: the whole file is a valid answer
    ("items=0-9", None),
    ("bytes=9-0", None),
    ("bytes=-", None),
])
def test_the_range_a_player_asks_for(header: str | None, expected: ByteRange | None) -> None:
    assert parse_range(header, size=1000) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=1000-", 1000), ("bytes=1010-1020", 1000), ("bytes=-0", 1000),
                                              ("bytes=0-", 0)])
def test_a_range_past_the_end_is_unsatisfiable(header: str, size: int) -> None:
    with pytest.raises(UnsatisfiableRangeError):
        parse_range(header, size=size)


# ---------------------------------------------------------------- the file routes over HTTP, on both stores

@pytest.fixture(scope="module", params=BACKENDS)
def thumbnail(request: pytest.FixtureRequest, small_photos: list[Path]) -> Iterator[tuple[httpx.Client, str]]:
    """A signed-in client and a stored file's URL, on the folder + SQLite server and the S3 + PostgreSQL one."""
    server: LiveServer = request.getfixturevalue("live" if request.param == "local+sqlite" else "live_s3")
    api = Api(server, server.add_user())
    pid = api.project()["id"]
    asset = api.upload(pid, small_photos[0]).json()
    yield api.http, asset["thumbnail_url"]
    api.http.close()


def test_head_answers_what_get_would_without_the_bytes(thumbnail: tuple[httpx.Client, str]) -> None:
    http, url = thumbnail
    full = http.get(url)
    head = http.head(url)
    assert full.status_code == head.status_code == 200
    assert head.content == b""
    for name in ("content-type", "content-length", "etag", "last-modified", "accept-ranges", "cache-control"):
        assert head.headers[name] == full.headers[name], name
    assert int(head.headers["content-length"]) == len(full.content)
    part = http.head(url, headers={"Range": "bytes=0-9"})
    assert (part.status_code, part.headers["content-length"], part.content) == (206, "10", b"")


def test_the_current_etag_is_answered_304(thumbnail: tuple[httpx.Client, str]) -> None:
    http, url = thumbnail
    full = http.get(url)
    etag, modified = full.headers["etag"], full.headers["last-modified"]
    assert etag.startswith('"')
    for match in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        r = http.get(url, headers={"If-None-Match": match})
        assert (r.status_code, r.content) == (304, b""), match
        assert r.headers["etag"] == etag and r.headers["cache-control"] == full.headers["cache-control"]
        assert "content-length" not in r.headers or r.headers["content-length"] == "0"
    assert http.head(url, headers={"If-None-Match": etag}).status_code == 304
    assert http.get(url, headers={"If-None-Match": '"an-old-version"'}).content == full.content
    # Without If-None-Match, the date decides; with it, the tag does (RFC 9110 §13.2.2).
    assert http.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert http.get(url, headers={"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"}).status_code == 200
    r = http.get(url, headers={"If-None-Match": '"an-old-version"', "If-Modified-Since": modified})
    assert r.status_code == 200


@pytest.mark.parametrize("header", ["items=0-9", "bytes=9-0", "bytes=0-9,20-29", "bytes=abc", "bytes=-", "0-9",
                                    "bytes 0-9"])
def test_a_range_not_served_is_ignored_for_the_whole_file(thumbnail: tuple[httpx.Client, str], header: str) -> None:
    http, url = thumbnail
    full = http.get(url).content
    r = http.get(url, headers={"Range": header})
    assert r.status_code == 200 and r.content == full, (header, r.status_code, r.text[:100])


def test_if_range_keeps_a_range_to_its_version(thumbnail: tuple[httpx.Client, str]) -> None:
    http, url = thumbnail
    full = http.get(url)
    etag = full.headers["etag"]
    r = http.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert (r.status_code, r.content) == (206, full.content[:10])
    r = http.get(url, headers={"Range": "bytes=0-9", "If-Range": '"an-old-version"'})
    assert (r.status_code, r.content) == (200, full.content)
    r = http.get(url, headers={"Range": "bytes=0-9", "If-Range": full.headers["last-modified"]})
    assert r.status_code == 206
    assert http.get(url, headers={"Range": f"bytes={len(full.content)}-"}).status_code == 416


def test_every_file_route_answers_head(rendered: dict[str, Any]) -> None:
    owner: Api = rendered["owner"]
    export = owner.http.get(f"/api/projects/{rendered['project']['id']}/exports").json()[0]
    photo = next(a for a in rendered["assets"] if a["kind"] == "photo")
    urls = [export["video_url"], export["poster_url"], f"{export['video_url']}?download=1", photo["thumbnail_url"],
            f"/api/assets/{photo['id']}/styles/lego"]
    for url in urls:
        get, head = owner.http.get(url), owner.http.head(url)
        assert (get.status_code, head.status_code, head.content) == (200, 200, b""), url
        assert head.headers["content-length"] == str(len(get.content)), url
        assert head.headers.get("content-disposition") == get.headers.get("content-disposition"), url
