"""The roles of an app: the core's (labels through gettext) and those plugins add
(``plugin_roles``, labels given in every language), collected once at start-up into
``app.extensions["idmaj.roles"]``.

Everything that lists or validates role codes asks :func:`role_registry` (the user and role
pages, ``POST /api/v1/users``, ``idmaj users create``, ``sync_permissions``); the constants of
:mod:`core.identity.models` (``ROLES``, ``STAFF_ROLES``, ``ALL_ESTABLISHMENT_ROLES``) stay the
core's own roles.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from flask import Flask
from flask.globals import _cv_app

from core.config import LANGUAGES
from core.contributions import Role
from core.i18n import lazy_gettext as _l
from core.identity.models import ALL_ESTABLISHMENT_ROLES, ROLES
from core.plugins import IdmajPluginManager, PluginError

EXTENSION = "idmaj.roles"
ROLE_CODE_RE = re.compile(r"^[a-z][a-z0-9_]{2,39}$")

ROLE_LABELS = {
    "central_admin": _l("Central administration"),
    "director": _l("Establishment director"),
    "registry_clerk": _l("Registry clerk"),
    "visits_officer": _l("Visits office"),
    "doctor": _l("Doctor"),
    "nurse": _l("Nurse"),
    "accountant": _l("Accountant"),
    "transfers_officer": _l("Transfers officer"),
    "complaints_officer": _l("Complaints officer"),
    "auditor": _l("Inspector / auditor"),
    "visitor": _l("Family member"),
}


@dataclass(frozen=True)
class KnownRole:
    """A role of this app: ``owner`` is ``"core"`` or the plugin that added it."""

    code: str
    owner: str
    staff: bool = True
    all_establishments: bool = False
    labels: Mapping[str, str] | None = None  # a plugin's; None: the core's gettext label

    def label(self, language: str | None = None) -> str:
        """The role's name in ``language`` (default: the current request's language)."""
        if self.labels is None:
            return str(ROLE_LABELS.get(self.code, self.code))
        if language is None:
            from core.i18n import current_language

            language = current_language()
        return self.labels.get(language) or self.labels.get("en") or self.code


CORE_ROLES: tuple[KnownRole, ...] = tuple(
    KnownRole(
        code,
        "core",
        staff=code != "visitor",
        all_establishments=code in ALL_ESTABLISHMENT_ROLES,
    )
    for code in ROLES
)


class RoleRegistry:
    """The roles of one app, the core's first (in ``ROLES`` order), then the plugins'."""

    def __init__(self, roles: Sequence[KnownRole]) -> None:
        self._roles = {r.code: r for r in roles}
        self.codes: tuple[str, ...] = tuple(r.code for r in roles)

    def __contains__(self, code: object) -> bool:
        return code in self._roles

    def __iter__(self) -> Iterator[KnownRole]:
        return iter(self._roles[c] for c in self.codes)

    def get(self, code: str) -> KnownRole | None:
        return self._roles.get(code)

    def label(self, code: str) -> str:
        role = self._roles.get(code)
        return role.label() if role is not None else str(ROLE_LABELS.get(code, code))

    def is_staff(self, code: str) -> bool:
        role = self._roles.get(code)
        return role.staff if role is not None else code != "visitor"

    @property
    def staff_codes(self) -> tuple[str, ...]:
        return tuple(c for c in self.codes if self._roles[c].staff)

    @property
    def all_establishment_codes(self) -> frozenset[str]:
        return frozenset(c for c in self.codes if self._roles[c].all_establishments)

    @property
    def public_codes(self) -> frozenset[str]:
        """Roles of the families' side (not staff): the core's ``visitor`` and plugins' alike."""
        return frozenset(c for c in self.codes if not self._roles[c].staff)

    def of_owner(self, owner: str) -> list[str]:
        return [c for c in self.codes if self._roles[c].owner == owner]


CORE_REGISTRY = RoleRegistry(CORE_ROLES)


def check_plugin_role(plugin: str, role: object, known: Mapping[str, KnownRole]) -> KnownRole:
    """Validate one ``plugin_roles`` value of ``plugin`` against the roles ``known`` so far.

    :raises PluginError: naming the plugin (and the owner of a code already taken).
    """
    if not isinstance(role, Role):
        raise PluginError(
            f"plugin {plugin!r}: plugin_roles must return core.contributions.Role values, "
            f"not {role!r}"
        )
    if not ROLE_CODE_RE.match(role.code):
        raise PluginError(
            f"plugin {plugin!r}: role code {role.code!r} must be 3 to 40 lower-case letters, "
            "digits or underscores, starting with a letter"
        )
    if role.code in known:
        raise PluginError(
            f"plugin {plugin!r} adds role {role.code!r}, which {known[role.code].owner!r} "
            "already has"
        )
    missing = [
        lang
        for lang in LANGUAGES
        if not isinstance(role.labels.get(lang), str) or not role.labels[lang].strip()
    ]
    if missing:
        raise PluginError(
            f"plugin {plugin!r}: role {role.code!r} needs a label in every language "
            f"(missing: {', '.join(missing)})"
        )
    return KnownRole(
        role.code,
        plugin,
        staff=bool(role.staff),
        all_establishments=bool(role.all_establishments) and bool(role.staff),
        labels={lang: role.labels[lang] for lang in LANGUAGES},
    )


def build_role_registry(pm: IdmajPluginManager) -> RoleRegistry:
    """The core's roles and every plugin's (``plugin_roles``), checked; then every
    permission's default grants are checked against them.

    :raises PluginError: a bad or duplicate role, or a permission granted by default to a role
        this app does not have (the message names the plugin, the permission and the role).
    """
    known: dict[str, KnownRole] = {r.code: r for r in CORE_ROLES}
    for plugin, role in pm.collect_by_plugin("plugin_roles"):
        checked = check_plugin_role(plugin, role, known)
        known[checked.code] = checked
    plugin_roles = sorted((r for r in known.values() if r.owner != "core"), key=lambda r: r.code)
    registry = RoleRegistry([*CORE_ROLES, *plugin_roles])
    for plugin, permission in pm.collect_by_plugin("plugin_permissions"):
        unknown = [r for r in getattr(permission, "default_roles", ()) if r not in registry]
        if unknown:
            raise PluginError(
                f"plugin {plugin!r}: permission {getattr(permission, 'code', permission)!r} is "
                f"granted by default to unknown role(s) {', '.join(map(repr, unknown))} "
                "(install the plugin that adds the role, or drop the grant)"
            )
    return registry


def init_app(app: Flask, pm: IdmajPluginManager) -> RoleRegistry:
    registry = build_role_registry(pm)
    app.extensions[EXTENSION] = registry
    return registry


def role_registry(app: Flask | None = None) -> RoleRegistry:
    """The roles of ``app`` (default: the current app; the core's alone outside an app)."""
    if app is None:
        ctx = _cv_app.get(None)  # not through ``current_app``'s proxy: asked per role held
        if ctx is None:
            return CORE_REGISTRY
        app = ctx.app
    return app.extensions.get(EXTENSION, CORE_REGISTRY)


def role_label(code: str) -> str:
    """The name of a role in the current language."""
    return role_registry().label(code)
