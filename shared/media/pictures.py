"""Pictures in the artifact store: stages pass them as OpenCV-style BGR uint8 arrays; on disk they are
high-quality JPEGs (PNG when they carry alpha). Photos from users are decoded by `shared.media.photos`."""

from __future__ import annotations

import cv2
import numpy as np

from shared.errors import StoreError
from shared.store import ArtifactStore


def load_bgr(*, store: ArtifactStore, key: str) -> np.ndarray:
    """Decode an artifact written by this project (already upright, 8-bit sRGB) as BGR uint8."""
    with store.local_path(key) as path:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise StoreError("artifact is not a decodable picture", key=key)
    return image


def save_bgr(*, store: ArtifactStore, key: str, image: np.ndarray, quality: int = 95) -> None:
    """Encode a BGR uint8 array to `key` (its suffix picks the format: .jpg or .png), atomically."""
    suffix = "." + key.rsplit(".", 1)[-1].lower()
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if suffix in (".jpg", ".jpeg") else []
    ok, buf = cv2.imencode(suffix, image, params)
    if not ok:
        raise StoreError("could not encode picture", key=key)
    store.put_bytes(key, buf.tobytes())
