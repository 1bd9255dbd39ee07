"""The funds JSON API of interface.md: balances, deposits, withdrawals, movements, idempotency,
permissions and bad input."""

from __future__ import annotations

import pytest

from core.principals import SYSTEM
from plugins.funds.tests.helpers import (
    balances,
    count_transactions,
    deposit_body,
    fund,
    ledger_problems,
    setup,
)

BASE = "/api/v1/funds/accounts"


def test_balances_deposit_withdraw_and_movements(app, client, factories, api_headers):
    rn, accountant = setup(app, factories)
    h = api_headers(accountant)

    resp = client.get(f"{BASE}/{rn}", headers=h)
    assert resp.status_code == 200
    assert resp.json["balance"] == "0.00"
    assert resp.json["currency"] == "MAD"

    dep = client.post(f"{BASE}/{rn}/deposits", json=deposit_body("125.50", memo="Eid"), headers=h)
    assert dep.status_code == 201, dep.json
    assert dep.json["type"] == "family_deposit"
    assert dep.json["amount"] == "125.50"
    assert dep.json["receipt_number"].startswith("EST-A-")
    assert dep.json["account"]["available"] == "125.50"

    cash = client.post(f"{BASE}/{rn}/deposits", json={"amount": "20", "source": "cash"}, headers=h)
    assert cash.status_code == 201
    assert cash.json["type"] == "cash_deposit"

    wd = client.post(
        f"{BASE}/{rn}/withdrawals", json={"amount": "45.50", "reason": "Lawyer"}, headers=h
    )
    assert wd.status_code == 201, wd.json
    assert wd.json["type"] == "withdrawal"
    assert wd.json["amount"] == "45.50"
    assert wd.json["direction"] == "debit"

    acc = client.get(f"{BASE}/{rn}", headers=h).json
    assert acc == {
        **acc,
        "balance": "100.00",
        "available": "100.00",
        "savings": "0.00",
        "currency": "MAD",
    }

    listing = client.get(f"{BASE}/{rn}/transactions", headers=h)
    assert listing.status_code == 200
    body = listing.json
    assert body["total"] == 3 and body["page"] == 1 and body["per_page"] == 20
    assert [i["type"] for i in body["items"]] == ["withdrawal", "cash_deposit", "family_deposit"]
    first = body["items"][0]
    assert set(first) >= {"id", "type", "amount", "created_at", "receipt_number", "memo"}
    assert first["memo"] == "Lawyer"
    assert body["items"][2]["memo"] == "Eid"

    paged = client.get(f"{BASE}/{rn}/transactions?per_page=2&page=2", headers=h).json
    assert [i["type"] for i in paged["items"]] == ["family_deposit"]
    assert client.get(f"{BASE}/{rn}/transactions?per_page=500", headers=h).status_code == 400
    assert ledger_problems(app) == []


def test_one_item_per_movement_not_per_posting(app, client, factories, api_headers):
    """A wage split between available and savings is one movement of the account."""
    from core.db import session
    from core.establishments.services import get_by_code
    from plugins.funds import services

    rn, accountant = setup(app, factories)
    with app.app_context():
        est = get_by_code("EST-A")
        services.wage_run(est, SYSTEM, workshop="Couture", lines=[services.WageLine(rn, "200.00")])
        session().commit()
    h = api_headers(accountant)
    items = client.get(f"{BASE}/{rn}/transactions", headers=h).json["items"]
    assert len(items) == 1
    assert items[0]["type"] == "wage" and items[0]["amount"] == "200.00"
    acc = client.get(f"{BASE}/{rn}", headers=h).json
    assert (acc["available"], acc["savings"], acc["balance"]) == ("180.00", "20.00", "200.00")


