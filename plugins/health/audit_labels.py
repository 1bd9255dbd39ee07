"""How the audit page names the health module's events (``audit_labels`` and
``audit_object_names``). Summaries name records and fields, never clinical contents."""

from __future__ import annotations

from sqlalchemy import select

from core.contributions import AuditLabels
from core.db import session
from core.i18n import current_language
from core.i18n import lazy_gettext as _l
from plugins.health.labels import LABELS, WHAT

HEALTH_AUDIT_LABELS = AuditLabels(
    actions={
        "health.": _l("Health file change"),
        "health_file.read": _l("Health file opened"),
        "health.file.open": _l("Health file opened at admission"),
        "health.file.handover": _l("Health file handed over (transfer)"),
        "health.screening.record": _l("Arrival screening recorded"),
        "health.allergy.add": _l("Allergy recorded"),
        "health.allergy.remove": _l("Allergy removed"),
        "health.problem.add": _l("Problem added"),
        "health.problem.resolve": _l("Problem resolved"),
        "health.vaccination.add": _l("Vaccination recorded"),
        "health.consultation.create": _l("Consultation recorded"),
        "health.consultation.update": _l("Consultation draft edited"),
        "health.consultation.sign": _l("Consultation signed"),
        "health.consultation.addendum": _l("Addendum to a consultation"),
        "health.prescription.create": _l("Prescription prepared"),
        "health.prescription.sign": _l("Prescription signed"),
        "health.prescription.stop": _l("Prescription stopped"),
        "health.dose.record": _l("Dose recorded"),
        "health.fitness": _l("Fitness to travel decided"),
        "health.referral.create": _l("Referral to a hospital"),
        "health.referral.transfer": _l("Hospital move requested"),
        "health.referral.status": _l("Referral status changed"),
        "health.appointment.book": _l("Medical appointment booked"),
        "health.appointment.status": _l("Medical appointment status changed"),
        "health.emergency.grant": _l("Emergency access to a health file"),
        "health.emergency.expire": _l("Emergency access expired"),
        "health.unit.add": _l("Medical unit added"),
        "health.unit.update": _l("Medical unit changed"),
    },
    object_types={"health_file": _l("Health file"), "health_unit": _l("Medical unit")},
    fields={
        "what": _l("Part opened"),
        "emergency": _l("Emergency access"),
        "reason": _l("Reason"),
        "expires_at": _l("Until"),
        "fit_to_travel": _l("Fit to travel"),
        "outcome": _l("Outcome"),
        "status": _l("Status"),
        "schedule": _l("Schedule"),
    },
    values={"what": {code: LABELS[code] for code in WHAT}},
)


def file_names(registration_numbers: list[str]) -> dict[str, str]:
    """A file by its detainee's name and registration number (one query; the names the
    reader may see anyway on the audit page)."""
    from core.detainees.models import Detainee

    lang = current_language()
    found = session().scalars(
        select(Detainee).where(Detainee.registration_number.in_(registration_numbers))
    )
    return {
        d.registration_number: f"{d.display_name(lang)} · {d.registration_number}" for d in found
    }
