"""The contract between modules, as this package uses it: the hooks it publishes
(``purchasing_forbidden_categories``, ``purchasing_payment_methods``,
``purchasing_delivery_point``), answered here by throwaway plugins; the complaints module's
hook it implements; its role; the ports it calls; what it keeps out of (``plugins/``)."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path
from typing import Any

import idmaj_purchasing
from flask_babel import force_locale
from idmaj_purchasing import services
from idmaj_purchasing.tests_support import sign_in, token
from sqlalchemy import select

from core.config import PROJECT_ROOT
from core.contributions import ComplaintCategory
from core.db import session
from core.detainees.models import Detainee
from core.plugins import collect, hookimpl, hookspec

PACKAGE = Path(idmaj_purchasing.__file__).resolve().parent
ORDERS = "/api/v1/purchasing/orders"


def _with(make_app: Any, *extra: Any) -> Any:
    """The installed plugins plus ``extra`` throwaway ones, in the test's transaction."""
    import importlib.metadata

    installed = {ep.name: ep for ep in importlib.metadata.entry_points(group="idmaj.plugins")}
    plugins = [(name, installed[name].load()) for name in sorted(installed)]
    return make_app(plugins=[*plugins, *extra], rolled_back=True)


class Doctor:
    """A health module answering our published hook: a diet without sugar-rich food."""

    PLUGIN_NAME = "tpdoctor"

    @hookimpl(optionalhook=True)
    def purchasing_forbidden_categories(self, detainee: Any) -> list[str]:
        return ["food", "no-such-category"]


def test_a_module_forbids_a_category_through_our_hook(app, make_app, shop):
    doctor = _with(make_app, Doctor())
    client = doctor.test_client()
    body = {
        "detainee": shop.rn,
        "items": [{"product_id": shop.products["Thé vert"], "quantity": 1}],
        "payment": "agency",
    }
    refused = client.post(ORDERS, json=body, headers=token(client, shop.family))
    assert refused.status_code == 422
    assert "items.0.product_id" in refused.json["error"]["fields"]
    with doctor.app_context():
        det = session().get(Detainee, shop.det.id)
        assert services.forbidden_categories(det) == {"food"}
    # without the answering module, tea may be ordered
    plain = app.test_client()
    assert plain.post(ORDERS, json=body, headers=token(plain, shop.family)).status_code == 201


class Voucher:
    code = "voucher"
    label = "Prepaid voucher"
    order = 5

    def __init__(self) -> None:
        self.refunds: list[str] = []

    def offered(self, detainee: Any) -> bool:
        return True

    def collect(
        self, reference: str, amount: Decimal, detainee: Any, payer: Any
    ) -> tuple[bool, str]:
        return True, f"V-{reference}"

    def refund(self, reference: str, amount: Decimal, detainee: Any, receipt: str) -> str:
        self.refunds.append(receipt)
        return f"VR-{reference}"


class Vouchers:
    PLUGIN_NAME = "tpvouchers"

    def __init__(self) -> None:
        self.method = Voucher()

    @hookimpl(optionalhook=True)
    def purchasing_payment_methods(self) -> list[Any]:
        return [self.method, object()]  # a malformed one is left out


def test_another_package_adds_a_way_to_pay(make_app, shop):
    vouchers = Vouchers()
    built = _with(make_app, vouchers)
    with built.app_context():
        assert [m.code for m in services.methods()] == ["voucher", "agency", "account"]
    client = built.test_client()
    family = token(client, shop.family)
    body = {
        "detainee": shop.rn,
        "items": [{"product_id": shop.products["Savon"], "quantity": 1}],
        "payment": "voucher",
    }
    paid = client.post(ORDERS, json=body, headers=family)
    assert paid.status_code == 201 and paid.json["status"] == "paid"
    ref = paid.json["reference"]
    cancelled = client.post(f"{ORDERS}/{ref}/cancel", headers=family)
    assert cancelled.json["status"] == "cancelled" and cancelled.json["refund"] == f"VR-{ref}"
    assert vouchers.method.refunds == [f"V-{ref}"]


class Housing:
    PLUGIN_NAME = "tphousing"

    @hookimpl(optionalhook=True)
    def purchasing_delivery_point(self, detainee: Any) -> str:
        return "Bâtiment B"


def test_a_module_names_where_the_detainee_receives_orders(app, make_app, shop):
    with app.app_context():
        from core.identity.models import User
        from core.principals import SYSTEM

        family = session().get(User, shop.family.id)
        order = services.place_order(
            family, shop.rn, [{"product_id": shop.products["Savon"], "quantity": 1}], "agency"
        )
        services.import_settlement(
            order.establishment_id,
            f"reference,amount\n{order.pay_reference},4.50\n".encode(),
            "a.csv",
            SYSTEM,
        )
        session().commit()
    housed = _with(make_app, Housing())
    page = sign_in(housed, shop.manager).get("/purchasing/daily").get_data(as_text=True)
    assert "Bâtiment B" in page and order.reference in page
    plain = sign_in(app, shop.manager).get("/purchasing/daily?lang=en").get_data(as_text=True)
    assert "Building not known" in plain and "Bâtiment B" not in plain


