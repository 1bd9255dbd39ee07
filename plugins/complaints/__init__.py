"""Complaints (شكايات / plaintes): every complaint received, routed, answered on time and
counted. This module is the plugin object: hook implementations only (rules live in services).

It publishes two hooks (``hookspecs.py``): ``complaints_categories`` (every module adds what
complaints may be about, and which office handles it) and ``complaints_author_detainees``
(which detainees a family member may complain about)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.contributions import MigrationBranch, NavItem, Panel, TranslationDomain, Widget
from core.i18n import lazy_gettext as _l
from core.plugins import hookimpl

PLUGIN_NAME = "complaints"
__version__ = "0.1.0"
IDMAJ_CONTRACT = ">=2,<3"
HERE = Path(__file__).resolve().parent


@hookimpl
def plugin_hookspecs() -> list[object]:
    from plugins.complaints import hookspecs

    return [hookspecs]


@hookimpl
def plugin_models() -> list[type]:
    from plugins.complaints.models import MODELS

    return MODELS


@hookimpl
def plugin_blueprints() -> list[Any]:
    from plugins.complaints.api import bp as api_bp
    from plugins.complaints.views import bp

    return [bp, api_bp]


@hookimpl
def plugin_permissions() -> list[Any]:
    from plugins.complaints.permissions import PERMISSIONS

    return PERMISSIONS


@hookimpl
def plugin_roles() -> list[Any]:
    from plugins.complaints.permissions import ROLES

    return ROLES


@hookimpl
def plugin_translations() -> list[TranslationDomain]:
    return [TranslationDomain(directory=str(HERE / "translations"), domain="complaints")]


@hookimpl
def plugin_migrations() -> list[MigrationBranch]:
    return [
        MigrationBranch(
            name="complaints", directory=str(HERE / "migrations"), table_prefix="complaints_"
        )
    ]


@hookimpl
def plugin_periodic_tasks() -> list[Any]:
    from plugins.complaints.tasks import PERIODIC_TASKS

    return PERIODIC_TASKS


@hookimpl
def complaints_categories() -> list[Any]:
    """The general categories, owned by this module (the core-wide ones)."""
    from plugins.complaints.services.categories import GENERAL_CATEGORIES

    return GENERAL_CATEGORIES


@hookimpl
def portal_nav_items(user: Any) -> list[NavItem]:
    from plugins.complaints import services

    if user is None or getattr(user, "is_anonymous", True):
        return []
    items = [
        NavItem("complaints.mine", _l("My complaints"), order=13, area="public", roles=("visitor",))
    ]
    if services.sees_complaints(user):
        items.append(NavItem("complaints.queue", _l("Complaints"), order=70))
    return items


@hookimpl
def portal_dashboard_widgets(user: Any) -> list[Widget]:
    from plugins.complaints import services

    if not services.sees_complaints(user):
        return []
    return [
        Widget(
            key="complaints",
            title=_l("Complaints"),
            template="complaints/_widget.html",
            context={"complaints": services.dashboard(user)},
            order=70,
        )
    ]


@hookimpl
def detainee_profile_panels(detainee: Any, user: Any) -> list[Panel]:
    from plugins.complaints import services

    if not services.sees_complaints(user):
        return []
    return [
        Panel(
            key="complaints",
            title=_l("Complaints"),
            template="complaints/_panel.html",
            context={
                "complaints": services.detainee_complaints(detainee, user),
                "detainee": detainee,
            },
            order=70,
        )
    ]


@hookimpl
def demo_seed(context: Any) -> None:
    from plugins.complaints.demo import seed

    seed(context)


@hookimpl
def audit_labels() -> Any:
    from .audit_labels import COMPLAINTS_AUDIT_LABELS

    return COMPLAINTS_AUDIT_LABELS


@hookimpl
def audit_object_names(object_type: str, object_ids: list[str]) -> dict[str, str]:
    if object_type != "complaints_complaint":
        return {}
    from .audit_labels import complaint_names

    return complaint_names(object_ids)


@hookimpl
def user_data_export(user: Any) -> list[Any]:
    from plugins.complaints.services.privacy import export_sections

    return export_sections(user)
