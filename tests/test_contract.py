"""The contract between modules (architecture.md, "The contract, second version"): the contract
version plugins declare, hooks plugins publish, plugin roles and service ports — and every way
start-up refuses a plugin that breaks it, naming the plugin.

The happy paths through whole apps (a page, the CLI, the API) are in ``tests/test_hooks.py``
(``plugin_hookspecs``, ``plugin_roles``, ``plugin_services``); the funds port in
``plugins/funds/tests/test_funds_port.py``; the example package's use of all of them in
``tests/test_plugins.py`` and ``examples/idmaj-example/tests``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

import pytest
from flask import Blueprint, Flask

from core.api.toolkit import endpoint
from core.contributions import Permission, Role, ServicePort
from core.identity.roles import role_registry
from core.plugins import (
    CONTRACT,
    CONTRACT_VERSION,
    PluginError,
    build_plugin_manager,
    check_contract,
    get_plugin_manager,
    hookimpl,
    hookspec,
)
from core.ports import PortUnavailable, has_port, port, port_registry
from core.principals import SYSTEM

# --------------------------------------------------------------------------------------------
# the contract version
# --------------------------------------------------------------------------------------------


def _declaring(spec: Any) -> Any:
    class Declaring:
        IDMAJ_CONTRACT = spec

    return Declaring()


def test_the_core_states_its_contract_version() -> None:
    assert CONTRACT_VERSION == (2, 1)
    assert CONTRACT == "2.1"


@pytest.mark.parametrize("spec", [">=1,<2", ">=3", "==1.*", "<2"])
def test_an_incompatible_plugin_is_refused_naming_it(spec: str) -> None:
    with pytest.raises(PluginError) as info:
        build_plugin_manager([("tpold", _declaring(spec))])
    message = str(info.value)
    assert "'tpold'" in message
    assert repr(spec) in message  # what it supports
    assert "offers contract 2.1" in message  # what the core offers


@pytest.mark.parametrize("spec", ["two", "", 2, ("2",)])
def test_a_malformed_declaration_is_refused(spec: Any) -> None:
    with pytest.raises(PluginError, match=r"'tpbad'.*IDMAJ_CONTRACT.*not a version specifier"):
        build_plugin_manager([("tpbad", _declaring(spec))])


@pytest.mark.parametrize("spec", [">=2,<3", "==2.*", ">=2", "~=2.0", ">=1,<3"])
def test_a_compatible_declaration_is_accepted_and_recorded(spec: str) -> None:
    pm = build_plugin_manager([("tpok", _declaring(spec))])
    assert pm.infos["tpok"].contract == spec
    assert check_contract("tpok", _declaring(spec)) == spec


def test_a_plugin_declaring_nothing_is_accepted_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Silent:
        pass

    with caplog.at_level(logging.WARNING, logger="idmaj.plugins"):
        pm = build_plugin_manager([("tpsilent", Silent())])
    assert pm.infos["tpsilent"].contract == ""
    assert "plugin 'tpsilent' declares no IDMAJ_CONTRACT" in caplog.text


def test_the_built_in_plugins_declare_the_contract(app: Flask) -> None:
    infos = get_plugin_manager(app).infos
    for name in ("core", "visits", "funds"):
        if name in infos:
            assert infos[name].contract, name
            assert check_contract(name, _declaring(infos[name].contract)) == infos[name].contract


# --------------------------------------------------------------------------------------------
# hooks a plugin publishes
# --------------------------------------------------------------------------------------------


class TpPubSpecs:
    @hookspec
    def tppub_greetings(self, name: str) -> list[str]:
        """Greetings for ``name``."""


class TpPub:
    PLUGIN_NAME = "tppub"

    @hookimpl
    def plugin_hookspecs(self) -> list[object]:
        return [TpPubSpecs]


class TpImpl:
    PLUGIN_NAME = "tpimpl"

    @hookimpl(optionalhook=True)
    def tppub_greetings(self, name: str) -> list[str]:
        return [f"salam {name}"]


def test_publisher_and_implementer() -> None:
    pm = build_plugin_manager([TpPub(), TpImpl()])
    assert pm.hook.tppub_greetings(name="Yasmine") == [["salam Yasmine"]]
    assert pm.published == {"tppub_greetings": "tppub"}


def test_implementer_without_its_publisher_starts() -> None:
    pm = build_plugin_manager([TpImpl()])
    assert not pm.hook.tppub_greetings.has_spec()
    assert pm.published == {}


def test_implementer_of_a_disabled_publisher_starts() -> None:
    pm = build_plugin_manager([TpPub(), TpImpl()], disabled=["tppub"])
    assert not pm.hook.tppub_greetings.has_spec()


@pytest.mark.parametrize("optional", [True, False])
def test_typo_in_a_hook_of_an_installed_publisher_stops_start_up(optional: bool) -> None:
    class Typo:
        PLUGIN_NAME = "tptypo"

        @hookimpl(optionalhook=optional)
        def tppub_greeting(self, name: str) -> list[str]:  # the hook is tppub_greetings
            return []

    with pytest.raises(PluginError) as info:
        build_plugin_manager([TpPub(), Typo()])
    assert "'tptypo'" in str(info.value)
    assert "tppub_greeting" in str(info.value)
    # with the publisher absent the optional implementation only waits
    if optional:
        build_plugin_manager([Typo()])


def test_typo_in_a_hook_of_an_installed_plugin_that_publishes_nothing() -> None:
    class Quiet:
        PLUGIN_NAME = "tpquiet"

    class Hopeful:
        PLUGIN_NAME = "tphope"

        @hookimpl(optionalhook=True)
        def tpquiet_things(self) -> list[str]:
            return []

    with pytest.raises(PluginError, match=r"'tphope'.*'tpquiet_things'.*'tpquiet'"):
        build_plugin_manager([Quiet(), Hopeful()])


def test_optional_hook_named_after_the_core_is_a_typo() -> None:
    class Hopeful:
        PLUGIN_NAME = "tphope"

        @hookimpl(optionalhook=True)
        def core_things(self) -> list[str]:
            return []

    with pytest.raises(PluginError, match=r"'tphope'.*'core_things'.*'core'"):
        build_plugin_manager([Hopeful()])


def test_published_hook_with_wrong_arguments_in_an_implementation_names_the_implementer() -> None:
    class Wrong:
        PLUGIN_NAME = "tpwrong"

        @hookimpl(optionalhook=True)
        def tppub_greetings(self, who: str) -> list[str]:  # the argument is `name`
            return []

    with pytest.raises(PluginError, match="'tpwrong'"):
        build_plugin_manager([TpPub(), Wrong()])
    build_plugin_manager([Wrong()])  # unchecked (and never called) while tppub is absent


def test_published_hook_must_carry_the_publisher_prefix() -> None:
    class Specs:
        @hookspec
        def greetings(self) -> list[str]:
            """Unprefixed."""

    class Publisher:
        PLUGIN_NAME = "tpnoprefix"

        @hookimpl
        def plugin_hookspecs(self) -> list[object]:
            return [Specs]

    with pytest.raises(PluginError, match=r"'tpnoprefix'.*'greetings'.*'tpnoprefix_'"):
        build_plugin_manager([Publisher()])


def test_published_hook_clashing_with_a_core_hook_names_the_plugin() -> None:
    class Specs:
        @hookspec
        def portal_nav_items(self, user: Any) -> list[Any]:
            """Clashes with the core's hook."""

    class Portal:
        PLUGIN_NAME = "portal"

        @hookimpl
        def plugin_hookspecs(self) -> list[object]:
            return [Specs]

    with pytest.raises(PluginError, match=r"'portal' publishes hook 'portal_nav_items'.*'core'"):
        build_plugin_manager([Portal()])


