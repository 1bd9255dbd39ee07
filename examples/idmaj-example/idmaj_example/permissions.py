"""The permissions the plugin declares and the roles that hold them on a fresh install."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.contributions import Permission

PERMISSIONS = [
    Permission(
        "example.view",
        _l("See the canteen catalogue"),
        ("central_admin", "director", "registry_clerk", "accountant", "auditor"),
    ),
    Permission(
        "example.manage", _l("Manage the canteen catalogue"), ("central_admin", "accountant")
    ),
]
