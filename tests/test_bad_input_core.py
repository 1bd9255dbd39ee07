"""Bad input on every core POST endpoint and every core form: always a 4xx (never a 500), a
clear field-tied message, and nothing half-written."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.db import session
from core.detainees.models import Detainee, LegalStatus, Placement
from core.establishments.models import Establishment
from core.identity.models import User
from core.security import EXTENSION_KEY

BAD_VALUES = [
    None,
    0,
    -1,
    10**40,
    1.5,
    True,
    "",
    " ",
    "x" * 100_000,
    "\x00",
    "\ud800",
    "<script>alert(1)</script>",
    "٣٤٥",
    [],
    ["a", 1],
    {},
    {"nested": {"deeper": [1, {"x": None}]}},
]

ENDPOINTS = {
    "/api/v1/auth/token": {"username": "someone", "password": "secret-password"},
    "/api/v1/establishments": {
        "code": "FZ-1",
        "name": "Prison locale Fuzz",
        "kind": "local_prison",
        "capacity": 100,
    },
    "/api/v1/users": {
        "username": "fuzzuser",
        "password": "a-long-password-123",
        "full_name": "Fuzz User",
        "roles": ["registry_clerk"],
        "establishments": ["EST-A"],
    },
    "/api/v1/visitors/register": {
        "username": "fuzzvisitor",
        "password": "a-long-password-123",
        "full_name": "Fuzz Visitor",
        "national_id": "BE654321",
        "phone": "0612345678",
    },
    "/api/v1/detainees": {
        "first_name": "Hamza",
        "last_name": "Ouazzani",
        "birth_date": "1988-08-08",
        "sex": "M",
        "national_id": "BK998877",
        "establishment": "EST-A",
        "legal_status": "pretrial",
    },
    "/api/v1/detainees/{rn}/release": {},
    "/api/v1/auth/revoke": {},
}

OPTIONAL = {"national_id", "establishments"}


@pytest.fixture
def no_rate_limit(app, monkeypatch):
    """Rate limits would answer 429 before validation runs: switch them off here."""
    monkeypatch.setitem(app.extensions[EXTENSION_KEY], "enabled", False)


@pytest.fixture
def fuzz_headers(app, factories, api_headers):
    """A user holding every core write permission (central_admin + registry_clerk)."""
    with app.app_context():
        user = factories.user(("central_admin", "registry_clerk"), ("EST-A",))
        rn = factories.detainee("EST-A").registration_number
    return api_headers(user), rn


def _counts() -> tuple[int, ...]:
    return tuple(
        session().scalar(select(func.count()).select_from(m)) or 0
        for m in (Detainee, Establishment, User, Placement)
    )


def _post(client, url, headers, payload=None, raw=None):
    data = raw if raw is not None else json.dumps(payload).encode()
    return client.post(url, data=data, content_type="application/json", headers=headers)


def _assert_4xx(resp, where):
    assert 400 <= resp.status_code < 500, (where, resp.status_code, resp.data[:300])
    error = resp.json["error"]
    assert error["code"] and isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    return error


@pytest.mark.parametrize("path", sorted(ENDPOINTS))
def test_fuzz_every_core_post_endpoint(app, client, no_rate_limit, fuzz_headers, path):
    headers, rn = fuzz_headers
    url = path.replace("{rn}", rn)
    good = ENDPOINTS[path]
    with app.app_context():
        before = _counts()
    # a whole body of the wrong kind
    for raw in (
        b"[]",
        b'["a"]',
        b"1",
        b'"x"',
        b"null",
        b"true",
        b"{",
        b"\xc3\x28\xa0\xa1",
        b'{"a": "\xff"}',
        b"[" * 50_000,
        b'{"a": ' * 50_000,
        b"\x00",
    ):
        resp = _post(client, url, headers, raw=raw)
        if good:
            _assert_4xx(resp, (path, raw[:20]))
        else:
            assert resp.status_code < 500
    if good:
        # each field given a wrong value, or missing; unknown fields
        for field in good:
            for value in BAD_VALUES:
                resp = _post(client, url, headers, {**good, field: value})
                assert resp.status_code < 500, (path, field, repr(value)[:40])
                if resp.status_code >= 400:
                    _assert_4xx(resp, (path, field, repr(value)[:40]))
            if field in OPTIONAL:
                continue
            missing = {k: v for k, v in good.items() if k != field}
            _assert_4xx(_post(client, url, headers, missing), (path, "missing", field))
        error = _assert_4xx(
            _post(client, url, headers, {**good, "unexpected": 1}), (path, "unknown")
        )
        assert "unexpected" in error["fields"]
        # every field of the wrong type at once: nothing may be written
        everything_wrong = {k: {"nested": [v]} for k, v in good.items()}
        _assert_4xx(_post(client, url, headers, everything_wrong), (path, "all wrong"))
    with app.app_context():
        after = _counts()
    if path in ("/api/v1/auth/token",):
        assert after == before


def test_lone_surrogates_and_nul_are_refused_before_the_database(
    app, client, no_rate_limit, fuzz_headers
):
    headers, _ = fuzz_headers
    good = ENDPOINTS["/api/v1/detainees"]
    with app.app_context():
        before = _counts()
    for value in ("Ha\x00mza", "Ha\ud800mza"):
        resp = _post(client, "/api/v1/detainees", headers, {**good, "first_name": value})
        _assert_4xx(resp, value)
    raw = b'{"first_name": "\\ud83d", "last_name": "x"}'
    _assert_4xx(_post(client, "/api/v1/detainees", headers, raw=raw), "escaped surrogate")
    with app.app_context():
        assert _counts() == before


# --------------------------------------------------------------------------------------------
# forms: 422, a message tied to the field, nothing written
# --------------------------------------------------------------------------------------------


ADMISSION = {
    "first_name": "Hamza",
    "last_name": "Ouazzani",
    "first_name_ar": "حمزة",
    "last_name_ar": "الوزاني",
    "birth_date": "1988-08-08",
    "sex": "M",
    "national_id": "BK998877",
    "establishment": "EST-A",
    "legal_status": "pretrial",
}


def assert_field_error(html: str, field: str) -> str:
    """The field's error <p> exists and the control (or its fieldset) points to it."""
    err_id = f"{field}-error"
    match = re.search(rf'<p class="error" id="{re.escape(err_id)}">(.*?)</p>', html, re.S)
    assert match, f"no error paragraph for {field}"
    message = re.sub(r"<[^>]+>", "", match.group(1)).strip()
    assert message and "Not a valid" not in message, message
    control = re.search(rf'<(input|select|textarea|fieldset)\b[^>]*\bid="{field}"[^>]*>', html)
    assert control, f"no control {field}"
    described = re.search(r'aria-describedby="([^"]*)"', control.group(0))
    assert described and err_id in described.group(1).split(), control.group(0)
    return message


