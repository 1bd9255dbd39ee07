"""The platform's own booking reasons are stored as codes and shown in the reader's language
(issue 11 point 5): "cancelled by visitor" no longer shows in English on Arabic pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.db import session
from core.testing import TEST_PASSWORD
from plugins.visits.models import Booking
from plugins.visits.services import reason_label


def _login(client: Any, user: Any) -> None:
    resp = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert resp.status_code == 302


def test_a_visitor_cancellation_is_stored_as_a_code_and_shown_translated(
    app: Any, client: Any, world: Any
) -> None:
    _login(client, world.visitor)
    resp = client.post(
        "/visits/book", data={"detainee": world.rn, "slot_id": str(world.slot_id), "children": "0"}
    )
    assert resp.status_code == 302, resp.data[:2000]
    with app.app_context():
        ref = session().scalar(
            select(Booking.reference).where(Booking.visitor_id == world.visitor.id)
        )
    assert client.post(f"/visits/mine/{ref}/cancel", data={"confirm": "yes"}).status_code == 302
    with app.app_context():
        stored = session().scalar(select(Booking.reason).where(Booking.reference == ref))
    assert stored == "cancelled_by_visitor"
    page = client.get(f"/visits/mine/{ref}?lang=ar").get_data(as_text=True)
    assert 'lang="ar"' in page
    assert "cancelled by visitor" not in page and "cancelled_by_visitor" not in page
    assert "ألغاها الزائر" in page


def test_reason_labels_translate_codes_and_keep_a_person_s_words(app: Any) -> None:
    with app.test_request_context("/?lang=fr"):
        assert reason_label("cancelled_by_establishment") == "Annulée par l'établissement"
        assert reason_label("Panne d'électricité") == "Panne d'électricité"
        assert reason_label("") == ""
    with app.test_request_context("/?lang=ar"):
        assert reason_label("cancelled_by_visitor") == "ألغاها الزائر"
