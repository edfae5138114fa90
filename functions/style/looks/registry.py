"""The looks the local provider can paint, by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from functions.style.looks import comic, ghibli, lego, minecraft, simpsons, sketch
from functions.style.looks.focus import Focus, find_focus
from shared.errors import OptionError
from shared.models.base import Frozen


class Paint(Protocol):
    """Paint a BGR uint8 picture in a look, keeping `focus` (its faces and subject) readable; returns a
    BGR uint8 picture of the same size. What each look module's `render` is."""

    def __call__(self, *, image: np.ndarray, seed: int, focus: Focus) -> np.ndarray: ...


class LookInfo(Frozen):
    """A look as `momentloop styles` lists it."""

    name: str
    description: str


@dataclass(frozen=True)
class Look:
    name: str
    description: str
    paint: Paint

    def render(self, *, image: np.ndarray, seed: int) -> np.ndarray:
        """`image` (BGR uint8) in this look, its faces and subject found first (see looks/focus.py)."""
        return self.paint(image=image, seed=seed, focus=find_focus(image=image))


LOOKS: dict[str, Look] = {
    look.name: look
    for look in (
        Look("ghibli", ghibli.DESCRIPTION, ghibli.render),
        Look("lego", lego.DESCRIPTION, lego.render),
        Look("minecraft", minecraft.DESCRIPTION, minecraft.render),
        Look("simpsons", simpsons.DESCRIPTION, simpsons.render),
        Look("comic", comic.DESCRIPTION, comic.render),
        Look("sketch", sketch.DESCRIPTION, sketch.render),
    )
}


def list_looks() -> list[LookInfo]:
    return [LookInfo(name=look.name, description=look.description) for look in LOOKS.values()]


def get_look(name: str) -> Look:
    """The look called `name`; an unknown name is an OptionError that lists the valid ones."""
    try:
        return LOOKS[name]
    except KeyError:
        raise OptionError(
            f"unknown look {name!r}; choose one of: {', '.join(LOOKS)}",
            hint="`momentloop styles` lists the looks",
        ) from None
