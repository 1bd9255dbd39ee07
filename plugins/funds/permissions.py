"""The funds permissions and their default role grants."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.contributions import Permission

VIEW = "funds.view"
WRITE = "funds.write"

PERMISSIONS: list[Permission] = [
    Permission(
        VIEW, _l("See detainee accounts and amounts"), ("accountant", "director", "auditor")
    ),
    Permission(WRITE, _l("Record money movements on detainee accounts"), ("accountant",)),
]
