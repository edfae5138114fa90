"""librosa's compiled kernels: are they on disk yet?

librosa's numba kernels are compiled the first time a machine analyses a song (~45 s on two cores) and
cached on disk by numba (`cache=True`): beside librosa's sources (`__pycache__`), in NUMBA_CACHE_DIR when
that is set, or in the user's cache folder when librosa's folder is read-only. Later runs load them in
about 3 s. The analysis says so before it waits, instead of a bar that sits at 0 % and looks frozen."""

from __future__ import annotations

import importlib.util
import logging
import pickle
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FIRST_RUN_MESSAGE = "preparing the audio analyser (first run only, ~45 s)"

# Source files of librosa whose kernels compile as soon as they are imported (guvectorize with explicit
# signatures), in the same first run as the rest: their index files in numba's cache say whether it ran.
# Every analysis imports the first (spectra, onsets); only beat tracking the second.
SPECTRAL_KERNELS = "util/utils.py"
BEAT_KERNELS = "beat.py"


def _stand_in() -> None:
    """Stands for a kernel when numba's locators are asked where a source file's kernels are cached (they
    read only a function's first line number, for file names we match by pattern anyway)."""


def _cached(source: Path) -> bool:
    """Whether numba's cache holds kernels of `source` that this numba will load: an index file written by
    the same numba version for the same source text, listing at least one compiled signature."""
    import numba
    from numba.core.caching import CacheImpl

    # numba's own locators, in its own order: NUMBA_CACHE_DIR, beside the source, the user's cache folder.
    locator_classes: list[Any] = list(CacheImpl._locator_classes)
    for locator_class in locator_classes:
        locator = locator_class.from_function(_stand_in, str(source))
        if locator is not None:
            break
    else:
        return False  # nowhere to cache: every run compiles
    folder = Path(locator.get_cache_path())
    stamp = locator.get_source_stamp()
    pattern = f"{source.stem}.*.py{sys.version_info.major}{sys.version_info.minor}*.nbi"
    for index in [*folder.glob(pattern), *folder.glob(f"*-{pattern}")]:
        with index.open("rb") as f:
            if pickle.load(f) != numba.__version__:
                continue
            saved_stamp, overloads = pickle.loads(f.read())
        if saved_stamp == stamp and overloads:
            return True
    return False


def kernels_cached(*, beat_tracking: bool) -> bool:
    """False when analysing a song (with `beat_tracking` or not) would first compile librosa's kernels:
    numba's cache is cold."""
    spec = importlib.util.find_spec("librosa")
    if spec is None or spec.origin is None:
        return True  # no librosa: the analysis fails on its own, with nothing to compile
    root = Path(spec.origin).parent
    sources = [SPECTRAL_KERNELS, *([BEAT_KERNELS] if beat_tracking else [])]
    try:
        return all(_cached(root / relative) for relative in sources)
    except Exception as exc:  # a numba whose cache is laid out otherwise: better no message than a wrong one
        log.debug("could not read numba's cache (%s); assuming it is warm", exc)
        return True
