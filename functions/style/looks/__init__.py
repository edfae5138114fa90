"""Looks: one module per look, each a `render(*, image, seed, focus)` over BGR uint8 pictures; `Look.render`
finds the focus (faces, subject) and paints."""

from functions.style.looks.registry import LOOKS, Look, LookInfo, get_look, list_looks

__all__ = ["LOOKS", "Look", "LookInfo", "get_look", "list_looks"]
