"""The permissions the plugin declares and the roles that hold them on a fresh install."""

from __future__ import annotations

from core.contributions import Permission
from core.i18n import lazy_gettext as _l

PERMISSIONS = [
    Permission(
        "example.view",
        _l("See the canteen catalogue"),
        ("central_admin", "director", "registry_clerk", "accountant", "auditor", "canteen_clerk"),
    ),
    Permission(
        "example.manage",
        _l("Manage the canteen catalogue"),
        ("central_admin", "accountant", "canteen_clerk"),
    ),
    # the sale is paid from the detainee's funds: the seller also needs the funds module's
    # permission to record money movements, which the accountant holds
    Permission("example.sell", _l("Sell catalogue items to detainees"), ("accountant",)),
]