@pytest.fixture(autouse=True)
def _english(client) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"first_name": ""}, "first_name"),
        ({"first_name": "   "}, "first_name"),
        ({"last_name": "x" * 101}, "last_name"),
        ({"first_name_ar": "Hamza"}, "first_name_ar"),
        ({"first_name": "Ha\x00mza"}, "first_name"),
        ({"birth_date": "08/08/1988"}, "birth_date"),
        ({"birth_date": ""}, "birth_date"),
        ({"birth_date": "1850-01-01"}, "birth_date"),
        ({"birth_date": "2099-01-01"}, "birth_date"),
        ({"sex": "X"}, "sex"),
        ({"sex": None}, "sex"),
        ({"national_id": "12"}, "national_id"),
        ({"national_id": "B" * 30}, "national_id"),
        ({"establishment": "NOWHERE"}, "establishment"),
        ({"legal_status": "released"}, "legal_status"),
    ],
)
def test_admission_form_bad_input(app, client, login_as, change, field):
    login_as("registry_clerk", "EST-A")
    with app.app_context():
        before = _counts()
        events = session().scalar(select(func.count()).select_from(AuditEvent))
    data = {k: v for k, v in {**ADMISSION, **change}.items() if v is not None}
    resp = client.post("/detainees/new", data=data)
    assert resp.status_code == 422, resp.get_data(as_text=True)[:500]
    assert_field_error(resp.get_data(as_text=True), field)
    with app.app_context():
        assert _counts() == before
        assert session().scalar(select(func.count()).select_from(AuditEvent)) == events


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"last_name": ""}, "last_name"),
        ({"birth_date": "17-05-1990"}, "birth_date"),
        ({"national_id": "!!"}, "national_id"),
        ({"last_name_ar": "Idrissi"}, "last_name_ar"),
        ({"legal_status": "escaped"}, "legal_status"),
    ],
)
def test_edit_form_bad_input(app, client, login_as, factories, change, field):
    with app.app_context():
        rn = factories.detainee("EST-A").registration_number
    login_as("registry_clerk", "EST-A")
    data = {**ADMISSION, "first_name": "Changed", **change}
    data.pop("establishment")
    resp = client.post(f"/detainees/{rn}/edit", data=data)
    assert resp.status_code == 422
    assert_field_error(resp.get_data(as_text=True), field)
    with app.app_context():
        det = session().scalar(select(Detainee).where(Detainee.registration_number == rn))
        assert det.first_name == "Mohamed"  # nothing half-written
        assert not session().scalar(
            select(func.count()).where(AuditEvent.action == "detainee.update")
        )


