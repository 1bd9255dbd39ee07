"""The complaints module's periodic tasks (``plugin_periodic_tasks``), run by ``idmaj worker``
as ``SYSTEM``; the worker commits after each."""

from __future__ import annotations

from core.contributions import PeriodicTask


def remind() -> int:
    from .services import send_reminders

    return send_reminders()


def escalate() -> int:
    from .services import escalate_overdue

    return escalate_overdue()


def close_settled() -> int:
    from .services import close_settled as close

    return close()


PERIODIC_TASKS = [
    # 07:00 UTC (08:00 in Rabat): officers find their reminders when they start the day
    PeriodicTask("complaints.reminders", "0 7 * * *", remind),
    PeriodicTask("complaints.escalation", "15 7 * * *", escalate),
    PeriodicTask("complaints.close_settled", "30 2 * * *", close_settled),
]
