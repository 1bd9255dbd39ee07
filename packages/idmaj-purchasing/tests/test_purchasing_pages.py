"""The pages: a family orders on its side (Arabic first), the shop works on its own; who may
open what (each role, own and other establishment, anonymous, another family)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from idmaj_purchasing import services
from idmaj_purchasing.models import Order
from idmaj_purchasing.tests_support import sign_in, stock_of
from sqlalchemy import select

from core.db import session
from core.principals import SYSTEM


def place(app: Any, shop: Any, payment: str = "agency") -> Order:
    with app.app_context():
        from core.identity.models import User

        family = session().get(User, shop.family.id)
        order = services.place_order(
            family, shop.rn, [{"product_id": shop.products["Savon"], "quantity": 2}], payment
        )
        session().commit()
        return order.reference


def test_a_family_orders_from_its_phone_in_arabic(app, shop):
    client = sign_in(app, shop.family)
    home = client.get("/shop/?lang=ar").get_data(as_text=True)
    assert 'lang="ar"' in home and "الشراء لفائدة معتقل" in home
    assert f"/shop/for/{shop.rn}" in home
    page = client.get(f"/shop/for/{shop.rn}").get_data(as_text=True)
    assert "Savon (ar)" in page and "المتبقي هذا الأسبوع" in page
    tea, soap = shop.products["Thé vert"], shop.products["Savon"]
    bad = client.post(f"/shop/for/{shop.rn}", data={f"q{tea}": "beaucoup"})
    assert bad.status_code == 422 and "أدخل كمية من 0 إلى 50." in bad.get_data(as_text=True)
    empty = client.post(f"/shop/for/{shop.rn}", data={f"q{tea}": ""})
    assert empty.status_code == 422
    filled = client.post(f"/shop/for/{shop.rn}", data={f"q{tea}": "٢", f"q{soap}": "1"})
    assert filled.status_code == 302 and filled.headers["Location"].endswith("/cart")
    cart = client.get(f"/shop/for/{shop.rn}/cart").get_data(as_text=True)
    assert "الأداء لدى وكالة أداء" in cart and "29,50" in cart
    token = re.search(r'name="form_token" type="hidden" value="([^"]+)"', cart).group(1)
    done = client.post(f"/shop/for/{shop.rn}/cart", data={"payment": "agency", "form_token": token})
    assert done.status_code == 302
    again = client.post(
        f"/shop/for/{shop.rn}/cart", data={"payment": "agency", "form_token": token}
    )
    assert again.status_code in (302, 303)  # a double click orders once
    with app.app_context():
        orders = session().scalars(select(Order)).all()
        assert len(orders) == 1 and stock_of(tea) == 28
        ref = orders[0].reference
    order_page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert (
        ref in order_page
        and "في انتظار الأداء" in order_page
        and 'id="pay-reference"' in order_page
    )
    mine = client.get("/shop/orders").get_data(as_text=True)
    assert ref in mine
    cancelled = client.post(f"/shop/orders/{ref}/cancel")
    assert cancelled.status_code == 302
    assert "ملغاة" in client.get(f"/shop/orders/{ref}").get_data(as_text=True)
    with app.app_context():
        assert stock_of(tea) == 30


def test_family_pages_are_the_family_s_own(app, shop):
    ref = place(app, shop)
    stranger = sign_in(app, shop.stranger)
    assert stranger.get(f"/shop/orders/{ref}").status_code == 404
    assert stranger.post(f"/shop/orders/{ref}/cancel").status_code == 404
    assert stranger.get(f"/shop/for/{shop.rn}").status_code == 404
    assert stranger.get("/shop/for/1999-000001").status_code == 404
    anonymous = app.test_client()
    for path in ("/shop/", f"/shop/for/{shop.rn}", f"/shop/orders/{ref}", "/shop/orders"):
        assert anonymous.get(path).status_code == 302
    manager = sign_in(app, shop.manager)
    assert manager.get("/shop/").status_code == 403
    assert manager.get(f"/shop/orders/{ref}").status_code == 403


STAFF_PAGES = [
    "/purchasing/",
    "/purchasing/daily",
    "/purchasing/catalogue",
    "/purchasing/settlements",
    "/purchasing/figures",
]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("canteen_manager", 200),
        ("director", 200),
        ("central_admin", 200),
        ("auditor", 200),
        ("accountant", 200),
        ("nurse", 403),
        ("registry_clerk", 403),
        ("visits_officer", 403),
    ],
)
def test_staff_pages_by_role(app, client, login_as, role, status, shop):
    login_as(role, "EST-A")
    for path in STAFF_PAGES:
        assert client.get(path).status_code == status, path
    ref = place(app, shop)
    assert client.get(f"/purchasing/orders/{ref}").status_code == status
    may_act = role in ("canteen_manager", "director")
    acted = client.post(f"/purchasing/orders/{ref}/cancel")
    assert acted.status_code == (302 if may_act else 403)
    may_rule = role in ("director", "central_admin")
    assert client.get("/purchasing/rules").status_code == (200 if may_rule else 403)


def test_staff_pages_of_another_establishment(app, shop):
    ref = place(app, shop)
    other = sign_in(app, shop.manager_b)
    assert other.get(f"/purchasing/orders/{ref}").status_code == 404
    assert other.post(f"/purchasing/orders/{ref}/prepare").status_code == 404
    assert ref not in other.get("/purchasing/").get_data(as_text=True)
    assert other.get(f"/purchasing/products/{shop.products['Savon']}").status_code == 404
    anonymous = app.test_client()
    for path in [*STAFF_PAGES, f"/purchasing/orders/{ref}"]:
        assert anonymous.get(path).status_code == 302


def test_the_shop_prepares_and_delivers_from_its_pages(app, shop):
    ref = place(app, shop)
    with app.app_context():
        order = session().scalar(select(Order).where(Order.reference == ref))
        services.import_settlement(
            order.establishment_id,
            f"reference,amount\n{order.pay_reference},9.00\n".encode(),
            "a.csv",
            SYSTEM,
        )
        session().commit()
    client = sign_in(app, shop.manager)
    daily = client.get("/purchasing/daily?lang=fr").get_data(as_text=True)
    assert ref in daily and "Bâtiment inconnu" in daily and "1 commande à préparer" in daily
    assert client.post(f"/purchasing/orders/{ref}/prepare").status_code == 302
    page = client.get(f"/purchasing/orders/{ref}?lang=fr").get_data(as_text=True)
    assert "Préparée" in page and 'id="pin"' in page
    unsigned = client.post(f"/purchasing/orders/{ref}/deliver?lang=fr", data={"proof": "signature"})
    assert unsigned.status_code == 422
    assert "Confirmez que le détenu a signé le bon." in unsigned.get_data(as_text=True)
    signed = client.post(
        f"/purchasing/orders/{ref}/deliver", data={"proof": "signature", "signed": "y"}
    )
    assert signed.status_code == 302
    assert "Remise" in client.get(f"/purchasing/orders/{ref}?lang=fr").get_data(as_text=True)


def test_catalogue_pages_add_and_change_products(app, shop):
    client = sign_in(app, shop.manager)
    bad = client.post(
        "/purchasing/catalogue?lang=fr",
        data={
            "establishment": "EST-A",
            "name_fr": "",
            "category": "x",
            "unit": "piece",
            "price": "abc",
            "stock": "-1",
        },
    )
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert "Saisissez un prix entre 0.01 et 10000.00 MAD, par exemple 12.50." in body
    made = client.post(
        "/purchasing/catalogue",
        data={
            "establishment": "EST-A",
            "name_fr": "Lait",
            "name_ar": "حليب",
            "category": "drinks",
            "unit": "litre",
            "price": "7,50",
            "stock": "12",
            "max_per_week": "7",
        },
    )
    assert made.status_code == 302
    pid = shop.products["Savon"]
    changed = client.post(
        f"/purchasing/products/{pid}",
        data={
            "name_fr": "Savon",
            "name_ar": "صابون",
            "category": "hygiene",
            "unit": "piece",
            "price": "5.00",
            "max_per_week": "6",
            "add_stock": "10",
            "available": "y",
        },
    )
    assert changed.status_code == 302
    with app.app_context():
        assert stock_of(pid) == 60
    page = client.get("/purchasing/catalogue").get_data(as_text=True)
    assert "Lait" in page and "5,00" in page


def test_settlement_page_lists_every_kind_of_line(app, shop):
    ref = place(app, shop)
    with app.app_context():
        pay = session().scalar(select(Order.pay_reference).where(Order.reference == ref))
    client = sign_in(app, shop.manager)
    csv = f"reference,amount\n{pay},9.00\n{pay},9.00\n000000000000,3.00\nabc,\n".encode()
    resp = client.post(
        "/purchasing/settlements?lang=fr",
        data={"establishment": "EST-A", "file": (io.BytesIO(csv), "agence.csv")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    report = client.get(resp.headers["Location"] + "?lang=fr").get_data(as_text=True)
    for words in ("Payée", "Déjà payée (ligne en double)", "Référence inconnue", "Ligne illisible"):
        assert words in report
    bad = client.post(
        "/purchasing/settlements?lang=fr",
        data={"establishment": "EST-A", "file": (io.BytesIO(b"x;y\n1;2\n"), "bad.csv")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422
    assert "La première ligne doit nommer les colonnes reference et amount." in bad.get_data(
        as_text=True
    )
    auditor_client = sign_in(app, _user(app, "auditor"))
    assert (
        auditor_client.post(
            "/purchasing/settlements",
            data={"establishment": "EST-A", "file": (io.BytesIO(csv), "agence.csv")},
            content_type="multipart/form-data",
        ).status_code
        == 403
    )


def _user(app: Any, role: str) -> Any:
    from core.testing import Factories

    with app.app_context():
        return Factories(app).user(role, ("EST-A",))


def test_rules_and_restrictions_pages(app, shop):
    director = sign_in(app, _user(app, "director"))
    saved = director.post(
        "/purchasing/rules?establishment=EST-A",
        data={"weekly_cap": "300.00", "payment_hours": "24", "forbidden_categories": ["tobacco"]},
    )
    assert saved.status_code == 302
    bad = director.post(
        "/purchasing/rules?establishment=EST-A",
        data={"weekly_cap": "-3", "payment_hours": "0"},
    )
    assert bad.status_code == 422
    with app.app_context():
        from core.detainees.models import Detainee

        rules = services.rules_for(session().get(Detainee, shop.det.id).establishment_id)
        assert rules.weekly_cap_centimes == 30000 and rules.forbidden_categories == "tobacco"
    added = director.post(
        f"/purchasing/detainees/{shop.rn}/restrictions",
        data={"category": "food", "reason": "Régime"},
    )
    assert added.status_code == 302
    profile = director.get(f"/detainees/{shop.rn}?lang=fr").get_data(as_text=True)
    assert (
        "Commandes de la boutique" in profile and "Alimentation" in profile and "Tabac" in profile
    )
    manager = sign_in(app, shop.manager)
    assert manager.get(f"/purchasing/detainees/{shop.rn}/restrictions").status_code == 403
    assert manager.post("/purchasing/rules", data={"weekly_cap": "1"}).status_code == 403


def test_dashboard_widget_and_navigation(app, shop):
    place(app, shop)
    manager = sign_in(app, shop.manager)
    board = manager.get("/dashboard?lang=fr").get_data(as_text=True)
    assert "Commandes de la boutique" in board and 'href="/purchasing/"' in board
    nurse = sign_in(app, _user(app, "nurse"))
    board = nurse.get("/dashboard").get_data(as_text=True)
    assert 'href="/purchasing/"' not in board and "purchasing-to-prepare" not in board
    family = sign_in(app, shop.family)
    assert 'href="/shop/"' in family.get("/shop/").get_data(as_text=True)


def test_the_profile_panel_reads_rules_and_restrictions_once(app, shop):
    """The panel's week, forbidden categories and restrictions share one read of the shop
    rules and one of the detainee's restrictions; the figures shown stay right."""
    from core.testing import sql_statements

    director = sign_in(app, _user(app, "director"))
    director.post(
        "/purchasing/rules?establishment=EST-A",
        data={"weekly_cap": "300.00", "payment_hours": "24", "forbidden_categories": ["tobacco"]},
    )
    director.post(
        f"/purchasing/detainees/{shop.rn}/restrictions",
        data={"category": "food", "reason": "Régime"},
    )
    ref = place(app, shop)
    resp, seen = sql_statements(app, lambda: director.get(f"/detainees/{shop.rn}?lang=fr"))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Alimentation" in page and "Tabac" in page and "Commandes de la boutique" in page
    assert "300,00" in page  # the weekly cap the director set
    assert sum("FROM purchasing_rules" in s for s in seen) == 1
    assert sum("FROM purchasing_restrictions" in s for s in seen) == 1
    # one order, under the panel's five: its total is known without a COUNT
    assert not any("count(" in s.lower() and "purchasing_orders" in s for s in seen)
    # the panel shows the week's value only: no per-product quantities are read
    assert not any("purchasing_order_lines" in s for s in seen)
    # the detainee's orders: the four columns shown, no detainee (nor its establishment) joined
    orders = [s for s in seen if "FROM purchasing_orders" in s and "sum(" not in s]
    assert len(orders) == 1 and "core_detainees" not in orders[0], orders
    assert orders[0].startswith(
        "SELECT purchasing_orders.reference, purchasing_orders.placed_at, "
        "purchasing_orders.total_centimes, purchasing_orders.status FROM"
    )
    assert ref in page
    with app.app_context():
        spent = session().scalar(select(Order.total_centimes).where(Order.reference == ref))
    left = f"{(300_00 - spent) / 100:.2f}".replace(".", ",")
    assert f"{left} MAD" in page and "300,00 MAD" in page