def test_insufficient_funds_is_409_and_moves_nothing(app, client, factories, api_headers):
    rn, accountant = setup(app, factories)
    fund(app, rn, "10.00")
    h = api_headers(accountant)
    resp = client.post(
        f"{BASE}/{rn}/withdrawals", json={"amount": "10.01", "reason": "x"}, headers=h
    )
    assert resp.status_code == 409
    assert resp.json["error"]["code"] == "insufficient_funds"
    assert balances(app, rn).available == 1000
    assert count_transactions(app, rn) == 1
    ok = client.post(f"{BASE}/{rn}/withdrawals", json={"amount": "10.00", "reason": "x"}, headers=h)
    assert ok.status_code == 201
    assert balances(app, rn).available == 0


def test_family_deposit_requires_depositor(app, client, factories, api_headers):
    rn, accountant = setup(app, factories)
    h = api_headers(accountant)
    resp = client.post(
        f"{BASE}/{rn}/deposits", json={"amount": "5.00", "source": "family"}, headers=h
    )
    assert resp.status_code == 422
    assert "depositor.name" in resp.json["error"]["fields"]
    assert "depositor.national_id" in resp.json["error"]["fields"]
    bad_id = deposit_body(depositor={"name": "Fatima", "national_id": "12"})
    resp = client.post(f"{BASE}/{rn}/deposits", json=bad_id, headers=h)
    assert resp.status_code == 422
    assert "depositor.national_id" in resp.json["error"]["fields"]
    assert count_transactions(app, rn) == 0


def test_deposit_ceiling(app, client, factories, api_headers):
    rn, accountant = setup(app, factories)
    h = api_headers(accountant)
    over = client.post(f"{BASE}/{rn}/deposits", json=deposit_body("5000.01"), headers=h)
    assert over.status_code == 422
    assert "5000.00" in over.json["error"]["fields"]["amount"]
    at = client.post(f"{BASE}/{rn}/deposits", json=deposit_body("5000.00"), headers=h)
    assert at.status_code == 201
    assert count_transactions(app, rn) == 1


@pytest.mark.parametrize(
    "amount",
    [
        "-5.00",
        "0",
        "0.00",
        "1.234",
        "1e3",
        "NaN",
        "Infinity",
        "-Infinity",
        "99999999999.00",
        "",
        " ",
        "12,50",
        "abc",
        "0x10",
        "1_000",
        "+5",
        ".5",
        "5.",
    ],
)
def test_bad_amount_strings_are_422_with_field_error(app, client, factories, api_headers, amount):
    rn, accountant = setup(app, factories)
    h = api_headers(accountant)
    for path, body in (
        ("deposits", deposit_body(amount)),
        ("withdrawals", {"amount": amount, "reason": "x"}),
    ):
        resp = client.post(f"{BASE}/{rn}/{path}", json=body, headers=h)
        assert resp.status_code == 422, (amount, resp.json)
        assert resp.json["error"]["fields"]["amount"]
    assert count_transactions(app, rn) == 0


@pytest.mark.parametrize("raw", ["100", "100.5", "null", "true", "[1]", '{"a": 1}', "1e3"])
def test_non_string_amounts_are_422(app, client, factories, api_headers, raw):
    rn, accountant = setup(app, factories)
    h = {**api_headers(accountant), "Content-Type": "application/json"}
    data = '{"amount": ' + raw + ', "source": "cash"}'
    resp = client.post(f"{BASE}/{rn}/deposits", data=data, headers=h)
    assert resp.status_code == 422, resp.json
    assert resp.json["error"]["fields"]["amount"]
    assert count_transactions(app, rn) == 0


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity"])
def test_json_constants_are_refused_not_500(app, client, factories, api_headers, raw):
    rn, accountant = setup(app, factories)
    h = {**api_headers(accountant), "Content-Type": "application/json"}
    resp = client.post(
        f"{BASE}/{rn}/deposits", data='{"amount": ' + raw + ', "source": "cash"}', headers=h
    )
    assert resp.status_code in (400, 422)
    assert resp.json["error"]["code"]
    assert count_transactions(app, rn) == 0


