"""What a module that fails to import means: which of MomentLoop's requirements is missing, and the pip
command that installs it. The requirements and their extras are read from the installed package's own
metadata (pyproject.toml, as built), so they are written down once."""

from __future__ import annotations

import importlib.metadata
from functools import lru_cache

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from shared.errors import MissingDependencyError

PACKAGE = "momentloop"

# Import names that differ from the name their package is installed under. Everything else is imported
# as its package's name with "-" spelt "_" (pycolmap, psycopg, openai, imageio_ffmpeg, ...).
_DISTRIBUTION_OF = {
    "google": "google-genai",
    "google.genai": "google-genai",
    "cv2": "opencv-python-headless",
    "PIL": "pillow",
    "skimage": "scikit-image",
    "ffmpeg": "ffmpeg-python",
    "psycopg_pool": "psycopg",  # psycopg[pool]
    "multipart": "python-multipart",
    "python_multipart": "python-multipart",
}

# Extras that only gather others (dev: the test tools plus every optional extra); never the one to name.
_GATHERING_EXTRAS = {"dev"}


@lru_cache(maxsize=1)
def requirements() -> dict[str, str | None]:
    """Each package MomentLoop requires (canonical name) and the extra that installs it (None: always).
    Empty when MomentLoop itself is not installed (nothing says what it needs then)."""
    try:
        dist = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return {}
    extras = [e for e in dist.metadata.get_all("Provides-Extra") or [] if e not in _GATHERING_EXTRAS]
    found: dict[str, str | None] = {}
    for line in dist.requires or []:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        name = canonicalize_name(req.name)
        if name == PACKAGE:
            continue
        if req.marker is None:
            found[name] = None
            continue
        for extra in extras:
            if req.marker.evaluate({"extra": extra}):
                found.setdefault(name, extra)
                break
    return found


def _distribution(module: str) -> str:
    top = module.split(".")[0]
    name = _DISTRIBUTION_OF.get(module) or _DISTRIBUTION_OF.get(top) or top.replace("_", "-")
    return str(canonicalize_name(name))


def _not_installed(exc: ImportError) -> bool:
    """A module that is not there at all; or `from google import genai` with only other packages of the
    `google` namespace installed (an ImportError that names the namespace), when genai's package is absent."""
    if isinstance(exc, ModuleNotFoundError):
        return True
    try:
        importlib.metadata.distribution(_distribution(exc.name or ""))
    except importlib.metadata.PackageNotFoundError:
        return True
    return False


def missing_dependency(exc: BaseException) -> MissingDependencyError | None:
    """`exc`, or the error that caused it, as a MissingDependencyError when it is a module of one of
    MomentLoop's own requirements that is not installed; None for anything else (a module nobody
    promised is missing: that one is a bug)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, MissingDependencyError):
            return current
        if isinstance(current, ImportError) and current.name and _not_installed(current):
            distribution = _distribution(current.name)
            needed = requirements()
            if distribution in needed:
                return MissingDependencyError(module=current.name, distribution=distribution,
                                              extra=needed[distribution])
        current = current.__cause__ or current.__context__
    return None
