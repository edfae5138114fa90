"""The photo half of the analyze stage: decode a user's photo once, store it upright in sRGB, and measure
what the planner needs (capture time, faces, subject, sharpness, perceptual hash)."""

from __future__ import annotations

import logging

import cv2
import imagehash
import numpy as np
from PIL import Image

from functions.analyze.subject import detect_faces, find_subject, resized
from shared.hashing import content_key
from shared.media.images import decode_photo
from shared.models import AnalyzePhotoRequest, PhotoInfo
from shared.progress import Reporter, silent
from shared.store import ArtifactStore

log = logging.getLogger(__name__)

ANALYZE_VERSION = "2"
"""Bump when decoding or analysis changes what is stored or measured: it is part of every output key."""

SHARPNESS_SIDE = 1024
"""Long side of the grey copy sharpness is measured on, whatever the photo's size, so values compare
across photos (a small photo is enlarged to it and measures soft, as it will look in the video)."""
SHARPNESS_SIGMA = 1.0
JPEG_QUALITY = 95


def analyze_photo(*, request: AnalyzePhotoRequest, store: ArtifactStore, report: Reporter = silent) -> PhotoInfo:
    """Decode, store and measure one photo. Raises PhotoError (named after the user's file) for a photo
    that cannot be used."""
    name = request.source.name
    report(percent=0, message=f"decoding {name}")
    with store.local_path(request.source.key) as path:
        photo = decode_photo(path=path, max_pixels=request.max_pixels, max_side=request.max_side, name=name)
    rgb = photo.rgb

    image_key = f"analyze/{content_key(stage='analyze', version=ANALYZE_VERSION, request=request)}/photo.jpg"
    if not store.exists(image_key):
        with store.write_path(image_key) as tmp:
            # 4:4:4 chroma: this copy is the master every later stage restyles and moves over.
            Image.fromarray(rgb).save(tmp, format="JPEG", quality=JPEG_QUALITY, subsampling=0)
    report(percent=40, message=f"finding faces in {name}")

    faces = detect_faces(rgb=rgb)
    subject, kind = find_subject(rgb=rgb, faces=faces)
    report(percent=80, message=f"measuring {name}")
    info = PhotoInfo(
        source=request.source,
        image_key=image_key,
        width=photo.width,
        height=photo.height,
        captured_at=photo.captured_at,
        faces=faces,
        subject=subject,
        subject_kind=kind,
        sharpness=sharpness(rgb=rgb),
        phash=perceptual_hash(rgb=rgb),
    )
    log.debug("analysed %s: %dx%d, %d face(s), subject %s", name, info.width, info.height, len(faces), kind)
    report(percent=100, message=f"analysed {name}")
    return info


def sharpness(*, rgb: np.ndarray) -> float:
    """Variance of the Laplacian of a grey copy with a fixed long side (higher: sharper).

    A slight Gaussian (sigma 1 px) goes first: the very highest frequencies of the copy depend more on
    how it was resampled than on the photo, and without it the same photo given at 2048 and at 1400 px
    measures 40% apart (15% with it), while a blurred copy still measures 5-10x lower."""
    grey = cv2.cvtColor(resized(image=rgb, long_side=SHARPNESS_SIDE), cv2.COLOR_RGB2GRAY).astype(np.float32)
    smooth = cv2.GaussianBlur(grey, (0, 0), SHARPNESS_SIGMA)
    return float(cv2.Laplacian(smooth, cv2.CV_32F).var())


def perceptual_hash(*, rgb: np.ndarray) -> str:
    """64-bit DCT perceptual hash (imagehash.phash) as 16 hex digits."""
    # phash looks at a 32 x 32 grey copy; shrinking with INTER_AREA first is faster than Lanczos on megapixels.
    small = resized(image=rgb, long_side=256) if max(rgb.shape[:2]) > 256 else rgb
    return str(imagehash.phash(Image.fromarray(small)))
