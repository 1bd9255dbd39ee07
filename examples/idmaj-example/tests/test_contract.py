"""The contract between modules, as this package uses it: the hook it publishes
(``example_item_notes``), the hook of an absent module it implements (``complaints_categories``),
its role (``canteen_clerk``) and the ``funds.accounts`` port it calls only when a module
provides it.

``make_app(plugins, rolled_back=True)`` (Idmaj's fixture) builds a second app with other
plugins next to ours, sharing the test's transaction.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import idmaj_example
import pytest
from flask_babel import force_locale
from idmaj_example import services
from sqlalchemy import select

from core.audit.models import AuditEvent
from core.contributions import ServicePort
from core.db import session
from core.errors import Conflict
from core.plugins import collect, hookimpl, hookspec
from core.ports import PortUnavailable, has_port
from core.ports.funds import FUNDS_ACCOUNTS, FundsAccounts, FundsReceipt
from core.principals import SYSTEM
from core.testing import TEST_PASSWORD, Factories

GOOD = {"name": "Dattes", "price": "4.50", "category": "food"}


def signed_in(app: Any, role: str) -> Any:
    with app.app_context():
        user = Factories(app).user(role, ("EST-A",))
    client = app.test_client()
    resp = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert resp.status_code == 302
    return client


# --- the hook we publish ----------------------------------------------------------------


class Annotator:
    """Another module answering our published hook."""

    PLUGIN_NAME = "annotator"

    @hookimpl(optionalhook=True)
    def example_item_notes(self, name: str, category: str) -> list[str]:
        return ["Not for low-sugar diets"] if category == "food" else []


def test_published_hook_notes_shown_on_the_page_and_in_the_api(app, make_app, api_headers):
    annotated = make_app(plugins=[idmaj_example, Annotator()], rolled_back=True)
    assert annotated.extensions["idmaj.plugins"].published == {"example_item_notes": "example"}
    client = signed_in(annotated, "accountant")
    assert client.post("/example/", data=GOOD).status_code == 302
    assert (
        client.post("/example/", data={**GOOD, "name": "Savon", "category": "hygiene"}).status_code
        == 302
    )
    page = client.get("/example/").get_data(as_text=True)
    assert page.count("Not for low-sugar diets") == 1  # the food item only
    with annotated.app_context():
        listed = {
            i["name"]: i["notes"] for i in map(services.item_json, services.list_items(SYSTEM))
        }
    assert listed == {"Dattes": ["Not for low-sugar diets"], "Savon": []}
    # our own app, without the annotating module, shows no note
    plain = signed_in(app, "accountant")
    assert "Not for low-sugar diets" not in plain.get("/example/").get_data(as_text=True)


# --- a hook of a module that may be absent ----------------------------------------------


class ComplaintsSpecs:
    @hookspec
    def complaints_categories(self) -> list[Any]:
        """What complaints may be about: ``core.contributions.ComplaintCategory`` values."""


class Complaints:
    """A stand-in complaints module publishing the hook."""

    PLUGIN_NAME = "complaints"

    @hookimpl
    def plugin_hookspecs(self) -> list[object]:
        return [ComplaintsSpecs]


def test_optional_hook_of_an_absent_module_is_ignored(app):
    hook = app.extensions["idmaj.plugins"].hook.complaints_categories
    assert not hook.has_spec()  # complaints is not installed: our implementation waits
    assert [impl.plugin_name for impl in hook.get_hookimpls()] == ["example"]


def test_optional_hook_answers_when_the_module_is_installed(make_app):
    with_complaints = make_app(plugins=[idmaj_example, Complaints()])
    with with_complaints.test_request_context("/"), force_locale("fr"):
        answered = [
            (c.code, str(c.label), c.module, c.office) for c in collect("complaints_categories")
        ]
    assert answered == [("example.canteen", "Cantine et achats", "example", "complaints_officer")]


# --- our role ----------------------------------------------------------------------------


def test_canteen_clerk_role_manages_the_catalogue(app, client, login_as):
    login_as("canteen_clerk")
    assert client.post("/example/", data=GOOD).status_code == 302
    assert client.get("/dashboard").status_code == 200  # a staff role: the staff baseline
    admin = signed_in(app, "central_admin")
    for lang, label in (("ar", "عون المقصف"), ("fr", "Agent de cantine"), ("en", "Canteen clerk")):
        page = admin.get(f"/admin/roles?lang={lang}").get_data(as_text=True)
        assert f'<a href="/admin/roles/canteen_clerk">{label}</a>' in page


# --- the funds.accounts port --------------------------------------------------------------


class FakeAccounts:
    """A stand-in for the funds module's ``funds.accounts`` (any provider will do)."""

    def __init__(self, spendable: str) -> None:
        self.left = Decimal(spendable)
        self.debits: list[tuple[str, Decimal, str, str]] = []

    def spendable(self, actor: Any, registration_number: str) -> Decimal:
        return self.left

    def debit(
        self, actor: Any, registration_number: str, amount: Decimal, memo: str, reference: str
    ) -> FundsReceipt:
        if amount > self.left:
            raise Conflict("Insufficient funds.", code="insufficient_funds")
        self.left -= amount
        self.debits.append((registration_number, amount, memo, reference))
        return FundsReceipt(f"R-{len(self.debits)}", registration_number, amount, self.left)

    def refund(
        self, actor: Any, registration_number: str, receipt_number: str, memo: str
    ) -> FundsReceipt:
        number = int(receipt_number.removeprefix("R-"))
        amount = self.debits[number - 1][1]
        self.left += amount
        return FundsReceipt(f"R-back-{number}", registration_number, amount, self.left)


