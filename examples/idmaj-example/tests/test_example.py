"""The canteen catalogue: page, API, permissions, bad input, translations, demo data."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po
from idmaj_example.models import ExampleItem
from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.db import session

GOOD = {"name": "Savon", "price": "4.50", "category": "hygiene"}


def _items(app) -> int:
    with app.app_context():
        return session().scalar(select(func.count()).select_from(ExampleItem)) or 0


def test_page_lists_and_adds_items(app, client, login_as):
    login_as("accountant")
    assert client.get("/example/").status_code == 200
    resp = client.post("/example/", data=GOOD)
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Savon" in page and "4.50" in page
    with app.app_context():
        actions = session().scalars(select(AuditEvent.action)).all()
    assert "example.item.add" in actions


def test_page_permissions(app, client, login_as):
    assert client.get("/example/").status_code == 302  # anonymous: sign in first
    assert client.post("/example/", data=GOOD).status_code == 302
    login_as("registry_clerk", "EST-B")  # may read the catalogue, of any establishment
    page = client.get("/example/").get_data(as_text=True)
    assert "Add to the catalogue" not in page
    assert client.post("/example/", data=GOOD).status_code == 403
    assert _items(app) == 0


def test_nurse_does_not_see_the_catalogue_nor_its_menu_entry(client, login_as):
    login_as("nurse")
    assert client.get("/example/").status_code == 403
    assert 'href="/example/"' not in client.get("/dashboard").get_data(as_text=True)


def test_menu_entry_for_holders(client, login_as):
    login_as("director")
    assert 'href="/example/"' in client.get("/dashboard").get_data(as_text=True)


def test_page_bad_input_is_refused_with_localised_messages(app, client, login_as):
    login_as("accountant")
    resp = client.post(
        "/example/?lang=fr", data={"name": "", "price": "douze", "category": "weapons"}
    )
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "Ce champ est obligatoire." in body
    assert "Saisissez un prix entre 0.01 et 1000.00 MAD" in body
    assert "Choisissez une catégorie du catalogue." in body
    assert _items(app) == 0


def test_api(app, client, factories, api_headers):
    with app.app_context():
        accountant = factories.user("accountant", ("EST-A",))
        nurse = factories.user("nurse", ("EST-A",))
    headers = api_headers(accountant)
    made = client.post("/api/v1/example/items", json=GOOD, headers=headers)
    assert made.status_code == 201
    assert made.json["price"] == "4.50" and made.json["category"] == "hygiene"
    again = client.post("/api/v1/example/items", json=GOOD, headers=headers)
    assert again.status_code == 409
    assert again.json["error"]["code"] == "duplicate_item"
    listed = client.get("/api/v1/example/items", headers=headers)
    assert [i["name"] for i in listed.json["items"]] == ["Savon"]
    assert client.get("/api/v1/example/items").status_code == 401
    assert client.get("/api/v1/example/items", headers=api_headers(nurse)).status_code == 403
    bad = client.post(
        "/api/v1/example/items",
        json={"name": "x", "price": 12, "category": "food"},
        headers=headers,
    )
    assert bad.status_code == 422 and "price" in bad.json["error"]["fields"]
    malformed = client.post(
        "/api/v1/example/items", data="{", headers={**headers, "Content-Type": "application/json"}
    )
    assert malformed.status_code == 400
    assert _items(app) == 1


def test_catalogs_are_complete():
    root = Path(__file__).resolve().parents[1] / "idmaj_example" / "translations"
    for lang in ("ar", "fr", "en"):
        with (root / lang / "LC_MESSAGES" / "example.po").open("rb") as fh:
            catalog = read_po(fh)
        missing = [m.id for m in catalog if m.id and (m.fuzzy or not m.string)]
        assert missing == [], (lang, missing)


def test_demo_seed_adds_catalogue_items(app):
    from core import demo

    with app.app_context():
        demo.seed(detainees=2, seed_value=1)
        names = session().scalars(select(ExampleItem.name)).all()
        session().rollback()
    assert "Savon de Marseille" in names
