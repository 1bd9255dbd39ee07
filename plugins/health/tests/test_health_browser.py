"""In the browser, at 360 px: a nurse records a consultation and signs it, prepares a
prescription; a doctor signs it; the nurse records the dose — in Arabic (right-to-left) and
French."""

from __future__ import annotations

import pytest

from core.testing import TEST_PASSWORD, Factories

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def people(live_app):
    with live_app.app_context():
        factories = Factories(live_app)
        nurse = factories.user("nurse", ("HLT-B",), username="nurse.browser")
        doctor = factories.user("doctor", ("HLT-B",), username="doctor.browser")
        det = factories.detainee("HLT-B", first_name="Karim", last_name="Alaoui")
        return nurse.username, doctor.username, det.registration_number


def sign_in(page, server, username):
    page.goto(f"{server.url}/logout")
    page.goto(f"{server.url}/login")
    page.fill("#username", username)
    page.fill("#password", TEST_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{server.url}/dashboard")


@pytest.mark.parametrize(("lang", "direction"), [("ar", "rtl"), ("fr", "ltr")])
def test_consultation_and_prescription(page, live_server, people, lang, direction):
    nurse, doctor, rn = people
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, live_server, nurse)
    page.goto(f"{live_server.url}/health/files/{rn}/consultations/new?lang={lang}")
    assert page.get_attribute("html", "dir") == direction
    page.fill("#reason", "Fièvre")
    page.fill("#notes", f"Fièvre et frissons ({lang})")
    page.fill("#temperature", "38,4")
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_url("**/consultations/*")
    assert f"Fièvre et frissons ({lang})" in page.inner_text("main")
    page.click("[data-testid=health-sign-consultation]")
    page.wait_for_selector("[data-testid=health-intact]")
    # no horizontal scrolling of the page at 360 px
    assert page.evaluate("document.documentElement.scrollWidth") <= 362

    page.goto(f"{live_server.url}/health/files/{rn}/prescriptions/new")
    page.fill("#medication", f"Paracétamol 500 mg {lang}")
    page.fill("#dosage", "2 comprimés")
    page.fill("#times", "00:00")
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_url("**/prescriptions/*")
    url = page.url
    assert page.locator("[data-testid=health-sign-prescription]").count() == 0

    sign_in(page, live_server, doctor)
    page.goto(url)
    page.click("[data-testid=health-sign-prescription]")
    page.wait_for_selector("main form[action$='/stop']")
    status = page.inner_text("[data-testid=health-prescription-status]")
    assert status.strip()

    sign_in(page, live_server, nurse)
    page.goto(url)
    page.click("main button[name=outcome][value=given]")
    page.wait_for_url(url)
    assert page.locator("main button[name=outcome]").count() == 0
    page.goto(f"{live_server.url}/health/files/{rn}")
    assert f"Paracétamol 500 mg {lang}" in page.inner_text("main")
