"""The style stage end to end: a photo in the store in, a styled JPEG in the store out."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from functions.style import STYLE_VERSION, list_looks, run_style
from shared.errors import OptionError
from shared.models.render import StyledImage, StyleRequest
from shared.store import LocalStore


@pytest.fixture()
def coffee_key(media_dir: Path, store: LocalStore) -> str:
    """coffee.png (600×400) as the analyse stage would leave it in the store."""
    key = "analyze/coffee/image.png"
    store.put_file(key, media_dir / "photos" / "good" / "coffee.png")
    return key


def test_styles_a_photo_into_a_jpeg_of_the_same_aspect(store: LocalStore, coffee_key: str) -> None:
    result = run_style(request=StyleRequest(image_key=coffee_key, look="lego", max_side=300), store=store)
    assert isinstance(result, StyledImage)
    assert result.image_key.startswith("style/") and result.image_key.endswith("/styled.jpg")
    assert (result.look, result.provider, result.width, result.height) == ("lego", "local", 300, 200)
    with store.local_path(result.image_key) as path:
        assert path.read_bytes()[:3] == b"\xff\xd8\xff"  # a JPEG
        decoded = cv2.imread(str(path))
    assert decoded is not None and decoded.shape == (200, 300, 3)


def test_a_small_photo_is_not_enlarged(store: LocalStore, coffee_key: str) -> None:
    result = run_style(request=StyleRequest(image_key=coffee_key, look="sketch", max_side=4096), store=store)
    assert (result.width, result.height) == (600, 400)


def test_same_request_gives_identical_bytes_in_two_stores(tmp_path: Path, media_dir: Path) -> None:
    outputs = []
    for name in ("a", "b"):
        store = LocalStore(tmp_path / name)
        store.put_file("in/photo.png", media_dir / "photos" / "good" / "chelsea_cat.png")
        request = StyleRequest(image_key="in/photo.png", look="minecraft", seed=5, max_side=400)
        outputs.append(store.get_bytes(run_style(request=request, store=store).image_key))
    assert outputs[0] == outputs[1]


def test_a_request_already_done_is_reused(store: LocalStore, coffee_key: str) -> None:
    request = StyleRequest(image_key=coffee_key, look="simpsons", max_side=320)
    first = run_style(request=request, store=store)
    written = store.path(first.image_key).stat().st_mtime_ns
    messages: list[str] = []

    def report(*, percent: float | None = None, message: str = "") -> None:
        messages.append(message)

    second = run_style(request=request, store=store, report=report)
    assert second == first
    assert store.path(first.image_key).stat().st_mtime_ns == written
    assert any("already" in m for m in messages)


def test_each_look_and_seed_has_its_own_key(store: LocalStore, coffee_key: str) -> None:
    keys = {
        run_style(request=StyleRequest(image_key=coffee_key, look=look, seed=seed, max_side=160), store=store).image_key
        for look in ("comic", "ghibli")
        for seed in (0, 1)
    }
    assert len(keys) == 4
    assert STYLE_VERSION


def test_progress_runs_from_0_to_100(store: LocalStore, coffee_key: str) -> None:
    seen: list[float] = []

    def report(*, percent: float | None = None, message: str = "") -> None:
        if percent is not None:
            seen.append(percent)

    run_style(request=StyleRequest(image_key=coffee_key, look="comic", max_side=200), store=store, report=report)
    assert seen[0] == 0 and seen[-1] == 100 and seen == sorted(seen)


def test_unknown_look_fails_fast_listing_the_looks(store: LocalStore) -> None:
    # The photo does not even exist: the bad look must be reported first, with the valid choices.
    with pytest.raises(OptionError) as err:
        run_style(request=StyleRequest(image_key="missing.png", look="claymation"), store=store)
    assert "claymation" in str(err.value)
    for look in list_looks():
        assert look.name in str(err.value)


def test_unknown_provider_is_an_option_error_naming_local(store: LocalStore) -> None:
    with pytest.raises(OptionError, match="local"):
        run_style(request=StyleRequest(image_key="missing.png", look="lego", provider="dalle-9"), store=store)


def test_too_small_max_side_is_an_option_error(store: LocalStore, coffee_key: str) -> None:
    with pytest.raises(OptionError, match="max_side"):
        run_style(request=StyleRequest(image_key=coffee_key, look="lego", max_side=8), store=store)
