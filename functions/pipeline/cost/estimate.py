"""What a stage item, a plan, a whole job would cost: each provider declares its price, chains are
estimated with their first link (expected) and their dearest link (worst)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shared.models.base import Frozen, OutputSpec
from shared.models.media import MusicRequest
from shared.models.plan import PlanRequest, ScenePlan
from shared.models.render import ClipRequest, StyleRequest
from shared.providers.fallback import Chain
from shared.providers.prices import ItemEstimate
from shared.settings import Settings
from shared.store import ArtifactStore


class CostLine(Frozen):
    """One stage of a job's estimate."""

    stage: str
    provider: str
    items: int = Field(ge=0)
    expected: float = Field(ge=0)
    worst: float = Field(ge=0)
    detail: str = ""


class CostEstimate(Frozen):
    lines: list[CostLine]

    @property
    def expected(self) -> float:
        return round(sum(line.expected for line in self.lines), 6)

    @property
    def worst(self) -> float:
        return round(sum(line.worst for line in self.lines), 6)


TYPICAL_PHOTO = (1536, 1024)
"""The size style estimates assume: a landscape photo (the dearest shape for gpt-image-1)."""

NOTHING = ItemEstimate(expected=0.0, worst=0.0, provider="local")


def estimate_request(*, stage: str, request: BaseModel) -> ItemEstimate:
    """The cost of one item of `stage`; zero for stages that never call a provider."""
    if stage == "style" and isinstance(request, StyleRequest):
        from functions.style.providers import REGISTRY as STYLE

        return STYLE.estimate(request.provider, width=TYPICAL_PHOTO[0], height=TYPICAL_PHOTO[1])
    if stage == "clips" and isinstance(request, ClipRequest):
        from functions.clips.providers import REGISTRY as CLIPS

        return CLIPS.estimate(request.provider, request=request)
    if stage == "plan" and isinstance(request, PlanRequest):
        from functions.plan.providers import REGISTRY as PLAN

        return PLAN.estimate(request.provider, request=request)
    if stage == "music" and isinstance(request, MusicRequest):
        if request.user_key:
            return NOTHING
        from functions.music.providers import REGISTRY as MUSIC

        return MUSIC.estimate(request.provider, duration=request.duration)
    return NOTHING


def render_requests(*, plan: ScenePlan, settings: Settings, seed: int = 0) -> tuple[list[StyleRequest],
                                                                                     list[ClipRequest]]:
    """The style and clip requests the pipeline will make for `plan` (image keys as planned)."""
    from functions.compose import clip_windows
    from functions.style.stage import styled_key

    keys = list(dict.fromkeys(sc.image_key for sc in plan.scenes))
    styles = {k: StyleRequest(image_key=k, look=plan.look, provider=settings.style_provider, seed=seed) for k in keys}
    # A styled picture's key is a hash of its request, so the clip requests are known before styling.
    clips = [
        ClipRequest(image_key=styled_key(styles[scene.image_key]), scene=scene, output=plan.output, frames=w.frames,
                    lead_in=w.lead_in, lead_out=w.lead_out, provider=settings.clip_provider, seed=seed)
        for scene, w in zip(plan.scenes, clip_windows(plan=plan), strict=True)
    ]
    return list(styles.values()), clips


def _line(*, stage: str, items: list[ItemEstimate], provider: str, detail: str = "") -> CostLine:
    return CostLine(stage=stage, provider=provider, items=len(items),
                    expected=round(sum(i.expected for i in items), 6), worst=round(sum(i.worst for i in items), 6),
                    detail=detail)


def estimate_render(*, plan: ScenePlan, settings: Settings, seed: int = 0, store: ArtifactStore | None = None
                    ) -> list[CostLine]:
    """Style and clips of `plan`; with `store`, what is already cached costs nothing."""
    styles, clips = render_requests(plan=plan, settings=settings, seed=seed)
    if store is not None:
        styles = [r for r in styles if not is_cached(stage="style", request=r, store=store)]
        clips = [r for r in clips if not is_cached(stage="clips", request=r, store=store)]
    style_items = [estimate_request(stage="style", request=r) for r in styles]
    clip_items = [estimate_request(stage="clips", request=r) for r in clips]
    return [
        _line(stage="style", items=style_items, provider=settings.style_provider,
              detail=f"{len(styles)} photo(s)"),
        _line(stage="clips", items=clip_items, provider=settings.clip_provider,
              detail=_clip_detail(clips=clips, settings=settings)),
    ]


def is_cached(*, stage: str, request: BaseModel, store: ArtifactStore) -> bool:
    from functions.pipeline.cache import result_key
    from functions.pipeline.stages import get_stage

    return store.exists(result_key(stage=get_stage(stage), request=request))


def _clip_detail(*, clips: list[ClipRequest], settings: Settings) -> str:
    from functions.clips.providers import get_provider
    from functions.clips.providers.cloud import CloudClipProvider

    if not clips:
        return "no scene"
    provider = get_provider(settings.clip_provider)
    first = provider.links[0] if isinstance(provider, Chain) else provider
    if isinstance(first, CloudClipProvider):
        asked = [first.seconds_for(request=r, settings=settings) for r in clips]
        return f"{len(clips)} scene(s), {sum(asked):g} s of video asked from {first.name}"
    return f"{len(clips)} scene(s)"


def estimate_job(
    *, plan: ScenePlan, settings: Settings, music_generated: bool, photos: int, seed: int = 0,
    store: ArtifactStore | None = None,
) -> CostEstimate:
    """Music, plan, style and clips of a job whose plan (or a stand-in of it) is `plan`."""
    lines: list[CostLine] = []
    if music_generated:
        music = estimate_request(stage="music", request=MusicRequest(duration=plan.output.duration,
                                                                     provider=settings.music_provider))
        lines.append(_line(stage="music", items=[music], provider=settings.music_provider,
                           detail=f"{plan.output.duration:.0f} s song"))
    else:
        lines.append(CostLine(stage="music", provider="your file", items=1, expected=0.0, worst=0.0))
    from functions.plan.providers import REGISTRY as PLAN
    from functions.plan.providers.proposal import estimate_tokens

    tokens_in, tokens_out = estimate_tokens(photos=photos, most=len(plan.scenes))
    plan_cost = PLAN.estimate(settings.plan_provider, request=_plan_stub(photos=photos, output=plan.output))
    lines.append(CostLine(stage="plan", provider=settings.plan_provider, items=1, expected=plan_cost.expected,
                          worst=plan_cost.worst, detail=f"about {tokens_in} input / {tokens_out} output tokens"))
    lines.extend(estimate_render(plan=plan, settings=settings, seed=seed, store=store))
    return CostEstimate(lines=lines)


def _plan_stub(*, photos: int, output: OutputSpec) -> PlanRequest:
    """A PlanRequest of `photos` photos: planner prices depend on how many photos they are shown."""
    from shared.models.base import Box
    from shared.models.media import MusicInfo, MusicTrack, PhotoInfo, PhotoSource

    track = MusicTrack(audio_key="estimate", name="estimate", origin="generated", duration=output.duration)
    music = MusicInfo(track=track, duration=output.duration, tempo=120.0, beats=[], downbeats=[], beat_strength=[],
                      energy_hop=1.0, energy=[], sections=[])
    stub = [PhotoInfo(source=PhotoSource(key=f"p{i}", name=f"p{i}", index=i), image_key=f"p{i}", width=4, height=3,
                      subject=Box(x=0.25, y=0.25, w=0.5, h=0.5), sharpness=1.0, phash="0" * 16)
            for i in range(photos)]
    return PlanRequest(photos=stub, music=music, output=output, look="")
