"""The order rule (issue 11): capture times order the photos only while the user has not ordered them by
hand; `order="manual"` plays them exactly as given, dated or not."""

from __future__ import annotations

from datetime import datetime, timedelta

from functions.plan.planner import plan_locally
from functions.plan.providers.proposal import candidate_photos
from shared.models.base import OutputSpec
from shared.models.plan import PhotoOrder, PlanRequest
from tests.functions.plan.test_planner import music, photo

DAY = datetime(2020, 1, 26, 10, 0)


def _request(order: PhotoOrder) -> PlanRequest:
    # p00 undated, p01 taken three days after p02: capture time puts p02 before p01.
    photos = [photo(0), photo(1, when=DAY + timedelta(days=3)), photo(2, when=DAY)]
    return PlanRequest(photos=photos, music=music(), output=OutputSpec.for_aspect(aspect="1:1", duration=9.0),
                       look="ghibli", order=order)


def test_capture_time_orders_dated_photos() -> None:
    plan = plan_locally(request=_request("capture_time"))
    assert [s.photo for s in plan.scenes][:3] == ["p00.jpg", "p02.jpg", "p01.jpg"]


def test_the_users_own_order_wins_over_capture_times() -> None:
    plan = plan_locally(request=_request("manual"))
    assert [s.photo for s in plan.scenes][:3] == ["p00.jpg", "p01.jpg", "p02.jpg"]
    # The model planners take their candidates in the same order.
    assert [p.source.name for p in candidate_photos(_request("manual")).photos] == ["p00.jpg", "p01.jpg", "p02.jpg"]
    assert [p.source.name for p in candidate_photos(_request("capture_time")).photos] == [
        "p00.jpg", "p02.jpg", "p01.jpg"]
