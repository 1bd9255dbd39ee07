"""Human names of the role codes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "central_admin": _l("Central administration"),
    "director": _l("Establishment director"),
    "registry_clerk": _l("Registry clerk"),
    "visits_officer": _l("Visits office"),
    "doctor": _l("Doctor"),
    "nurse": _l("Nurse"),
    "accountant": _l("Accountant"),
    "transfers_officer": _l("Transfers officer"),
    "complaints_officer": _l("Complaints officer"),
    "auditor": _l("Inspector / auditor"),
    "visitor": _l("Family member"),
}


def role_label(code: str) -> str:
    return str(ROLE_LABELS.get(code, code))
