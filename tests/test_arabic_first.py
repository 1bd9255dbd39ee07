"""On Arabic pages, Arabic first; on French and English pages, Latin script (issue 11 point 6):
detainees' names, establishments' cities, money, form messages in the page's language."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from core.db import session
from core.establishments.models import Establishment

NEW = {
    "code": "RAB-AR",
    "name": "Prison locale Rabat",
    "name_ar": "السجن المحلي الرباط",
    "kind": "local_prison",
    "capacity": "800",
    "region": "Rabat-Salé-Kénitra",
    "city": "Rabat",
    "city_ar": "الرباط",
}


def test_a_detainee_is_named_in_the_script_of_the_page(app: Any, factories: Any) -> None:
    with app.app_context():
        det = factories.detainee()
        assert det.display_name("ar") == "محمد الإدريسي"
        assert det.other_name("ar") == "Mohamed El Idrissi"
        assert det.display_name("fr") == det.display_name("en") == "Mohamed El Idrissi"
        assert det.other_name("fr") == "محمد الإدريسي"
        latin_only = factories.detainee(first_name_ar="", last_name_ar="")
        assert latin_only.display_name("ar") == latin_only.full_name
        assert latin_only.other_name("ar") == ""


@pytest.mark.parametrize(
    ("lang", "first", "second"),
    [("ar", "محمد الإدريسي", "Mohamed El Idrissi"), ("fr", "Mohamed El Idrissi", "محمد الإدريسي")],
)
def test_the_profile_heading_names_the_detainee_in_the_page_script_first(
    app: Any, client: Any, factories: Any, login_as: Any, lang: str, first: str, second: str
) -> None:
    with app.app_context():
        rn = factories.detainee().registration_number
    login_as("registry_clerk", "EST-A")
    body = client.get(f"/detainees/{rn}?lang={lang}").get_data(as_text=True)
    heading = body[body.index("<h1>") : body.index("</h1>")]
    assert heading.index(first) < heading.index(second)


def test_the_city_in_arabic_is_recorded_and_shown_on_arabic_pages(
    app: Any, client: Any, login_as: Any
) -> None:
    login_as("central_admin", ())
    resp = client.post("/establishments/new", data=NEW)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    with app.app_context():
        est = session().scalar(select(Establishment).where(Establishment.code == "RAB-AR"))
        assert (est.city, est.city_ar) == ("Rabat", "الرباط")
        assert est.city_name("ar") == "الرباط"
        assert est.city_name("fr") == "Rabat"
    assert 'value="الرباط"' in client.get("/establishments/RAB-AR").get_data(as_text=True)
    resp = client.post("/establishments/RAB-AR", data={**NEW, "city_ar": "الرباط الكبرى"})
    assert resp.status_code == 302
    with app.app_context():
        est = session().scalar(select(Establishment).where(Establishment.code == "RAB-AR"))
        assert est.city_ar == "الرباط الكبرى"


def test_a_too_long_field_is_refused_in_the_page_language(
    app: Any, client: Any, login_as: Any
) -> None:
    login_as("central_admin", ())
    resp = client.post("/establishments/new?lang=ar", data={**NEW, "city_ar": "م" * 121})
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "120 حرفًا على الأكثر." in body  # 120: the 11-99 form (accusative)
    assert "characters" not in body


def test_the_api_takes_the_city_in_arabic_too(
    app: Any, client: Any, factories: Any, api_headers: Any
) -> None:
    with app.app_context():
        admin = factories.user("central_admin", ())
    body = {"code": "FES-AR", "name": "Prison locale Fès", "kind": "local_prison", "capacity": 10}
    resp = client.post(
        "/api/v1/establishments",
        json={**body, "city": "Fès", "city_ar": "فاس"},
        headers=api_headers(admin),
    )
    assert resp.status_code == 201, resp.json
    with app.app_context():
        est = session().scalar(select(Establishment).where(Establishment.code == "FES-AR"))
        assert est.city_name("ar") == "فاس" and est.city_name("en") == "Fès"
