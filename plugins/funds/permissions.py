"""The funds permissions and their default role grants."""

from __future__ import annotations

from core.contributions import Permission
from core.i18n import lazy_gettext as _l

VIEW = "funds.view"
WRITE = "funds.write"

PERMISSIONS: list[Permission] = [
    Permission(
        VIEW, _l("See detainee accounts and amounts"), ("accountant", "director", "auditor")
    ),
    Permission(WRITE, _l("Record money movements on detainee accounts"), ("accountant",)),
]