def test_published_hook_clashing_with_another_plugins_names_both() -> None:
    class Specs:
        @hookspec
        def tp_x_rates(self) -> list[str]:
            """Published twice."""

    def publisher(name: str) -> Any:
        class Publisher:
            PLUGIN_NAME = name

            @hookimpl
            def plugin_hookspecs(self) -> list[object]:
                return [Specs]

        return Publisher()

    with pytest.raises(PluginError) as info:
        build_plugin_manager([publisher("tp"), publisher("tp_x")])
    assert "'tp_x_rates'" in str(info.value)
    assert {"'tp'", "'tp_x'"} <= set(str(info.value).replace(",", " ").split())


def test_published_namespace_without_specs_is_refused() -> None:
    class Empty:
        PLUGIN_NAME = "tpempty"

        @hookimpl
        def plugin_hookspecs(self) -> list[object]:
            return [object]

    with pytest.raises(PluginError, match=r"'tpempty'.*no function marked"):
        build_plugin_manager([Empty()])


# --------------------------------------------------------------------------------------------
# plugin roles
# --------------------------------------------------------------------------------------------

LABELS = {"ar": "مدير المقصف", "fr": "Gérant de cantine", "en": "Canteen manager"}


def _roles_plugin(name: str, *roles: Role, perms: tuple[Permission, ...] = ()) -> Any:
    class Roles:
        PLUGIN_NAME = name

        @hookimpl
        def plugin_roles(self) -> list[Role]:
            return list(roles)

        @hookimpl
        def plugin_permissions(self) -> list[Permission]:
            return list(perms)

    return Roles()


