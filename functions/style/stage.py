"""The style stage: one analysed photo in, the same photo painted in a look out."""

from __future__ import annotations

import logging

import cv2
import numpy as np

from functions.style.looks import get_look
from functions.style.providers import get_provider
from shared.errors import OptionError
from shared.hashing import content_key
from shared.media.pictures import load_bgr, save_bgr
from shared.models.render import StyledImage, StyleRequest
from shared.progress import Reporter, silent
from shared.store import ArtifactStore

log = logging.getLogger(__name__)

# Bump when any look's output changes: it is part of every styled image's key.
STYLE_VERSION = "2"

# Below this a look has too few pixels to draw its strokes, studs or blocks.
MIN_SIDE = 64


def fit_long_side(*, image: np.ndarray, max_side: int) -> np.ndarray:
    """`image` scaled down (never up) so its long side is at most `max_side`, aspect kept."""
    h, w = image.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1.0:
        return image
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def styled_key(request: StyleRequest) -> str:
    return f"style/{content_key(stage='style', version=STYLE_VERSION, request=request)}/styled.jpg"


def run_style(*, request: StyleRequest, store: ArtifactStore, report: Reporter = silent) -> StyledImage:
    """Paint `request.image_key` in `request.look` and store it as a JPEG; a request already done is
    answered from the store."""
    if request.max_side < MIN_SIDE:
        raise OptionError(f"max_side must be at least {MIN_SIDE}, got {request.max_side}")
    # Both names are checked before any work, so a typo fails fast with the valid choices.
    provider = get_provider(request.provider)
    get_look(request.look)
    key = styled_key(request)

    if store.exists(key):
        h, w = load_bgr(store=store, key=key).shape[:2]
        log.info("style %s: reusing %s", request.look, key)
        report(percent=100, message=f"{request.look}: already styled")
    else:
        report(percent=0, message=f"{request.look}: loading photo")
        image = fit_long_side(image=load_bgr(store=store, key=request.image_key), max_side=request.max_side)
        report(percent=20, message=f"{request.look}: painting with {provider.name}")
        styled = provider.stylize(image=image, look=request.look, seed=request.seed)
        save_bgr(store=store, key=key, image=styled)
        h, w = styled.shape[:2]
        report(percent=100, message=f"{request.look}: done")
        # Cloud providers (and chains) say which link painted it, what it cost and which links failed first.
        usage = getattr(provider, "usage", None)
        if usage is not None:
            return StyledImage(image_key=key, look=request.look, provider=usage.provider, width=w, height=h,
                               cost_usd=usage.cost_usd, attempts=usage.attempts)
    return StyledImage(image_key=key, look=request.look, provider=provider.name, width=w, height=h)