def test_amount_missing_and_other_bad_fields(app, client, factories, api_headers):
    rn, accountant = setup(app, factories)
    h = api_headers(accountant)
    resp = client.post(f"{BASE}/{rn}/deposits", json={"source": "cash"}, headers=h)
    assert resp.status_code == 422 and "amount" in resp.json["error"]["fields"]
    resp = client.post(
        f"{BASE}/{rn}/deposits", json={"amount": "1.00", "source": "bank"}, headers=h
    )
    assert resp.status_code == 422 and "source" in resp.json["error"]["fields"]
    resp = client.post(f"{BASE}/{rn}/withdrawals", json={"amount": "1.00"}, headers=h)
    assert resp.status_code == 422 and "reason" in resp.json["error"]["fields"]
    resp = client.post(
        f"{BASE}/{rn}/withdrawals", json={"amount": "1.00", "reason": " "}, headers=h
    )
    assert resp.status_code == 422 and "reason" in resp.json["error"]["fields"]
    resp = client.post(
        f"{BASE}/{rn}/deposits", json={"amount": "1.00", "source": "cash", "x": 1}, headers=h
    )
    assert resp.status_code == 422 and "x" in resp.json["error"]["fields"]
    resp = client.post(f"{BASE}/{rn}/deposits", data="not json", headers=h)
    assert resp.status_code == 400
    assert count_transactions(app, rn) == 0


# ------------------------------------------------------------------------------------------
# idempotency
# ------------------------------------------------------------------------------------------


def test_idempotent_deposit_replays_first_result(app, client, factories, api_headers):
    rn, accountant = setup(app, factories)
    h = {**api_headers(accountant), "Idempotency-Key": "dep-0001"}
    first = client.post(f"{BASE}/{rn}/deposits", json=deposit_body("50.00"), headers=h)
    assert first.status_code == 201
    # same body, keys in another order: a replay
    again = client.post(
        f"{BASE}/{rn}/deposits",
        json={"depositor": deposit_body()["depositor"], "source": "family", "amount": "50.00"},
        headers=h,
    )
    assert again.status_code == 201
    assert again.json == first.json
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert balances(app, rn).available == 5000
    assert count_transactions(app, rn) == 1

    other = client.post(f"{BASE}/{rn}/deposits", json=deposit_body("60.00"), headers=h)
    assert other.status_code == 409
    assert other.json["error"]["code"] == "idempotency_key_reused"
    assert balances(app, rn).available == 5000

    # a new key is a new deposit
    h2 = {**h, "Idempotency-Key": "dep-0002"}
    assert (
        client.post(f"{BASE}/{rn}/deposits", json=deposit_body("50.00"), headers=h2).status_code
        == 201
    )
    assert balances(app, rn).available == 10000


def test_idempotency_keys_are_per_endpoint_and_user(app, client, factories, api_headers):
    rn, accountant = setup(app, factories)
    with app.app_context():
        other = factories.user("accountant", ("EST-A",))
    fund(app, rn, "100.00")
    h = {**api_headers(accountant), "Idempotency-Key": "k1"}
    assert (
        client.post(
            f"{BASE}/{rn}/withdrawals", json={"amount": "10.00", "reason": "a"}, headers=h
        ).status_code
        == 201
    )
    again = client.post(
        f"{BASE}/{rn}/withdrawals", json={"amount": "10.00", "reason": "a"}, headers=h
    )
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert balances(app, rn).available == 9000
    # same key on another endpoint: its own scope
    dep = client.post(f"{BASE}/{rn}/deposits", json=deposit_body("1.00"), headers=h)
    assert dep.status_code == 201 and "Idempotent-Replayed" not in dep.headers
    # same key by another user: theirs
    h_other = {**api_headers(other), "Idempotency-Key": "k1"}
    wd = client.post(
        f"{BASE}/{rn}/withdrawals", json={"amount": "10.00", "reason": "a"}, headers=h_other
    )
    assert wd.status_code == 201 and "Idempotent-Replayed" not in wd.headers
    assert balances(app, rn).available == 8100


