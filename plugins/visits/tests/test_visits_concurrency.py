"""Many families booking at the same moment: the database never overbooks a slot nor a
detainee's weekly quota. PostgreSQL only (``concurrency``: make test-postgres); on SQLite every
transaction is ``BEGIN IMMEDIATE``, so the race would be serialised and prove nothing."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db import session, utcnow
from core.detainees.services import get_detainee, move
from core.establishments.services import get_by_code
from core.identity.services import issue_token
from core.plugins import get_plugin_manager, hookimpl
from core.principals import SYSTEM
from core.testing import Factories
from plugins.visits import services
from plugins.visits.models import Booking, QuotaCounter, Relation, Slot
from plugins.visits.services import booking as booking_module

from .conftest import link

pytestmark = pytest.mark.concurrency


def _race(
    app: Any, requests: list[tuple[str, dict[str, Any]]], path: str = "/api/v1/visits/bookings"
) -> list[Any]:
    """POST every (token, body) from its own thread, all released at once."""
    barrier = threading.Barrier(len(requests))
    results: list[Any] = [None] * len(requests)

    def run(i: int, token: str, body: dict[str, Any]) -> None:
        client = app.test_client()
        barrier.wait()
        try:
            resp = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
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


class _SlowMoveVeto:
    """Asked inside move() after the detainee's lock; pauses, vetoes nothing."""

    @hookimpl
    def transfer_blockers(self, detainee: Any) -> list[Any]:
        time.sleep(0.3)
        return []


