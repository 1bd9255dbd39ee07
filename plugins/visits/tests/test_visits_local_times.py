"""Visiting times round-trip: the visits service turns '09:00 at the prison' into UTC, and the
page shows 09:00 again (moved here from the core's tests/test_qa_fixes.py)."""

from __future__ import annotations

import datetime as dt

from core.i18n import show_datetime
from plugins.visits import services


def test_a_local_opening_time_round_trips(app):
    starts = services.local_moment(dt.date(2026, 11, 30), "09:00")
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        assert show_datetime(starts, "HH:mm") == "09:00"