def test_failed_request_does_not_burn_the_key(app, client, factories, api_headers):
    rn, accountant = setup(app, factories)
    h = {**api_headers(accountant), "Idempotency-Key": "retry-me"}
    body = {"amount": "30.00", "reason": "phone card"}
    assert client.post(f"{BASE}/{rn}/withdrawals", json=body, headers=h).status_code == 409
    fund(app, rn, "30.00")
    ok = client.post(f"{BASE}/{rn}/withdrawals", json=body, headers=h)
    assert ok.status_code == 201 and "Idempotent-Replayed" not in ok.headers
    assert balances(app, rn).available == 0


@pytest.mark.parametrize("key", ["", " ", "x" * 201, "clé-é"])
def test_bad_idempotency_key_is_400(app, client, factories, api_headers, key):
    rn, accountant = setup(app, factories)
    h = {**api_headers(accountant), "Idempotency-Key": key}
    resp = client.post(f"{BASE}/{rn}/deposits", json=deposit_body(), headers=h)
    assert resp.status_code == 400
    assert resp.json["error"]["code"] == "bad_idempotency_key"
    assert count_transactions(app, rn) == 0


# ------------------------------------------------------------------------------------------
# permissions
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["director", "auditor"])
def test_director_and_auditor_read_but_do_not_write(app, client, factories, api_headers, role):
    rn, _acc = setup(app, factories)
    fund(app, rn, "12.00")
    with app.app_context():
        reader = factories.user(role, ("EST-A",))
    h = api_headers(reader)
    assert client.get(f"{BASE}/{rn}", headers=h).json["balance"] == "12.00"
    assert client.get(f"{BASE}/{rn}/transactions", headers=h).json["total"] == 1
    assert client.post(f"{BASE}/{rn}/deposits", json=deposit_body(), headers=h).status_code == 403
    wd = client.post(f"{BASE}/{rn}/withdrawals", json={"amount": "1.00", "reason": "x"}, headers=h)
    assert wd.status_code == 403
    assert balances(app, rn).available == 1200


def test_reads_by_director_are_audited(app, client, factories, api_headers):
    from sqlalchemy import select

    from core.audit.models import AuditEvent
    from core.db import session

    rn, _acc = setup(app, factories)
    with app.app_context():
        director = factories.user("director", ("EST-A",))
    client.get(f"{BASE}/{rn}", headers=api_headers(director))
    with app.app_context():
        events = (
            session()
            .scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "funds_account.read", AuditEvent.object_id == rn
                )
            )
            .all()
        )
        assert [e.actor_username for e in events] == [director.username]


@pytest.mark.parametrize(
    "role",
    [
        "registry_clerk",
        "visits_officer",
        "doctor",
        "nurse",
        "transfers_officer",
        "complaints_officer",
        "central_admin",
    ],
)
def test_other_roles_see_no_amounts(app, client, factories, api_headers, role):
    rn, _acc = setup(app, factories)
    fund(app, rn, "12.00")
    with app.app_context():
        user = factories.user(role, ("EST-A",))
    h = api_headers(user)
    for resp in (
        client.get(f"{BASE}/{rn}", headers=h),
        client.get(f"{BASE}/{rn}/transactions", headers=h),
        client.post(f"{BASE}/{rn}/deposits", json=deposit_body(), headers=h),
        client.post(f"{BASE}/{rn}/withdrawals", json={"amount": "1.00", "reason": "x"}, headers=h),
    ):
        assert resp.status_code == 403
        assert "12.00" not in resp.get_data(as_text=True)
    assert balances(app, rn).available == 1200


def test_other_establishment_is_404(app, client, factories, api_headers):
    rn, _acc = setup(app, factories, "EST-A")
    fund(app, rn, "12.00")
    with app.app_context():
        other_acc = factories.user("accountant", ("EST-B",))
        other_dir = factories.user("director", ("EST-B",))
    for user in (other_acc, other_dir):
        h = api_headers(user)
        assert client.get(f"{BASE}/{rn}", headers=h).status_code == 404
        assert client.get(f"{BASE}/{rn}/transactions", headers=h).status_code == 404
    h = api_headers(other_acc)
    assert client.post(f"{BASE}/{rn}/deposits", json=deposit_body(), headers=h).status_code == 404
    wd = client.post(f"{BASE}/{rn}/withdrawals", json={"amount": "1.00", "reason": "x"}, headers=h)
    assert wd.status_code == 404
    assert client.get(f"{BASE}/2099-999999", headers=h).status_code == 404
    assert balances(app, rn).available == 1200


