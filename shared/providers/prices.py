"""What a provider charges. Every provider declares what a call costs at list price, so what a stage item
(or a chain of providers) would cost is known before anything is spent. What a whole job costs, and what
it really spent, is the pipeline's (functions/pipeline/cost/)."""

from __future__ import annotations

from pydantic import Field

from shared.models.base import Frozen


class Price(Frozen):
    """What a provider charges, in US dollars, at list price. Zero for the local providers."""

    per_call: float = Field(default=0.0, ge=0, description="Each call (an image, a plan).")
    per_second: float = Field(default=0.0, ge=0, description="Each second of generated video or audio.")
    per_million_input_tokens: float = Field(default=0.0, ge=0)
    per_million_output_tokens: float = Field(default=0.0, ge=0)
    source: str = Field(default="", description="Where the numbers come from, and when they were read.")

    def cost(self, *, calls: int = 1, seconds: float = 0.0, input_tokens: int = 0, output_tokens: int = 0) -> float:
        return round(
            self.per_call * calls
            + self.per_second * seconds
            + self.per_million_input_tokens * input_tokens / 1e6
            + self.per_million_output_tokens * output_tokens / 1e6,
            6,
        )

    @property
    def free(self) -> bool:
        return not (self.per_call or self.per_second or self.per_million_input_tokens
                    or self.per_million_output_tokens)


FREE = Price(source="runs on this machine")


class ItemEstimate(Frozen):
    """The cost of one stage item: with the chain's first link (`expected`) and with its dearest (`worst`)."""

    expected: float = Field(ge=0)
    worst: float = Field(ge=0)
    provider: str
    detail: str = ""
