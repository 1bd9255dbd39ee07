"""A mother orders from her phone (360 px, Arabic, right-to-left), pays at an agency, the shop
imports the agency's file, prepares and hands the order over; she sees it delivered."""

from __future__ import annotations

from typing import Any

import pytest
from idmaj_purchasing import services
from idmaj_purchasing.models import Order
from idmaj_purchasing.tests_support import add_products, link_through_visits
from sqlalchemy import select

from core.db import session
from core.principals import SYSTEM
from core.testing import TEST_PASSWORD, Factories

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def people(live_app: Any) -> Any:
    with live_app.app_context():
        factories = Factories(live_app)
        det = factories.detainee("SHP-A", first_name="Youssef", last_name="Bennani")
        mother = factories.visitor(username="mother.browser", full_name="Khadija Bennani")
        officer = factories.user("visits_officer", ("SHP-A",))
        manager = factories.user("canteen_manager", ("SHP-A",), username="canteen.browser")
        products = add_products("SHP-A")
    link_through_visits(live_app, mother, det, officer)
    return det.registration_number, mother.username, manager.username, products


def sign_in(page: Any, server: Any, username: str) -> None:
    page.goto(f"{server.url}/login")
    page.fill("#username", username)
    page.fill("#password", TEST_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def fits(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_family_orders_on_a_phone_and_the_shop_delivers(browser, live_server, live_app, people):
    rn, mother, manager, products = people
    phone = browser.new_context(
        locale="ar-MA", viewport={"width": 360, "height": 760}, is_mobile=True, has_touch=True
    ).new_page()
    sign_in(phone, live_server, mother)
    phone.goto(f"{live_server.url}/shop/")
    assert phone.get_attribute("html", "dir") == "rtl"
    assert "الشراء لفائدة معتقل" in phone.inner_text("main")
    phone.click("#detainees a")
    phone.wait_for_url(f"**/shop/for/{rn}")
    assert fits(phone)
    phone.fill(f"#q{products['Thé vert']}", "٢")  # Arabic-Indic digits are fine
    phone.fill(f"#q{products['Savon']}", "1")
    phone.click("#catalogue button[type=submit]")
    phone.wait_for_url("**/cart")
    assert "29,50" in phone.inner_text("#total")
    assert fits(phone)
    phone.check("input[name=payment][value=agency]")
    phone.click("main form button[type=submit]")
    phone.wait_for_url("**/shop/orders/ACH-*")
    assert "في انتظار الأداء" in phone.inner_text("#status")
    pay_reference = phone.inner_text("#pay-reference").strip()
    assert services.luhn_ok(pay_reference)
    assert fits(phone)
    order_url = phone.url

    # the agency's settlement file comes in
    with live_app.app_context():
        order = session().scalar(select(Order).where(Order.pay_reference == pay_reference))
        services.import_settlement(
            order.establishment_id,
            f"reference,amount\n{pay_reference},29.50\n".encode(),
            "agence.csv",
            SYSTEM,
        )
        session().commit()
        reference = order.reference

    desk = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900}).new_page()
    sign_in(desk, live_server, manager)
    desk.goto(f"{live_server.url}/purchasing/daily?lang=fr")
    assert reference in desk.inner_text("main")
    desk.goto(f"{live_server.url}/purchasing/orders/{reference}?lang=fr")
    desk.click("#prepare")
    desk.wait_for_load_state()
    assert "Préparée" in desk.inner_text("#status")
    desk.check("input[name=proof][value=signature]")
    desk.check("#signed")
    desk.click("#deliver")
    desk.wait_for_load_state()
    assert "Remise" in desk.inner_text("#status")

    phone.goto(order_url)
    assert "سُلّمت" in phone.inner_text("#status")
    assert fits(phone)
