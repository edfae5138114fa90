"""Prices and cost estimates. Every provider declares what a call costs at list price; a plan's cost is
known before anything is spent, and what a job really spent is recorded item by item."""

from __future__ import annotations

from pydantic import Field

from shared.models import Frozen


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


class SpendLine(Frozen):
    """What one item really cost, as recorded on the job."""

    stage: str
    item: str
    provider: str
    usd: float = Field(ge=0)


def usd(value: float) -> str:
    """Dollars for people: cents, or more digits below a cent so a tiny spend does not read as $0.00."""
    if value == 0:
        return "$0.00"
    if value < 0.01:
        return f"${value:.4f}"
    return f"${value:.2f}"
