"""Issue 10 point 10 for the funds module: the pages of one movement, walked from the url_map,
answer bad query strings without a 500 (the others are walked by the core's
tests/test_bad_input_everywhere.py); every text field of its forms refuses NUL."""

from __future__ import annotations

import pytest

from core.testing_bad_input import BAD_TEXTS, get_routes, post_values, walk_queries
from plugins.funds.tests.helpers import count_transactions, fund


@pytest.fixture
def accountant(app, client, factories, login_as):
    with app.app_context():
        rn = factories.detainee("EST-A").registration_number
    user = login_as("accountant", "EST-A")
    fund(app, rn, "100.00")
    return rn, user


def test_movement_pages_answer_bad_queries(monkeypatch, app, client, accountant, api_headers):
    monkeypatch.setitem(app.config, "PROPAGATE_UNEXPECTED", False)  # list every 500
    from sqlalchemy import select

    from core.db import session
    from plugins.funds.models import Transaction

    rn, user = accountant
    with app.app_context():
        tx_id = session().scalar(select(Transaction.id))
    paths = get_routes(
        app,
        blueprints=["funds", "funds_api"],
        variables={"tx_id": tx_id, "rn": rn},
        only_with=["tx_id"],
    )
    assert f"/funds/transactions/{tx_id}/receipt" in paths
    failures = walk_queries(client, paths, headers=api_headers(user))
    assert not failures, "\n".join(map(str, failures))
    assert client.get("/funds/EST-A/journal?date=9999-12-31").status_code == 200


@pytest.mark.parametrize(
    ("path", "good", "fields"),
    [
        (
            "deposit",
            {
                "amount": "10",
                "source": "family",
                "depositor_name": "Khadija",
                "depositor_national_id": "A456789",
            },
            ("depositor_name", "depositor_national_id", "memo", "amount"),
        ),
        ("withdraw", {"amount": "10", "reason": "canteen"}, ("reason", "amount")),
        ("purchase", {"amount": "10", "memo": "tea"}, ("memo",)),
        ("fee", {"amount": "10", "memo": "copies"}, ("memo",)),
        ("hold", {"amount": "10", "memo": "court order"}, ("memo",)),
    ],
)
def test_movement_forms_refuse_nul(app, client, accountant, path, good, fields):
    rn, _user = accountant
    before = count_transactions(app, rn)
    failures = post_values(
        lambda data: client.post(f"/funds/accounts/{rn}/{path}", data=data),
        good,
        {f: BAD_TEXTS for f in fields},
    )
    assert failures == []
    assert count_transactions(app, rn) == before


def test_establishment_forms_refuse_nul(app, client, accountant):
    rn, _user = accountant
    assert (
        post_values(
            lambda data: client.post("/funds/EST-A/wages", data=data),
            {"workshop": "Bakery", "lines": f"{rn} 5.00"},
            {"workshop": BAD_TEXTS, "lines": BAD_TEXTS},
        )
        == []
    )
    assert (
        post_values(
            lambda data: client.post("/funds/EST-A/cash", data=data),
            {"counted": "0", "note": "ok"},
            {"note": BAD_TEXTS},
        )
        == []
    )
