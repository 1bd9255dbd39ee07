"""Issue 10 point 1: a family account cannot enumerate detainees through link requests.

A wrong registration number, a wrong birth date and a released detainee answer the same
``422 no_match``; the birth date is required; nothing but the typed number is shown until a
link is approved; link requests are rate-limited per account and per address.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db import session
from core.detainees.services import get_detainee, release
from core.errors import ValidationFailed
from core.principals import SYSTEM
from core.testing import TEST_PASSWORD
from plugins.visits import services
from plugins.visits.models import Relation

API = "/api/v1/visitors/me/relations"


def _login(client, user):
    resp = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert resp.status_code == 302


def _ask(client, headers, rn, birth, relationship="other_relative"):
    body = {"detainee": rn, "relationship": relationship, "detainee_birth_date": birth}
    return client.post(API, json=body, headers=headers)


def test_wrong_number_wrong_birth_and_released_answer_byte_identical(
    app, client, world, factories, api_headers
):
    with app.app_context():
        gone = factories.detainee("EST-A", first_name="Karim")
        gone_rn, gone_birth = gone.registration_number, gone.birth_date.isoformat()
        release(get_detainee(gone_rn, SYSTEM), SYSTEM)
        session().commit()
    headers = api_headers(world.stranger)
    answers = [
        _ask(client, headers, "2020-999999", world.birth.isoformat()),
        _ask(client, headers, world.rn, "1970-01-01"),
        _ask(client, headers, gone_rn, gone_birth),
    ]
    assert [r.status_code for r in answers] == [422, 422, 422]
    assert answers[0].json["error"]["code"] == "no_match"
    assert set(answers[0].json["error"]["fields"]) == {"detainee", "detainee_birth_date"}
    assert answers[0].get_data() == answers[1].get_data() == answers[2].get_data()
    with app.app_context():
        assert session().query(Relation).filter_by(visitor_id=world.stranger.id).count() == 0


def test_birth_date_is_required_everywhere(app, client, world, api_headers):
    resp = client.post(
        API,
        json={"detainee": world.rn, "relationship": "other_relative"},
        headers=api_headers(world.stranger),
    )
    assert resp.status_code == 422
    assert "detainee_birth_date" in resp.json["error"]["fields"]
    with app.app_context(), pytest.raises(ValidationFailed) as err:
        services.request_relation(
            session().get(type(world.stranger), world.stranger.id), world.rn, "spouse"
        )
    assert "detainee_birth_date" in err.value.fields
    _login(client, world.stranger)
    page = client.post("/visits/relatives", data={"detainee": world.rn, "relationship": "spouse"})
    assert page.status_code == 422
    with app.app_context():
        assert session().query(Relation).filter_by(visitor_id=world.stranger.id).count() == 0


def test_pending_link_shows_only_the_typed_number(app, client, world, factories, api_headers):
    headers = api_headers(world.stranger)
    assert _ask(client, headers, world.rn, world.birth.isoformat()).status_code == 201
    for resp in (
        _ask(client, headers, world.rn, world.birth.isoformat()),  # 409 relation_exists
        client.get(API, headers=headers),
    ):
        text = resp.get_data(as_text=True)
        assert "Idrissi" not in text and "الإدريسي" not in text and "EST-A" not in text
    listed = client.get(API, headers=headers).json["items"]
    assert listed[0]["detainee"] == world.rn and listed[0]["status"] == "pending"
    _login(client, world.stranger)
    for lang in ("fr", "ar", "en"):
        page = client.get(f"/visits/relatives?lang={lang}").get_data(as_text=True)
        assert world.rn in page
        assert "Idrissi" not in page and "الإدريسي" not in page and "Mohamed" not in page
    # once approved, the family sees whom they are linked to
    with app.app_context():
        rel = session().scalar(select(Relation).where(Relation.visitor_id == world.stranger.id))
        officer = factories.user("visits_officer", ("EST-A",))
        services.decide_relation(officer, rel.id, True)
        session().commit()
    page = client.get("/visits/relatives?lang=fr").get_data(as_text=True)
    assert "Idrissi" in page


def test_rejection_notice_does_not_name_the_detainee(app, world, factories):
    from core.notifications.models import OutboxMessage

    with app.app_context():
        officer = factories.user("visits_officer", ("EST-A",))
        visitor = session().get(type(world.stranger), world.stranger.id)
        rel = services.request_relation(visitor, world.rn, "spouse", world.birth.isoformat())
        services.decide_relation(officer, rel.id, False, "Lien non prouvé")
        session().flush()
        notes = (
            session()
            .scalars(select(OutboxMessage).where(OutboxMessage.kind == "visits.relation.rejected"))
            .all()
        )
        assert notes
        for n in notes:
            assert "Idrissi" not in n.subject + n.body and "الإدريسي" not in n.subject + n.body
            assert world.rn in n.subject + n.body


def test_link_requests_are_rate_limited_per_account(app, client, world, api_headers, monkeypatch):
    monkeypatch.setitem(app.config, "VISITS_RELATION_RATE_LIMIT", "3 per hour")
    headers = api_headers(world.stranger)
    codes = [_ask(client, headers, f"2020-99999{i}", "1990-01-01").status_code for i in range(4)]
    assert codes == [422, 422, 422, 429]
    blocked = _ask(client, headers, world.rn, world.birth.isoformat())
    assert blocked.status_code == 429 and blocked.json["error"]["code"] == "too_many_requests"
    # the page shares the account's counter and says so with a message
    _login(client, world.stranger)
    page = client.post(
        "/visits/relatives?lang=en",
        data={
            "detainee": world.rn,
            "detainee_birth_date": world.birth.isoformat(),
            "relationship": "spouse",
        },
    )
    assert page.status_code == 429
    assert "Too many link requests" in page.get_data(as_text=True)
    with app.app_context():
        assert session().query(Relation).filter_by(visitor_id=world.stranger.id).count() == 0


def test_link_requests_are_rate_limited_per_address(
    app, client, world, factories, api_headers, monkeypatch
):
    monkeypatch.setitem(app.config, "VISITS_RELATION_ADDRESS_RATE_LIMIT", "4 per hour")
    with app.app_context():
        others = [factories.visitor() for _ in range(2)]
    codes = []
    for user in others:
        headers = api_headers(user)
        codes += [_ask(client, headers, "2020-999999", "1990-01-01").status_code for _ in range(2)]
    assert codes == [422] * 4
    assert (
        _ask(client, api_headers(world.stranger), world.rn, world.birth.isoformat()).status_code
        == 429
    )
