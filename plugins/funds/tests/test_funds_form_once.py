"""Issue 10 point 12: a money form is recorded once per rendered form (its one-time token,
``core.forms.OnceForm``), however often and however simultaneously it is sent."""

from __future__ import annotations

import re
import threading
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from core.testing import TEST_PASSWORD, Factories
from plugins.funds.tests.helpers import balances, count_transactions, fund

DEPOSIT = {
    "amount": "100,00",
    "source": "family",
    "depositor_name": "Khadija El Amrani",
    "depositor_national_id": "A456789",
}


def _token_of(html: str) -> str:
    match = re.search(r'<input[^>]*name="form_token"[^>]*value="([^"]+)"', html) or re.search(
        r'<input[^>]*value="([^"]+)"[^>]*name="form_token"', html
    )
    assert match, "the form carries no one-time token"
    return match.group(1)


@pytest.fixture
def accountant_client(app, client, factories, login_as):
    with app.app_context():
        rn = factories.detainee("EST-A").registration_number
    login_as("accountant", "EST-A")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client, rn


def test_a_resubmitted_deposit_form_books_one_receipt(app, accountant_client):
    client, rn = accountant_client
    token = _token_of(client.get(f"/funds/accounts/{rn}/deposit").get_data(as_text=True))
    first = client.post(f"/funds/accounts/{rn}/deposit", data={**DEPOSIT, "form_token": token})
    assert first.status_code == 302, first.get_data(as_text=True)[:2000]
    assert "/receipt" in first.headers["Location"]
    second = client.post(f"/funds/accounts/{rn}/deposit", data={**DEPOSIT, "form_token": token})
    assert second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]  # the same receipt
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "already submitted" in page
    assert count_transactions(app, rn) == 1
    assert balances(app, rn).available == 10000


def test_each_rendered_form_is_its_own_deposit(app, accountant_client):
    client, rn = accountant_client
    for _ in range(2):
        token = _token_of(client.get(f"/funds/accounts/{rn}/deposit").get_data(as_text=True))
        resp = client.post(f"/funds/accounts/{rn}/deposit", data={**DEPOSIT, "form_token": token})
        assert resp.status_code == 302
    # a script posting without the field: one deposit per request, as the API without a key
    resp = client.post(f"/funds/accounts/{rn}/deposit", data=DEPOSIT)
    assert resp.status_code == 302
    assert count_transactions(app, rn) == 3


def test_a_refused_form_keeps_its_token_and_the_corrected_one_records_once(app, accountant_client):
    client, rn = accountant_client
    token = _token_of(client.get(f"/funds/accounts/{rn}/deposit").get_data(as_text=True))
    bad = client.post(
        f"/funds/accounts/{rn}/deposit", data={**DEPOSIT, "amount": "-5", "form_token": token}
    )
    assert bad.status_code == 422
    assert _token_of(bad.get_data(as_text=True)) == token  # the same form, shown again
    good = client.post(f"/funds/accounts/{rn}/deposit", data={**DEPOSIT, "form_token": token})
    assert good.status_code == 302
    again = client.post(f"/funds/accounts/{rn}/deposit", data={**DEPOSIT, "form_token": token})
    assert again.status_code == 303 and again.headers["Location"] == good.headers["Location"]
    assert count_transactions(app, rn) == 1


def test_a_token_is_one_users_only(app, client, factories, login_as, accountant_client):
    client, rn = accountant_client
    token = _token_of(client.get(f"/funds/accounts/{rn}/deposit").get_data(as_text=True))
    assert (
        client.post(
            f"/funds/accounts/{rn}/deposit", data={**DEPOSIT, "form_token": token}
        ).status_code
        == 302
    )
    other = app.test_client()
    with app.app_context():
        colleague = factories.user("accountant", ("EST-A",))
    other.post("/login", data={"username": colleague.username, "password": TEST_PASSWORD})
    resp = other.post(f"/funds/accounts/{rn}/deposit", data={**DEPOSIT, "form_token": token})
    assert resp.status_code == 302  # another user's token is nothing to them
    assert count_transactions(app, rn) == 2


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("withdraw", {"amount": "10", "reason": "canteen"}),
        ("purchase", {"amount": "10", "memo": "tea"}),
        ("fee", {"amount": "10", "memo": "photocopies"}),
    ],
)
def test_other_money_forms_record_once(app, accountant_client, path, data):
    client, rn = accountant_client
    fund(app, rn, "100.00")
    token = _token_of(client.get(f"/funds/accounts/{rn}/{path}").get_data(as_text=True))
    for _ in range(3):
        resp = client.post(f"/funds/accounts/{rn}/{path}", data={**data, "form_token": token})
        assert resp.status_code in (302, 303), resp.get_data(as_text=True)[:2000]
    assert count_transactions(app, rn) == 2  # the funding deposit and one movement


def test_a_cash_count_and_a_wage_run_record_once(app, accountant_client):
    from plugins.funds.models import CashCount, Transaction

    client, rn = accountant_client
    token = _token_of(client.get("/funds/EST-A/cash").get_data(as_text=True))
    for _ in range(2):
        resp = client.post("/funds/EST-A/cash", data={"counted": "0", "form_token": token})
        assert resp.status_code in (302, 303)
    token = _token_of(client.get("/funds/EST-A/wages").get_data(as_text=True))
    for _ in range(2):
        resp = client.post(
            "/funds/EST-A/wages",
            data={"workshop": "Bakery", "lines": f"{rn} 50.00", "form_token": token},
        )
        assert resp.status_code in (302, 303), resp.get_data(as_text=True)[:2000]
    with app.app_context():
        from core.db import session

        assert session().scalar(select(func.count()).select_from(CashCount)) == 1
        assert session().scalar(select(func.count()).select_from(Transaction)) == 1


@pytest.mark.concurrency
def test_two_simultaneous_posts_of_one_deposit_form_book_one_receipt(fresh_app):
    """Two real connections send one rendered form at the same moment: one receipt, and both
    answers lead to it."""
    factories = Factories(fresh_app)
    with fresh_app.app_context():
        rn = factories.detainee("EST-A").registration_number
        accountant = factories.user("accountant", ("EST-A",))
    clients = []
    for _ in range(2):
        c = fresh_app.test_client()
        resp = c.post("/login", data={"username": accountant.username, "password": TEST_PASSWORD})
        assert resp.status_code == 302
        clients.append(c)
    token = _token_of(clients[0].get(f"/funds/accounts/{rn}/deposit").get_data(as_text=True))

    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def post(i: int) -> None:
        barrier.wait()
        try:
            resp = clients[i].post(
                f"/funds/accounts/{rn}/deposit", data={**DEPOSIT, "form_token": token}
            )
            results[i] = (resp.status_code, resp.headers.get("Location"))
        except Exception as exc:  # a crash is a result the test must see
            results[i] = ("exception", repr(exc))

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert Counter(r[0] for r in results) == {302: 1, 303: 1}, results
    assert results[0][1] == results[1][1] and "/receipt" in results[0][1]
    assert count_transactions(fresh_app, rn) == 1
    assert balances(fresh_app, rn).available == 10000
