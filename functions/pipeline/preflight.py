"""Before a job starts: every provider named must exist, and every cloud provider chosen must have its key.

One clear message names the missing variable (GEMINI_API_KEY, OPENAI_API_KEY, REPLICATE_API_TOKEN) before
anything runs, rather than a failure minutes later in the middle of a stage. And how many items of each
stage a local executor runs at once, which depends on whether the stage waits on a provider."""

from __future__ import annotations

from shared.providers.fallback import parse_chain
from shared.providers.keys import KEY_VARIABLES, MissingKeyError, provider_keys
from shared.settings import Settings

STAGE_SETTINGS = {
    "style": "style_provider",
    "plan": "plan_provider",
    "clips": "clip_provider",
    "music": "music_provider",
}


def _validate_names(settings: Settings, *, generate_music: bool) -> None:
    from functions.clips.providers import get_provider as clip_provider
    from functions.music.providers import get_provider as music_provider
    from functions.plan.providers import get_provider as plan_provider
    from functions.style.providers import get_provider as style_provider

    style_provider(settings.style_provider)
    plan_provider(settings.plan_provider)
    clip_provider(settings.clip_provider)
    if generate_music:
        music_provider(settings.music_provider)


def vendors_of(*, stage: str, chain: str) -> list[str]:
    from functions.clips.providers.video_models import ALIASES

    aliases = ALIASES if stage == "clips" else {"musicgen": "replicate"} if stage == "music" else {}
    return [link.name for link in parse_chain(chain, aliases=aliases) if link.name in KEY_VARIABLES]


def check_providers(*, settings: Settings, generate_music: bool, strict: bool = True) -> list[str]:
    """Raise OptionError for an unknown provider and, when `strict`, MissingKeyError for the first cloud
    provider without its key. Not strict (a dry run): the missing keys come back as warnings."""
    _validate_names(settings, generate_music=generate_music)
    keys = provider_keys()
    warnings: list[str] = []
    for stage, field in STAGE_SETTINGS.items():
        if stage == "music" and not generate_music:
            continue
        for vendor in vendors_of(stage=stage, chain=getattr(settings, field)):
            if keys.key(vendor) is None:
                err = MissingKeyError(vendor=vendor, variable=KEY_VARIABLES[vendor], chosen_for=stage)
                if strict:
                    raise err
                warnings.append(str(err))
    return warnings


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
