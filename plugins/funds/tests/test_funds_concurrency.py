"""Simultaneous requests on a real PostgreSQL database (``concurrency``: make test-postgres;
SQLite would serialise them): balances never go below zero and one Idempotency-Key moves money
once."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest

from core.testing import TEST_PASSWORD, Factories
from plugins.funds.tests.helpers import balances, count_transactions, deposit_body, fund

pytestmark = pytest.mark.concurrency
BASE = "/api/v1/funds/accounts"


def _token(app: Any, user: Any) -> dict[str, str]:
    resp = app.test_client().post(
        "/api/v1/auth/token", json={"username": user.username, "password": TEST_PASSWORD}
    )
    assert resp.status_code == 200
    return {"Authorization": f"Bearer {resp.json['token']}"}


def _run_at_once(app: Any, n: int, call: Any) -> list[Any]:
    """Run ``call(client)`` in ``n`` threads released together; each request has its own app
    context (the test client pushes one per request)."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def worker(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        try:
            results[i] = call(client)
        except Exception as exc:  # reported, never hidden
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def test_thirty_simultaneous_withdrawals_never_overdraw(fresh_app):
    factories = Factories(fresh_app)
    with fresh_app.app_context():
        rn = factories.detainee("EST-A").registration_number
        accountant = factories.user("accountant", ("EST-A",))
    fund(fresh_app, rn, "100.00")
    headers = _token(fresh_app, accountant)

    def withdraw(client: Any) -> int:
        resp = client.post(
            f"{BASE}/{rn}/withdrawals",
            json={"amount": "7.00", "reason": "canteen"},
            headers=headers,
        )
        if resp.status_code == 409:
            assert resp.json["error"]["code"] == "insufficient_funds"
        return resp.status_code

    statuses = _run_at_once(fresh_app, 30, withdraw)
    assert Counter(statuses) == {201: 14, 409: 16}, statuses
    b = balances(fresh_app, rn)
    assert b.available == 200
    assert count_transactions(fresh_app, rn) == 15  # the deposit and 14 withdrawals
    from plugins.funds.tests.helpers import ledger_problems

    assert ledger_problems(fresh_app) == []


def test_twenty_retries_of_one_deposit_move_money_once(fresh_app):
    factories = Factories(fresh_app)
    with fresh_app.app_context():
        rn = factories.detainee("EST-A").registration_number
        accountant = factories.user("accountant", ("EST-A",))
    headers = {**_token(fresh_app, accountant), "Idempotency-Key": "family-visit-2025-06-01"}

    def deposit(client: Any) -> Any:
        resp = client.post(f"{BASE}/{rn}/deposits", json=deposit_body("250.00"), headers=headers)
        return resp.status_code, resp.json

    results = _run_at_once(fresh_app, 20, deposit)
    statuses = [r[0] for r in results]
    assert all(s in (201, 409) for s in statuses), results
    successes = [body for status, body in results if status == 201]
    assert successes, results
    # every success is the same (first) result
    assert len({b["receipt_number"] for b in successes}) == 1
    for status, body in results:
        if status == 409:
            assert body["error"]["code"] == "idempotency_in_progress"
    assert count_transactions(fresh_app, rn) == 1
    assert balances(fresh_app, rn).available == 25000


def test_wage_runs_deposits_and_cash_counts_at_once_never_deadlock(fresh_app):
    """Without the audit head as a national mutex, funds' own lock order (accounts in id
    order, then the establishment's ledger rows, then the receipt counter) must keep mixed
    establishment-wide and single-account writes free of deadlocks, and the ledger balanced."""
    from core.db import session
    from core.detainees.services import get_detainee
    from core.establishments.models import Establishment
    from core.principals import SYSTEM
    from plugins.funds import services

    factories = Factories(fresh_app)
    with fresh_app.app_context():
        rns = [factories.detainee("EST-A").registration_number for _ in range(6)]
        est_id = get_detainee(rns[0], SYSTEM).establishment_id
    for rn in rns:
        fund(fresh_app, rn, "10.00")
    errors: list[BaseException] = []
    barrier = threading.Barrier(9)

    def act(kind: int) -> None:
        try:
            with fresh_app.app_context():
                barrier.wait()
                for i in range(4):
                    est = session().get(Establishment, est_id)
                    if kind < 3:  # wage runs over every account, in different line orders
                        order = rns if kind % 2 else list(reversed(rns))
                        lines = [services.WageLine(rn, "1.00") for rn in order]
                        services.wage_run(est, SYSTEM, workshop=f"w{kind}", lines=lines)
                    elif kind < 8:  # deposits on one account
                        det = get_detainee(rns[(kind + i) % len(rns)], SYSTEM)
                        services.deposit(det, SYSTEM, amount="2.00", source="cash")
                    else:  # cash counts of the establishment
                        services.reconcile_cash(est, SYSTEM, counted="0", note="count")
                    session().commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=act, args=(k,)) for k in range(9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    from plugins.funds.tests.helpers import ledger_problems

    assert ledger_problems(fresh_app) == []
