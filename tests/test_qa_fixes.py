"""Fixes found by the quality pass over the demo portal (see tests/test_crawl.py)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from core.i18n import show_date, show_datetime

# instants spread over two years: some fall where tz databases of different ages disagree
# about Morocco (e.g. late 2026), so the page must use the services' database
INSTANTS = [
    dt.datetime(year, month, 15, hour, 0, tzinfo=dt.UTC)
    for year in (2025, 2026, 2027)
    for month in (1, 3, 6, 10, 11, 12)
    for hour in (8, 23)
]


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_times_are_shown_in_the_zone_the_services_use(app, lang):
    """Services turn '09:00 at the prison' into UTC with zoneinfo; the page must turn it back
    with the same zone database, or a family sees 08:00 for a 09:00 visit (the visits plugin's
    round trip: plugins/visits/tests/test_visits_local_times.py)."""
    zone = ZoneInfo("Africa/Casablanca")
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        for instant in INSTANTS:
            local = instant.astimezone(zone)
            assert show_datetime(instant, "HH:mm") == local.strftime("%H:%M"), instant
            naive = instant.replace(tzinfo=None)  # how SQLite gives it back
            assert show_datetime(naive, "HH:mm") == local.strftime("%H:%M"), instant
            assert show_date(instant, "yyyy-MM-dd") == local.date().isoformat(), instant
