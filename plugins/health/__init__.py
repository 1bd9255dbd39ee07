"""Health files (الملف الصحي / dossier médical): the detainee's medical record, seen only by the
care team. This module is the plugin object: hook implementations only (rules live in
services)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.contributions import MigrationBranch, NavItem, Panel, TranslationDomain, Widget
from core.i18n import lazy_gettext as _l
from core.plugins import hookimpl

PLUGIN_NAME = "health"
__version__ = "0.1.0"
IDMAJ_CONTRACT = ">=2,<3"
HERE = Path(__file__).resolve().parent


@hookimpl
def plugin_models() -> list[type]:
    from plugins.health.models import MODELS

    return MODELS


@hookimpl
def plugin_blueprints() -> list[Any]:
    # their routes hang on bp
    from plugins.health import (  # noqa: F401
        views_care,
        views_consultations,
        views_edit,
        views_file,
    )
    from plugins.health.api import bp as api_bp
    from plugins.health.views import bp

    return [bp, api_bp]


@hookimpl
def plugin_permissions() -> list[Any]:
    from plugins.health.permissions import PERMISSIONS

    return PERMISSIONS


@hookimpl
def plugin_roles() -> list[Any]:
    from plugins.health.permissions import ROLES

    return ROLES


@hookimpl
def plugin_translations() -> list[TranslationDomain]:
    return [TranslationDomain(directory=str(HERE / "translations"), domain="health")]


@hookimpl
def plugin_migrations() -> list[MigrationBranch]:
    return [
        MigrationBranch(name="health", directory=str(HERE / "migrations"), table_prefix="health_")
    ]


@hookimpl
def plugin_cli_commands() -> list[Any]:
    from plugins.health.cli import health

    return [health]


@hookimpl
def plugin_setup_app(app: Any) -> None:
    from plugins.health import crypto

    crypto.init_app(app)  # no key in production: the app does not start


@hookimpl
def plugin_periodic_tasks() -> list[Any]:
    import datetime as dt

    from core.contributions import PeriodicTask

    def expire() -> None:
        from plugins.health.services.access import record_expiries

        record_expiries()

    return [PeriodicTask("health.emergency_expiry", dt.timedelta(minutes=5), expire)]


@hookimpl
def portal_nav_items(user: Any) -> list[NavItem]:
    return [
        NavItem("health.index", _l("Health"), order=50, permission="health.read"),
        NavItem(
            "health.figures",
            _l("Health figures"),
            order=51,
            permission="health.stats",
            roles=("director", "central_admin", "head_doctor"),
        ),
        NavItem(
            "health.access_search",
            _l("Health file readers"),
            order=52,
            permission="health.access_log",
            roles=("auditor", "central_admin"),
        ),
    ]


@hookimpl
def portal_dashboard_widgets(user: Any) -> list[Widget]:
    from plugins.health.views_support import dashboard_widget

    widget = dashboard_widget(user)
    return [widget] if widget is not None else []


@hookimpl
def detainee_profile_panels(detainee: Any, user: Any) -> list[Panel]:
    from plugins.health.views_support import profile_panel

    panel = profile_panel(detainee, user)
    return [panel] if panel is not None else []


@hookimpl
def on_detainee_admitted(detainee: Any, actor: Any) -> None:
    from plugins.health.services import files

    files.on_admitted(detainee, actor)


@hookimpl
def transfer_blockers(detainee: Any, context: Any) -> list[Any]:
    from plugins.health.services import files

    return files.transfer_blockers(detainee, context)


@hookimpl
def on_detainee_transferred(detainee: Any, source: Any, destination: Any, actor: Any) -> None:
    from plugins.health.services import files

    files.on_transferred(detainee, source, destination, actor)


@hookimpl(optionalhook=True)
def transfers_escort_health(detainee: Any) -> Any:
    """The transfers module's escort section: fit or not, and needs — never a diagnosis."""
    from plugins.health.services import files

    return files.escort_health(detainee)


@hookimpl(optionalhook=True)
def complaints_categories() -> list[Any]:
    from core.contributions import ComplaintCategory

    return [
        ComplaintCategory(
            code="health.care", label=_l("Health care"), module="health", office="doctor", order=30
        )
    ]


@hookimpl
def demo_seed(context: Any) -> None:
    from plugins.health.demo import seed

    seed(context)


@hookimpl
def audit_labels() -> Any:
    from plugins.health.audit_labels import HEALTH_AUDIT_LABELS

    return HEALTH_AUDIT_LABELS


@hookimpl
def audit_object_names(object_type: str, object_ids: list[str]) -> dict[str, str]:
    if object_type != "health_file":
        return {}
    from plugins.health.audit_labels import file_names

    return file_names(object_ids)
