"""One real generation per video model (marked `live`; skipped without the key and MOMENTLOOP_LIVE_TESTS=1).
These are the dearest live tests: about $0.05 (Seedance) to $1.60 (Veo, 4 s)."""

from __future__ import annotations

import numpy as np
import pytest
from fakes.live import require_live

from functions.clips import run_clip
from functions.clips.providers.video_models import KLING, SEEDANCE, SORA, VEO
from shared.media.pictures import save_bgr
from shared.models.base import Box, OutputSpec
from shared.models.plan import CameraMove, Scene
from shared.models.render import ClipRequest
from shared.store import LocalStore

pytestmark = pytest.mark.live


@pytest.mark.parametrize("model", [KLING, SEEDANCE, VEO, SORA], ids=lambda m: m.model)
def test_one_real_clip_is_downloaded_and_measured(model: object, store: LocalStore) -> None:
    vendor, name = model.vendor, model.model
    require_live(vendor, cost="$0.05-1.60")
    rng = np.random.default_rng(1)
    image = np.full((1280, 720, 3), (60, 120, 180), np.uint8)
    image[400:880, 120:600] = rng.integers(0, 255, (480, 480, 3), dtype=np.uint8)
    save_bgr(store=store, key="style/live/styled.jpg", image=image)
    output = OutputSpec.for_aspect(aspect="9:16", fps=24, duration=3.0)
    scene = Scene(index=0, photo="live.jpg", photo_index=0, image_key="analyze/live.png", start=0.0, end=3.0,
                  beats=6, move=CameraMove.push_in, focus=Box(x=0.3, y=0.3, w=0.4, h=0.4),
                  prompt="Slow dolly push-in; leaves stir in a light breeze.")
    request = ClipRequest(image_key="style/live/styled.jpg", scene=scene, output=output, frames=72, lead_in=0.0,
                          lead_out=0.0, provider=f"{vendor}:{name}")
    result = run_clip(request=request, store=store)
    assert result.provider == f"{vendor}:{name}" and result.cost_usd > 0
    assert result.duration >= 2.5 and result.height > result.width
