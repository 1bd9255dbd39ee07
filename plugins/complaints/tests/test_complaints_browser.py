"""A family files a complaint on a 360 px phone in Arabic; an officer answers it on a 360 px
screen; the family reads the answer — in a real browser (Playwright, Debian's Chromium)."""

from __future__ import annotations

import re

import pytest

from core.testing import TEST_PASSWORD, Factories

from .helpers import link

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def people(live_app):
    with live_app.app_context():
        factories = Factories(live_app)
        det = factories.detainee("CPL-B", first_name="Youssef", last_name="Bennani")
        visitor = factories.visitor(username="family.complaints")
        officer = factories.user("complaints_officer", ("CPL-B",), username="officer.complaints")
    link(live_app, factories, visitor, det)
    return visitor.username, officer.username, det.registration_number


def phone(browser, locale):
    context = browser.new_context(locale=locale, viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    return context, page


def sign_in(page, server, username):
    page.goto(f"{server.url}/login")
    page.fill("#username", username)
    page.fill("#password", TEST_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_family_files_on_a_phone_in_arabic_and_an_officer_answers(browser, live_server, people):
    family_name, officer_name, rn = people
    ctx, page = phone(browser, "ar-MA")
    try:
        sign_in(page, live_server, family_name)
        page.goto(f"{live_server.url}/complaints/new")
        assert page.get_attribute("html", "dir") == "rtl"
        assert page.get_attribute("html", "lang").startswith("ar")
        assert "تقديم شكاية" in page.inner_text("h1")
        assert fits(page)
        assert page.input_value("#detainee") == rn  # the only linked detainee is chosen
        page.select_option("#category", "food")
        page.fill("#subject", "الماكلة باردة")
        page.fill("#body", "Lmakla katji bared kol nhar, 3afakom chofo m3a lkouzina.")
        page.click("main form button[type=submit]")
        page.wait_for_url(re.compile(r".*/complaints/PL-\d{4}-\d{5}\?filed=1"))
        reference = page.inner_text("[data-testid=complaint-reference]").strip()
        assert "تم التوصل بشكايتكم" in page.inner_text("#acknowledgement")
        assert "تم التوصل بها" in page.inner_text("#complaint-status")
        assert fits(page)
    finally:
        ctx.close()

    ctx, page = phone(browser, "fr-FR")
    try:
        sign_in(page, live_server, officer_name)
        page.goto(f"{live_server.url}/complaints/")
        assert reference in page.inner_text("main")
        assert fits(page)
        page.click(f"text={reference}")
        page.wait_for_url(f"**/complaints/{reference}")
        assert "Lmakla katji bared" in page.inner_text("main")
        page.click("#action-answer summary")
        page.fill("#ans-body", "Les repas seront servis chauds dès demain.")
        page.select_option("#ans-outcome", "founded")
        page.click("#action-answer button[type=submit]")
        page.wait_for_url(f"**/complaints/{reference}")
        assert "Répondue" in page.inner_text("#complaint-status")
        assert fits(page)
    finally:
        ctx.close()

    ctx, page = phone(browser, "ar-MA")
    try:
        sign_in(page, live_server, family_name)
        page.goto(f"{live_server.url}/complaints/mine")
        assert reference in page.inner_text("main")
        page.click(f"main a[href$='/complaints/{reference}']")
        page.wait_for_url(f"**/complaints/{reference}")
        main = page.inner_text("main")
        assert "Les repas seront servis chauds dès demain." in main
        assert "تم الرد" in page.inner_text("#complaint-status")
        assert page.locator("#action-appeal").count() == 1  # within the appeal period
        assert fits(page)
    finally:
        ctx.close()
