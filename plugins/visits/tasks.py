"""The visits module's periodic tasks (``plugin_periodic_tasks``), run by ``idmaj worker`` as
``SYSTEM``; the worker commits after each. The same work as ``idmaj visits remind|generate``."""

from __future__ import annotations

import datetime as dt

from core.contributions import PeriodicTask
from core.db import utcnow
from core.principals import SYSTEM

GENERATE_DAYS = 14


def remind() -> int:
    """Queue tomorrow's reminders (once per visit)."""
    from .services import send_reminders

    return send_reminders()


def generate() -> int:
    """Create the slots of the weekly sessions for the coming days (idempotent)."""
    from . import services

    today: dt.date = services.local_date(utcnow())
    return sum(
        services.generate_slots(SYSTEM, est, today, GENERATE_DAYS)
        for est in services.public_establishments()
    )


PERIODIC_TASKS = [
    # 17:00 UTC (18:00 in Casablanca): families hear of tomorrow's visit the evening before
    PeriodicTask("visits.reminders", "0 17 * * *", remind),
    PeriodicTask("visits.generate_slots", "30 1 * * *", generate),
]
