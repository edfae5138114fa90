"""LocalStore: atomic writes, key hygiene, content keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.errors import StoreError
from shared.hashing import content_key
from shared.models import StyleRequest
from shared.store import LocalStore


def test_put_get_and_atomic_write(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put_bytes("a/b.bin", b"hello")
    assert store.exists("a/b.bin") and store.get_bytes("a/b.bin") == b"hello"
    with pytest.raises(RuntimeError), store.write_path("a/c.bin") as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed mid-write")
    assert not store.exists("a/c.bin")
    assert not [p for p in (tmp_path / "a").iterdir() if p.name.startswith(".tmp-")], "no temp file left"


def test_empty_write_is_refused(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    with pytest.raises(StoreError), store.write_path("x.bin"):
        pass
    assert not store.exists("x.bin")


@pytest.mark.parametrize("key", ["../escape", "/abs/path", "a/../../b", "", "dir/"])
def test_keys_cannot_escape_the_store(tmp_path: Path, key: str) -> None:
    with pytest.raises(StoreError):
        LocalStore(tmp_path / "s").put_bytes(key, b"x")


def test_content_key_changes_exactly_with_the_request() -> None:
    a = StyleRequest(image_key="analyze/1/photo.jpg", look="lego")
    assert content_key(stage="style", version="1", request=a) == content_key(
        stage="style", version="1", request=StyleRequest(image_key="analyze/1/photo.jpg", look="lego")
    )
    assert content_key(stage="style", version="1", request=a) != content_key(
        stage="style", version="1", request=a.model_copy(update={"look": "ghibli"})
    )
    assert content_key(stage="style", version="1", request=a) != content_key(stage="style", version="2", request=a)
