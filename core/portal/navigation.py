"""Navigation built from what the core and every plugin offer the signed-in user.

Each plugin returns :class:`core.contributions.NavItem` values from ``portal_nav_items``; an
item is shown in its ``area`` (``staff`` portal or ``public`` families' side) to users who hold
its ``permission`` and one of its ``roles`` (when given). Items whose endpoint does not exist in
this app (a disabled plugin's page) are left out. The dashboard's shortcuts and the families'
service tiles are the same list.

The list depends only on who the user is (roles, permissions, establishments): it is kept with
the signed-in principal's snapshot (:func:`core.identity.principal_cache.principal_memo`) and
built again when that changes, when a plugin is registered or removed, or for another script
root; ``portal_nav_items`` is therefore called once per principal and process, not per page.
It is kept per language, the labels translated in it (a lazy label was translated again each
time a page showed it: a dozen catalog look-ups a page).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from flask import url_for
from flask.globals import _cv_app, _cv_request
from markupsafe import Markup
from werkzeug.routing import BuildError

from core.contributions import NavItem
from core.i18n import current_language
from core.identity.principal_cache import principal_memo
from core.identity.services import has_permission
from core.plugins import collect, get_plugin_manager
from core.templating import kept_fragment


def visible(item: NavItem, user: Any) -> bool:
    if item.permission and not has_permission(user, item.permission):
        return False
    return not (item.roles and (user is None or not user.has_role(*item.roles)))


def navigation(user: Any, area: str = "staff") -> list[tuple[NavItem, str]]:
    """``(item, href)`` pairs the user may follow in ``area``, in the plugins' order, each
    item's label the text of the current language (kept with the principal: see the
    module's text; a copy, the caller may change it)."""
    return list(_kept(user, area))


def _kept(user: Any, area: str) -> tuple[tuple[NavItem, str], ...]:
    key = _memo_key(area)
    return principal_memo(user, key, lambda: _navigation(user, area))


def _memo_key(area: str) -> tuple[Any, ...]:
    """What the kept navigation depends on beside the principal (read without proxies)."""
    app_ctx = _cv_app.get()
    req_ctx = _cv_request.get()
    return (
        "navigation",
        area,
        req_ctx.request.script_root,
        get_plugin_manager(app_ctx.app).generation,
        current_language(),
    )


def navigation_bar(user: Any, area: str = "staff") -> Markup:
    """The page's navigation bar (``portal/_navigation_bar.html``): the user's entries in
    ``area``, the current page's marked. Rendered once per language, entries and current
    entry, and kept (``core.templating.kept_fragment``: users of the same roles share one; a
    page repeats it on every visit);
    the principal keeps the bars it was given, per current entry, beside its navigation
    (the shared key, a dozen entries' texts, is then not rebuilt on every page)."""
    key = _memo_key(area)
    items = principal_memo(user, key, lambda: _navigation(user, area))
    if not items:
        return Markup("")
    here = current_href(items, _cv_request.get().request.path)
    given: dict[str | None, Markup] = principal_memo(user, (*key, "bars"), dict)
    bar = given.get(here)
    if bar is None:
        bar = given[here] = _shared_bar(items, here)
    return bar


def _shared_bar(items: tuple[tuple[NavItem, str], ...], here: str | None) -> Markup:
    key = (here, tuple((href, str(item.label)) for item, href in items))
    return kept_fragment("portal/_navigation_bar.html", key, items=items, here=here)


def _navigation(user: Any, area: str) -> tuple[tuple[NavItem, str], ...]:
    items: list[tuple[NavItem, str]] = []
    seen: set[str] = set()
    for item in collect("portal_nav_items", user=user):
        if item.area != area or item.endpoint in seen or not visible(item, user):
            continue
        try:
            href = url_for(item.endpoint)
        except BuildError:
            continue
        seen.add(item.endpoint)
        items.append((replace(item, label=str(item.label)), href))
    return tuple(items)


def current_href(items: Iterable[tuple[NavItem, str]], path: str) -> str | None:
    """The entry the page at ``path`` belongs to: the longest ``href`` that is a prefix of it."""
    best: str | None = None
    for _item, href in items:
        base = href.rstrip("/")
        matches = path == href or (base and (path == base or path.startswith(base + "/")))
        if matches and (best is None or len(href) > len(best)):
            best = href
    return best
