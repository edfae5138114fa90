"""What the model planners share: the instructions, thumbnails, one repair attempt, and our beat grid.

The model answers in a pydantic response schema (PlanProposal). An answer that is not valid JSON, or
not the schema, gets one repair attempt (the model is shown its answer and what is wrong with it); a
second bad answer is a ProviderOutputError, and the chain goes on to the local planner with the reason
recorded on the plan."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2

from functions.plan.providers.proposal import (
    Candidates,
    apply_proposal,
    candidate_photos,
    describe_request,
    estimate_tokens,
    parse_proposal,
    photo_id,
)
from shared.media.pictures import load_bgr
from shared.models.base import ProviderAttempt
from shared.models.plan import PlanRequest, ScenePlan
from shared.providers.concurrency import provider_slot
from shared.providers.errors import ProviderOutputError
from shared.providers.prices import Price
from shared.providers.retry import RetryPolicy, call_with_retry
from shared.providers.sdk.imports import preload_sdk
from shared.providers.sdk.vendors import VendorCalls
from shared.settings import get_settings
from shared.store import ArtifactStore

log = logging.getLogger(__name__)

THUMB_SIDE = 384
"""Long side of the thumbnails shown to a planner: enough to see who and what, cheap in tokens."""


@dataclass(frozen=True)
class Thumbnail:
    photo_id: str
    jpeg: bytes


@dataclass(frozen=True)
class Answer:
    text: str
    input_tokens: int
    output_tokens: int


def thumbnails(*, store: ArtifactStore | None, candidates: Candidates) -> list[Thumbnail]:
    if store is None:
        return []
    out = []
    for p in candidates.photos:
        image = load_bgr(store=store, key=p.image_key)
        h, w = image.shape[:2]
        scale = min(1.0, THUMB_SIDE / max(h, w))
        small = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])
        if ok:
            out.append(Thumbnail(photo_id=photo_id(p), jpeg=buf.tobytes()))
    return out


PLANNER_PRICES: dict[str, Price] = {
    "gemini-2.5-flash": Price(per_million_input_tokens=0.30, per_million_output_tokens=2.50,
                              source="Gemini API pricing for gemini-2.5-flash, text and image input (2025)"),
    "gpt-4o": Price(per_million_input_tokens=2.50, per_million_output_tokens=10.0,
                    source="OpenAI pricing for gpt-4o (2025); thumbnails sent at detail=low (85 tokens)"),
}
"""The planner models we know, and their list prices."""
DEFAULT_PLANNER = {"gemini": "gemini-2.5-flash", "openai": "gpt-4o"}
"""Each vendor's planner when a spec names no model; a model we do not know is estimated at its price."""


class RepairError(ProviderOutputError):
    """Both answers were unusable. Carries what the two calls cost (they are billed all the same)."""


class CloudPlanProvider(VendorCalls):
    stage = "plan"

    def __init__(self, model: str | None = None) -> None:
        default = DEFAULT_PLANNER[self.vendor]
        self.model = model or default
        self.price = PLANNER_PRICES.get(self.model, PLANNER_PRICES[default])
        self.name = f"{self.vendor}:{self.model}"
        preload_sdk(self.vendor)  # whole, under one lock, before any call: see shared/providers/sdk/imports.py

    def estimate_usd(self, *, request: PlanRequest) -> float:
        tokens_in, tokens_out = estimate_tokens(photos=len(request.photos), most=max(1, len(request.photos)))
        return self.price.cost(input_tokens=tokens_in, output_tokens=tokens_out)

    def propose(self, *, request: PlanRequest, store: ArtifactStore | None = None) -> ScenePlan:
        settings = get_settings()
        policy = RetryPolicy.from_settings(settings)
        candidates = candidate_photos(request)
        instructions = describe_request(request=request, candidates=candidates)
        thumbs = thumbnails(store=store, candidates=candidates)
        client = self._client()
        spent = 0.0
        notes: list[ProviderAttempt] = []

        def ask(repair: tuple[str, str] | None) -> Answer:
            return call_with_retry(
                lambda: self._ask(client=client, instructions=instructions, thumbs=thumbs, repair=repair,
                                  seed=request.seed),
                what=f"plan {self.name}", translate=self._translate, policy=policy,
            )

        with provider_slot(key=f"plan:{self.vendor}", limit=settings.plan_concurrency):
            answer = ask(None)
            spent += self._cost(answer)
            try:
                proposal = parse_proposal(answer.text, provider=self.name)
            except ProviderOutputError as first:
                log.warning("plan %s: %s; asking once more", self.name, first.detail)
                notes.append(ProviderAttempt(provider=self.name, kind="repaired",
                                             reason=f"first answer unusable ({first.detail}); asked once more",
                                             cost_usd=spent))
                answer = ask((answer.text, first.detail))
                spent += self._cost(answer)
                try:
                    proposal = parse_proposal(answer.text, provider=self.name)
                except ProviderOutputError as second:
                    err = RepairError(f"answer unusable twice (first: {first.detail}; then: {second.detail})",
                                      provider=self.name)
                    err.spent_usd = spent
                    raise err from None
        plan, corrections = apply_proposal(request=request, proposal=proposal, provider=self.name)
        for note in corrections:
            log.info("plan %s: %s", self.name, note)
            notes.append(ProviderAttempt(provider=self.name, kind="corrected", reason=note))
        return plan.model_copy(update={"cost_usd": round(spent, 6), "attempts": notes})

    def _cost(self, answer: Answer) -> float:
        return self.price.cost(input_tokens=answer.input_tokens, output_tokens=answer.output_tokens)

    # ------------------------------------------------------------ for subclasses

    def _ask(self, *, client: object, instructions: str, thumbs: list[Thumbnail], repair: tuple[str, str] | None,
             seed: int) -> Answer:
        raise NotImplementedError


REPAIR_NOTE = ("Your previous answer could not be used: {why}. Your previous answer was:\n{bad}\n"
               "Answer again with JSON only, exactly matching the schema.")


def repair_text(repair: tuple[str, str]) -> str:
    bad, why = repair
    return REPAIR_NOTE.format(why=why, bad=bad[:4000])
