"""A registry clerk signs in, admits a detainee and finds them by an Arabic spelling —
in French (left-to-right) and in Arabic (right-to-left)."""

from __future__ import annotations

import pytest

from core.testing import TEST_PASSWORD, Factories

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def clerk(live_app):
    with live_app.app_context():
        return Factories(live_app).user("registry_clerk", ("CAS-AS",), username="clerk.browser")


def sign_in(page, server, username):
    page.goto(f"{server.url}/login")
    page.fill("#username", username)
    page.fill("#password", TEST_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{server.url}/dashboard")


def test_browser_version_is_logged(browser):
    assert browser.version.split(".")[0].isdigit()


PEOPLE = {
    # lang: (first, last, first in Arabic, last in Arabic, sex, what is typed in the search box)
    "fr": ("Hicham", "Ouazzani", "هشام", "الوزاني", "M", "هشام الوزاني"),
    "ar": ("Khadidja", "Et-Tazi", "خديجة", "التازي", "F", "خديجه التازى"),
}


@pytest.mark.parametrize("lang,direction", [("fr", "ltr"), ("ar", "rtl")])
def test_admit_then_find_by_arabic_spelling(page, live_server, clerk, lang, direction):
    first, last, first_ar, last_ar, sex, query = PEOPLE[lang]
    sign_in(page, live_server, clerk.username)
    page.goto(f"{live_server.url}/detainees/new?lang={lang}")
    assert page.get_attribute("html", "dir") == direction
    assert page.get_attribute("html", "lang") == lang
    page.fill("#first_name", first)
    page.fill("#last_name", last)
    page.fill("#first_name_ar", first_ar)
    page.fill("#last_name_ar", last_ar)
    page.fill("#birth_date", "1988-11-04")
    page.check(f"input[name=sex][value={sex}]")
    page.select_option("#establishment", "CAS-AS")
    page.select_option("#legal_status", "pretrial")
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_url("**/detainees/20*")
    assert last in page.inner_text("h1")

    page.goto(f"{live_server.url}/detainees/")
    page.fill("#q", query)
    page.click("form[role=search] button[type=submit]")
    rows = page.locator("table.results tbody tr")
    assert rows.count() >= 1
    assert last in rows.first.inner_text()
