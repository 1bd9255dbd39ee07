"""Query-string numbers and dates: one input layer (``core.query_args``) for every module.

Page numbers beyond the database's integer range and dates at the ends of the calendar give a
4xx or a clamped value, never a 500, on every list page and endpoint that reads them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from core.query_args import MAX_PAGE, page_number, query_date
from core.testing import TEST_PASSWORD

HUGE = ["99999999999999999999", "9223372036854775808", "2147483648", "1" + "0" * 5000]
ODD_PAGES = [*HUGE, "-99999999999999999999", "0", "-1", "1e9", "½", "٣", "1_000", " 2 ", "abc", ""]
EXTREME_DATES = ["9999-12-31", "0001-01-01", "2024-02-30", "99999-01-01", "0000-00-00", "x" * 5000]

PAGES = [
    "/detainees/?page={n}",
    "/funds/?page={n}",
    "/funds/accounts/{rn}?page={n}",
    "/visits/office/relations?page={n}",
]
DATED_PAGES = [
    "/funds/EST-A/journal?date={d}",
    "/visits/gate?establishment=EST-A&day={d}",
    "/visits/gate/sheet.csv?establishment=EST-A&day={d}",
]
API_PAGES = [
    "/api/v1/detainees?page={n}",
    "/api/v1/detainees?per_page={n}",
    "/api/v1/establishments?page={n}",
    "/api/v1/funds/accounts/{rn}/transactions?page={n}",
    "/api/v1/visits/relations?page={n}",
    "/api/v1/visits/relations?per_page={n}",
]
API_DATES = [
    "/api/v1/visits/slots?establishment=EST-A&from={d}",
    "/api/v1/visits/slots?establishment=EST-A&to={d}",
    "/api/v1/visits/relations?from={d}",
    "/api/v1/visits/relations?to={d}",
    "/api/v1/audit/events?from={d}",
    "/api/v1/audit/events?to={d}",
]


@pytest.fixture
def director(app: Any, factories: Any) -> Any:
    with app.app_context():
        rn = factories.detainee("EST-A").registration_number
        user = factories.user("director", ("EST-A",))
    return user, rn


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("n", ODD_PAGES)
def test_list_pages_take_any_page_number(client: Any, director: Any, url: str, n: str) -> None:
    user, rn = director
    client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    resp = client.get(url.format(n=n, rn=rn))
    assert resp.status_code == 200, (url, n, resp.status_code)


@pytest.mark.parametrize("url", DATED_PAGES)
@pytest.mark.parametrize("d", EXTREME_DATES)
def test_dated_pages_take_any_date(client: Any, director: Any, url: str, d: str) -> None:
    user, _rn = director
    client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    resp = client.get(url.format(d=d))
    assert resp.status_code == 200, (url, d, resp.status_code)


@pytest.mark.parametrize("url", API_PAGES)
@pytest.mark.parametrize("n", HUGE)
def test_api_page_numbers_out_of_range_are_400(
    client: Any, director: Any, api_headers: Any, url: str, n: str
) -> None:
    user, rn = director
    resp = client.get(url.format(n=n, rn=rn), headers=api_headers(user))
    assert resp.status_code in (400, 403), (url, n, resp.status_code)
    if resp.status_code == 400:
        assert resp.json["error"]["code"] == "bad_query"


@pytest.mark.parametrize("n", HUGE)
def test_audit_api_answers_any_page_number_with_an_empty_page(
    app: Any, client: Any, factories: Any, api_headers: Any, n: str
) -> None:
    """The audit trail's query layer never sends a page past the end to the database."""
    with app.app_context():
        auditor = factories.user("auditor", ())
    resp = client.get(f"/api/v1/audit/events?page={n}", headers=api_headers(auditor))
    if len(n) > 100:
        assert resp.status_code == 400 and resp.json["error"]["code"] == "bad_query"
    else:
        assert resp.status_code == 200 and resp.json["items"] == []
        assert resp.json["page"] == int(n)


@pytest.mark.parametrize("url", API_DATES)
@pytest.mark.parametrize("d", EXTREME_DATES)
def test_api_dates_at_the_ends_of_the_calendar_never_500(
    client: Any, director: Any, api_headers: Any, url: str, d: str
) -> None:
    user, _rn = director
    resp = client.get(url.format(d=d), headers=api_headers(user))
    assert resp.status_code in (200, 400, 403, 422), (url, d, resp.status_code)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, 1), ("", 1), ("3", 3), ("0", 1), ("-5", 1), ("abc", 1), ("1e3", 1), ("٣", 1)]
    + [(n, MAX_PAGE) for n in HUGE],
)
def test_page_number_clamps(raw: str | None, expected: int) -> None:
    assert page_number(raw) == expected


def test_query_date_range() -> None:
    assert query_date("2026-12-01") == dt.date(2026, 12, 1)
    for raw in EXTREME_DATES:
        with pytest.raises(ValueError):
            query_date(raw)
