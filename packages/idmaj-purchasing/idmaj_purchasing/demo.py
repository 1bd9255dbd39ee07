"""Demo data for ``idmaj demo seed``: a shop at each establishment, a canteen manager, and the
demo families' orders in every state (so the pages, the day's list and the figures show
something on the day the demo is made). Everything goes through the services."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.errors import DomainError
from core.identity.models import User
from core.identity.services import create_user
from core.ports import has_port, port
from core.ports.visits import FAMILY_LINKS, FamilyLinks
from core.principals import SYSTEM
from idmaj_purchasing import services

PASSWORD = "idmaj-demo-2026"
PRODUCTS = [
    # name_fr, name_ar, category, unit, price, stock, max per week
    ("Thé vert (200 g)", "شاي أخضر (200 غ)", "food", "pack", "12.50", 120, 4),
    ("Sucre en morceaux (1 kg)", "سكر قالب (1 كغ)", "food", "pack", "9.00", 150, 4),
    ("Dattes Mejhoul (500 g)", "تمر المجهول (500 غ)", "food", "g500", "35.00", 40, 2),
    ("Biscuits", "بسكويت", "food", "pack", "6.00", 200, 10),
    ("Lait UHT (1 l)", "حليب (1 لتر)", "drinks", "litre", "7.50", 100, 7),
    ("Eau minérale (1,5 l)", "ماء معدني (1.5 لتر)", "drinks", "piece", "6.00", 300, 14),
    ("Savon de Marseille", "صابون مارسيليا", "hygiene", "piece", "4.50", 250, 6),
    ("Dentifrice", "معجون الأسنان", "hygiene", "piece", "11.00", 80, 2),
    ("Brosse à dents", "فرشاة الأسنان", "hygiene", "piece", "8.00", 60, 2),
    ("Serviette de bain", "منشفة", "clothing", "piece", "45.00", 20, 1),
    ("Cahier 96 pages", "دفتر 96 صفحة", "stationery", "piece", "8.00", 90, 5),
    ("Carte téléphonique 20 DH", "بطاقة هاتفية 20 درهم", "phone_cards", "piece", "20.00", 18, 2),
]


def seed(context: Any) -> None:
    sess = context.session
    shops = [e for e in context.establishments if e.code in ("CAS-AS", "CAS-OK")] or list(
        context.establishments[:1]
    )
    for est in shops:
        for fr, ar, category, unit, price, stock, cap in PRODUCTS:
            services.add_product(
                {
                    "establishment": est.code,
                    "name_fr": fr,
                    "name_ar": ar,
                    "category": category,
                    "unit": unit,
                    "price": price,
                    "stock": stock,
                    "max_per_week": cap,
                },
                SYSTEM,
            )
    if shops:
        create_user(
            username="canteen",
            password=PASSWORD,
            full_name="Mustapha Cantine",
            roles=["canteen_manager"],
            establishments=[shops[0].code],
            actor=SYSTEM,
        )
        context.logins.append(("canteen", PASSWORD, "canteen_manager (remote purchasing)"))
    sess.flush()
    if not has_port(FAMILY_LINKS, FamilyLinks):
        return
    links = port(FAMILY_LINKS, FamilyLinks)
    names = ["family"] + [f"family{i}" for i in range(1, 6)]
    families = [u for u in sess.scalars(select(User).where(User.username.in_(names)))]
    families.sort(key=lambda u: names.index(u.username))
    for n, family in enumerate(families):
        for det in links.linked_detainees(family)[:1]:
            if det.is_released:
                continue
            _orders_for(family, det, n)
    sess.flush()


def _orders_for(family: User, det: Any, n: int) -> None:
    products, _total = services.catalogue(det.establishment_id)
    if not products:
        return
    pick = [p for p in products if p.category in ("food", "hygiene", "drinks")]

    def place(*indexes: int) -> Any:
        items = [{"product_id": pick[i % len(pick)].id, "quantity": 1 + i % 2} for i in indexes]
        try:
            return services.place_order(family, det.registration_number, items, "agency")
        except DomainError:
            return None

    def pay(order: Any) -> None:
        if order is None:
            return
        csv = f"reference,amount\n{order.pay_reference},{services.money(order.total_centimes)}\n"
        services.import_settlement(
            order.establishment_id, csv.encode(), f"agence-demo-{order.reference}.csv", SYSTEM
        )

    if n == 0:
        # the printed demo family: one of each step, from waiting to delivered
        place(0, 1)  # awaiting payment at an agency
        paid = place(2, 3)
        pay(paid)
        prepared = place(4)
        pay(prepared)
        if prepared is not None:
            services.prepare(prepared, SYSTEM)
        done = place(5, 6)
        pay(done)
        if done is not None:
            services.prepare(done, SYSTEM)
            services.deliver(done, SYSTEM, proof="signature", signed=True)
    else:
        order = place(n, n + 2)
        if n % 2:
            pay(order)
