"""Local days (the establishments' time zone) for "today" and the dose rounds."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from core.config import TIMEZONE
from core.db import utcnow

LOCAL_TZ = ZoneInfo(TIMEZONE)


def today_local() -> dt.date:
    return utcnow().astimezone(LOCAL_TZ).date()


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC start and end of a local day."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=LOCAL_TZ)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=LOCAL_TZ)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def local_time(day: dt.date, hhmm: str) -> dt.datetime:
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(hours, minutes), tzinfo=LOCAL_TZ).astimezone(dt.UTC)