def test_anonymous_is_401(app, client, factories):
    rn, _acc = setup(app, factories)
    assert client.get(f"{BASE}/{rn}").status_code == 401
    assert client.get(f"{BASE}/{rn}/transactions").status_code == 401
    assert client.post(f"{BASE}/{rn}/deposits", json=deposit_body()).status_code == 401
    bad = {"Authorization": "Bearer nope"}
    assert client.post(f"{BASE}/{rn}/withdrawals", json={}, headers=bad).status_code == 401
    assert count_transactions(app, rn) == 0


def test_openapi_lists_the_funds_endpoints(app, client):
    doc = client.get("/api/v1/openapi.json").json
    paths = doc["paths"]
    assert any(
        p.startswith("/api/v1/funds/accounts/") or p.startswith("/funds/accounts/") for p in paths
    )
    joined = " ".join(paths)
    for suffix in ("deposits", "withdrawals", "transactions"):
        assert suffix in joined


def test_a_deposit_reads_and_locks_each_row_once(app, client, factories, api_headers):
    """The deposit's statements (issue 16): the idempotency key written by one INSERT … ON
    CONFLICT DO NOTHING (no read first, no savepoint), the account read and locked by one
    statement, the ledger rows (the detainee's and the establishment's cash) by one more, the
    postings written by one INSERT, and the answer built from what the request holds (no
    read of the postings or of the account again); a retry of the key replays, moving nothing."""
    from core.testing import sql_statements

    rn, accountant = setup(app, factories)
    h = {**api_headers(accountant), "Idempotency-Key": "deposit-statements-1"}
    client.post(f"{BASE}/{rn}/deposits", json={"amount": "1", "source": "cash"}, headers=h)
    h["Idempotency-Key"] = "deposit-statements-2"  # the account and the cash ledger exist now
    resp, seen = sql_statements(
        app, lambda: client.post(f"{BASE}/{rn}/deposits", json=deposit_body("80.25"), headers=h)
    )
    assert resp.status_code == 201, resp.json
    assert resp.json["account"]["available"] == "81.25" and resp.json["amount"] == "80.25"
    postgresql = app.extensions["idmaj.db"].engine.dialect.name == "postgresql"
    # the test's own request savepoint (the app fixture's outer transaction) wraps them all
    inner = [s for s in seen if "SAVEPOINT sa_savepoint" not in s]
    assert len(seen) - len(inner) <= 2, seen
    assert not [s for s in seen[1:-1] if "SAVEPOINT" in s], seen
    (key_insert,) = [s for s in inner if s.startswith("INSERT INTO core_idempotency_keys")]
    assert "ON CONFLICT DO NOTHING" in key_insert
    assert not [s for s in inner if s.startswith("SELECT") and "FROM core_idempotency_keys" in s]
    accounts = [s for s in seen if s.startswith("SELECT") and "FROM funds_accounts" in s]
    assert len(accounts) == 1, accounts
    ledgers = [s for s in seen if s.startswith("SELECT") and "FROM funds_ledger_accounts" in s]
    # the locked read, and the balances sent back
    assert len(ledgers) == 2, ledgers
    assert not [s for s in seen if s.startswith("SELECT") and "FROM funds_postings" in s]
    postings = [s for s in seen if s.startswith("INSERT INTO funds_postings")]
    if postgresql:
        assert len(postings) == 1, postings  # both rows (SQLite sends one statement each)
        assert "FOR UPDATE OF funds_accounts" in accounts[0]
        assert ledgers[0].endswith("FOR UPDATE")
    assert balances(app, rn).available == 8125
    assert ledger_problems(app) == []

    again = client.post(f"{BASE}/{rn}/deposits", json=deposit_body("80.25"), headers=h)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == resp.json
    assert count_transactions(app, rn) == 2
