"""Transfers (ترحيل / transfèrement): moving a detainee between establishments, to court, to
hospital or to another authority — requested, approved, accepted, scheduled, escorted and
completed atomically. This module is the plugin object: hook implementations only (rules live
in services)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.contributions import (
    ComplaintCategory,
    MigrationBranch,
    NavItem,
    Panel,
    TranslationDomain,
    Widget,
)
from core.i18n import lazy_gettext as _l
from core.plugins import hookimpl

PLUGIN_NAME = "transfers"
__version__ = "0.1.0"
IDMAJ_CONTRACT = ">=2,<3"
HERE = Path(__file__).resolve().parent


@hookimpl
def plugin_models() -> list[type]:
    from plugins.transfers.models import MODELS

    return MODELS


@hookimpl
def plugin_blueprints() -> list[Any]:
    from plugins.transfers.api import bp as api_bp
    from plugins.transfers.views import bp

    return [bp, api_bp]


@hookimpl
def plugin_permissions() -> list[Any]:
    from plugins.transfers.permissions import PERMISSIONS

    return PERMISSIONS


@hookimpl
def plugin_translations() -> list[TranslationDomain]:
    return [TranslationDomain(directory=str(HERE / "translations"), domain="transfers")]


@hookimpl
def plugin_migrations() -> list[MigrationBranch]:
    return [
        MigrationBranch(
            name="transfers", directory=str(HERE / "migrations"), table_prefix="transfers_"
        )
    ]


@hookimpl
def plugin_hookspecs() -> list[Any]:
    from plugins.transfers import hookspecs

    return [hookspecs]


@hookimpl
def plugin_services() -> list[Any]:
    from plugins.transfers.ports import service_ports

    return service_ports()


@hookimpl
def plugin_periodic_tasks() -> list[Any]:
    from datetime import timedelta

    from core.contributions import PeriodicTask
    from plugins.transfers.services import run_queued_batches

    return [PeriodicTask("transfers.bulk", timedelta(minutes=1), run_queued_batches)]


@hookimpl
def portal_nav_items(user: Any) -> list[NavItem]:
    return [NavItem("transfers.index", _l("Transfers"), order=50, permission="transfers.view")]


@hookimpl
def portal_dashboard_widgets(user: Any) -> list[Widget]:
    from plugins.transfers import services

    if not services.can_view(user):
        return []
    return [
        Widget(
            key="transfers",
            title=_l("Transfers"),
            template="transfers/widget.html",
            context={
                "transfers_figures": services.dashboard_figures(user),
                "transfers_by_establishment": services.dashboard_by_establishment(user),
                "transfers_hearings": services.monthly_figures(user, months=6),
            },
            order=50,
        )
    ]


@hookimpl
def detainee_profile_panels(detainee: Any, user: Any) -> list[Panel]:
    from plugins.transfers import services

    if not services.can_view(user):
        return []
    return [
        Panel(
            key="transfers",
            title=_l("Transfers"),
            template="transfers/panel.html",
            context={"transfers_items": services.detainee_transfers(detainee, user)},
            order=50,
        )
    ]


@hookimpl
def release_blockers(detainee: Any) -> list[Any]:
    from plugins.transfers.services import life_events

    return life_events.release_blockers(detainee)


@hookimpl
def on_detainee_released(detainee: Any, actor: Any) -> None:
    from plugins.transfers.services import life_events

    life_events.on_released(detainee, actor)


@hookimpl
def on_detainee_transferred(detainee: Any, actor: Any) -> None:
    from plugins.transfers.services import life_events

    life_events.on_transferred(detainee, actor)


@hookimpl(optionalhook=True)
def complaints_categories() -> list[ComplaintCategory]:
    return [
        ComplaintCategory(
            code="transfers.transfer",
            label=_l("Transfers"),
            module="transfers",
            office="transfers_officer",
            order=50,
        )
    ]


@hookimpl
def demo_seed(context: Any) -> None:
    from plugins.transfers.demo import seed

    seed(context)


@hookimpl
def audit_labels() -> Any:
    from plugins.transfers.audit_labels import TRANSFERS_AUDIT_LABELS

    return TRANSFERS_AUDIT_LABELS


@hookimpl
def audit_object_names(object_type: str, object_ids: list[str]) -> dict[str, str]:
    if object_type != "transfers_transfer":
        return {}
    from plugins.transfers.audit_labels import transfer_names

    return transfer_names(object_ids)