def test_release_form_bad_input(app, client, login_as, factories):
    with app.app_context():
        rn = factories.detainee("EST-A").registration_number
    login_as("registry_clerk", "EST-A")
    resp = client.post(f"/detainees/{rn}/release", data={"note": "n" * 301})
    assert resp.status_code == 422
    assert_field_error(resp.get_data(as_text=True), "note")
    with app.app_context():
        det = session().scalar(select(Detainee).where(Detainee.registration_number == rn))
        assert det.legal_status == LegalStatus.pretrial
        assert [p.reason for p in det.placements] == ["admission"]


ESTABLISHMENT = {
    "code": "FZ-2",
    "name": "Prison locale Fuzz",
    "name_ar": "السجن المحلي",
    "kind": "local_prison",
    "region": "Fès",
    "city": "Fès",
    "capacity": "500",
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": ""}, "code"),
        ({"code": "x"}, "code"),
        ({"code": "EST-A"}, "code"),  # already used
        ({"code": "C" * 17}, "code"),
        ({"name": ""}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"kind": "castle"}, "kind"),
        ({"capacity": ""}, "capacity"),
        ({"capacity": "abc"}, "capacity"),
        ({"capacity": "-5"}, "capacity"),
        ({"capacity": "99999999"}, "capacity"),
        ({"capacity": "1e3"}, "capacity"),
        ({"city": "c" * 121}, "city"),
        ({"region": "R\x00"}, "region"),
    ],
)
def test_establishment_form_bad_input(app, client, login_as, factories, change, field):
    with app.app_context():
        factories.establishment("EST-A")
    login_as("central_admin", ())
    with app.app_context():
        before = _counts()
    resp = client.post("/establishments/new", data={**ESTABLISHMENT, **change})
    assert resp.status_code == 422, resp.get_data(as_text=True)[:500]
    assert_field_error(resp.get_data(as_text=True), field)
    with app.app_context():
        assert _counts() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [({"capacity": "lots"}, "capacity"), ({"name": ""}, "name"), ({"kind": "?"}, "kind")],
)
def test_establishment_edit_form_bad_input(app, client, login_as, factories, change, field):
    with app.app_context():
        factories.establishment("EST-A", capacity=1000)
    login_as("central_admin", ())
    resp = client.post("/establishments/EST-A", data={**ESTABLISHMENT, **change})
    assert resp.status_code == 422
    assert_field_error(resp.get_data(as_text=True), field)
    with app.app_context():
        est = session().scalar(select(Establishment).where(Establishment.code == "EST-A"))
        assert est.capacity == 1000 and est.name_fr == "Prison locale EST-A"
