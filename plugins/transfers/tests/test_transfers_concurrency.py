"""Simultaneous requests on a real PostgreSQL database (``concurrency``: make test-postgres):
two officers completing one transfer at once, two requests for one detainee at once."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from core.testing import TEST_PASSWORD, Factories
from plugins.transfers.tests.helpers import (
    BASE,
    DEST,
    ORIGIN,
    OTHER,
    establishment_of,
    make_transfer,
    request_body,
)

pytestmark = pytest.mark.concurrency


def _token(app: Any, user: Any) -> dict[str, str]:
    resp = app.test_client().post(
        "/api/v1/auth/token", json={"username": user.username, "password": TEST_PASSWORD}
    )
    assert resp.status_code == 200
    return {"Authorization": f"Bearer {resp.json['token']}"}


def _run_at_once(app: Any, calls: list[Any]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def worker(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        try:
            results[i] = calls[i](client)
        except Exception as exc:  # reported, never hidden
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def _setup(app: Any) -> tuple[str, Factories]:
    factories = Factories(app)
    with app.app_context():
        for code in (ORIGIN, DEST, OTHER):
            factories.establishment(code)
        rn = factories.detainee(ORIGIN, legal_status="convicted").registration_number
    return rn, factories


def test_two_officers_completing_at_once_one_wins_one_gets_409(fresh_app):
    rn, factories = _setup(fresh_app)
    tid = make_transfer(fresh_app, rn, "in_transit")
    with fresh_app.app_context():
        at_origin = factories.user("transfers_officer", (ORIGIN,))
        at_destination = factories.user("transfers_officer", (DEST,))
    headers = [_token(fresh_app, at_origin), _token(fresh_app, at_destination)]

    def complete(h: dict[str, str]) -> Any:
        return lambda client: client.post(f"{BASE}/{tid}/complete", headers=h).status_code

    statuses = _run_at_once(fresh_app, [complete(h) for h in headers])
    assert Counter(statuses) == {200: 1, 409: 1}, statuses
    assert establishment_of(fresh_app, rn) == DEST
    from core.db import session
    from core.detainees.models import Detainee, Placement
    from plugins.transfers.models import TransferEvent

    with fresh_app.app_context():
        det_id = session().scalar(select(Detainee.id).where(Detainee.registration_number == rn))
        assert (
            session().scalar(
                select(func.count(Placement.id)).where(Placement.detainee_id == det_id)
            )
            == 2
        )
        assert (
            session().scalar(
                select(func.count(TransferEvent.id)).where(
                    TransferEvent.transfer_id == tid, TransferEvent.action == "complete"
                )
            )
            == 1
        )


def test_two_requests_at_once_for_one_detainee_create_one(fresh_app):
    rn, factories = _setup(fresh_app)
    with fresh_app.app_context():
        officers = [factories.user("transfers_officer", (ORIGIN,)) for _i in range(4)]
    headers = [_token(fresh_app, o) for o in officers]

    def request(h: dict[str, str]) -> Any:
        def call(client: Any) -> Any:
            resp = client.post(BASE, json=request_body(rn), headers=h)
            if resp.status_code == 409:
                assert resp.json["error"]["code"] == "transfer_active"
            return resp.status_code

        return call

    statuses = _run_at_once(fresh_app, [request(h) for h in headers])
    assert Counter(statuses) == {201: 1, 409: 3}, statuses
    from core.db import session
    from plugins.transfers.models import Transfer

    with fresh_app.app_context():
        assert session().scalar(select(func.count(Transfer.id))) == 1