def test_default_grant_to_an_unknown_role_stops_start_up(make_app: Callable[..., Flask]) -> None:
    plugin = _roles_plugin(
        "tpgrant", perms=(Permission("tpgrant.order", "Order", ("canteen_manager",)),)
    )
    with pytest.raises(PluginError) as info:
        make_app(plugins=[plugin])
    message = str(info.value)
    assert "'tpgrant'" in message
    assert "'tpgrant.order'" in message
    assert "'canteen_manager'" in message


def test_default_grant_to_a_role_another_plugin_adds(make_app: Callable[..., Flask]) -> None:
    granting = _roles_plugin(
        "tpgrant", perms=(Permission("tpgrant.order", "Order", ("canteen_manager",)),)
    )
    adding = _roles_plugin("tpshop", Role("canteen_manager", LABELS))
    app = make_app(plugins=[granting, adding])
    assert "canteen_manager" in role_registry(app)
    assert role_registry(app).get("canteen_manager").owner == "tpshop"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role("doctor", LABELS), r"'tpclash' adds role 'doctor', which 'core' already has"),
        (Role("Canteen Manager", LABELS), r"'tpclash': role code 'Canteen Manager'"),
        (Role("canteen_manager", {"fr": "x", "en": "y"}), r"'tpclash'.*missing: ar"),
    ],
)
def test_bad_plugin_roles_stop_start_up(
    make_app: Callable[..., Flask], role: Role, expected: str
) -> None:
    with pytest.raises(PluginError, match=expected):
        make_app(plugins=[_roles_plugin("tpclash", role)])


def test_two_plugins_adding_one_role_are_both_named(make_app: Callable[..., Flask]) -> None:
    with pytest.raises(PluginError, match=r"'tpb' adds role 'canteen_manager'.*'tpa'"):
        make_app(
            plugins=[
                _roles_plugin("tpa", Role("canteen_manager", LABELS)),
                _roles_plugin("tpb", Role("canteen_manager", LABELS)),
            ]
        )


def test_plugin_role_labels_follow_the_language(make_app: Callable[..., Flask]) -> None:
    app = make_app(plugins=[_roles_plugin("tpshop", Role("canteen_manager", LABELS))])
    registry = role_registry(app)
    assert registry.codes[-1] == "canteen_manager"  # after the core's roles
    assert registry.codes[:11] == role_registry().codes  # the core's alone outside an app
    for lang, label in LABELS.items():
        with app.test_request_context(f"/?lang={lang}"):
            assert registry.label("canteen_manager") == label
    with app.test_request_context("/?lang=fr"):
        assert registry.label("director") == "Directeur d'établissement"  # gettext, as before


