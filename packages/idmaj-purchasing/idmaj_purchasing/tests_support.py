"""Small helpers for tests (this package's and any package extending it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.db import session
from core.principals import SYSTEM
from core.testing import TEST_PASSWORD
from idmaj_purchasing.models import Product


def stock_of(product_id: int) -> int:
    """The stock as stored now (not an ORM object's cached value)."""
    return int(session().scalar(select(Product.stock).where(Product.id == product_id)) or 0)


PRODUCTS = [
    # name, category, price, stock, cap
    ("Thé vert", "food", "12.50", 30, 5),
    ("Savon", "hygiene", "4.50", 50, 6),
    ("Cigarettes", "tobacco", "20.00", 10, 2),
    ("Dattes", "food", "35.00", 3, 3),
]


def token(client: Any, user: Any) -> dict[str, str]:
    resp = client.post(
        "/api/v1/auth/token", json={"username": user.username, "password": TEST_PASSWORD}
    )
    assert resp.status_code == 200, resp.json
    return {"Authorization": f"Bearer {resp.json['token']}"}


def link_through_visits(app: Any, visitor: Any, det: Any, officer: Any) -> None:
    """A family member asks the visits office for a link and the office approves it, through
    the public API (the way a family's app does it)."""
    client = app.test_client()
    asked = client.post(
        "/api/v1/visitors/me/relations",
        json={
            "detainee": det.registration_number,
            "detainee_birth_date": det.birth_date.isoformat(),
            "relationship": "parent",
        },
        headers=token(client, visitor),
    )
    assert asked.status_code == 201, asked.json
    approved = client.post(
        f"/api/v1/visits/relations/{asked.json['id']}/approve", headers=token(client, officer)
    )
    assert approved.status_code == 200, approved.json


def add_products(est_code: str) -> dict[str, int]:
    from idmaj_purchasing import services

    ids = {}
    for name, category, price, stock, cap in PRODUCTS:
        p = services.add_product(
            {
                "establishment": est_code,
                "name": name,
                "name_ar": f"{name} (ar)",
                "category": category,
                "price": price,
                "stock": stock,
                "max_per_week": cap,
            },
            SYSTEM,
        )
        ids[name] = p.id
    session().commit()
    return ids


def sign_in(app: Any, user: Any) -> Any:
    client = app.test_client()
    resp = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert resp.status_code == 302, resp.data[:300]
    return client


def fund(app: Any, rn: str, amount: str) -> None:
    """Money on the detainee's account, through the funds module's public API."""
    with app.app_context():
        from core.testing import Factories

        accountant = Factories(app).user("accountant", ("EST-A",))
    client = app.test_client()
    resp = client.post(
        f"/api/v1/funds/accounts/{rn}/deposits",
        json={"amount": amount, "source": "cash"},
        headers=token(client, accountant),
    )
    assert resp.status_code == 201, resp.json
