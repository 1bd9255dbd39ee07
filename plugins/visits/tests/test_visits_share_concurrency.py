"""One relative racing several bookings for one detainee's week gets at most their share
(issue 10 point 6), and two gate officers racing walk-ins for one detainee and slot get one
(point 5). PostgreSQL only (``concurrency``): real connections released at once."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db import session, utcnow
from core.errors import Conflict
from core.identity.models import User
from core.identity.services import issue_token
from core.principals import SYSTEM
from core.testing import Factories
from plugins.visits import services
from plugins.visits.models import Booking, Slot
from plugins.visits.services import booking as booking_module

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


@pytest.mark.parametrize("guards", ["service", "index_only"])
def test_two_officers_race_walk_ins_for_one_detainee(fresh_app, monkeypatch, guards):
    """Two gate officers book the same detainee into the same session at once: one walk-in,
    one clean 409 ``already_booked`` — by the unique index alone too (no detainee lock, no
    service check)."""
    if guards == "index_only":
        monkeypatch.setattr(booking_module, "lock_detainee", lambda det: det)
        monkeypatch.setattr(booking_module, "_live_booking_in", lambda slot, det: None)
    factories = Factories(fresh_app)
    with fresh_app.app_context():
        est = factories.establishment("CAS-AS")
        det = factories.detainee("CAS-AS", legal_status="pretrial")
        officers = [factories.user("visits_officer", ("CAS-AS",)).id for _ in range(4)]
        later = utcnow() + dt.timedelta(days=1)
        slot = services.create_slot(SYSTEM, est, later, later + dt.timedelta(hours=1), 10)
        # under way since a minute ago: "today" in local time at any hour
        slot.starts_at = utcnow() - dt.timedelta(minutes=1)
        slot.ends_at = utcnow() + dt.timedelta(minutes=60)
        session().commit()
        slot_id, rn, det_id = slot.id, det.registration_number, det.id

    barrier = threading.Barrier(len(officers))
    results: list[Any] = [None] * len(officers)

    def run(i: int, officer_id: int) -> None:
        with fresh_app.app_context():
            officer = session().get(User, officer_id)
            the_slot = session().get(Slot, slot_id)
            barrier.wait()
            try:
                booking = services.walk_in(
                    officer, the_slot, rn, f"Visitor {i}", f"BK{1000 + i}", 1, 0
                )
                session().commit()
                results[i] = ("ok", booking.reference)
            except Conflict as exc:
                session().rollback()
                results[i] = (409, exc.code)
            except Exception as exc:  # a crash is a result the test must see
                session().rollback()
                results[i] = ("exception", repr(exc))

    threads = [threading.Thread(target=run, args=(i, o)) for i, o in enumerate(officers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert Counter(r[0] for r in results) == {"ok": 1, 409: 3}, results
    assert {r[1] for r in results if r[0] == 409} == {"already_booked"}
    with fresh_app.app_context():
        assert session().get(Slot, slot_id).booked == 1
        assert (
            session().scalar(
                select(func.count()).select_from(Booking).where(Booking.detainee_id == det_id)
            )
            == 1
        )
