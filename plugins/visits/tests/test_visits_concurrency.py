"""Many families booking at the same moment: the database never overbooks a slot nor a
detainee's weekly quota. PostgreSQL only (``concurrency``: make test-postgres); on SQLite every
transaction is ``BEGIN IMMEDIATE``, so the race would be serialised and prove nothing."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db import session, utcnow
from core.identity.services import issue_token
from core.principals import SYSTEM
from core.testing import Factories
from plugins.visits import services
from plugins.visits.models import Booking, QuotaCounter, Slot

from .conftest import link

pytestmark = pytest.mark.concurrency


def _race(app: Any, requests: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """POST every (token, body) from its own thread, all released at once."""
    barrier = threading.Barrier(len(requests))
    results: list[Any] = [None] * len(requests)

    def run(i: int, token: str, body: dict[str, Any]) -> None:
        client = app.test_client()
        barrier.wait()
        try:
            resp = client.post(
                "/api/v1/visits/bookings", json=body, headers={"Authorization": f"Bearer {token}"}
            )
            results[i] = (resp.status_code, resp.get_json())
        except Exception as exc:  # a crash is a result the test must see
            results[i] = ("exception", repr(exc))

    threads = [
        threading.Thread(target=run, args=(i, tok, body)) for i, (tok, body) in enumerate(requests)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_forty_families_race_for_five_places(fresh_app):
    factories = Factories(fresh_app)
    requests = []
    with fresh_app.app_context():
        est = factories.establishment("CAS-AS")
        start = (utcnow() + dt.timedelta(days=3)).replace(second=0, microsecond=0)
        slot = services.create_slot(SYSTEM, est, start, start + dt.timedelta(hours=1), 5)
        session().commit()
        for i in range(40):
            det = factories.detainee("CAS-AS")
            visitor = factories.visitor(username=f"family{i}")
            link(visitor.id, det.id)
            token, _row = issue_token(visitor)
            requests.append((token, {"slot_id": slot.id, "detainee": det.registration_number}))
        session().commit()
        slot_id = slot.id

    results = _race(fresh_app, requests)

    statuses = Counter(r[0] for r in results)
    assert statuses == {201: 5, 409: 35}, results
    assert all(r[1]["error"]["code"] == "slot_full" for r in results if r[0] == 409)
    assert all(r[1]["status"] == "confirmed" for r in results if r[0] == 201)
    with fresh_app.app_context():
        assert session().get(Slot, slot_id).booked == 5
        assert (
            session().scalar(
                select(func.count()).select_from(Booking).where(Booking.slot_id == slot_id)
            )
            == 5
        )


def test_weekly_quota_holds_under_concurrency(fresh_app):
    """Ten relatives of one convicted detainee (quota 1 a week) book ten different slots."""
    factories = Factories(fresh_app)
    requests = []
    with fresh_app.app_context():
        est = factories.establishment("CAS-AS")
        services.update_rules(SYSTEM, est, {"quota_convicted": 1})
        det = factories.detainee("CAS-AS", legal_status="convicted")
        base = (utcnow() + dt.timedelta(days=3)).replace(second=0, microsecond=0)
        monday = services.week_start(base)
        first = services.local_moment(monday, "08:00")
        if first < utcnow() + dt.timedelta(days=2):
            first += dt.timedelta(days=7)
        slots = [
            services.create_slot(
                SYSTEM,
                est,
                first + dt.timedelta(hours=i),
                first + dt.timedelta(hours=i, minutes=45),
                5,
            )
            for i in range(10)
        ]
        session().commit()
        for i, slot in enumerate(slots):
            visitor = factories.visitor(username=f"relative{i}")
            link(visitor.id, det.id)
            token, _row = issue_token(visitor)
            requests.append((token, {"slot_id": slot.id, "detainee": det.registration_number}))
        session().commit()
        det_id = det.id

    results = _race(fresh_app, requests)
    statuses = Counter(r[0] for r in results)
    assert statuses == {201: 1, 422: 9}, results
    assert {r[1]["error"]["code"] for r in results if r[0] == 422} == {"quota_reached"}
    with fresh_app.app_context():
        assert (
            session().scalar(
                select(func.sum(QuotaCounter.used)).where(QuotaCounter.detainee_id == det_id)
            )
            == 1
        )
        assert session().scalar(select(func.sum(Slot.booked))) == 1
