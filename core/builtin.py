"""The core's own hook implementations: it plugs into itself by the same route as modules.

Registered first by ``create_app()`` under the name ``core``; it cannot be disabled.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from core.contributions import (
    AuditLabels,
    MigrationBranch,
    NavItem,
    PeriodicTask,
    Permission,
    TranslationDomain,
)
from core.detainees.labels import LEGAL_STATUS_LABELS
from core.establishments.forms import KIND_CHOICES
from core.i18n import lazy_gettext as _l
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
        NavItem(
            "notifications.index",
            _l("Notifications"),
            order=95,
            permission="notifications.manage",
        ),
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


CORE_AUDIT_LABELS = AuditLabels(
    actions={
        "user.login": _l("Signed in"),
        "user.login.failed": _l("Sign-in refused"),
        "user.logout": _l("Signed out"),
        "user.create": _l("User account created"),
        "user.update": _l("User account changed"),
        "user.password.change": _l("Password changed"),
        "api_token.issue": _l("API token issued"),
        "api_token.revoke": _l("API token revoked"),
        "role.permissions.update": _l("Role permissions changed"),
        "scope.bypass": _l("Read across establishments"),
        "establishment.create": _l("Establishment created"),
        "establishment.update": _l("Establishment changed"),
        "detainee.admit": _l("Detainee admitted"),
        "detainee.update": _l("Detainee record changed"),
        "detainee.release": _l("Detainee released"),
        "detainee.transfer": _l("Detainee transferred"),
        "notification.retry": _l("Notification sent again"),
        "user.profile.update": _l("Own name or phone changed"),
        "user.data.export": _l("Own data downloaded"),
        "user.account.close": _l("Family account closed"),
        "user.second_factor.enable": _l("Second factor turned on"),
        "user.second_factor.disable": _l("Second factor turned off"),
        "role.second_factor.require": _l("Second factor required for roles"),
    },
    object_types={
        "user": _l("User"),
        "role": _l("Role"),
        "scope": _l("Access"),
        "establishment": _l("Establishment"),
        "detainee": _l("Detainee"),
        "notification": _l("Notification"),
    },
    fields={
        "name": _l("Name"),
        "name_fr": _l("Name (French)"),
        "name_ar": _l("Name (Arabic)"),
        "first_name": _l("First name"),
        "last_name": _l("Last name"),
        "first_name_ar": _l("First name (Arabic script)"),
        "last_name_ar": _l("Last name (Arabic script)"),
        "legal_status": _l("Legal status"),
        "national_id": _l("National identity card number"),
        "birth_date": _l("Birth date"),
        "kind": _l("Kind"),
        "capacity": _l("Capacity"),
        "region": _l("Region"),
        "city": _l("City"),
        "city_ar": _l("City (Arabic)"),
        "address": _l("Address"),
        "active": _l("Open"),
        "username": _l("Username"),
        "full_name": _l("Full name"),
        "roles": _l("Roles"),
        "establishments": _l("Establishments"),
        "added": _l("Added"),
        "removed": _l("Removed"),
        "reason": _l("Reason"),
        "status": _l("Status"),
        "from": _l("From"),
        "to": _l("To"),
        "overridden": _l("Checks overridden"),
        "channel": _l("Channel"),
        "last_error": _l("Last error"),
    },
    values={
        "legal_status": LEGAL_STATUS_LABELS,
        "kind": dict(KIND_CHOICES),
    },
)


@hookimpl
def audit_labels() -> AuditLabels:
    return CORE_AUDIT_LABELS


@hookimpl
def audit_object_names(object_type: str, object_ids: list[str]) -> dict[str, str]:
    """Detainees by name and registration number, establishments by name, users by name."""
    from sqlalchemy import select

    from core.db import session
    from core.detainees.models import Detainee
    from core.establishments.models import Establishment
    from core.i18n import current_language
    from core.identity.models import User

    lang = current_language()
    if object_type == "detainee":
        found = session().scalars(
            select(Detainee).where(Detainee.registration_number.in_(object_ids))
        )
        return {
            d.registration_number: f"{d.display_name(lang)} · {d.registration_number}"
            for d in found
        }
    if object_type == "establishment":
        found = session().scalars(select(Establishment).where(Establishment.code.in_(object_ids)))
        return {e.code: f"{e.name(lang)} · {e.code}" for e in found}
    if object_type == "user":
        ids = [int(i) for i in object_ids if i.isascii() and i.isdigit() and len(i) < 18]
        rows = session().execute(
            select(User.id, User.username, User.full_name).where(User.id.in_(ids))
        )
        return {str(i): f"{full_name or username} ({username})" for i, username, full_name in rows}
    return {}
