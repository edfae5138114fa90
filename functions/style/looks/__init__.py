"""Looks: one module per look, each a `render(*, image, seed)` over BGR uint8 pictures."""

from functions.style.looks.registry import LOOKS, Look, LookInfo, get_look, list_looks

__all__ = ["LOOKS", "Look", "LookInfo", "get_look", "list_looks"]
