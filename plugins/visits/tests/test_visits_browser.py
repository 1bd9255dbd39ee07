"""The whole family journey on a phone in Arabic — register, ask for a link, approval by the
visits office, booking, confirmation with its QR code — then the check-in at the gate."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from core.db import session, utcnow
from core.principals import SYSTEM
from core.testing import TEST_PASSWORD, Factories

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def setting(live_app):
    from plugins.visits import services

    with live_app.app_context():
        factories = Factories(live_app)
        est = factories.establishment("CAS-AS")
        det = factories.detainee(
            "CAS-AS",
            first_name="Hicham",
            last_name="Ouazzani",
            first_name_ar="هشام",
            last_name_ar="الوزاني",
            birth_date="1985-02-11",
        )
        start = (utcnow() + dt.timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
        slot = services.create_slot(SYSTEM, est, start, start + dt.timedelta(hours=1), 10)
        officer = factories.user("visits_officer", ("CAS-AS",), username="visits.browser")
        session().commit()
        return {"rn": det.registration_number, "slot_id": slot.id, "officer": officer.username}


def sign_in(page, server, username, password=TEST_PASSWORD):
    page.goto(f"{server.url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def test_family_journey_on_a_phone_in_arabic(phone_page, page, live_server, live_app, setting):
    from plugins.visits.models import Booking, Slot

    fam = phone_page
    # 1. register (Arabic, right-to-left, phone-sized)
    fam.goto(f"{live_server.url}/register")
    assert fam.get_attribute("html", "dir") == "rtl"
    fam.fill("#full_name", "فاطمة الزهراء الوزاني")
    fam.fill("#national_id", "BE778899")
    fam.fill("#phone", "0611223344")
    fam.fill("#username", "fatima.browser")
    fam.fill("#password", "a-long-family-password-1")
    fam.click("main form[method=post] button[type=submit]")
    fam.wait_for_load_state()
    assert "/register" not in fam.url

    # 2. ask to be linked (registration number + birth date)
    fam.click("nav.main-nav a[href$='/visits/relatives']")
    fam.fill("#detainee", setting["rn"])
    fam.fill("#detainee_birth_date", "1985-02-11")
    fam.select_option("#relationship", "sibling")
    fam.click("main form[method=post] button[type=submit]")
    fam.wait_for_load_state()
    assert "قيد الدراسة" in fam.inner_text("main")  # pending
    # nothing can be booked yet
    fam.goto(f"{live_server.url}/visits/book")
    assert fam.locator("input[name=slot_id]").count() == 0

    # 3. the visits office approves (desktop, French)
    sign_in(page, live_server, setting["officer"])
    page.goto(f"{live_server.url}/visits/office/relations?lang=fr")
    row = page.locator("li.queue-item", has_text=setting["rn"])
    row.locator("button", has_text="Approuver").click()
    page.wait_for_load_state()
    assert page.locator("li.queue-item", has_text=setting["rn"]).count() == 0

    # 4. the family books with a companion
    fam.goto(f"{live_server.url}/visits/book")
    fam.check(f"#slot-{setting['slot_id']}")
    fam.fill("#companions-0-full_name", "يوسف الوزاني")
    fam.fill("#companions-0-national_id", "BK123987")
    fam.fill("#companions-0-birth_date", "1985-03-02")
    fam.fill("#companions-1-full_name", "سلمى الوزاني")
    fam.fill("#companions-1-birth_date", (dt.date.today() - dt.timedelta(days=2000)).isoformat())
    fam.click("main form[method=post] button[type=submit]")
    fam.wait_for_url(re.compile(r".*/visits/mine/[A-Z0-9]{8}$"))

    # 5. the confirmation: reference, QR code, Arabic, fits the phone
    reference = fam.inner_text("#reference").strip()
    assert re.fullmatch(r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}", reference)
    assert fam.locator(".qr svg").count() == 1
    assert "تأكيد الزيارة" in fam.inner_text("h1")
    width = fam.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    fam.goto(f"{live_server.url}/visits/mine")
    assert reference in fam.inner_text("main")

    # 6. visit day: the officer scans the QR code's text at the gate
    with live_app.app_context():
        booking = session().scalar(select(Booking).where(Booking.reference == reference))
        slot = session().get(Slot, booking.slot_id)
        slot.starts_at = utcnow() + dt.timedelta(minutes=15)
        slot.ends_at = utcnow() + dt.timedelta(minutes=75)
        session().commit()
        from plugins.visits.services import local_date

        day = local_date(slot.starts_at).isoformat()
    page.goto(f"{live_server.url}/visits/gate?establishment=CAS-AS&day={day}&lang=fr")
    assert reference in page.inner_text(f"#booking-{reference}")
    page.fill("#code", f"IDMAJ-VISIT:{reference}")
    page.click("#check-in-form button[type=submit]")
    page.wait_for_load_state()
    assert "Arrivée enregistrée" in page.inner_text(f"#booking-{reference}")
    with live_app.app_context():
        assert (
            session().scalar(select(Booking.status).where(Booking.reference == reference))
            == "checked_in"
        )


def test_the_link_request_queue_on_a_360px_phone(browser, live_server, live_app, setting):
    """Issue 10 point 2: each request is a card whose Approve and Reject buttons are on the
    screen of a 360px phone, without scrolling sideways."""
    from plugins.visits.models import Relation

    with live_app.app_context():
        factories = Factories(live_app)
        family = factories.visitor(full_name="Famille Téléphone Étroit")
        det = factories.detainee("CAS-AS", first_name="Narrow")
        rel = Relation(
            visitor_id=family.id, detainee_id=det.id, relationship_kind="parent", status="pending"
        )
        session().add(rel)
        session().commit()
        rel_id = rel.id
    context = browser.new_context(
        locale="fr-FR", viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    try:
        phone = context.new_page()
        phone.set_default_timeout(15000)
        sign_in(phone, live_server, setting["officer"])
        phone.goto(f"{live_server.url}/visits/office/relations?lang=fr&order=newest")
        card = phone.locator(f"#relation-{rel_id}")
        for label in ("Approuver", "Refuser"):
            box = card.locator("button", has_text=label).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360, label
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        context.close()
