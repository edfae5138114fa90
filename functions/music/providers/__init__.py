"""Music generators, chosen by name: "local" (the procedural synth), "replicate" (MusicGen; or
"replicate:owner/name:version"), or a chain ("replicate,local")."""

from __future__ import annotations

from functions.music.providers.base import GeneratedMusic, MusicProvider
from functions.music.providers.fallback import FallbackMusicProvider
from functions.music.providers.local import LocalMusicProvider
from functions.music.providers.replicate import ReplicateMusicProvider
from shared.providers.registry import Registry

REGISTRY = Registry[MusicProvider].of_stage(
    what="music provider", local=LocalMusicProvider, cloud=[ReplicateMusicProvider], chain=FallbackMusicProvider,
    aliases={"musicgen": "replicate"},
)
get_provider = REGISTRY.build

__all__ = ["REGISTRY", "GeneratedMusic", "LocalMusicProvider", "MusicProvider", "get_provider"]