def test_plugin_role_first_given_before_any_sync_gets_the_staff_baseline(
    make_app: Callable[..., Flask],
) -> None:
    """A plugin installed without ``idmaj db upgrade``: its role row is written when a user is
    first given the role, with the staff baseline, and a later sync changes nothing."""
    from sqlalchemy import delete, select

    from core.db import session
    from core.identity.models import Role as RoleRow
    from core.identity.models import RolePermission
    from core.identity.services import create_user, has_permission, sync_permissions
    from core.testing import TEST_PASSWORD, Factories

    app = make_app(
        plugins=[_roles_plugin("tpshop", Role("canteen_manager", LABELS))], rolled_back=True
    )
    with app.app_context():
        session().execute(
            delete(RolePermission).where(RolePermission.role_code == "canteen_manager")
        )
        session().execute(delete(RoleRow).where(RoleRow.code == "canteen_manager"))
        Factories(app).establishment("EST-A")
        user = create_user(
            username="shopkeeper",
            password=TEST_PASSWORD,
            full_name="Shop keeper",
            roles=["canteen_manager"],
            establishments=["EST-A"],
            actor=SYSTEM,
        )
        assert has_permission(user, "portal.dashboard") and has_permission(user, "detainees.view")
        assert not has_permission(user, "detainees.admit")  # only the baseline
        held = set(
            session().scalars(
                select(RolePermission.permission_code).where(
                    RolePermission.role_code == "canteen_manager"
                )
            )
        )
        assert sync_permissions(session()) == 0
        assert held == set(
            session().scalars(
                select(RolePermission.permission_code).where(
                    RolePermission.role_code == "canteen_manager"
                )
            )
        )
        session().rollback()


def test_public_plugin_role_is_not_staff_and_only_central_admin_gives_it(
    make_app: Callable[..., Flask],
) -> None:
    from core.identity.services import protected_roles

    app = make_app(
        plugins=[_roles_plugin("tplaw", Role("lawyer", {**LABELS, "en": "Lawyer"}, staff=False))]
    )
    with app.app_context():
        assert "lawyer" in protected_roles()
        assert not role_registry().is_staff("lawyer")
        assert role_registry().is_staff("head_doctor")  # unknown codes keep the old rule


# --------------------------------------------------------------------------------------------
# service ports
# --------------------------------------------------------------------------------------------


@runtime_checkable
class Ledger(Protocol):
    def balance(self, registration_number: str) -> Decimal: ...

    def debit(self, registration_number: str, amount: Decimal) -> str: ...


class GoodLedger:
    def balance(self, registration_number: str) -> Decimal:
        return Decimal("10.00")

    def debit(self, registration_number: str, amount: Decimal) -> str:
        return "R-1"


def _provider(name: str, *ports: Any) -> Any:
    class Provider:
        PLUGIN_NAME = name

        @hookimpl
        def plugin_services(self) -> list[Any]:
            return list(ports)

    return Provider()


def test_port_is_found_by_key_and_typed(make_app: Callable[..., Flask]) -> None:
    impl = GoodLedger()
    app = make_app(plugins=[_provider("tpledger", ServicePort("tpledger.accounts", Ledger, impl))])
    with app.app_context():
        assert has_port("tpledger.accounts")
        assert has_port("tpledger.accounts", Ledger)
        assert port("tpledger.accounts", Ledger) is impl
        assert port("tpledger.accounts", Ledger).balance("2025-000001") == Decimal("10.00")
    assert port_registry(app).keys_of("tpledger") == ["tpledger.accounts"]


def test_missing_port_is_unavailable_and_has_port_false(make_app: Callable[..., Flask]) -> None:
    app = make_app(plugins=[])
    with app.app_context():
        assert not has_port("tpledger.accounts")
        with pytest.raises(PortUnavailable) as info:
            port("tpledger.accounts", Ledger)
    assert "'tpledger.accounts'" in str(info.value)
    assert info.value.key == "tpledger.accounts"
    assert info.value.status == 503 and info.value.code == "service_unavailable"
    with app.test_request_context("/?lang=fr"):
        assert "tpledger.accounts" in str(PortUnavailable("tpledger.accounts").message)