class FakeFunds:
    PLUGIN_NAME = "fakefunds"

    def __init__(self, spendable: str = "10.00") -> None:
        self.accounts = FakeAccounts(spendable)

    @hookimpl
    def plugin_services(self) -> list[ServicePort]:
        return [ServicePort(FUNDS_ACCOUNTS, FundsAccounts, self.accounts)]


def test_selling_is_hidden_without_a_funds_provider(app, client, login_as):
    login_as("accountant")
    assert client.post("/example/", data=GOOD).status_code == 302
    page = client.get("/example/?lang=en").get_data(as_text=True)
    assert "Dattes" in page
    assert 'id="sell"' not in page and "Sell to a detainee" not in page
    assert client.post("/example/sell", data={"item": "1"}).status_code == 404
    with app.app_context():
        assert not has_port(FUNDS_ACCOUNTS)
        with pytest.raises(PortUnavailable, match=r"funds\.accounts"):
            services.sell_item({"item": "1", "quantity": "1"}, SYSTEM)


def test_selling_debits_through_the_port(make_app):
    funds = FakeFunds("10.00")
    shop = make_app(plugins=[idmaj_example, funds], rolled_back=True)
    client = signed_in(shop, "accountant")
    assert client.post("/example/", data=GOOD).status_code == 302
    page = client.get("/example/?lang=en").get_data(as_text=True)
    assert 'id="sell"' in page and "Sell to a detainee" in page
    with shop.app_context():
        item_id = services.list_items(SYSTEM)[0].id
    sale = {"item": str(item_id), "quantity": "2", "registration_number": "2025-000001"}
    sold = client.post("/example/sell?lang=en", data=sale)
    assert sold.status_code == 302
    sold = client.get("/example/?lang=en")
    assert (
        '9.00 MAD debited from <bdi dir="ltr" class="rn">2025-000001</bdi> (receipt R-1).'
        in sold.get_data(as_text=True)
    )
    assert funds.accounts.debits == [
        ("2025-000001", Decimal("9.00"), "2 × Dattes", f"example-item-{item_id}")
    ]
    # the provider refuses: the page says why and the example records nothing
    refused = client.post("/example/sell?lang=en", data={**sale, "quantity": "1"})
    assert refused.status_code == 409
    assert "Insufficient funds." in refused.get_data(as_text=True)
    bad = client.post("/example/sell?lang=fr", data={**sale, "quantity": "0"})
    assert bad.status_code == 422
    assert "Saisissez une quantité de 1 à 20." in bad.get_data(as_text=True)
    with shop.app_context():
        sales = (
            session()
            .scalars(select(AuditEvent.summary).where(AuditEvent.action == "example.item.sell"))
            .all()
        )
    assert [s["receipt"] for s in sales] == ["R-1"]
