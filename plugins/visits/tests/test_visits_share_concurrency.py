"""One relative racing several bookings for one detainee's week gets at most their share
(issue 10 point 6), and two gate officers racing walk-ins for one detainee and slot get one
(point 5). PostgreSQL only (``concurrency``): real connections released at once."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from core.db import session
from core.identity.services import issue_token
from core.principals import SYSTEM
from core.testing import Factories
from plugins.visits import services
from plugins.visits.models import Booking

from .conftest import link
from .test_visits_booking_rules import week_slots
from .test_visits_concurrency import _race

pytestmark = pytest.mark.concurrency


@pytest.mark.parametrize("share", [1, 2])
def test_one_relative_racing_gets_at_most_the_share(fresh_app, share):
    factories = Factories(fresh_app)
    with fresh_app.app_context():
        est = factories.establishment("CAS-AS")
        services.update_rules(SYSTEM, est, {"quota_pretrial": 14, "max_weekly_per_visitor": share})
        det = factories.detainee("CAS-AS", legal_status="pretrial")
        slots = week_slots(est, 8)
        visitor = factories.visitor(username="eager")
        link(visitor.id, det.id)
        token, _row = issue_token(visitor)
        session().commit()
        requests = [(token, {"slot_id": s.id, "detainee": det.registration_number}) for s in slots]
        det_id = det.id

    results = _race(fresh_app, requests)

    statuses = Counter(r[0] for r in results)
    assert statuses == {201: share, 422: 8 - share}, results
    assert {r[1]["error"]["code"] for r in results if r[0] == 422} == {"visitor_share_reached"}
    with fresh_app.app_context():
        assert (
            session().scalar(
                select(func.count()).select_from(Booking).where(Booking.detainee_id == det_id)
            )
            == share
        )