@pytest.mark.parametrize("first", ["booking", "move"])
def test_a_booking_racing_a_transfer_never_stays_at_the_old_establishment(
    fresh_app, monkeypatch, first
):
    """The booking takes the detainee's lock first (the lock order), so it either commits
    before the move — and the move cancels it — or waits and sees the detainee elsewhere."""
    factories = Factories(fresh_app)
    with fresh_app.app_context():
        est = factories.establishment("CAS-AS")
        factories.establishment("CAS-OK")
        det = factories.detainee("CAS-AS")
        visitor = factories.visitor(username=f"racer-{first}")
        link(visitor.id, det.id)
        start = (utcnow() + dt.timedelta(days=3)).replace(second=0, microsecond=0)
        slot = services.create_slot(SYSTEM, est, start, start + dt.timedelta(hours=1), 5)
        token, _row = issue_token(visitor)
        session().commit()
        rn, slot_id = det.registration_number, slot.id

    # widen the window between reading the detainee and writing the booking
    slow_rules = booking_module.get_rules

    def get_rules_slowly(establishment_id: int) -> Any:
        time.sleep(0.3)
        return slow_rules(establishment_id)

    monkeypatch.setattr(booking_module, "get_rules", get_rules_slowly)
    pm = get_plugin_manager(fresh_app)
    veto = _SlowMoveVeto()
    pm.register(veto, name="slowmoveveto")
    outcome: dict[str, Any] = {}

    def book() -> None:
        if first == "move":
            time.sleep(0.1)
        resp = fresh_app.test_client().post(
            "/api/v1/visits/bookings",
            json={"slot_id": slot_id, "detainee": rn},
            headers={"Authorization": f"Bearer {token}"},
        )
        outcome["booking"] = (resp.status_code, resp.get_json())

    def transfer() -> None:
        if first == "booking":
            time.sleep(0.1)
        with fresh_app.app_context():
            try:
                detainee = get_detainee(rn, SYSTEM)
                session().commit()
                move(detainee, get_by_code("CAS-OK"), SYSTEM)
                session().commit()
                outcome["move"] = "ok"
            except Exception as exc:  # a crash is a result the test must see
                session().rollback()
                outcome["move"] = repr(exc)

    try:
        threads = [threading.Thread(target=book), threading.Thread(target=transfer)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        pm.unregister(veto)

    assert outcome["move"] == "ok", outcome
    status, body = outcome["booking"]
    with fresh_app.app_context():
        held_at = get_detainee(rn, SYSTEM).establishment_id
        confirmed = (
            session()
            .scalars(
                select(Booking).where(Booking.slot_id == slot_id, Booking.status == "confirmed")
            )
            .all()
        )
        assert confirmed == [], "a booking was left at the old establishment"
        assert session().get(Slot, slot_id).establishment_id != held_at
    if status == 201:  # booked first: the move cancelled it
        assert first == "booking"
    else:
        assert (status, body["error"]["code"]) == (422, "detainee_elsewhere"), body


@pytest.mark.parametrize("detainee_lock", [True, False], ids=["locked", "index-alone"])
def test_ten_relatives_race_to_book_one_detainee_into_one_slot(
    fresh_app, monkeypatch, detainee_lock
):
    """Quota 14, ten relatives, the same detainee and slot: exactly one booking, nine clean
    409 ``already_booked``. ``index-alone`` takes the detainee's row lock away, so only the
    partial unique index stands between the racers (without it nine bookings got in)."""
    if not detainee_lock:
        monkeypatch.setattr(booking_module, "lock_detainee", lambda det: det)
    factories = Factories(fresh_app)
    requests = []
    with fresh_app.app_context():
        est = factories.establishment("CAS-AS")
        services.update_rules(SYSTEM, est, {"quota_pretrial": 14, "quota_convicted": 14})
        det = factories.detainee("CAS-AS")
        start = (utcnow() + dt.timedelta(days=3)).replace(second=0, microsecond=0)
        slot = services.create_slot(SYSTEM, est, start, start + dt.timedelta(hours=1), 20)
        session().commit()
        for i in range(10):
            visitor = factories.visitor(username=f"kin{i}")
            link(visitor.id, det.id)
            token, _row = issue_token(visitor)
            requests.append((token, {"slot_id": slot.id, "detainee": det.registration_number}))
        session().commit()
        slot_id, det_id = slot.id, det.id

    results = _race(fresh_app, requests)
    statuses = Counter(r[0] for r in results)
    assert statuses == {201: 1, 409: 9}, results
    assert {r[1]["error"]["code"] for r in results if r[0] == 409} == {"already_booked"}
    with fresh_app.app_context():
        live = session().scalar(
            select(func.count(Booking.id)).where(
                Booking.slot_id == slot_id, Booking.detainee_id == det_id
            )
        )
        assert live == 1
        assert session().get(Slot, slot_id).booked == 1
        assert (
            session().scalar(
                select(func.sum(QuotaCounter.used)).where(QuotaCounter.detainee_id == det_id)
            )
            == 1
        )


def test_one_family_sends_the_same_link_request_eight_times_at_once(fresh_app):
    """The same visitor asks eight times at once to be linked to one detainee: one pending
    link, seven clean 409 ``relation_exists`` (the partial unique index)."""
    factories = Factories(fresh_app)
    with fresh_app.app_context():
        det = factories.detainee("CAS-AS")
        visitor = factories.visitor(username="eager")
        token, _row = issue_token(visitor)
        session().commit()
        body = {
            "detainee": det.registration_number,
            "relationship": "sibling",
            "detainee_birth_date": det.birth_date.isoformat(),
        }
        visitor_id = visitor.id
    results = _race(fresh_app, [(token, body)] * 8, path="/api/v1/visitors/me/relations")
    statuses = Counter(r[0] for r in results)
    assert statuses == {201: 1, 409: 7}, results
    assert {r[1]["error"]["code"] for r in results if r[0] == 409} == {"relation_exists"}
    with fresh_app.app_context():
        assert (
            session().scalar(
                select(func.count(Relation.id)).where(Relation.visitor_id == visitor_id)
            )
            == 1
        )


def test_two_officers_block_the_same_date_at_once(fresh_app):
    """Both pass the "already blocked?" check; the loser gets the clean 409, not a 500."""
    from core.errors import Conflict

    factories = Factories(fresh_app)
    with fresh_app.app_context():
        est = factories.establishment("CAS-AS")
        est_id = est.id
        session().commit()
    day = (utcnow() + dt.timedelta(days=5)).date()
    barrier = threading.Barrier(4)
    results: list[Any] = [None] * 4

    def run(i: int) -> None:
        with fresh_app.app_context():
            barrier.wait()
            try:
                est_row = session().get(type(est), est_id)
                results[i] = services.block_date(SYSTEM, est_row, day, f"Fête {i}")
                session().commit()
            except Conflict as exc:
                session().rollback()
                results[i] = exc.code
            except Exception as exc:  # a crash is a result the test must see
                session().rollback()
                results[i] = repr(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert Counter(isinstance(r, int) for r in results) == {True: 1, False: 3}, results
    assert [r for r in results if not isinstance(r, int)] == ["already_blocked"] * 3, results
