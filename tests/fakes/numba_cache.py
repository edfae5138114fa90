"""A numba cache that is cold for some of librosa's kernels only: a first run that compiles just those.

The compiled kernels of this machine (wherever numba keeps them for this environment) are copied into a
folder laid out as NUMBA_CACHE_DIR has it, a folder per source folder named by numba's own rule. The index
files name their source by its modification time and size, which a copy keeps valid."""

from __future__ import annotations

import shutil
from pathlib import Path


def _stand_in() -> None:
    """A function numba's cache locators are asked about, for a source file's cache folder."""


def cache_folder(source: Path) -> Path | None:
    """Where numba keeps (or would keep) the kernels of `source` for a process with this environment."""
    from numba.core.caching import CacheImpl

    for locator_class in CacheImpl._locator_classes:
        locator = locator_class.from_function(_stand_in, str(source))
        if locator is not None:
            return Path(locator.get_cache_path())
    return None


def seed_cache(dest: Path, *, cold: str) -> list[Path]:
    """Copy this machine's compiled librosa kernels into `dest` (for NUMBA_CACHE_DIR), all but those of
    `cold` (a source file relative to librosa, e.g. functions/analyze/kernels.py's BEAT_KERNELS). Returns
    the files copied: none when this machine has compiled none."""
    import librosa
    from numba.core.caching import _CacheLocator

    root = Path(librosa.__file__).parent
    copied = []
    for source in sorted(root.rglob("*.py")):
        folder = cache_folder(source)
        if source.relative_to(root).as_posix() == cold or folder is None or not folder.is_dir():
            continue
        target = dest / _CacheLocator.get_suitable_cache_subpath(str(source))
        for cached in [*folder.glob(f"{source.stem}.*.nb[ic]"), *folder.glob(f"guf-{source.stem}.*.nb[ic]")]:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(cached, target / cached.name)
            copied.append(target / cached.name)
    dest.mkdir(parents=True, exist_ok=True)
    return copied
