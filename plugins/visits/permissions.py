"""The visits module's permissions and the roles that hold them on a fresh install."""

from __future__ import annotations

from core.contributions import Permission
from core.i18n import lazy_gettext as _l

VISITS_PERMISSIONS: list[Permission] = [
    Permission(
        "visits.view",
        _l("See visits, slots and day sheets"),
        ("visits_officer", "director", "central_admin", "auditor"),
    ),
    Permission(
        "visits.manage",
        _l("Run visit rules, sessions, visitor links and bans"),
        ("visits_officer", "director"),
    ),
    Permission(
        "visits.gate",
        _l("Check visitors in at the gate and record outcomes"),
        ("visits_officer", "director"),
    ),
    Permission("visits.book", _l("Book family visits"), ("visitor",)),
]
