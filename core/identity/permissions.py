"""The core's own permissions and their default role grants."""

from __future__ import annotations

from core.contributions import Permission
from core.i18n import lazy_gettext as _l
from core.identity.models import STAFF_ROLES

ALL_STAFF = STAFF_ROLES

CORE_PERMISSIONS: list[Permission] = [
    Permission("portal.dashboard", _l("Open the staff dashboard"), ALL_STAFF),
    Permission("establishments.view", _l("See establishments"), ALL_STAFF),
    Permission("establishments.manage", _l("Create and edit establishments"), ("central_admin",)),
    Permission("users.manage", _l("Manage staff users"), ("central_admin", "director")),
    Permission("roles.manage", _l("Change which permissions a role holds"), ("central_admin",)),
    Permission("detainees.view", _l("See detainee records"), ALL_STAFF),
    Permission("detainees.admit", _l("Admit detainees"), ("registry_clerk",)),
    Permission("detainees.edit", _l("Edit detainee records"), ("registry_clerk",)),
    Permission("detainees.release", _l("Release detainees"), ("registry_clerk",)),
    Permission(
        "detainees.move",
        _l("Move detainees between establishments"),
        ("transfers_officer", "director"),
    ),
    Permission(
        "detainees.override_blockers",
        _l("Go ahead with a release or move over blockers that allow it"),
        ("director",),
    ),
    Permission("detainees.import", _l("Import detainees from a CSV file"), ("registry_clerk",)),
    Permission("audit.view", _l("Read the audit trail"), ("central_admin", "auditor")),
    Permission(
        "notifications.manage",
        _l("See notifications that failed and send them again"),
        ("central_admin",),
    ),
]