def test_ports_are_per_app(make_app: Callable[..., Flask]) -> None:
    provided = make_app(
        plugins=[_provider("tpledger", ServicePort("tpledger.accounts", Ledger, GoodLedger()))]
    )
    bare = make_app(plugins=[])
    with provided.app_context():
        assert has_port("tpledger.accounts")
    with bare.app_context():
        assert not has_port("tpledger.accounts")


def test_port_asked_with_another_protocol_is_unavailable(make_app: Callable[..., Flask]) -> None:
    @runtime_checkable
    class Refunds(Protocol):
        def refund(self, receipt: str) -> None: ...

    app = make_app(
        plugins=[_provider("tpledger", ServicePort("tpledger.accounts", Ledger, GoodLedger()))]
    )
    with app.app_context():
        assert not has_port("tpledger.accounts", Refunds)
        with pytest.raises(PortUnavailable, match="does not satisfy"):
            port("tpledger.accounts", Refunds)


def test_missing_port_in_the_api_is_a_json_503(make_app: Callable[..., Flask]) -> None:
    api = Blueprint("tpcall_api", __name__, url_prefix="/api/v1/tpcall")

    @api.get("/balance")
    @endpoint("A balance through a port", auth="none", tags=["tpcall"], errors=(503,))
    def balance() -> dict[str, str]:
        return {"balance": str(port("tpledger.accounts", Ledger).balance("2025-000001"))}

    class Caller:
        PLUGIN_NAME = "tpcall"

        @hookimpl
        def plugin_blueprints(self) -> list[Blueprint]:
            return [api]

    app = make_app(plugins=[Caller()])
    resp = app.test_client().get("/api/v1/tpcall/balance?lang=en")
    assert resp.status_code == 503
    assert resp.json["error"]["code"] == "service_unavailable"
    assert "tpledger.accounts" in resp.json["error"]["message"]
    with_provider = make_app(
        plugins=[
            Caller(),
            _provider("tpledger", ServicePort("tpledger.accounts", Ledger, GoodLedger())),
        ]
    )
    assert with_provider.test_client().get("/api/v1/tpcall/balance").json == {"balance": "10.00"}


class NoDebit:
    def balance(self, registration_number: str) -> Decimal:
        return Decimal(0)


class OtherDebit:
    def balance(self, registration_number: str) -> Decimal:
        return Decimal(0)

    def debit(self, account: str, amount: Decimal, memo: str) -> str:  # other parameters
        return ""


class NotRuntime(Protocol):
    def balance(self, registration_number: str) -> Decimal: ...


@pytest.mark.parametrize(
    ("registration", "expected"),
    [
        (
            ServicePort("tpledger.accounts", Ledger, NoDebit()),
            r"'tpledger'.*'tpledger.accounts'.*does not satisfy .*Ledger \(missing: debit\)",
        ),
        (
            ServicePort("tpledger.accounts", Ledger, OtherDebit()),
            r"'tpledger'.*'tpledger.accounts' does not satisfy .*Ledger: debit",
        ),
        (
            ServicePort("tpledger.accounts", NotRuntime, GoodLedger()),
            r"'tpledger'.*must be a typing.Protocol marked @runtime_checkable",
        ),
        (ServicePort("Ledger", Ledger, GoodLedger()), r"'tpledger'.*key 'Ledger'"),
        ({"key": "tpledger.accounts"}, r"'tpledger'.*must return core.contributions.ServicePort"),
    ],
)
def test_bad_port_registration_stops_start_up(
    make_app: Callable[..., Flask], registration: Any, expected: str
) -> None:
    with pytest.raises(PluginError, match=expected):
        make_app(plugins=[_provider("tpledger", registration)])


def test_two_providers_of_one_port_are_both_named(make_app: Callable[..., Flask]) -> None:
    registration = ServicePort("tpledger.accounts", Ledger, GoodLedger())
    with pytest.raises(PluginError) as info:
        make_app(plugins=[_provider("tpbank", registration), _provider("tpledger", registration)])
    message = str(info.value)
    assert "'tpbank' and 'tpledger' both provide the service port 'tpledger.accounts'" in message
