"""Ziara — family visits: rules and slots per establishment, visitor links and bans, online
booking with a QR-coded confirmation, the gate, reminders and life events.

This object only implements hooks (``core/hookspecs.py``); the rules are in the ``services``
package (one small file per responsibility; its ``__init__`` lists them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.contributions import (
    MigrationBranch,
    NavItem,
    Panel,
    Permission,
    TranslationDomain,
    Widget,
)
from core.i18n import lazy_gettext as _l
from core.plugins import hookimpl

PLUGIN_NAME = "visits"
__version__ = "0.1.0"
IDMAJ_CONTRACT = ">=2,<3"  # the plugin contract versions this module supports
HERE = Path(__file__).resolve().parent


@hookimpl
def plugin_models() -> list[type]:
    from .models import ALL_MODELS

    return ALL_MODELS


@hookimpl
def plugin_blueprints() -> list[Any]:
    from .api import bp as api_bp
    from .views import bp

    return [bp, api_bp]


@hookimpl
def plugin_permissions() -> list[Permission]:
    from .permissions import VISITS_PERMISSIONS

    return VISITS_PERMISSIONS


@hookimpl
def plugin_translations() -> list[TranslationDomain]:
    return [TranslationDomain(directory=str(HERE / "translations"), domain="visits")]


@hookimpl
def plugin_migrations() -> list[MigrationBranch]:
    return [
        MigrationBranch(name="visits", directory=str(HERE / "migrations"), table_prefix="visits_")
    ]


@hookimpl
def plugin_cli_commands() -> list[Any]:
    from .cli import visits_group

    return [visits_group]


@hookimpl
def plugin_periodic_tasks() -> list[Any]:
    from .tasks import PERIODIC_TASKS

    return PERIODIC_TASKS


@hookimpl
def plugin_services() -> list[Any]:
    from plugins.visits.ports import service_ports

    return service_ports()


@hookimpl
def plugin_setup_app(app: Any) -> None:
    from . import services
    from .booking_fragments import companions, slot_choices, slots_by_day

    app.jinja_env.globals.update(
        visits_companions=companions,
        visits_slot_choices=slot_choices,
        visits_slots_by_day=slots_by_day,
        visits_status_label=services.status_label,
        visits_relationship_label=services.relationship_label,
        visits_kind_label=services.kind_label,
        visits_kind_labels=services.kind_labels,
        visits_reason_label=services.reason_label,
    )


@hookimpl
def portal_nav_items(user: Any) -> list[NavItem]:
    return [
        NavItem("visits.public_index", _l("Visiting information"), order=5, area="public"),
        NavItem("visits.book", _l("Book a visit"), order=10, area="public", roles=("visitor",)),
        NavItem("visits.my_visits", _l("My visits"), order=11, area="public", roles=("visitor",)),
        NavItem(
            "visits.my_relatives", _l("My relatives"), order=12, area="public", roles=("visitor",)
        ),
        NavItem("visits.gate", _l("Visits gate"), order=30, permission="visits.gate"),
        NavItem("visits.staff_index", _l("Visits"), order=31, permission="visits.view"),
    ]


@hookimpl
def portal_dashboard_widgets(user: Any) -> list[Widget]:
    from core.identity.services import has_permission

    if not has_permission(user, "visits.view"):
        return []
    from .services import dashboard_stats

    return [
        Widget(
            key="visits",
            title=_l("Visits"),
            template="visits/_widget.html",
            context={"visits_stats": dashboard_stats(user)},
            order=20,
        )
    ]


@hookimpl
def detainee_profile_panels(detainee: Any, user: Any) -> list[Panel]:
    from core.identity.services import has_permission

    if not has_permission(user, "visits.view"):
        return []
    from .services import detainee_visits

    return [
        Panel(
            key="visits",
            title=_l("Visits"),
            template="visits/_panel.html",
            context={"visits_info": detainee_visits(detainee)},
            order=30,
        )
    ]


@hookimpl
def on_detainee_transferred(detainee: Any, source: Any, destination: Any, actor: Any) -> None:
    from .services import cancel_future_for_detainee

    cancel_future_for_detainee(
        detainee, actor, _l("The detainee was transferred to another establishment.")
    )


@hookimpl
def transfer_blockers(detainee: Any) -> list[Any]:
    from .services import transfer_blockers as blockers

    return blockers(detainee)


@hookimpl
def on_detainee_released(detainee: Any, actor: Any) -> None:
    from .services import cancel_future_for_detainee

    cancel_future_for_detainee(detainee, actor, _l("The detainee was released."))


@hookimpl
def user_data_export(user: Any) -> list[Any]:
    from .services.privacy import export_sections

    return export_sections(user) if user.is_visitor else []


@hookimpl
def user_account_closing(user: Any) -> None:
    from .services.privacy import close_visitor

    close_visitor(user)


@hookimpl
def demo_seed(context: Any) -> None:
    from .demo import seed

    seed(context)


@hookimpl
def audit_labels() -> Any:
    from .audit_labels import VISITS_AUDIT_LABELS

    return VISITS_AUDIT_LABELS


@hookimpl
def audit_object_names(object_type: str, object_ids: list[str]) -> dict[str, str]:
    if object_type != "visits_booking":
        return {}
    from .audit_labels import booking_names

    return booking_names(object_ids)


@hookimpl(optionalhook=True)
def complaints_categories() -> list[Any]:
    """Published by complaints: families may complain about visits, handled by the visits
    office (never called while complaints is absent)."""
    from core.contributions import ComplaintCategory

    return [ComplaintCategory("visits.visit", _l("Family visits"), "visits", "visits_officer", 50)]


@hookimpl(optionalhook=True)
def complaints_author_detainees(user: Any) -> list[Any]:
    """Published by complaints: a family member complains about the detainees they are linked
    to (approved relations)."""
    from .services import linked_detainees

    return linked_detainees(user)
