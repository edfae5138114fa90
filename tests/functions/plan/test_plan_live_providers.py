"""One real call per model planner (marked `live`; skipped without the key and MOMENTLOOP_LIVE_TESTS=1)."""

from __future__ import annotations

import pytest
from fakes.live import require_live
from fakes.plan_inputs import plan_request

from functions.plan import run_plan
from shared.store import LocalStore

pytestmark = pytest.mark.live


@pytest.mark.parametrize("vendor", ["gemini", "openai"])
def test_one_real_plan_is_on_the_beat(vendor: str, store: LocalStore) -> None:
    require_live(vendor, cost="$0.01")
    plan = run_plan(request=plan_request(store, count=4, provider=vendor), store=store)
    assert plan.provider.startswith(vendor), plan.attempts  # the model answered; not the local fallback
    beats = set(plan.beats)
    assert all(s.start in beats for s in plan.scenes[1:])
    assert plan.scenes[-1].end == pytest.approx(plan.output.duration)
