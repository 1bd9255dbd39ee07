"""The layout mirrors itself: Arabic right-to-left, French left-to-right, and the families'
registration fits a phone without sideways scrolling. Screenshots go to /tmp/idmaj-*.png."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser

SHOTS = "/tmp/idmaj-{}.png"


def box(page: Any, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return found


def viewport_width(page: Any) -> float:
    return float(page.evaluate("document.documentElement.clientWidth"))


def no_horizontal_scroll(page: Any) -> bool:
    return bool(
        page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )


def test_arabic_pages_run_right_to_left_with_the_brand_at_the_right(
    page: Any, live_server: Any
) -> None:
    page.goto(f"{live_server.url}/?lang=ar")
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.get_attribute("html", "lang") == "ar"
    width = viewport_width(page)
    bar, main = box(page, ".bar"), box(page, "main")
    brand = box(page, ".brand")
    switch = box(page, ".lang-switch")
    assert abs(bar["x"] + bar["width"] - (main["x"] + main["width"])) < 1  # aligned columns
    assert brand["x"] + brand["width"] > bar["x"] + bar["width"] - 20  # at the right edge
    assert brand["x"] > width / 2
    assert switch["x"] + switch["width"] < brand["x"]  # the tools sit to its left
    assert page.evaluate("getComputedStyle(document.querySelector('main h1')).direction") == "rtl"
    page.screenshot(path=SHOTS.format("home-ar"), full_page=True)


def test_french_pages_run_left_to_right_with_the_brand_at_the_left(
    page: Any, live_server: Any
) -> None:
    page.goto(f"{live_server.url}/?lang=fr")
    assert page.get_attribute("html", "dir") == "ltr"
    assert page.get_attribute("html", "lang") == "fr"
    width = viewport_width(page)
    bar, main = box(page, ".bar"), box(page, "main")
    brand = box(page, ".brand")
    switch = box(page, ".lang-switch")
    assert abs(bar["x"] - main["x"]) < 1
    assert brand["x"] < bar["x"] + 20  # at the left edge
    assert brand["x"] + brand["width"] < width / 2
    assert switch["x"] > brand["x"] + brand["width"]
    page.screenshot(path=SHOTS.format("home-fr"), full_page=True)


def test_a_browser_asking_for_french_gets_french(page: Any, live_server: Any) -> None:
    page.goto(f"{live_server.url}/login")  # the page fixture's browser speaks fr-FR
    assert page.get_attribute("html", "lang") == "fr"
    assert page.get_attribute("html", "dir") == "ltr"


def test_the_language_switch_works_without_javascript_and_with_csrf(
    browser: Any, live_server: Any
) -> None:
    context = browser.new_context(java_script_enabled=False, locale="ar-MA")
    try:
        pg = context.new_page()
        pg.goto(f"{live_server.url}/login")
        assert pg.get_attribute("html", "dir") == "rtl"
        pg.click(".lang-switch button[value=fr]")
        pg.wait_for_url(f"{live_server.url}/login")
        assert pg.get_attribute("html", "lang") == "fr"
        assert pg.get_attribute("html", "dir") == "ltr"
        assert pg.locator(".lang-option.current").inner_text() == "Français"
    finally:
        context.close()


def test_registration_fits_a_phone_in_arabic(phone_page: Any, live_server: Any) -> None:
    phone_page.goto(f"{live_server.url}/register")
    assert phone_page.get_attribute("html", "dir") == "rtl"
    assert no_horizontal_scroll(phone_page)
    width = viewport_width(phone_page)
    for selector in ("#full_name", "#national_id", "#phone", "#username", "#password"):
        field = box(phone_page, selector)
        assert field["x"] >= 0 and field["x"] + field["width"] <= width + 0.5, selector
        assert field["height"] >= 40, selector  # big enough to tap
    submit = box(phone_page, "main button[type=submit]")
    assert submit["height"] >= 40
    phone_page.screenshot(path=SHOTS.format("register-phone-ar"), full_page=True)

    phone_page.fill("#full_name", "فاطمة الزهراء العلوي")
    phone_page.fill("#national_id", "??")
    phone_page.fill("#phone", "12")
    phone_page.fill("#username", "fz.alaoui.phone")
    phone_page.fill("#password", "a-long-password-1")
    phone_page.click("main button[type=submit]")
    summary = phone_page.locator(".error-summary")
    assert summary.is_visible()
    assert summary.locator("a[href='#national_id']").count() == 1
    assert phone_page.get_attribute("#national_id", "aria-invalid") == "true"
    assert no_horizontal_scroll(phone_page)
    summary.locator("a[href='#phone']").click()
    assert phone_page.evaluate("document.activeElement.id") == "phone"
    phone_page.screenshot(path=SHOTS.format("register-errors-phone-ar"), full_page=True)


def test_the_home_page_fits_a_phone(phone_page: Any, live_server: Any) -> None:
    phone_page.goto(f"{live_server.url}/")
    assert no_horizontal_scroll(phone_page)
    phone_page.screenshot(path=SHOTS.format("home-phone-ar"), full_page=True)


def test_the_skip_link_is_the_first_stop_and_shows_on_focus(page: Any, live_server: Any) -> None:
    page.goto(f"{live_server.url}/?lang=ar")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert focused == "skip-link"
    link = box(page, ".skip-link")
    assert link["y"] >= 0 and link["x"] >= 0  # moved into view
    page.screenshot(path=SHOTS.format("skip-link-ar"))
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.fixture(scope="module")
def director(live_app: Any) -> Any:
    from core.testing import Factories

    with live_app.app_context():
        factories = Factories(live_app)
        factories.establishment("RTL-A", name="Prison locale Rtl", name_ar="السجن المحلي رتل")
        return factories.user("director", ("RTL-A",), username="director.rtl")


def sign_in(pg: Any, server: Any, username: str) -> None:
    from core.testing import TEST_PASSWORD

    pg.goto(f"{server.url}/login")
    pg.fill("#username", username)
    pg.fill("#password", TEST_PASSWORD)
    pg.click("main button[type=submit]")
    pg.wait_for_url(f"{server.url}/dashboard")


@pytest.mark.parametrize(("lang", "direction"), [("ar", "rtl"), ("fr", "ltr")])
def test_the_dashboard_mirrors_itself(
    page: Any, live_server: Any, director: Any, lang: str, direction: str
) -> None:
    sign_in(page, live_server, director.username)
    page.goto(f"{live_server.url}/dashboard?lang={lang}")
    assert page.get_attribute("html", "dir") == direction
    # the first two items (the menu may wrap to a second line once many modules are installed)
    first, second = page.locator(".main-nav li").nth(0), page.locator(".main-nav li").nth(1)
    first_box, second_box = first.bounding_box(), second.bounding_box()
    assert first_box and second_box and abs(first_box["y"] - second_box["y"]) < 2
    assert (first_box["x"] > second_box["x"]) is (direction == "rtl")  # order follows reading
    table = page.locator("#widget-occupancy table")
    header, cell = table.locator("thead th").first.bounding_box(), table.locator("thead th").last
    assert header and cell.bounding_box()
    assert (header["x"] > cell.bounding_box()["x"]) is (direction == "rtl")
    page.screenshot(path=SHOTS.format(f"dashboard-{lang}"), full_page=True)


def test_the_dashboard_fits_a_phone(phone_page: Any, live_server: Any, director: Any) -> None:
    sign_in(phone_page, live_server, director.username)
    assert phone_page.get_attribute("html", "dir") == "rtl"
    assert no_horizontal_scroll(phone_page)
    phone_page.screenshot(path=SHOTS.format("dashboard-phone-ar"), full_page=True)


def test_a_long_name_does_not_push_the_header_down_on_a_phone(
    phone_page: Any, live_server: Any, live_app: Any
) -> None:
    """A staff member with a very long name: the name is cut on one line (in full in its title)
    and the header stays short, so the page's own title is in view."""
    from core.testing import Factories

    name = "Abdelkader Mohammed Amine Ben Abderrahmane El Ouazzani Touhami Chraibi"
    with live_app.app_context():
        Factories(live_app).establishment("RTL-B")
        user = Factories(live_app).user(
            "registry_clerk", ("RTL-B",), username="long.name.rtl", full_name=name
        )
    sign_in(phone_page, live_server, user.username)
    who = phone_page.locator(".account .who")
    assert who.get_attribute("title") == name
    line = float(
        phone_page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight) || 24")
    )
    assert box(phone_page, ".account .who")["height"] < 1.8 * line  # one line
    header = box(phone_page, ".site-header")
    assert header["height"] < 0.4 * 844  # well under half of the 390x844 screen
    phone_page.screenshot(path=SHOTS.format("long-name-phone-ar"), full_page=True)
