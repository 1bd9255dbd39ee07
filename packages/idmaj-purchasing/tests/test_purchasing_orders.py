"""Ordering, paying, fulfilment and the detainee's moves, through the API and the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from idmaj_purchasing import services
from idmaj_purchasing.models import Order, Product
from idmaj_purchasing.tests_support import fund, stock_of, token
from sqlalchemy import func, select

from core.db import session
from core.detainees.models import Detainee
from core.detainees.services import move, release
from core.establishments.models import Establishment
from core.notifications.models import OutboxMessage
from core.principals import SYSTEM, acting_as

ORDERS = "/api/v1/purchasing/orders"


def order_body(shop: Any, *lines: tuple[str, int], payment: str = "agency") -> dict[str, Any]:
    return {
        "detainee": shop.rn,
        "items": [{"product_id": shop.products[name], "quantity": q} for name, q in lines],
        "payment": payment,
    }


def balance(client: Any, app: Any, rn: str) -> str:
    from core.testing import Factories

    with app.app_context():
        accountant = Factories(app).user("accountant", ("EST-A",))
    return client.get(f"/api/v1/funds/accounts/{rn}", headers=token(client, accountant)).json[
        "available"
    ]


def test_family_orders_pays_at_an_agency_and_the_shop_delivers(app, client, shop):
    family = token(client, shop.family)
    made = client.post(ORDERS, json=order_body(shop, ("Thé vert", 2), ("Savon", 3)), headers=family)
    assert made.status_code == 201, made.json
    order = made.json
    assert order["status"] == "awaiting_payment" and order["total"] == "38.50"
    assert services.luhn_ok(order["pay_reference"])
    with app.app_context():
        assert stock_of(shop.products["Thé vert"]) == 28 and stock_of(shop.products["Savon"]) == 47
    ref = order["reference"]
    assert client.get(f"{ORDERS}/{ref}", headers=family).json["status"] == "awaiting_payment"
    # the agency's file: a good line, the same line again, an unknown reference, a wrong amount
    other = client.post(ORDERS, json=order_body(shop, ("Savon", 1)), headers=family).json
    csv = (
        "reference;amount;paid_at;agency\n"
        f"{order['pay_reference']};38.50;2026-12-01;Agence Maarif\n"
        f"{order['pay_reference']};38.50;2026-12-01;Agence Maarif\n"
        "123456789012;10.00;2026-12-01;Agence Maarif\n"
        f"{other['pay_reference']};5.00;2026-12-01;Agence Maarif\n"
    )
    with app.app_context():
        est = session().get(Detainee, shop.det.id).establishment_id
        report = services.import_settlement(est, csv.encode(), "agence.csv", SYSTEM)
        session().commit()
        outcomes = [(line.line_no, str(line.outcome)) for line in report.lines]
    assert outcomes == [(2, "paid"), (3, "duplicate"), (4, "unknown"), (5, "wrong_amount")]
    assert client.get(f"{ORDERS}/{ref}", headers=family).json["status"] == "paid"
    assert client.get(f"{ORDERS}/{other['reference']}", headers=family).json["status"] == (
        "awaiting_payment"
    )
    # the same file again: nothing is paid twice
    with app.app_context():
        again = services.import_settlement(est, csv.encode(), "agence.csv", SYSTEM)
        assert [str(line.outcome) for line in again.lines][:2] == ["duplicate", "duplicate"]
        session().commit()
    shop_headers = token(client, shop.manager)
    prepared = client.post(f"{ORDERS}/{ref}/prepare", headers=shop_headers)
    assert prepared.json["status"] == "prepared"
    # the family may no longer cancel a prepared order
    refused = client.post(f"{ORDERS}/{ref}/cancel", headers=family)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "not_cancellable"
    with app.app_context():
        pin = session().scalar(select(Order.delivery_pin).where(Order.reference == ref))
    wrong = client.post(
        f"{ORDERS}/{ref}/deliver", json={"proof": "pin", "pin": "x" + pin}, headers=shop_headers
    )
    assert wrong.status_code == 422 and "pin" in wrong.json["error"]["fields"]
    unsigned = client.post(
        f"{ORDERS}/{ref}/deliver", json={"proof": "signature"}, headers=shop_headers
    )
    assert unsigned.status_code == 422 and "signed" in unsigned.json["error"]["fields"]
    done = client.post(
        f"{ORDERS}/{ref}/deliver", json={"proof": "pin", "pin": pin}, headers=shop_headers
    )
    assert done.status_code == 200 and done.json["status"] == "delivered"
    again = client.post(f"{ORDERS}/{ref}/prepare", headers=shop_headers)
    assert again.status_code == 409
    with app.app_context():
        kinds = (
            session()
            .scalars(
                select(OutboxMessage.kind)
                .where(OutboxMessage.user_id == shop.family.id)
                .order_by(OutboxMessage.id)
            )
            .all()
        )
    assert [k for k in kinds if k.startswith("purchasing.")][:1] == [
        "purchasing.order.awaiting_payment"
    ]
    assert {
        "purchasing.order.paid",
        "purchasing.order.prepared",
        "purchasing.order.delivered",
    } <= set(kinds)


def test_an_order_is_whole_or_nothing(app, client, shop):
    family = token(client, shop.family)
    short = client.post(
        ORDERS, json=order_body(shop, ("Thé vert", 2), ("Dattes", 3)), headers=family
    )
    assert short.status_code == 201  # exactly the 3 left
    again = client.post(
        ORDERS,
        json={
            **order_body(shop, ("Thé vert", 1)),
            "items": [
                {"product_id": shop.products["Thé vert"], "quantity": 1},
                {"product_id": shop.products["Dattes"], "quantity": 1},
            ],
        },
        headers=family,
    )
    # Dattes: all three of the week's cap are taken, so the whole order is refused — and the
    # tea of the same order is not taken either
    assert again.status_code == 422 and "items.1.quantity" in again.json["error"]["fields"]
    with app.app_context():
        assert stock_of(shop.products["Thé vert"]) == 28
        assert stock_of(shop.products["Dattes"]) == 0
        assert session().scalar(select(func.count()).select_from(Order)) == 1


def test_out_of_stock_is_a_409_and_nothing_is_reserved(app, client, shop):
    with app.app_context():
        product = session().get(Product, shop.products["Thé vert"])
        services.update_product(product, {"stock": "1", "max_per_week": "10"}, SYSTEM)
        session().commit()
    family = token(client, shop.family)
    resp = client.post(ORDERS, json=order_body(shop, ("Savon", 2), ("Thé vert", 2)), headers=family)
    assert resp.status_code == 409 and resp.json["error"]["code"] == "out_of_stock"
    assert any(k.endswith(".quantity") for k in resp.json["error"]["fields"])
    with app.app_context():
        assert stock_of(shop.products["Savon"]) == 50 and stock_of(shop.products["Thé vert"]) == 1


def test_rules_forbidden_categories_and_weekly_caps(app, client, shop, factories):
    family = token(client, shop.family)
    # the establishment forbids tobacco
    with app.app_context():
        est = session().scalar(select(Establishment).where(Establishment.code == "EST-A"))
        services.update_rules(
            est.id,
            {"weekly_cap": "60.00", "payment_hours": "24", "forbidden_categories": ["tobacco"]},
            SYSTEM,
        )
        session().commit()
    smoke = client.post(ORDERS, json=order_body(shop, ("Cigarettes", 1)), headers=family)
    assert smoke.status_code == 422 and "items.0.product_id" in smoke.json["error"]["fields"]
    # a restriction of this detainee alone
    with app.app_context():
        det = session().get(Detainee, shop.det.id)
        services.add_restriction(det, "hygiene", "Décision du directeur", SYSTEM)
        session().commit()
    soap = client.post(ORDERS, json=order_body(shop, ("Savon", 1)), headers=family)
    assert soap.status_code == 422
    # the product's weekly cap: 5 teas a week
    teas = client.post(ORDERS, json=order_body(shop, ("Thé vert", 6)), headers=family)
    assert teas.status_code == 422 and "items.0.quantity" in teas.json["error"]["fields"]
    ok = client.post(ORDERS, json=order_body(shop, ("Thé vert", 4)), headers=family)
    assert ok.status_code == 201 and ok.json["total"] == "50.00"
    # the weekly value cap: 60.00 MAD, 50.00 used
    over = client.post(ORDERS, json=order_body(shop, ("Thé vert", 1)), headers=family)
    assert over.status_code == 422 and over.json["error"]["code"] == "weekly_cap"
    # a cancelled order frees its share of the week
    assert (
        client.post(f"{ORDERS}/{ok.json['reference']}/cancel", headers=family).json["status"]
        == "cancelled"
    )
    assert (
        client.post(ORDERS, json=order_body(shop, ("Thé vert", 1)), headers=family).status_code
        == 201
    )


def test_rules_to_read_give_the_rules_values_outside_the_session(app, shop):
    with app.app_context():
        sess = session()
        est = sess.scalar(select(Establishment).where(Establishment.code == "EST-A"))
        shown = services.rules_to_read(est.id)  # none stored yet: the defaults
        default = services.rules_for(est.id)
        assert (shown.weekly_cap_centimes, shown.payment_hours, shown.forbidden_categories) == (
            default.weekly_cap_centimes,
            default.payment_hours,
            default.forbidden_categories,
        )
        services.update_rules(
            est.id,
            {"weekly_cap": "60.00", "payment_hours": "24", "forbidden_categories": ["tobacco"]},
            SYSTEM,
        )
        sess.commit()
        with acting_as(SYSTEM):
            shown = services.rules_to_read(est.id)
        assert (shown.weekly_cap_centimes, shown.payment_hours) == (6000, 24)
        assert shown.forbidden_categories == "tobacco"
        assert shown not in sess and shown.establishment_id == est.id
        sess.rollback()


def test_only_a_linked_family_orders_and_the_answer_reveals_nothing(app, client, shop, factories):
    stranger = token(client, shop.stranger)
    mine = client.post(ORDERS, json=order_body(shop, ("Savon", 1)), headers=stranger)
    assert mine.status_code == 422 and mine.json["error"]["code"] == "not_linked"
    unknown = client.post(
        ORDERS, json={**order_body(shop, ("Savon", 1)), "detainee": "1999-999999"}, headers=stranger
    )
    assert unknown.json == mine.json
    with app.app_context():
        pending = factories.visitor()
    asked = client.post(
        "/api/v1/visitors/me/relations",
        json={
            "detainee": shop.rn,
            "detainee_birth_date": "1990-05-17",
            "relationship": "sibling",
        },
        headers=token(client, pending),
    )
    assert asked.status_code == 201
    waiting = client.post(
        ORDERS, json=order_body(shop, ("Savon", 1)), headers=token(client, pending)
    )
    assert waiting.status_code == 422 and waiting.json["error"]["code"] == "not_linked"
    # staff do not order
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    assert (
        client.post(
            ORDERS, json=order_body(shop, ("Savon", 1)), headers=token(client, clerk)
        ).status_code
        == 403
    )
    assert client.post(ORDERS, json=order_body(shop, ("Savon", 1))).status_code == 401


def test_who_sees_an_order(app, client, shop, factories):
    ref = client.post(
        ORDERS, json=order_body(shop, ("Savon", 1)), headers=token(client, shop.family)
    ).json["reference"]
    with app.app_context():
        director = factories.user("director", ("EST-A",))
        director_b = factories.user("director", ("EST-B",))
        auditor = factories.user("auditor", ())
        nurse = factories.user("nurse", ("EST-A",))
    expected = {
        shop.family: 200,
        shop.stranger: 404,
        shop.manager: 200,
        shop.manager_b: 404,
        director: 200,
        director_b: 404,
        auditor: 200,
        nurse: 403,
    }
    for user, status in expected.items():
        assert client.get(f"{ORDERS}/{ref}", headers=token(client, user)).status_code == status, (
            user.username
        )
    assert client.get(f"{ORDERS}/{ref}").status_code == 401
    # another family cannot cancel it; the other establishment's shop neither
    assert (
        client.post(f"{ORDERS}/{ref}/cancel", headers=token(client, shop.stranger)).status_code
        == 404
    )
    assert (
        client.post(f"{ORDERS}/{ref}/cancel", headers=token(client, shop.manager_b)).status_code
        == 404
    )
    assert (
        client.post(f"{ORDERS}/{ref}/prepare", headers=token(client, shop.family)).status_code
        == 403
    )
    assert client.post(f"{ORDERS}/{ref}/prepare", headers=token(client, auditor)).status_code == 403
    # lists: the family's own, the shop's of its establishments
    mine = client.get(ORDERS, headers=token(client, shop.family)).json
    assert [o["reference"] for o in mine["items"]] == [ref] and mine["total"] == 1
    assert client.get(ORDERS, headers=token(client, shop.stranger)).json["items"] == []
    assert client.get(ORDERS, headers=token(client, shop.manager)).json["total"] == 1
    assert client.get(ORDERS, headers=token(client, shop.manager_b)).json["total"] == 0
    assert client.get(ORDERS, headers=token(client, nurse)).status_code == 403


def test_paid_from_the_account_refused_cleanly_when_short_or_over_the_limit(app, client, shop):
    family = token(client, shop.family)
    short = client.post(
        ORDERS, json=order_body(shop, ("Savon", 1), payment="account"), headers=family
    )
    assert short.status_code == 422 and short.json["error"]["code"] == "insufficient_funds"
    with app.app_context():
        assert stock_of(shop.products["Savon"]) == 50
        assert session().scalar(select(func.count()).select_from(Order)) == 0
    fund(app, shop.rn, "100.00")
    paid = client.post(
        ORDERS, json=order_body(shop, ("Thé vert", 2), payment="account"), headers=family
    )
    assert paid.status_code == 201 and paid.json["status"] == "paid"
    assert "pay_reference" not in paid.json
    assert balance(client, app, shop.rn) == "75.00"
    # the funds module's weekly spending limit applies
    with app.app_context():
        est = session().scalar(select(Establishment).where(Establishment.code == "EST-A"))
        from core.testing import Factories

        accountant = Factories(app).user("accountant", ("EST-A",))
    client.post("/login", data={"username": accountant.username, "password": "test-password-123"})
    limited = client.post(
        "/funds/EST-A/settings",
        data={"savings_share_pct": "0", "weekly_limit": "30.00", "deposit_ceiling": "5000.00"},
    )
    assert limited.status_code in (200, 302), limited.status_code
    client.get("/logout")
    over = client.post(
        ORDERS, json=order_body(shop, ("Thé vert", 1), payment="account"), headers=family
    )
    assert over.status_code == 422 and over.json["error"]["code"] == "weekly_limit_exceeded"
    assert balance(client, app, shop.rn) == "75.00"
    # refused at delivery: the money goes back to the account
    ref = paid.json["reference"]
    manager = token(client, shop.manager)
    client.post(f"{ORDERS}/{ref}/prepare", headers=manager)
    back = client.post(f"{ORDERS}/{ref}/refuse", json={"reason": "Produit abîmé"}, headers=manager)
    assert back.status_code == 200 and back.json["status"] == "refused"
    assert back.json["refund"] and back.json["reason"] == "Produit abîmé"
    assert balance(client, app, shop.rn) == "100.00"
    with app.app_context():
        assert stock_of(shop.products["Thé vert"]) == 30
        assert est is not None


def test_without_funds_the_account_is_not_offered(app, make_app, shop):
    nofunds = make_app(rolled_back=True, DISABLED_PLUGINS="funds")
    client = nofunds.test_client()
    family = token(client, shop.family)
    resp = client.post(
        ORDERS, json=order_body(shop, ("Savon", 1), payment="account"), headers=family
    )
    assert resp.status_code == 422 and resp.json["error"]["code"] == "payment_unavailable"
    with nofunds.app_context():
        det = session().get(Detainee, shop.det.id)
        assert [m.code for m in services.offered_methods(det)] == ["agency"]
    client.post("/login", data={"username": shop.family.username, "password": "test-password-123"})
    client.post(f"/shop/for/{shop.rn}", data={f"q{shop.products['Savon']}": "1"})
    page = client.get(f"/shop/for/{shop.rn}/cart?lang=en").get_data(as_text=True)
    assert "Pay at a payment agency" in page and "Pay from the detainee&#39;s account" not in page
    assert (
        client.post(ORDERS, json=order_body(shop, ("Savon", 1)), headers=family).status_code == 201
    )


def test_unpaid_orders_expire_and_give_their_stock_back(app, client, shop):
    ref = client.post(
        ORDERS, json=order_body(shop, ("Dattes", 2)), headers=token(client, shop.family)
    ).json["reference"]
    with app.app_context():
        assert services.expire_unpaid() == 0  # not yet
        assert services.expire_unpaid(at=services.common.now() + dt.timedelta(hours=49)) == 1
        session().commit()
        assert stock_of(shop.products["Dattes"]) == 3
        assert services.expire_unpaid(at=services.common.now() + dt.timedelta(hours=49)) == 0
    assert (
        client.get(f"{ORDERS}/{ref}", headers=token(client, shop.family)).json["status"]
        == "expired"
    )
    tasks = [t.name for t in app.extensions["idmaj.plugins"].collect("plugin_periodic_tasks")]
    assert "purchasing.expire_unpaid" in tasks


def test_a_transfer_cancels_undelivered_orders_and_refunds_them(app, client, shop, factories):
    fund(app, shop.rn, "100.00")
    family = token(client, shop.family)
    paid = client.post(
        ORDERS, json=order_body(shop, ("Thé vert", 2), payment="account"), headers=family
    ).json
    waiting = client.post(ORDERS, json=order_body(shop, ("Savon", 2)), headers=family).json
    assert balance(client, app, shop.rn) == "75.00"
    with app.app_context():
        det = session().get(Detainee, shop.det.id)
        dest = factories.establishment("EST-B")
        move(det, session().get(Establishment, dest.id), SYSTEM)
        session().commit()
        assert stock_of(shop.products["Thé vert"]) == 30 and stock_of(shop.products["Savon"]) == 50
    for ref in (paid["reference"], waiting["reference"]):
        order = client.get(f"{ORDERS}/{ref}", headers=family).json
        assert order["status"] == "cancelled" and order["reason"] == "transfer"
    # the refund was made before the account followed the detainee: all 100.00 are there
    from core.testing import Factories

    with app.app_context():
        accountant_b = Factories(app).user("accountant", ("EST-B",))
    account = client.get(f"/api/v1/funds/accounts/{shop.rn}", headers=token(client, accountant_b))
    assert account.json["available"] == "100.00"


def test_a_release_cancels_and_refunds_before_the_payout(app, client, shop):
    fund(app, shop.rn, "100.00")
    family = token(client, shop.family)
    paid = client.post(
        ORDERS, json=order_body(shop, ("Thé vert", 2), payment="account"), headers=family
    ).json
    with app.app_context():
        det = session().get(Detainee, shop.det.id)
        release(det, SYSTEM)
        session().commit()
    order = client.get(f"{ORDERS}/{paid['reference']}", headers=family).json
    assert order["status"] == "cancelled" and order["reason"] == "release" and order["refund"]
    from core.testing import Factories

    with app.app_context():
        accountant = Factories(app).user("accountant", ("EST-A",))
    moves = client.get(
        f"/api/v1/funds/accounts/{shop.rn}/transactions", headers=token(client, accountant)
    ).json["items"]
    assert [m["type"] for m in moves][:2] == ["release_payout", "reversal"]
    assert moves[0]["amount"] == "100.00"


def test_products_through_the_api(app, client, shop, factories):
    body = {
        "establishment": "EST-A",
        "name": "Lait",
        "category": "drinks",
        "price": "7.50",
        "stock": 10,
    }
    made = client.post(
        "/api/v1/purchasing/products", json=body, headers=token(client, shop.manager)
    )
    assert made.status_code == 201 and made.json["price"] == "7.50" and made.json["id"]
    dup = client.post("/api/v1/purchasing/products", json=body, headers=token(client, shop.manager))
    assert dup.status_code == 409 and dup.json["error"]["code"] == "duplicate_product"
    elsewhere = client.post(
        "/api/v1/purchasing/products",
        json={**body, "name": "Lait 2"},
        headers=token(client, shop.manager_b),
    )
    assert elsewhere.status_code == 404
    with app.app_context():
        director = factories.user("director", ("EST-A",))
        accountant = factories.user("accountant", ("EST-A",))
    assert (
        client.post(
            "/api/v1/purchasing/products",
            json={**body, "name": "Lait 3"},
            headers=token(client, director),
        ).status_code
        == 201
    )
    for user in (accountant, shop.family):
        assert (
            client.post(
                "/api/v1/purchasing/products",
                json={**body, "name": "Lait 4"},
                headers=token(client, user),
            ).status_code
            == 403
        )
    bad = client.post(
        "/api/v1/purchasing/products",
        json={**body, "name": "Lait 5", "price": "1e9", "category": "weapons"},
        headers=token(client, shop.manager),
    )
    assert bad.status_code == 422 and {"price", "category"} <= set(bad.json["error"]["fields"])
    assert client.post("/api/v1/purchasing/products", json=body).status_code == 401
    # the catalogue, for anyone signed in
    listed = client.get(
        "/api/v1/purchasing/catalogue?establishment=EST-A", headers=token(client, shop.family)
    )
    assert listed.status_code == 200 and listed.json["total"] == 6
    item = listed.json["items"][0]
    assert {"id", "name", "category", "price", "available"} <= set(item)
    assert (
        client.get("/api/v1/purchasing/catalogue", headers=token(client, shop.family)).status_code
        == 422
    )
    assert client.get("/api/v1/purchasing/catalogue?establishment=EST-A").status_code == 401
    paged = client.get(
        "/api/v1/purchasing/catalogue?establishment=EST-A&per_page=2&page=2",
        headers=token(client, shop.family),
    ).json
    assert paged["page"] == 2 and len(paged["items"]) == 2
    assert (
        client.get(
            "/api/v1/purchasing/catalogue?establishment=EST-A&per_page=1000",
            headers=token(client, shop.family),
        ).status_code
        == 400
    )


def test_bad_order_bodies_are_4xx(app, client, shop):
    family = token(client, shop.family)
    for body in (
        {},
        {"detainee": shop.rn, "items": [], "payment": "agency"},
        {"detainee": shop.rn, "items": [{"product_id": 0, "quantity": 1}], "payment": "agency"},
        {"detainee": shop.rn, "items": [{"product_id": 2**40, "quantity": 1}], "payment": "agency"},
        {
            "detainee": shop.rn,
            "items": [{"product_id": 1, "quantity": 10**12}],
            "payment": "agency",
        },
        {"detainee": "\u0000", "items": [{"product_id": 1, "quantity": 1}], "payment": "agency"},
        {
            "detainee": shop.rn,
            "items": [{"product_id": shop.products["Savon"], "quantity": 1}],
            "payment": "cash",
        },
        {
            "detainee": shop.rn,
            "items": [{"product_id": shop.products_b["Savon"], "quantity": 1}],
            "payment": "agency",
        },
    ):
        resp = client.post(ORDERS, json=body, headers=family)
        assert 400 <= resp.status_code < 500 and resp.status_code != 409, (body, resp.json)
    malformed = client.post(
        ORDERS, data="{", headers={**family, "Content-Type": "application/json"}
    )
    assert malformed.status_code == 400


def test_an_idempotency_key_places_one_order(app, client, shop):
    headers = {**token(client, shop.family), "Idempotency-Key": "order-1"}
    first = client.post(ORDERS, json=order_body(shop, ("Savon", 1)), headers=headers)
    second = client.post(ORDERS, json=order_body(shop, ("Savon", 1)), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json["reference"] == second.json["reference"]
    with app.app_context():
        assert session().scalar(select(func.count()).select_from(Order)) == 1
        assert stock_of(shop.products["Savon"]) == 49


def test_money_is_decimal_and_the_total_is_exact(app, shop):
    with app.app_context():
        product = session().get(Product, shop.products["Savon"])
        assert services.product_json(product)["price"] == "4.50"
        assert services.common.to_decimal(450) == Decimal("4.50")
        assert services.common.parse_money("٤٫٥٠") == 450
        assert services.common.parse_money("4.505") is None
        assert services.common.parse_money("1e3") is None
