"""Remote purchasing (الشراء عن بعد / achats à distance): families order for a detainee from the
establishment's shop and pay at an agency or from the detainee's account; the shop prepares
and hands over. A separately installed distribution (``idmaj-purchasing``), found through the
entry point ``purchasing = "idmaj_purchasing"`` (group ``idmaj.plugins``).

This module is the plugin object: hook implementations only; the rules live in ``services``.
It uses only the plugin contract: hooks (the core's, complaints' ``complaints_categories``
when installed, and its own: ``hookspecs.py``), service ports (``funds.accounts``,
``visits.family_links``), a plugin role (``canteen_manager``), scoping, audit, the outbox and
the task queue — and imports nothing of ``plugins/``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from core.contributions import (
    ComplaintCategory,
    MigrationBranch,
    NavItem,
    Panel,
    PeriodicTask,
    Role,
    TranslationDomain,
    Widget,
)
from core.i18n import lazy_gettext as _l
from core.plugins import hookimpl

PLUGIN_NAME = "purchasing"
__version__ = "0.1.0"
IDMAJ_CONTRACT = ">=2,<3"
HERE = Path(__file__).resolve().parent


@hookimpl
def plugin_models() -> list[type]:
    from idmaj_purchasing.models import MODELS

    return MODELS


@hookimpl
def plugin_migrations() -> list[MigrationBranch]:
    return [MigrationBranch("purchasing", str(HERE / "migrations"), table_prefix="purchasing_")]


@hookimpl
def plugin_permissions() -> list[Any]:
    from idmaj_purchasing.permissions import PERMISSIONS

    return PERMISSIONS


@hookimpl
def plugin_blueprints() -> list[Any]:
    from idmaj_purchasing.api import bp as api
    from idmaj_purchasing.views import family, shop

    return [family, shop, api]


@hookimpl
def plugin_translations() -> list[TranslationDomain]:
    return [TranslationDomain(str(HERE / "translations"), "purchasing")]


@hookimpl
def plugin_roles() -> list[Role]:
    return [
        Role(
            "canteen_manager",
            labels={"ar": "مسير المقصف", "fr": "Gérant de la cantine", "en": "Canteen manager"},
        )
    ]


@hookimpl
def plugin_hookspecs() -> list[object]:
    from idmaj_purchasing import hookspecs

    return [hookspecs]


@hookimpl
def purchasing_payment_methods() -> list[Any]:
    """This package's own two ways to pay come through the hook it publishes, like anyone's."""
    from idmaj_purchasing.services.payments import BUILT_IN

    return BUILT_IN


@hookimpl
def plugin_periodic_tasks() -> list[PeriodicTask]:
    from idmaj_purchasing.services import expire_unpaid

    return [PeriodicTask("purchasing.expire_unpaid", timedelta(minutes=15), expire_unpaid)]


@hookimpl(optionalhook=True)
def complaints_categories() -> list[ComplaintCategory]:
    """Published by the complaints module: when it is installed, families and staff may
    complain about an order; the canteen manager of the establishment answers."""
    return [
        ComplaintCategory(
            "purchasing.order",
            _l("Remote purchasing"),
            module="purchasing",
            office="canteen_manager",
            order=70,
        )
    ]


@hookimpl
def portal_nav_items(user: Any) -> list[NavItem]:
    return [
        NavItem("purchasing_shop.orders", _l("Shop"), order=65, permission="purchasing.view"),
        NavItem(
            "purchasing.index",
            _l("Shop for a detainee"),
            order=30,
            permission="purchasing.order",
            area="public",
        ),
    ]


@hookimpl
def portal_dashboard_widgets(user: Any) -> list[Widget]:
    from core.identity.services import has_permission
    from idmaj_purchasing.services import figures

    if not has_permission(user, "purchasing.view"):
        return []
    return [
        Widget(
            "purchasing",
            _l("Shop orders"),
            "purchasing/widget.html",
            {"shop": figures(user)},
            order=65,
        )
    ]


@hookimpl
def detainee_profile_panels(detainee: Any, user: Any) -> list[Panel]:
    from core.identity.services import has_permission
    from idmaj_purchasing import services

    if not has_permission(user, "purchasing.view"):
        return []
    orders, total = services.detainee_orders(user, detainee.id, limit=5)
    rules = services.rules_to_read(detainee.establishment_id)  # read only: values, no object
    # the restricted categories only (no ``Restriction`` built: the panel lists categories)
    forbidden = services.forbidden_categories(detainee, rules=rules)
    return [
        Panel(
            "purchasing",
            _l("Shop orders"),
            "purchasing/panel.html",
            {
                "orders": orders,
                "total": total,
                "week": services.week_of(detainee, rules=rules, per_product=False),
                "forbidden": sorted(forbidden),
                "can_rule": has_permission(user, "purchasing.rules"),
            },
            order=65,
        )
    ]


@hookimpl(tryfirst=True)
def on_detainee_transferred(detainee: Any, source: Any, destination: Any, actor: Any) -> None:
    """``tryfirst``: refunds go back to the account before funds moves it to the destination
    (funds reverses a purchase only at the establishment that booked it)."""
    from idmaj_purchasing.services import detainee_left

    detainee_left(detainee, actor, "transfer")


@hookimpl(tryfirst=True)
def on_detainee_released(detainee: Any, actor: Any) -> None:
    """``tryfirst``: refunds reach the account before funds pays it out and closes it."""
    from idmaj_purchasing.services import detainee_left

    detainee_left(detainee, actor, "release")


@hookimpl
def user_data_export(user: Any) -> list[Any]:
    from idmaj_purchasing.services.privacy import export

    return export(user)


@hookimpl
def user_account_closing(user: Any) -> None:
    from idmaj_purchasing.services.privacy import closing

    closing(user)


@hookimpl(trylast=True)
def demo_seed(context: Any) -> None:
    """``trylast``: after visits has linked the demo family to a detainee."""
    from idmaj_purchasing.demo import seed

    seed(context)


@hookimpl
def audit_labels() -> Any:
    from idmaj_purchasing.audit_labels import PURCHASING_AUDIT_LABELS

    return PURCHASING_AUDIT_LABELS
