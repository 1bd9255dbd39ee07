"""Human names of detainee statuses and placement reasons."""

from __future__ import annotations

from core.i18n import lazy_gettext as _l

LEGAL_STATUS_LABELS = {
    "pretrial": _l("Pretrial"),
    "convicted": _l("Convicted"),
    "released": _l("Released"),
}
PLACEMENT_REASON_LABELS = {
    "admission": _l("Admission"),
    "transfer": _l("Transfer"),
    "release": _l("Release"),
}


def legal_status_label(code: str) -> str:
    return str(LEGAL_STATUS_LABELS.get(code, code))


def placement_reason_label(code: str) -> str:
    return str(PLACEMENT_REASON_LABELS.get(code, code))
