"""Clip providers, chosen by name: "local", "replicate" (Kling; "replicate:bytedance/seedance-1-pro-fast"
for Seedance), "gemini" (Veo 3.1), "openai" (Sora 2), the short names "kling", "seedance", "veo", "sora",
or a comma-separated fallback chain ("kling,veo,local")."""

from __future__ import annotations

from functions.clips.providers.base import ClipProvider
from functions.clips.providers.fallback import FallbackClipProvider
from functions.clips.providers.gemini import GeminiClipProvider
from functions.clips.providers.local import LocalClipProvider
from functions.clips.providers.openai import OpenAIClipProvider
from functions.clips.providers.replicate import ReplicateClipProvider
from functions.clips.providers.video_models import ALIASES
from shared.providers.registry import Registry

REGISTRY = Registry[ClipProvider].of_stage(
    what="clip provider", local=LocalClipProvider,
    cloud=[ReplicateClipProvider, GeminiClipProvider, OpenAIClipProvider], chain=FallbackClipProvider, aliases=ALIASES,
)
get_provider = REGISTRY.build

__all__ = ["REGISTRY", "ClipProvider", "LocalClipProvider", "get_provider"]
