"""Stored codes shown in the reader's language, and small naming helpers of the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import lazy_pgettext
from sqlalchemy import select

from core.db import session as db_session
from core.establishments.models import Establishment
from core.i18n import current_language, show_datetime
from core.i18n import lazy_gettext as _l
from core.identity.models import User
from plugins.health import forms

LABELS: dict[str, Any] = {
    **dict(forms.TB_CHOICES),
    **dict(forms.LEVEL_CHOICES),
    **dict(forms.PREGNANCY_CHOICES),
    **dict(forms.UNIT_CHOICES),
    **dict(forms.ALLERGY_CHOICES),
    **dict(forms.OUTCOME_CHOICES),
    "active": _l("Active"),
    "resolved": _l("Resolved"),
    "draft": _l("Draft"),
    "signed": _l("Signed"),
    "stopped": _l("Stopped"),
    "requested": lazy_pgettext("referral", "Requested"),
    "transfer_requested": _l("Hospital move requested"),
    "done": _l("Done"),
    "cancelled": _l("Cancelled"),
    "booked": _l("Booked"),
    "checked_in": _l("Checked in"),
    "no_show": _l("Did not come"),
    "care": _l("Care"),
    "file": _l("File"),
    "api": _l("File (API)"),
    "panel": _l("Profile panel"),
    "consultation": _l("Consultation"),
    "consultations": _l("Consultations"),
    "prescription": _l("Prescription"),
    "print": _l("Printable prescription"),
    "allergy": _l("Allergy"),
    "problem": _l("Problem"),
    "doses": _l("Doses today"),
    "screening": _l("Arrival screening"),
    "history": _l("Change history"),
    "fitness": _l("Fitness to travel"),
    "referral": _l("Referral to a hospital"),
    "appointment": _l("Appointments"),
    "vaccination": _l("Vaccinations"),
    "temperature": _l("Temperature (°C)"),
    "pulse": _l("Pulse (per minute)"),
    "systolic": _l("Blood pressure, systolic (mmHg)"),
    "diastolic": _l("Blood pressure, diastolic (mmHg)"),
    "spo2": _l("Oxygen saturation (%)"),
    "weight": _l("Weight (kg)"),
    "respiratory_rate": _l("Respiratory rate (per minute)"),
    "glucose": _l("Blood glucose (g/L)"),
}
FIELD_LABELS: dict[str, Any] = {
    "substance": _l("Substance"),
    "reaction": _l("Reaction"),
    "active": _l("Active"),
    "description": _l("Problem"),
    "status": _l("Status"),
    "resolved_on": _l("Resolved on"),
    "medication": _l("Medication"),
    "dosage": _l("Dosage"),
    "reason": _l("Reason"),
    "notes": _l("Notes"),
    "diagnosis": _l("Diagnosis"),
    "vitals": _l("Vital signs"),
    "fit_to_travel": _l("Fit to travel"),
    "fitness_needs": _l("Needs for the journey"),
    "fitness_until": _l("Until"),
    "tuberculosis": _l("Tuberculosis"),
    "self_harm_risk": _l("Self-harm risk"),
    "pregnancy": _l("Pregnancy"),
    "chronic_conditions": _l("Chronic conditions"),
    "addictions": _l("Addictions"),
    "mental_health": _l("Mental health"),
}
#: history fields whose values are codes (shown translated)
CODED_FIELDS = frozenset({"tuberculosis", "self_harm_risk", "pregnancy"})


#: what an access-log line or a read event says was opened (``open_file(what=...)``)
WHAT = (
    "file",
    "api",
    "panel",
    "consultation",
    "consultations",
    "prescription",
    "print",
    "allergy",
    "problem",
    "doses",
    "screening",
    "history",
    "fitness",
    "referral",
    "appointment",
    "vaccination",
)


def label(code: Any) -> str:
    """A stored code (``"no_show"``, ``"tb_lab"``…) in the reader's language."""
    value = getattr(code, "value", code)
    return str(LABELS.get(value) or FIELD_LABELS.get(value) or value)


def field_label(code: str) -> str:
    return str(FIELD_LABELS.get(code, code))


def lang() -> str:
    return current_language()


def when(value: dt.datetime) -> str:
    return show_datetime(value)


def user_name(user_id: int | None) -> str:
    if user_id is None:
        return ""
    user = db_session().get(User, user_id)
    return user.full_name if user else ""


def users_named(ids: list[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return dict(
        db_session().execute(select(User.id, User.full_name).where(User.id.in_(wanted))).all()
    )


def establishments_named(ids: list[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = db_session().scalars(select(Establishment).where(Establishment.id.in_(wanted)))
    return {e.id: e.name(lang()) for e in rows}