def test_the_panels_orders_are_the_shop_list_of_the_detainee_for_every_reader(app, shop):
    """``detainee_orders`` (statements built once, for the profile panel) gives what the shop
    list filtered on the detainee gives: the newest first, the total counted when the page
    is full, nothing for staff of another establishment."""
    from core.identity.models import User
    from core.testing import Factories

    refs = [place(app, shop) for _ in range(3)]
    with app.app_context():
        factories = Factories(app)
        factories.establishment("EST-B")
        readers = {
            "director": factories.user("director", ("EST-A",)).id,
            "central_admin": factories.user("central_admin", ()).id,
            "elsewhere": factories.user("director", ("EST-B",)).id,
        }
        session().commit()
        for name, user_id in readers.items():
            user = session().get(User, user_id)
            for limit in (2, 3, 5):
                got = services.detainee_orders(user, shop.det.id, limit=limit)
                want = services.shop_orders(
                    user, detainee_id=shop.det.id, per_page=limit, with_lines=False
                )
                assert ([o.reference for o in got[0]], got[1]) == (
                    [o.reference for o in want[0]],
                    want[1],
                ), (name, limit)
                if name == "elsewhere":
                    assert got == ([], 0)
                else:
                    assert got[1] == 3 and got[0][0].reference == refs[-1]
        nurse = session().get(User, factories.user("nurse", ("EST-A",)).id)
        with pytest.raises(Exception) as refused:
            services.detainee_orders(nurse, shop.det.id)
        assert refused.value.status == 403
