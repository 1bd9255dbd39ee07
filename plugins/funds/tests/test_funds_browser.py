"""An accountant records a family deposit in the browser, gets the receipt, and reads the
statement — in French and in Arabic (right-to-left)."""

from __future__ import annotations

import pytest

from core.testing import TEST_PASSWORD, Factories

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def people(live_app):
    with live_app.app_context():
        factories = Factories(live_app)
        accountant = factories.user("accountant", ("FND-B",), username="accountant.browser")
        det = factories.detainee("FND-B", first_name="Youssef", last_name="Bennani")
        return accountant.username, det.registration_number


def sign_in(page, server, username):
    page.goto(f"{server.url}/login")
    page.fill("#username", username)
    page.fill("#password", TEST_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{server.url}/dashboard")


@pytest.mark.parametrize(
    ("lang", "direction", "amount", "shown"),
    [("fr", "ltr", "125,50", "125,50"), ("ar", "rtl", "74.50", "200")],
)
def test_deposit_then_statement(page, live_server, people, lang, direction, amount, shown):
    username, rn = people
    sign_in(page, live_server, username)
    page.goto(f"{live_server.url}/funds/accounts/{rn}/deposit?lang={lang}")
    assert page.get_attribute("html", "dir") == direction
    page.fill("#amount", amount)
    page.check("input[name=source][value=family]")
    page.fill("#depositor_name", "Fatima Zahra Benali")
    page.fill("#depositor_national_id", "BE123456")
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_url("**/funds/transactions/*/receipt")
    assert "Fatima Zahra Benali" in page.inner_text("main")
    assert "BE123456" in page.inner_text("main")

    page.goto(f"{live_server.url}/funds/accounts/{rn}/statement")
    statement = page.inner_text("main")
    assert rn in statement
    rows = page.locator("main table.data tbody tr")
    assert rows.count() >= 1
    balance = page.inner_text("[data-testid=funds-balance]")
    assert shown in balance.replace("\u202f", " ").replace("\u00a0", " ").replace(" ", "")
