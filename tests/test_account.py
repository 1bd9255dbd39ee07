"""Families own their data (issue 10 point 3): edit name and phone, download everything held,
close the account; phone numbers validated; private files; failed sign-ins without the typed
name. The visits module's part is in ``plugins/visits/tests/test_visits_account.py``."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.testing import TEST_PASSWORD

API = "/api/v1"


def sign_in(client: Any, username: str, password: str = TEST_PASSWORD) -> Any:
    return client.post("/login", data={"username": username, "password": password})


def events(app: Any, action: str | None = None) -> list[Any]:
    from core.audit.models import AuditEvent
    from core.db import session

    with app.app_context():
        stmt = select(AuditEvent).order_by(AuditEvent.id)
        if action is not None:
            stmt = stmt.where(AuditEvent.action == action)
        found = list(session().scalars(stmt))
        session().expunge_all()
        return found


def reload(app: Any, user_id: int) -> Any:
    from core.db import session
    from core.identity.models import User

    with app.app_context():
        user = session().get(User, user_id)
        _ = user.roles
        session().expunge(user)
        return user


# --------------------------------------------------------------------------------------------
# editing one's name and phone
# --------------------------------------------------------------------------------------------


def test_family_edits_name_and_phone_stored_in_e164(app, client, factories):
    with app.app_context():
        family = factories.visitor(full_name="Fatima Benali")
    assert sign_in(client, family.username).status_code == 302
    page = client.get("/account")
    assert page.status_code == 200
    assert "06 12 34 56 78" in page.get_data(as_text=True)  # shown in the national format

    resp = client.post("/account", data={"full_name": "Fatima Z. Benali", "phone": "0661 22 33 44"})
    assert resp.status_code == 302
    user = reload(app, family.id)
    assert (user.full_name, user.phone) == ("Fatima Z. Benali", "+212661223344")
    updates = events(app, "user.profile.update")
    assert updates[-1].summary == {"fields": ["full_name", "phone"]}
    assert "661" not in json.dumps(updates[-1].summary)  # field names only, never values

    bad = client.post("/account", data={"full_name": "Fatima", "phone": "call me maybe"})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'id="phone-error"' in html
    assert reload(app, family.id).phone == "+212661223344"
    # a family keeps a phone number: the office's way to reach them
    assert client.post("/account", data={"full_name": "F", "phone": ""}).status_code == 422


def test_staff_edit_their_phone_and_may_leave_it_empty(app, client, factories):
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    sign_in(client, clerk.username)
    resp = client.post("/account", data={"full_name": "Clerk One", "phone": "+33 6 12 34 56 78"})
    assert resp.status_code == 302
    assert reload(app, clerk.id).phone == "+33612345678"
    assert client.post("/account", data={"full_name": "Clerk One", "phone": ""}).status_code == 302
    assert reload(app, clerk.id).phone is None
    # staff do not close their own account: the administration deactivates it
    assert client.get("/account/close").status_code == 403
    assert "/account/close" not in client.get("/account").get_data(as_text=True)


def test_account_pages_need_a_signed_in_user(client):
    for path in ("/account", "/account/data", "/account/data.json", "/account/close"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], path


@pytest.mark.parametrize(
    ("phone", "stored"),
    [
        ("0612345678", "+212612345678"),
        ("06 12 34 56 78", "+212612345678"),
        ("+212 5 22 12 34 56", "+212522123456"),
        ("00212612345678", "+212612345678"),
        ("+33612345678", "+33612345678"),
    ],
)
def test_registration_stores_valid_phones_in_e164(app, client, phone, stored):
    import uuid

    body = {
        "username": f"famille{uuid.uuid4().hex[:8]}",
        "password": "un-mot-de-passe-long",
        "full_name": "Fatima Zahra Alaoui",
        "national_id": "BE123456",
        "phone": phone,
    }
    resp = client.post(f"{API}/visitors/register", json=body)
    assert resp.status_code == 201, resp.json
    assert reload(app, resp.json["id"]).phone == stored


@pytest.mark.parametrize("phone", ["12345", "0612", "061234567890123", "+999123456", "06-AB"])
def test_registration_refuses_invalid_phones(client, phone):
    import uuid

    body = {
        "username": f"famille{uuid.uuid4().hex[:8]}",
        "password": "un-mot-de-passe-long",
        "full_name": "Fatima Zahra Alaoui",
        "national_id": "BE123456",
        "phone": phone,
    }
    resp = client.post(f"{API}/visitors/register", json=body)
    assert resp.status_code == 422
    assert set(resp.json["error"]["fields"]) == {"phone"}
    page = client.post("/register", data=body)
    assert page.status_code == 422
    assert 'id="phone-error"' in page.get_data(as_text=True)


def test_api_me_reads_and_edits_the_family_account(app, client, factories, api_headers):
    with app.app_context():
        family = factories.visitor(full_name="Fatima Benali")
        clerk = factories.user("registry_clerk", ("EST-A",))
    headers = api_headers(family)
    got = client.get(f"{API}/visitors/me", headers=headers)
    assert got.status_code == 200
    assert got.json["phone"] == "+212612345678" and got.json["full_name"] == "Fatima Benali"
    patched = client.patch(f"{API}/visitors/me", headers=headers, json={"phone": "0522123456"})
    assert patched.status_code == 200 and patched.json["phone"] == "+212522123456"
    assert patched.json["full_name"] == "Fatima Benali"  # untouched when not sent
    bad = client.patch(f"{API}/visitors/me", headers=headers, json={"phone": "nope"})
    assert bad.status_code == 422 and set(bad.json["error"]["fields"]) == {"phone"}
    unknown = client.patch(f"{API}/visitors/me", headers=headers, json={"national_id": "X1"})
    assert unknown.status_code in (400, 422)
    assert client.get(f"{API}/visitors/me").status_code == 401
    staff = api_headers(clerk)
    for method, path, body in (
        ("get", "/visitors/me", None),
        ("patch", "/visitors/me", {"phone": "0612345678"}),
        ("get", "/visitors/me/export", None),
        ("post", "/visitors/me/close", {"password": TEST_PASSWORD}),
    ):
        resp = getattr(client, method)(f"{API}{path}", headers=staff, json=body)
        assert resp.status_code == 403, (method, path)
        assert getattr(client, method)(f"{API}{path}", json=body).status_code == 401
    assert reload(app, clerk.id).is_active


# --------------------------------------------------------------------------------------------
# downloading what is held
# --------------------------------------------------------------------------------------------


def test_download_holds_the_family_data_and_nobody_elses(app, client, factories, api_headers):
    with app.app_context():
        family = factories.visitor(full_name="Fatima Benali", national_id="BE777001")
        other = factories.visitor(full_name="Autre Famille", national_id="BE777002")
    sign_in(client, family.username)
    resp = client.get("/account/data.json")
    assert resp.status_code == 200
    assert resp.headers["Content-Disposition"].startswith("attachment")
    data = json.loads(resp.get_data(as_text=True))
    profile = data["sections"]["account.profile"][0]
    assert profile["full_name"] == "Fatima Benali"
    assert profile["national_id"] == "BE777001"
    assert profile["phone"] == "+212612345678"
    text = resp.get_data(as_text=True)
    assert "BE777002" not in text and "Autre Famille" not in text and other.username not in text
    assert "password_hash" not in text and "$argon2" not in text
    # the sign-in is part of their activity
    assert any(row["action"] == "user.login" for row in data["sections"]["account.activity"])

    page = client.get("/account/data")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Fatima Benali" in html and "BE777001" in html and "BE777002" not in html
    assert len(events(app, "user.data.export")) == 2

    api = client.get(f"{API}/visitors/me/export", headers=api_headers(family))
    assert api.status_code == 200
    assert api.json["sections"]["account.profile"][0]["national_id"] == "BE777001"


# --------------------------------------------------------------------------------------------
# closing the account
# --------------------------------------------------------------------------------------------


def test_closing_needs_the_password_and_erases_personal_details(app, client, factories):
    with app.app_context():
        family = factories.visitor(full_name="Fatima Benali", national_id="BE888001")
    sign_in(client, family.username)
    assert client.get("/account/close").status_code == 200
    wrong = client.post("/account/close", data={"password": "not-my-password"})
    assert wrong.status_code == 422
    assert 'id="password-error"' in wrong.get_data(as_text=True)
    assert reload(app, family.id).is_active
    assert not events(app, "user.account.close")

    copy = app.test_client()
    sign_in(copy, family.username)
    token = client.post(
        f"{API}/auth/token", json={"username": family.username, "password": TEST_PASSWORD}
    ).json["token"]

    resp = client.post("/account/close", data={"password": TEST_PASSWORD})
    assert resp.status_code == 302
    user = reload(app, family.id)
    assert not user.is_active
    assert user.username == f"~closed-{family.id}"
    assert user.full_name == f"~closed-{family.id}"
    assert (user.phone, user.email, user.national_id, user.locale) == (None, None, None, None)
    assert user.visitor_national_id is None  # the card is free for a new family account
    assert user.roles == {"visitor"}
    # every session and token ends; neither the old name nor the tombstone signs in
    assert copy.get("/account").status_code == 302
    assert (
        client.get(f"{API}/visitors/me", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )
    assert sign_in(client, family.username).status_code == 401
    assert sign_in(client, user.username).status_code in (401, 422)
    closing = events(app, "user.account.close")
    assert len(closing) == 1 and closing[0].object_id == str(family.id)
    assert closing[0].actor_username == user.username  # the closing event carries no name
    assert "BE888001" not in json.dumps(closing[0].summary)
    # the username is free again, but nobody can register the tombstone
    again = client.post(
        f"{API}/visitors/register",
        json={
            "username": family.username,
            "password": "un-mot-de-passe-long",
            "full_name": "Fatima Benali",
            "national_id": "BE888001",
            "phone": "0612345678",
        },
    )
    assert again.status_code == 201


def test_closing_through_the_api(app, client, factories, api_headers):
    with app.app_context():
        family = factories.visitor()
    headers = api_headers(family)
    bad = client.post(f"{API}/visitors/me/close", headers=headers, json={"password": "wrong-one!"})
    assert bad.status_code == 422 and set(bad.json["error"]["fields"]) == {"password"}
    ok = client.post(f"{API}/visitors/me/close", headers=headers, json={"password": TEST_PASSWORD})
    assert ok.status_code == 200 and ok.json == {"closed": True}
    assert client.get(f"{API}/visitors/me", headers=headers).status_code == 401
    assert reload(app, family.id).national_id is None


def test_closing_deletes_the_messages_addressed_to_the_family(app, client, factories):
    from core.db import session
    from core.identity.models import User
    from core.notifications.models import OutboxMessage
    from core.notifications.services import enqueue

    with app.app_context():
        family = factories.visitor()
        enqueue(
            user=session().get(User, family.id),
            kind="test.kind",
            subject="Subject",
            body="Your visit is tomorrow",
        )
        session().commit()
    sign_in(client, family.username)
    client.post("/account/close", data={"password": TEST_PASSWORD})
    with app.app_context():
        left = session().scalars(select(OutboxMessage).where(OutboxMessage.user_id == family.id))
        assert list(left) == []


# --------------------------------------------------------------------------------------------
# failed sign-ins record no typed username
# --------------------------------------------------------------------------------------------


def test_failed_sign_in_keeps_no_trace_of_what_was_typed(app, client, factories, caplog):
    caplog.set_level(logging.DEBUG)
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    secret = "Tr0ub4dor&3-my-real-password"
    before = len(events(app))
    # a password typed in the username box, then a wrong password for a real account
    assert sign_in(client, secret, "whatever-password").status_code == 401
    assert sign_in(client, clerk.username, "wrong-password").status_code == 401
    failed = events(app, "user.login.failed")
    assert len(events(app)) - before == 2 == len(failed)
    for event in events(app):
        dumped = json.dumps(
            [event.actor_username, event.object_id, event.summary], ensure_ascii=False
        ).lower()
        assert secret.lower() not in dumped
        assert "tr0ub4dor" not in dumped
    assert secret.lower() not in caplog.text.lower()
    unknown, known = failed
    assert unknown.object_id == "" and unknown.summary["known_account"] is False
    assert unknown.summary["typed"].startswith("hmac:")
    assert known.object_id == str(clerk.id) and known.summary == {"known_account": True}
    assert clerk.username not in json.dumps(known.summary)
    # the same text typed twice gives the same keyed hash (attempts can be grouped)
    sign_in(client, secret.upper(), "whatever-password")
    assert events(app, "user.login.failed")[-1].summary["typed"] == unknown.summary["typed"]


# --------------------------------------------------------------------------------------------
# files readable by their owner only
# --------------------------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_and_instance_files_are_private(tmp_path, monkeypatch):
    from core import migrate
    from core.app import create_app
    from core.audit import services as audit
    from core.audit.sealer import anchor_checkpoints, seal_all
    from core.db import session
    from core.principals import SYSTEM
    from core.tasks import get_queue
    from core.testing import FAST_HASH

    for name in (
        "IDMAJ_DATABASE_URL",
        "IDMAJ_SECRET_KEY",
        "IDMAJ_AUDIT_KEY",
        "IDMAJ_AUDIT_ANCHOR_FILE",
        "IDMAJ_TASKS_FILE",
        "IDMAJ_REDIS_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    previous = os.umask(0o022)  # a usual umask: files would be world-readable
    try:
        instance = tmp_path / "instance"
        app = create_app({"INSTANCE_PATH": str(instance), "PASSWORD_HASH_PARAMS": FAST_HASH})
        migrate.upgrade(app)
        with app.app_context():
            audit.record("test.event", "test", 1, actor=SYSTEM)
            session().commit()
            seal_all()
            anchor_checkpoints()
        get_queue(app).huey  # noqa: B018 — builds the SQLite task store
        app.extensions["idmaj.db"].dispose()
    finally:
        os.umask(previous)
    assert _mode(instance) == 0o700
    files = {p.name: _mode(p) for p in instance.iterdir() if p.is_file()}
    for name in ("idmaj.db", "secret_key", "audit_key", "audit-anchors.jsonl", "tasks.db"):
        assert files.get(name) == 0o600, (name, files)
    # SQLite's side files (WAL, shared memory) follow the database's mode
    assert all(mode == 0o600 for mode in files.values()), files


def test_an_existing_world_readable_database_is_narrowed(tmp_path):
    from core.db import make_engine

    path = tmp_path / "old.db"
    path.write_bytes(b"")
    path.chmod(0o644)
    engine = make_engine(f"sqlite:///{path}")
    engine.dispose()
    assert _mode(path) == 0o600
