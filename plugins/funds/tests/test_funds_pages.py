"""The accountant's pages, the profile panel and the dashboard widget: flows, permissions and bad
input."""

from __future__ import annotations

import pytest

from plugins.funds.tests.helpers import balances, count_transactions, fund


@pytest.fixture
def login(client, login_as):
    """Sign in with ``login_as`` and read the pages in English (the default is Arabic)."""

    def sign_in(role, establishment="EST-A"):
        user = login_as(role, establishment)
        client.post("/language", data={"lang": "en", "next": "/"})
        return user

    return sign_in


def _det(app, factories, est="EST-A"):
    with app.app_context():
        return factories.detainee(est).registration_number


def test_deposit_form_receipt_and_account_page(app, client, factories, login):
    rn = _det(app, factories)
    login("accountant", "EST-A")
    page = client.get(f"/funds/accounts/{rn}/deposit")
    assert page.status_code == 200
    resp = client.post(
        f"/funds/accounts/{rn}/deposit",
        data={
            "amount": "1 250,50",
            "source": "family",
            "depositor_name": "Khadija El Amrani",
            "depositor_national_id": "a456789",
            "memo": "Aïd",
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    receipt = client.get(resp.headers["Location"])
    body = receipt.get_data(as_text=True)
    assert receipt.status_code == 200
    assert "Khadija El Amrani" in body and "A456789" in body
    assert balances(app, rn).available == 125050
    account = client.get(f"/funds/accounts/{rn}").get_data(as_text=True)
    assert "Aïd" in account and rn in account


@pytest.mark.parametrize(
    ("data", "field_text"),
    [
        ({"amount": "-5", "source": "cash"}, "greater than zero"),
        ({"amount": "1.234", "source": "cash"}, "two decimals"),
        ({"amount": "1e3", "source": "cash"}, "e.g."),
        ({"amount": "", "source": "cash"}, "required"),
        ({"amount": "5000.01", "source": "cash"}, "5000.00"),
        ({"amount": "10", "source": "family"}, "depositor"),
        ({"amount": "10", "source": "bank"}, ""),
    ],
)
def test_deposit_form_bad_input_is_422(app, client, factories, login, data, field_text):
    rn = _det(app, factories)
    login("accountant", "EST-A")
    resp = client.post(f"/funds/accounts/{rn}/deposit", data=data)
    assert resp.status_code == 422
    assert field_text.lower() in resp.get_data(as_text=True).lower()
    assert count_transactions(app, rn) == 0


def test_withdraw_purchase_fee_hold_and_reverse_pages(app, client, factories, login):
    rn = _det(app, factories)
    fund(app, rn, "100.00")
    login("accountant", "EST-A")
    too_much = client.post(
        f"/funds/accounts/{rn}/withdraw", data={"amount": "100.01", "reason": "x"}
    )
    assert too_much.status_code == 409
    assert "Insufficient funds" in too_much.get_data(as_text=True)
    no_reason = client.post(f"/funds/accounts/{rn}/withdraw", data={"amount": "1"})
    assert no_reason.status_code == 422
    assert (
        client.post(
            f"/funds/accounts/{rn}/withdraw", data={"amount": "10", "reason": "x"}
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"/funds/accounts/{rn}/purchase", data={"amount": "20", "memo": "tea"}
        ).status_code
        == 302
    )
    assert (
        client.post(f"/funds/accounts/{rn}/fee", data={"amount": "5", "memo": "damage"}).status_code
        == 302
    )
    assert (
        client.post(f"/funds/accounts/{rn}/hold", data={"amount": "60", "memo": "fine"}).status_code
        == 302
    )
    assert balances(app, rn).held == 6000
    assert client.post(f"/funds/accounts/{rn}/purchase", data={"amount": "10"}).status_code == 409
    from sqlalchemy import select

    from core.db import session
    from plugins.funds.models import Transaction, TxType

    with app.app_context():
        purchase_id = session().scalar(
            select(Transaction.id).where(Transaction.type == TxType.canteen_purchase)
        )
    assert client.get(f"/funds/transactions/{purchase_id}/reverse").status_code == 200
    assert client.post(f"/funds/transactions/{purchase_id}/reverse", data={}).status_code == 422
    done = client.post(f"/funds/transactions/{purchase_id}/reverse", data={"memo": "wrong"})
    assert done.status_code == 302
    again = client.post(f"/funds/transactions/{purchase_id}/reverse", data={"memo": "wrong"})
    assert again.status_code == 409
    assert balances(app, rn).available == 100_00 - 10_00 - 5_00


def test_statement_printable_and_csv(app, client, factories, login):
    rn = _det(app, factories)
    fund(app, rn, "100.00")
    login("accountant", "EST-A")
    client.post(f"/funds/accounts/{rn}/purchase", data={"amount": "12.5", "memo": "=HYPERLINK()"})
    page = client.get(f"/funds/accounts/{rn}/statement")
    assert page.status_code == 200
    assert "Statement of account" in page.get_data(as_text=True)
    csv_resp = client.get(f"/funds/accounts/{rn}/statement.csv")
    assert csv_resp.status_code == 200 and csv_resp.mimetype == "text/csv"
    lines = csv_resp.get_data(as_text=True).strip().splitlines()
    assert lines[0].startswith("date,receipt_number,type")
    assert lines[1].split(",")[2] == "cash_deposit" and lines[1].split(",")[6] == "100.00"
    assert "'=HYPERLINK()" in lines[2] and lines[2].split(",")[5] == "12.50"
    assert lines[2].split(",")[6] == "87.50"


def test_wage_run_page_all_or_nothing(app, client, factories, login):
    a = _det(app, factories)
    b = _det(app, factories)
    login("accountant", "EST-A")
    assert client.get("/funds/EST-A/wages").status_code == 200
    bad = client.post(
        "/funds/EST-A/wages", data={"workshop": "Couture", "lines": f"{a} 100.00\n{b} 1.001\n"}
    )
    assert bad.status_code == 422
    assert "Line 2" in bad.get_data(as_text=True)
    assert count_transactions(app, a) == 0
    ok = client.post(
        "/funds/EST-A/wages", data={"workshop": "Couture", "lines": f"{a} 100.00\n{b}\t50\n"}
    )
    assert ok.status_code == 302
    assert balances(app, a).balance == 10000 and balances(app, b).balance == 5000
    journal = client.get("/funds/EST-A/journal")
    assert journal.status_code == 200 and "Couture" in journal.get_data(as_text=True)
    assert client.get("/funds/EST-A/journal?date=nonsense").status_code == 200


def test_cash_and_settings_pages(app, client, factories, login):
    rn = _det(app, factories)
    fund(app, rn, "100.00")
    login("accountant", "EST-A")
    assert client.get("/funds/EST-A/cash").status_code == 200
    assert client.post("/funds/EST-A/cash", data={"counted": "abc"}).status_code == 422
    resp = client.post("/funds/EST-A/cash", data={"counted": "99.00", "note": "coins"})
    assert resp.status_code == 302
    page = client.get("/funds/EST-A/cash").get_data(as_text=True)
    assert "coins" in page
    assert client.get("/funds/EST-A/settings").status_code == 200
    bad = client.post(
        "/funds/EST-A/settings",
        data={"savings_share_pct": "150", "weekly_limit": "", "deposit_ceiling": "x"},
    )
    assert bad.status_code == 422
    ok = client.post(
        "/funds/EST-A/settings",
        data={"savings_share_pct": "30", "weekly_limit": "200", "deposit_ceiling": "1000"},
    )
    assert ok.status_code == 302
    over = client.post(
        f"/funds/accounts/{rn}/deposit", data={"amount": "1000.01", "source": "cash"}
    )
    assert over.status_code == 422


READ_PAGES = [
    "/funds/",
    "/funds/accounts/{rn}",
    "/funds/accounts/{rn}/statement",
    "/funds/accounts/{rn}/statement.csv",
    "/funds/EST-A/journal",
]
WRITE_PAGES = [
    "/funds/accounts/{rn}/deposit",
    "/funds/accounts/{rn}/purchase",
    "/funds/accounts/{rn}/withdraw",
    "/funds/accounts/{rn}/fee",
    "/funds/accounts/{rn}/hold",
    "/funds/EST-A/wages",
    "/funds/EST-A/cash",
    "/funds/EST-A/settings",
]


@pytest.mark.parametrize("role", ["director", "auditor"])
def test_director_and_auditor_read_pages_only(app, client, factories, login, role):
    rn = _det(app, factories)
    fund(app, rn, "42.00")
    login(role, "EST-A")
    for path in READ_PAGES:
        assert client.get(path.format(rn=rn)).status_code == 200, path
    assert "42,00" in client.get(f"/funds/accounts/{rn}").get_data(as_text=True).replace(".", ",")
    for path in WRITE_PAGES:
        assert client.get(path.format(rn=rn)).status_code == 403, path
    assert (
        client.post(
            f"/funds/accounts/{rn}/deposit", data={"amount": "1", "source": "cash"}
        ).status_code
        == 403
    )
    assert balances(app, rn).available == 4200


@pytest.mark.parametrize("role", ["registry_clerk", "visits_officer", "doctor", "central_admin"])
def test_other_roles_get_403_and_no_panel(app, client, factories, login, role):
    rn = _det(app, factories)
    fund(app, rn, "42.00")
    login(role, "EST-A")
    for path in READ_PAGES + WRITE_PAGES:
        assert client.get(path.format(rn=rn)).status_code == 403, path
    profile = client.get(f"/detainees/{rn}")
    assert profile.status_code == 200
    assert 'id="panel-funds"' not in profile.get_data(as_text=True)


def test_other_establishment_gets_404(app, client, factories, login):
    rn = _det(app, factories, "EST-A")
    with app.app_context():
        factories.establishment("EST-B")
    login("accountant", "EST-B")
    for path in READ_PAGES[1:4] + WRITE_PAGES[:5]:
        assert client.get(path.format(rn=rn)).status_code == 404, path
    for path in (
        "/funds/EST-A/journal",
        "/funds/EST-A/wages",
        "/funds/EST-A/cash",
        "/funds/EST-A/settings",
    ):
        assert client.get(path).status_code == 404, path
    resp = client.post(f"/funds/accounts/{rn}/deposit", data={"amount": "1", "source": "cash"})
    assert resp.status_code == 404
    assert count_transactions(app, rn) == 0


def test_anonymous_is_redirected_to_sign_in(app, client, factories):
    rn = _det(app, factories)
    for path in READ_PAGES + WRITE_PAGES:
        resp = client.get(path.format(rn=rn))
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], path


def test_profile_panel_and_dashboard_widget(app, client, factories, login):
    rn = _det(app, factories)
    fund(app, rn, "42.00")
    login("accountant", "EST-A")
    profile = client.get(f"/detainees/{rn}").get_data(as_text=True)
    assert 'id="panel-funds"' in profile and "funds-balance" in profile
    dashboard = client.get("/dashboard")
    assert dashboard.status_code == 200
    body = dashboard.get_data(as_text=True)
    assert "funds-total-held" in body and 'id="funds-chart"' in body
    chart = body.split('id="funds-chart"', 1)[1].split("</figure>", 1)[0]
    # 30 days drawn as SVG bars, today's 42.00 the tallest, every day listed for screen readers
    assert chart.count('<rect class="chart-bar"') == 30 and chart.count("<li>") == 30
    assert 'height="100.00"' in chart and "42" in chart


def test_widget_hidden_from_those_without_funds_view(app, client, factories, login):
    login("registry_clerk", "EST-A")
    assert "funds-total-held" not in client.get("/dashboard").get_data(as_text=True)


def test_funds_pages_in_arabic_and_french(app, client, factories, login):
    rn = _det(app, factories)
    login("accountant", "EST-A")
    for lang, word in (("ar", "الرصيد"), ("fr", "Solde"), ("en", "Balance")):
        client.post("/language", data={"lang": lang, "next": "/"})
        page = client.get(f"/funds/accounts/{rn}")
        assert page.status_code == 200
        body = page.get_data(as_text=True)
        assert f'lang="{lang}"' in body and word in body
    client.post("/language", data={"lang": "fr", "next": "/"})
    bad = client.post(f"/funds/accounts/{rn}/deposit", data={"amount": "1.234", "source": "cash"})
    assert bad.status_code == 422 and "deux décimales au plus" in bad.get_data(as_text=True)


@pytest.mark.parametrize("payload", ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_statement_csv_escapes_memos_and_keeps_amounts_numeric(
    app, client, factories, login, payload
):
    """Issue 10 point 13: every text cell escaped; money cells are numbers the app computed."""
    import csv
    import io

    rn = _det(app, factories)
    fund(app, rn, "100.00")
    login("accountant", "EST-A")
    resp = client.post(f"/funds/accounts/{rn}/purchase", data={"amount": "12.5", "memo": payload})
    assert resp.status_code == 302
    text = client.get(f"/funds/accounts/{rn}/statement.csv").get_data(as_text=True)
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    purchase = rows[-1]
    # the form strips a leading tab or CR (core.csv_safety's tests cover those cells)
    expected = payload.strip() if payload[0] in "\t\r" else "'" + payload
    assert purchase[header.index("memo")] == expected
    assert purchase[header.index("debit")] == "12.50"
    assert purchase[header.index("balance")] == "87.50"
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), row
