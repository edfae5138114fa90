"""The style stage: a photo painted in a look (ghibli, lego, minecraft, simpsons, comic, sketch)."""

from functions.style.looks import LookInfo, list_looks
from functions.style.providers import StyleProvider, get_provider
from functions.style.stage import STYLE_VERSION, run_style

__all__ = ["STYLE_VERSION", "LookInfo", "StyleProvider", "get_provider", "list_looks", "run_style"]
