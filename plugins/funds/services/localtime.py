"""The establishment's local time: receipt years, journal days, the dashboard's 30 days."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from core.config import TIMEZONE
from core.db import utcnow

LOCAL_TZ = ZoneInfo(TIMEZONE)


def local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=LOCAL_TZ)
    end = start + dt.timedelta(days=1)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def today_local() -> dt.date:
    return utcnow().astimezone(LOCAL_TZ).date()
