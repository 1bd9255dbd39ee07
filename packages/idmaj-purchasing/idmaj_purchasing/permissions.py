"""The permissions remote purchasing declares and the roles holding them on a fresh install."""

from __future__ import annotations

from core.contributions import Permission
from core.i18n import lazy_gettext as _l

PERMISSIONS = [
    Permission(
        "purchasing.view",
        _l("See the shop: catalogue, orders, figures"),
        ("central_admin", "director", "auditor", "accountant", "canteen_manager"),
    ),
    Permission(
        "purchasing.manage",
        _l("Run the shop: catalogue, stock, preparing and delivering orders, settlements"),
        ("director", "canteen_manager"),
    ),
    Permission(
        "purchasing.rules",
        _l("Set the shop's rules: weekly limit, forbidden categories"),
        ("central_admin", "director"),
    ),
    Permission("purchasing.order", _l("Order from the shop for a linked detainee"), ("visitor",)),
]
