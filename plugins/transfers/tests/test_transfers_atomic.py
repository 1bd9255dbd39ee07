"""Completion is atomic: a module whose reaction to the move fails rolls everything back —
the detainee stays, the transfer stays in transit, the funds account stays — and the officer
sees why. A completion that succeeds cancels the origin's visits (families told) and moves
the account, in the same transaction. Visits and funds are reached through their public API
only (a plugin imports no other plugin)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from core.errors import Conflict
from core.plugins import hookimpl
from core.testing import TEST_PASSWORD
from plugins.transfers.tests.helpers import (
    BASE,
    DEST,
    ORIGIN,
    detainee,
    establishment_of,
    make_transfer,
    status_of,
    user,
)


class _FailingReaction:
    @hookimpl
    def on_detainee_transferred(self, detainee: Any) -> None:
        raise Conflict("The archive refuses the move.", code="archive_refuses")


class _BrokenReaction:
    @hookimpl
    def on_detainee_transferred(self, detainee: Any) -> None:
        raise RuntimeError("disk full")


def test_a_broken_reaction_is_a_409_naming_it_and_moves_nothing(app, factories, make_app):
    from core.plugins import get_plugin_manager

    rn = detainee(app, factories)
    tid = make_transfer(app, rn, "in_transit")
    other = make_app(rolled_back=True)
    with other.app_context():
        get_plugin_manager().register(_BrokenReaction(), name="broken")
    officer = user(other, factories, "transfers_officer", DEST)
    client = other.test_client()
    resp = client.post(f"{BASE}/{tid}/complete", headers=_bearer(client, officer))
    assert resp.status_code == 409
    assert resp.json["error"]["code"] == "reaction_failed"
    assert "RuntimeError" in resp.json["error"]["message"]
    assert status_of(app, tid) == "in_transit"
    assert establishment_of(app, rn) == ORIGIN
    # the page says it too
    from core.testing import TEST_PASSWORD as PW

    page = other.test_client()
    page.post("/login", data={"username": officer.username, "password": PW})
    shown = page.post(f"/transfers/{tid}/complete", data={})
    assert shown.status_code == 409
    assert "RuntimeError" in shown.get_data(as_text=True)
    assert status_of(app, tid) == "in_transit"


def _bearer(client: Any, someone: Any) -> dict[str, str]:
    resp = client.post(
        "/api/v1/auth/token", json={"username": someone.username, "password": TEST_PASSWORD}
    )
    assert resp.status_code == 200, resp.json
    return {"Authorization": f"Bearer {resp.json['token']}"}


def _deposit(client: Any, accountant: Any, rn: str, amount: str) -> None:
    resp = client.post(
        f"/api/v1/funds/accounts/{rn}/deposits",
        json={"amount": amount, "source": "cash"},
        headers=_bearer(client, accountant),
    )
    assert resp.status_code == 201, resp.json


def test_a_failing_reaction_rolls_the_whole_completion_back(app, factories, make_app):
    from core.db import session
    from core.detainees.models import Detainee, Placement
    from core.plugins import get_plugin_manager
    from plugins.transfers.models import TransferEvent

    rn = detainee(app, factories)
    accountant_a = user(app, factories, "accountant", ORIGIN)
    _deposit(app.test_client(), accountant_a, rn, "25.00")
    tid = make_transfer(app, rn, "in_transit")
    other = make_app(rolled_back=True)
    with other.app_context():
        get_plugin_manager().register(_FailingReaction(), name="archive")
    officer = user(other, factories, "transfers_officer", DEST)
    client = other.test_client()
    resp = client.post(f"{BASE}/{tid}/complete", headers=_bearer(client, officer))
    assert resp.status_code == 409
    assert resp.json["error"]["message"] == "The archive refuses the move."
    assert status_of(app, tid) == "in_transit"
    assert establishment_of(app, rn) == ORIGIN
    with app.app_context():
        session().expire_all()
        det_id = session().scalar(select(Detainee.id).where(Detainee.registration_number == rn))
        assert (
            session().scalar(
                select(func.count(Placement.id)).where(Placement.detainee_id == det_id)
            )
            == 1
        )
        assert (
            session().scalar(
                select(func.count(TransferEvent.id)).where(TransferEvent.action == "complete")
            )
            == 0
        )
    # the account is still the origin's, untouched
    plain = app.test_client()
    account = plain.get(f"/api/v1/funds/accounts/{rn}", headers=_bearer(plain, accountant_a))
    assert account.status_code == 200 and account.json["available"] == "25.00"


def test_completion_cancels_the_origins_future_visits_and_moves_the_account(app, factories):
    from core.db import session
    from core.notifications.models import OutboxMessage

    client = app.test_client()
    rn = detainee(app, factories, birth_date="1990-05-17")
    accountant_a = user(app, factories, "accountant", ORIGIN)
    accountant_b = user(app, factories, "accountant", DEST)
    _deposit(client, accountant_a, rn, "60.00")
    office = _bearer(client, user(app, factories, "visits_officer", ORIGIN))
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).replace(microsecond=0)
    slot = client.post(
        "/api/v1/visits/slots",
        json={
            "establishment": ORIGIN,
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=1)).isoformat(),
            "capacity": 5,
        },
        headers=office,
    )
    assert slot.status_code == 201, slot.json
    with app.app_context():
        family = factories.visitor(full_name="Fatima Benali")
    family_headers = _bearer(client, family)
    rel = client.post(
        "/api/v1/visitors/me/relations",
        json={"detainee": rn, "detainee_birth_date": "1990-05-17", "relationship": "mother"},
        headers=family_headers,
    )
    assert rel.status_code == 201, rel.json
    ok = client.post(f"/api/v1/visits/relations/{rel.json['id']}/approve", headers=office)
    assert ok.status_code == 200, ok.json
    booking = client.post(
        "/api/v1/visits/bookings",
        json={"slot_id": slot.json["id"], "detainee": rn},
        headers=family_headers,
    )
    assert booking.status_code == 201, booking.json
    ref = booking.json["reference"]
    with app.app_context():
        before = session().scalar(select(func.count(OutboxMessage.id)))

    tid = make_transfer(app, rn, "in_transit")
    officer = user(app, factories, "transfers_officer", DEST)
    resp = client.post(f"{BASE}/{tid}/complete", headers=_bearer(client, officer))
    assert resp.status_code == 200, resp.json
    seen = client.get(f"/api/v1/visits/bookings/{ref}", headers=family_headers)
    assert seen.json["status"] == "cancelled"
    with app.app_context():
        assert session().scalar(select(func.count(OutboxMessage.id))) > before  # family told
    # the account followed: the destination's accountant reads it, the origin's no longer
    moved = client.get(f"/api/v1/funds/accounts/{rn}", headers=_bearer(client, accountant_b))
    assert moved.status_code == 200 and moved.json["available"] == "60.00"
    gone = client.get(f"/api/v1/funds/accounts/{rn}", headers=_bearer(client, accountant_a))
    assert gone.status_code == 404
