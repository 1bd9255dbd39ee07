"""The core's own hook implementations: it plugs into itself by the same route as modules.

Registered first by ``create_app()`` under the name ``core``; it cannot be disabled.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l

from core.contributions import (
    MigrationBranch,
    NavItem,
    PeriodicTask,
    Permission,
    TranslationDomain,
)
from core.identity.permissions import CORE_PERMISSIONS
from core.plugins import hookimpl

PLUGIN_NAME = "core"
__version__ = "0.1.0"
IDMAJ_CONTRACT = "==2.*"  # the core plugs into itself with the contract it offers
HERE = Path(__file__).resolve().parent


@hookimpl
def plugin_permissions() -> list[Permission]:
    return CORE_PERMISSIONS


@hookimpl
def plugin_migrations() -> list[MigrationBranch]:
    return [MigrationBranch(name="core", directory=str(HERE / "migrations"), table_prefix="core_")]


@hookimpl
def plugin_translations() -> list[TranslationDomain]:
    return []  # the core's domain is always configured last by core.i18n


@hookimpl
def plugin_periodic_tasks() -> list[PeriodicTask]:
    """The core's background work (``idmaj worker``): one line per task."""
    from core.audit.sealer import seal_all
    from core.notifications.services import dispatch_pending

    return [
        PeriodicTask("core.notifications", timedelta(minutes=1), dispatch_pending),
        # every minute, until nothing is left: no event stays unsealed past a minute or so
        PeriodicTask("core.audit_seal", timedelta(minutes=1), seal_all),
    ]


@hookimpl
def portal_nav_items(user: Any) -> list[NavItem]:
    return [
        NavItem("portal.dashboard", _l("Dashboard"), order=0, permission="portal.dashboard"),
        NavItem("detainees.index", _l("Detainees"), order=10, permission="detainees.view"),
        NavItem(
            "establishments.index", _l("Establishments"), order=80, permission="establishments.view"
        ),
        NavItem("users.index", _l("Users"), order=85, permission="users.manage"),
        NavItem("users.roles", _l("Roles"), order=86, permission="roles.manage"),
        NavItem("audit.index", _l("Audit trail"), order=90, permission="audit.view"),
    ]


@hookimpl
def plugin_models() -> list[type]:
    from core.api.models import IdempotencyKey
    from core.audit.models import AuditCheckpoint, AuditEvent
    from core.detainees.models import Counter, Detainee, DetaineeNameKey, Placement
    from core.establishments.models import Establishment
    from core.forms import FormSubmission
    from core.identity.models import (
        ApiToken,
        PermissionRecord,
        Role,
        RolePermission,
        User,
        UserEstablishment,
        UserRole,
    )
    from core.notifications.models import OutboxMessage

    return [
        Establishment,
        Role,
        PermissionRecord,
        RolePermission,
        User,
        UserRole,
        UserEstablishment,
        ApiToken,
        Detainee,
        Placement,
        DetaineeNameKey,
        Counter,
        AuditEvent,
        AuditCheckpoint,
        OutboxMessage,
        IdempotencyKey,
        FormSubmission,
    ]
