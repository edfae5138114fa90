"""Before a job starts: every provider named must exist, and every cloud provider chosen must have its key.

One clear message names the missing variable (GEMINI_API_KEY, OPENAI_API_KEY, REPLICATE_API_TOKEN) before
anything runs, rather than a failure minutes later in the middle of a stage. And how many items of each
stage a local executor runs at once, which depends on whether the stage waits on a provider."""

from __future__ import annotations

from typing import Any

from functions.clips.providers import REGISTRY as CLIPS
from functions.music.providers import REGISTRY as MUSIC
from functions.plan.providers import REGISTRY as PLAN
from functions.style.providers import REGISTRY as STYLE
from shared.providers.keys import check_keys
from shared.providers.registry import Registry
from shared.settings import Settings

REGISTRIES: dict[str, Registry[Any]] = {"style": STYLE, "plan": PLAN, "clips": CLIPS, "music": MUSIC}
STAGE_SETTINGS = {
    "style": "style_provider",
    "plan": "plan_provider",
    "clips": "clip_provider",
    "music": "music_provider",
}


def _chosen(settings: Settings, *, generate_music: bool) -> dict[str, str]:
    """The provider spec of every stage this job calls a provider in."""
    return {stage: getattr(settings, field) for stage, field in STAGE_SETTINGS.items()
            if generate_music or stage != "music"}


def check_providers(*, settings: Settings, generate_music: bool, strict: bool = True) -> list[str]:
    """Raise OptionError for an unknown provider and, when `strict`, MissingKeyError for the first cloud
    provider without its key. Not strict (a dry run): the missing keys come back as warnings."""
    chosen = _chosen(settings, generate_music=generate_music)
    for stage, spec in chosen.items():
        REGISTRIES[stage].build(spec)
    return check_keys(chosen={stage: vendors_of(stage=stage, chain=spec) for stage, spec in chosen.items()},
                      strict=strict)


def vendors_of(*, stage: str, chain: str) -> list[str]:
    return REGISTRIES[stage].vendors(chain)


def uses_cloud(*, stage: str, chain: str) -> bool:
    return bool(vendors_of(stage=stage, chain=chain))


def executor_limits(settings: Settings) -> tuple[int, dict[str, int]]:
    """Workers and per-stage limits for a local executor: CPU stages get the machine's workers; a stage
    calling a cloud provider waits on the network, so it gets that provider's concurrency limit instead;
    local clip renders are each a multi-threaded encode, so fewer run at once (`render_concurrency`)."""
    cpu = settings.workers
    limits = {stage: cpu for stage in ("analyze_photo", "analyze_music", "music", "plan", "compose")}
    limits["style"] = settings.style_concurrency if uses_cloud(stage="style", chain=settings.style_provider) else cpu
    limits["clips"] = (settings.clip_concurrency if uses_cloud(stage="clips", chain=settings.clip_provider)
                       else min(cpu, settings.render_concurrency))
    return max(cpu, *limits.values()), limits
