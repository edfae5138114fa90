"""Style providers, chosen by name: "local", "gemini", "openai", "replicate", a model ("replicate:owner/name"),
or a comma-separated fallback chain ("gemini,local")."""

from __future__ import annotations

from functions.style.providers.base import StyleProvider
from functions.style.providers.fallback import FallbackStyleProvider
from functions.style.providers.gemini import GeminiStyleProvider
from functions.style.providers.local import LocalStyleProvider
from functions.style.providers.openai import OpenAIStyleProvider
from functions.style.providers.replicate import ReplicateStyleProvider
from shared.providers.registry import Registry

REGISTRY = Registry[StyleProvider].of_stage(
    what="style provider", local=LocalStyleProvider,
    cloud=[GeminiStyleProvider, OpenAIStyleProvider, ReplicateStyleProvider], chain=FallbackStyleProvider,
)
get_provider = REGISTRY.build

__all__ = ["REGISTRY", "LocalStyleProvider", "StyleProvider", "get_provider"]
