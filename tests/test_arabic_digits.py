"""Numbers typed with Arabic-Indic digits are the same numbers (issue 11 point 7):
registration numbers in search, national ids' digits, phone numbers."""

from __future__ import annotations

from typing import Any

import pytest

from core.db import session
from core.detainees.search import search
from core.detainees.services import get_detainee
from core.identity.services import register_visitor
from core.principals import SYSTEM
from core.testing import TEST_PASSWORD
from core.validation import ascii_digits

ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
EASTERN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("٢٠٢٥-٠٠٠١٢٣", "2025-000123"),
        ("۲۰۲۵-۰۰۰۱۲۳", "2025-000123"),
        ("BE١٢٣٤٥٦", "BE123456"),
        ("١٢٣٫٥٠", "123.50"),
        ("١٬٢٣٤", "1,234"),
        ("2025-000123", "2025-000123"),
        ("محمد", "محمد"),
    ],
)
def test_ascii_digits(typed: str, expected: str) -> None:
    assert ascii_digits(typed) == expected


@pytest.mark.parametrize("table", [ARABIC, EASTERN])
def test_search_and_lookup_take_a_registration_number_in_arabic_digits(
    app: Any, factories: Any, table: dict[int, str]
) -> None:
    with app.app_context():
        det = factories.detainee(national_id="BE778899")
        typed = det.registration_number.translate(table)
        assert typed != det.registration_number
        assert search(SYSTEM, typed).items[0].id == det.id
        assert search(SYSTEM, "be" + "778899".translate(table)).items[0].id == det.id
        assert get_detainee(typed, SYSTEM).id == det.id


def test_the_detainee_search_page_takes_arabic_digits(
    app: Any, client: Any, factories: Any, login_as: Any
) -> None:
    with app.app_context():
        det = factories.detainee()
        rn = det.registration_number
    login_as("registry_clerk", ("EST-A",))
    page = client.get("/detainees/", query_string={"q": rn.translate(ARABIC), "lang": "ar"})
    assert page.status_code == 200
    assert rn in page.get_data(as_text=True)


def test_a_family_registers_with_arabic_digits_in_phone_and_national_id(app: Any) -> None:
    with app.test_request_context("/?lang=ar"):
        user = register_visitor(
            username="digits-family",
            password=TEST_PASSWORD,
            full_name="فاطمة الزهراء",
            national_id="be١٢٣٤٥٦",
            phone="٠٦١٢٣٤٥٦٧٨",
        )
        session().flush()
        assert user.national_id == "BE123456"
        assert user.phone == "+212612345678"  # read as a Moroccan number, stored in E.164
