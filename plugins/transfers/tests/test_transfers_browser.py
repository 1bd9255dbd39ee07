"""A transfer's whole journey in the browser, each step by the person who may take it:
request (officer of the origin) → approve (director of the origin) → accept (officer of the
destination) → schedule and depart (officer of the origin) → complete (destination); in Arabic
on a phone-sized page and in French."""

from __future__ import annotations

import pytest

from core.testing import TEST_PASSWORD, Factories

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def people(live_app):
    with live_app.app_context():
        factories = Factories(live_app)
        for code in ("TRB-A", "TRB-B"):
            factories.establishment(code)
        users = {
            "officer_a": factories.user("transfers_officer", ("TRB-A",), username="tr.officer.a"),
            "director_a": factories.user("director", ("TRB-A",), username="tr.director.a"),
            "officer_b": factories.user("transfers_officer", ("TRB-B",), username="tr.officer.b"),
        }
        dets = [
            factories.detainee(
                "TRB-A", first_name="Youssef", last_name="Bennani", legal_status="pretrial"
            ).registration_number
            for _i in range(2)
        ]
        return {k: u.username for k, u in users.items()}, dets


def sign_in(page, server, username, lang):
    page.context.clear_cookies()
    page.goto(f"{server.url}/login?lang={lang}")
    page.fill("#username", username)
    page.fill("#password", TEST_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{server.url}/dashboard")


def step(page, action):
    page.locator(f"[data-testid=do-{action}]").click()
    page.wait_for_load_state()


@pytest.mark.parametrize(("lang", "direction", "index"), [("ar", "rtl", 0), ("fr", "ltr", 1)])
def test_request_approve_accept_schedule_depart_complete(
    browser, live_app, live_server, people, lang, direction, index
):
    users, dets = people
    rn = dets[index]
    width = 360 if lang == "ar" else 1280
    page = browser.new_page(viewport={"width": width, "height": 800})
    try:
        sign_in(page, live_server, users["officer_a"], lang)
        page.goto(f"{live_server.url}/transfers/new")
        assert page.get_attribute("html", "dir") == direction
        page.fill("#detainee", rn)
        page.select_option("#destination", "TRB-B")
        page.select_option("#reason", "overcrowding")
        page.click("main form[method=post] button[type=submit]")
        page.wait_for_url("**/transfers/*")
        url = page.url
        assert page.locator("[data-testid=transfer-timeline] li").count() == 1

        sign_in(page, live_server, users["director_a"], lang)
        page.goto(url)
        step(page, "approve")  # pretrial: refused without the authorisation
        assert page.locator("#approve-judicial_authorisation-error").count() == 1
        page.fill("#approve-judicial_authorisation", "TPI-CASA 2026/41")
        step(page, "approve")

        sign_in(page, live_server, users["officer_b"], lang)
        page.goto(url)
        assert page.locator("[data-testid=transfer-occupancy]").count() == 1
        step(page, "accept")

        sign_in(page, live_server, users["officer_a"], lang)
        page.goto(url)
        page.fill("#schedule-date", "2999-01-01")
        page.fill("#schedule-vehicle", "Fourgon 12-A-4471")
        step(page, "schedule")
        step(page, "depart")

        sign_in(page, live_server, users["officer_b"], lang)
        page.goto(url)
        step(page, "complete")
        assert page.locator("[data-testid=transfer-timeline] li").count() == 6
        assert page.locator("[data-testid=transfer-actions]").count() == 0
        # nothing wider than the screen
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    finally:
        page.close()
    from core.db import session
    from core.detainees.services import get_detainee
    from core.principals import SYSTEM

    with live_app.app_context():
        session().expire_all()
        assert get_detainee(rn, SYSTEM).establishment.code == "TRB-B"
