"""The canteen catalogue plugin: hook implementations only, the rules live in ``services``.

Idmaj finds this module through the entry point ``example = "idmaj_example"`` (group
``idmaj.plugins``) declared in ``pyproject.toml``. Besides the usual hooks it shows the contract
between modules: it publishes a hook (``example_item_notes``, in ``hookspecs.py``), implements
one published by a module that may be absent (``complaints_categories``), adds a role
(``canteen_clerk``) and uses another module's service port (``funds.accounts``, see
``services.sell_item``) only when it is there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint

from core.contributions import (
    ComplaintCategory,
    DemoContext,
    MigrationBranch,
    NavItem,
    Permission,
    Role,
    TranslationDomain,
)
from core.i18n import lazy_gettext as _l
from core.plugins import hookimpl

PLUGIN_NAME = "example"
__version__ = "0.1.0"
IDMAJ_CONTRACT = ">=2,<3"  # the plugin contract versions this package supports
HERE = Path(__file__).resolve().parent


@hookimpl
def plugin_models() -> list[type]:
    from idmaj_example.models import ExampleItem

    return [ExampleItem]


@hookimpl
def plugin_migrations() -> list[MigrationBranch]:
    return [MigrationBranch("example", str(HERE / "migrations"), table_prefix="example_")]


@hookimpl
def plugin_permissions() -> list[Permission]:
    from idmaj_example.permissions import PERMISSIONS

    return PERMISSIONS


@hookimpl
def plugin_blueprints() -> list[Blueprint]:
    from idmaj_example.api import bp as api
    from idmaj_example.views import bp as pages

    return [pages, api]


@hookimpl
def plugin_roles() -> list[Role]:
    return [
        Role(
            "canteen_clerk",
            labels={"ar": "عون المقصف", "fr": "Agent de cantine", "en": "Canteen clerk"},
        )
    ]


@hookimpl
def plugin_hookspecs() -> list[object]:
    from idmaj_example import hookspecs

    return [hookspecs]


@hookimpl(optionalhook=True)
def complaints_categories() -> list[ComplaintCategory]:
    """Published by a complaints module: when one is installed, detainees may file complaints
    about the canteen (handled by the complaints office); without it this implementation is
    simply never called."""
    return [ComplaintCategory("example.canteen", _l("Canteen and purchases"), "example", order=60)]


@hookimpl
def plugin_translations() -> list[TranslationDomain]:
    return [TranslationDomain(str(HERE / "translations"), "example")]


@hookimpl
def portal_nav_items(user: Any) -> list[NavItem]:
    return [NavItem("example.index", _l("Canteen catalogue"), order=60, permission="example.view")]


@hookimpl
def demo_seed(context: DemoContext) -> None:
    from idmaj_example.services import seed_demo_items

    seed_demo_items(context.session)
