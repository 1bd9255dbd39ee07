"""Navigation built from what the core and every plugin offer the signed-in user."""

from __future__ import annotations

from typing import Any

from flask import url_for
from werkzeug.routing import BuildError

from core.contributions import NavItem
from core.identity.services import has_permission
from core.plugins import collect


def navigation(user: Any, area: str = "staff") -> list[tuple[NavItem, str]]:
    items: list[tuple[NavItem, str]] = []
    for item in collect("portal_nav_items", user=user):
        if item.area != area:
            continue
        if item.permission and not has_permission(user, item.permission):
            continue
        if item.roles and (user is None or not user.has_role(*item.roles)):
            continue
        try:
            items.append((item, url_for(item.endpoint)))
        except BuildError:
            continue
    return items
