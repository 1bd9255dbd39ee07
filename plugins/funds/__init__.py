"""Detainee funds (pécule): an exact, append-only, double-entry ledger of every dirham a detainee
holds. This module is the plugin object: hook implementations only (rules live in services)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.contributions import MigrationBranch, NavItem, Panel, TranslationDomain, Widget
from core.i18n import lazy_gettext as _l
from core.plugins import hookimpl

PLUGIN_NAME = "funds"
__version__ = "0.1.0"
IDMAJ_CONTRACT = ">=2,<3"  # the plugin contract versions this module supports
HERE = Path(__file__).resolve().parent


@hookimpl
def plugin_models() -> list[type]:
    from plugins.funds.models import MODELS

    return MODELS


@hookimpl
def plugin_blueprints() -> list[Any]:
    from plugins.funds.api import bp as api_bp
    from plugins.funds.views import bp

    return [bp, api_bp]


@hookimpl
def plugin_permissions() -> list[Any]:
    from plugins.funds.permissions import PERMISSIONS

    return PERMISSIONS


@hookimpl
def plugin_translations() -> list[TranslationDomain]:
    return [TranslationDomain(directory=str(HERE / "translations"), domain="funds")]


@hookimpl
def plugin_migrations() -> list[MigrationBranch]:
    return [
        MigrationBranch(name="funds", directory=str(HERE / "migrations"), table_prefix="funds_")
    ]


@hookimpl
def plugin_cli_commands() -> list[Any]:
    from plugins.funds.cli import funds

    return [funds]


@hookimpl
def plugin_services() -> list[Any]:
    from plugins.funds.ports import service_ports

    return service_ports()


@hookimpl
def portal_nav_items(user: Any) -> list[NavItem]:
    return [NavItem("funds.index", _l("Detainee funds"), order=40, permission="funds.view")]


@hookimpl
def portal_dashboard_widgets(user: Any) -> list[Widget]:
    from plugins.funds import services

    if not services.can_view(user):
        return []
    return [
        Widget(
            key="funds",
            title=_l("Detainee funds"),
            template="funds/widget.html",
            context={"funds": services.dashboard_figures(user)},
            order=40,
        )
    ]


@hookimpl
def detainee_profile_panels(detainee: Any, user: Any) -> list[Panel]:
    from plugins.funds import services

    if not services.can_view(user):
        return []
    view = services.view_account(detainee.registration_number, user)
    items, _total = services.movements(view.account, 1, 5)
    return [
        Panel(
            key="funds",
            title=_l("Funds (pécule)"),
            template="funds/panel.html",
            context={"funds_view": view, "funds_items": items},
            order=40,
        )
    ]


@hookimpl
def on_detainee_admitted(detainee: Any, actor: Any) -> None:
    from plugins.funds import services

    services.on_admitted(detainee, actor)


@hookimpl
def release_blockers(detainee: Any) -> list[Any]:
    from plugins.funds import services

    return services.release_blockers(detainee)


@hookimpl
def transfer_blockers(detainee: Any) -> list[Any]:
    from plugins.funds import services

    return services.transfer_blockers(detainee)


@hookimpl
def on_detainee_released(detainee: Any, actor: Any) -> None:
    from plugins.funds import services

    services.on_released(detainee, actor)


@hookimpl
def on_detainee_transferred(detainee: Any, source: Any, destination: Any, actor: Any) -> None:
    from plugins.funds import services

    services.on_transferred(detainee, source, destination, actor)


@hookimpl
def demo_seed(context: Any) -> None:
    from plugins.funds.demo import seed

    seed(context)


@hookimpl
def audit_labels() -> Any:
    from .audit_labels import FUNDS_AUDIT_LABELS

    return FUNDS_AUDIT_LABELS


@hookimpl
def audit_object_names(object_type: str, object_ids: list[str]) -> dict[str, str]:
    if object_type != "funds_account":
        return {}
    from .audit_labels import account_names

    return account_names(object_ids)


@hookimpl(optionalhook=True)
def complaints_categories() -> list[Any]:
    """Published by complaints: complaints about a detainee's money go to the accountant
    (never called while complaints is absent)."""
    from core.contributions import ComplaintCategory

    return [ComplaintCategory("funds.money", _l("Money and deposits"), "funds", "accountant", 60)]
