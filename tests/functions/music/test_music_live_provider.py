"""One real MusicGen song on Replicate (marked `live`; skipped without the key and MOMENTLOOP_LIVE_TESTS=1)."""

from __future__ import annotations

import pytest
from fakes.live import require_live

from functions.music import run_music
from shared.models.media import MusicRequest
from shared.store import LocalStore

pytestmark = pytest.mark.live


def test_one_real_song(store: LocalStore) -> None:
    require_live("replicate", cost="$0.05")
    track = run_music(request=MusicRequest(duration=6.0, provider="replicate"), store=store)
    assert track.provider == "replicate:meta/musicgen" and track.duration >= 6.0