def test_our_hooks_are_published_and_documented():
    published = [
        "purchasing_forbidden_categories",
        "purchasing_payment_methods",
        "purchasing_delivery_point",
    ]
    from idmaj_purchasing import hookspecs

    guide = (PROJECT_ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    for name in published:
        assert getattr(hookspecs, name).__doc__.count(" ") > 10
        assert f"`{name}(" in guide, name


class ComplaintsSpecs:
    @hookspec
    def complaints_categories(self) -> list[Any]:
        """What complaints may be about."""


class Complaints:
    PLUGIN_NAME = "complaints"

    @hookimpl
    def plugin_hookspecs(self) -> list[object]:
        return [ComplaintsSpecs]


def _without_complaints(make_app: Any) -> Any:
    """The installed plugins but complaints, in the test's transaction."""
    import importlib.metadata

    installed = {ep.name: ep for ep in importlib.metadata.entry_points(group="idmaj.plugins")}
    plugins = [(n, installed[n].load()) for n in sorted(installed) if n != "complaints"]
    return make_app(plugins=plugins, rolled_back=True)


def test_a_complaint_category_when_complaints_is_installed(app, make_app):
    without = _without_complaints(make_app)
    hook = without.extensions["idmaj.plugins"].hook.complaints_categories
    assert not hook.has_spec()  # not installed: our implementation waits
    installed = app.extensions["idmaj.plugins"].hook.complaints_categories.has_spec()
    # the real complaints module when installed beside us, else a stand-in publishing the hook
    with_complaints = app if installed else _with(make_app, Complaints())
    with with_complaints.test_request_context("/"), force_locale("fr"):
        found = [c for c in collect("complaints_categories") if c.module == "purchasing"]
        assert found == [
            ComplaintCategory(
                "purchasing.order", found[0].label, "purchasing", "canteen_manager", 70
            )
        ]
        assert str(found[0].label) == "Achats à distance"


def test_the_canteen_manager_role_in_three_languages(app, factories):
    admin = sign_in(app, _central_admin(app, factories))
    for lang, label in (
        ("ar", "مسير المقصف"),
        ("fr", "Gérant de la cantine"),
        ("en", "Canteen manager"),
    ):
        page = admin.get(f"/admin/roles?lang={lang}").get_data(as_text=True)
        assert label in page


def _central_admin(app: Any, factories: Any) -> Any:
    with app.app_context():
        return factories.user("central_admin", ())


def test_the_package_imports_nothing_of_plugins_and_nothing_imports_it():
    def imports(path: Path) -> set[str]:
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
        return found

    ours = sorted(PACKAGE.rglob("*.py")) + sorted((PACKAGE.parent / "tests").rglob("*.py"))
    assert len(ours) > 15
    bad = {
        str(p): m for p in ours for m in imports(p) if m == "plugins" or m.startswith("plugins.")
    }
    assert bad == {}
    theirs = sorted((PROJECT_ROOT / "core").rglob("*.py")) + sorted(
        (PROJECT_ROOT / "plugins").rglob("*.py")
    )
    bad = {str(p): m for p in theirs for m in imports(p) if m.startswith("idmaj_purchasing")}
    assert bad == {}


def test_the_api_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in (
        "/purchasing/catalogue",
        "/purchasing/products",
        "/purchasing/orders",
        "/purchasing/orders/{reference}",
    ):
        assert path in paths, path
    assert "post" in paths["/purchasing/orders"]


def test_a_family_s_orders_in_its_data_and_at_closing(app, shop):
    from core.identity.models import User

    with app.app_context():
        family = session().get(User, shop.family.id)
        order = services.place_order(
            family, shop.rn, [{"product_id": shop.products["Savon"], "quantity": 2}], "agency"
        )
        session().commit()
        ref = order.reference
    client = sign_in(app, shop.family)
    data = client.get("/account/data.json").json
    section = next(v for k, v in _sections(data) if k == "purchasing.orders")
    assert ref in str(section)
    with app.app_context():
        from idmaj_purchasing.services.privacy import closing
        from idmaj_purchasing.tests_support import stock_of

        closing(session().get(User, shop.family.id))
        session().commit()
        found = session().scalar(
            select(services.ordering.Order).where(services.ordering.Order.reference == ref)
        )
        assert str(found.status) == "cancelled" and found.reason == "account_closed"
        assert stock_of(shop.products["Savon"]) == 50


def _sections(data: Any) -> list[tuple[str, Any]]:
    if isinstance(data, dict) and "sections" in data:
        data = data["sections"]
    if isinstance(data, dict):
        return list(data.items())
    return [(s.get("key"), s) for s in data]


def test_the_demo_has_a_shop_a_canteen_manager_and_orders(demo_app):
    from core.testing import demo_client

    canteen = demo_client(demo_app, "canteen", "fr")
    page = canteen.get("/purchasing/?lang=fr").get_data(as_text=True)
    for status in ("En attente de paiement", "Payée", "Préparée", "Remise"):
        assert status in page, status
    assert "Thé vert" in canteen.get("/purchasing/catalogue?lang=fr").get_data(as_text=True)
    assert canteen.get("/purchasing/daily").status_code == 200
    family = demo_client(demo_app, "family")
    home = family.get("/shop/").get_data(as_text=True)
    assert "/shop/for/" in home and "ACH-" in home
