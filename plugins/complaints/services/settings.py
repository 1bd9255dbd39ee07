"""The module's settings (app configuration, with these defaults)."""

from __future__ import annotations

from flask import current_app

DEFAULTS = {
    "COMPLAINTS_ANSWER_DAYS": 15,  # working days to answer (and to answer an appeal)
    "COMPLAINTS_APPEAL_DAYS": 30,  # calendar days after the answer to appeal
    "COMPLAINTS_DAILY_LIMIT": 3,  # complaints per author (or per detainee by staff) per day
    "COMPLAINTS_REMIND_DAYS": 2,  # working days before the due date: remind the officer
    # working days after the due date: a complaint still overdue goes up to the central level
    "COMPLAINTS_CENTRAL_ESCALATION_DAYS": 5,
    "COMPLAINTS_MAX_ATTACHMENTS": 3,
    "COMPLAINTS_MAX_ATTACHMENT_BYTES": 2 * 1024 * 1024,
}


def setting(name: str) -> int:
    return int(current_app.config.get(name, DEFAULTS[name]))
