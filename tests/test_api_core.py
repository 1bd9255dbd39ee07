"""The core JSON API: detainee admission, record and release; scoping; the error format;
list pagination; dates; localised messages."""

from __future__ import annotations

import datetime as dt

import pytest
from flask_babel import get_locale, gettext
from sqlalchemy import func, select

from core.db import session
from core.detainees.models import Detainee, LegalStatus
from core.plugins import get_plugin_manager, hookimpl
from core.vetoes import Blocker

RECORD_FIELDS = {
    "registration_number",
    "first_name",
    "last_name",
    "first_name_ar",
    "last_name_ar",
    "birth_date",
    "sex",
    "national_id",
    "establishment",
    "legal_status",
    "admitted_at",
}
BODY = {
    "first_name": "Fatima",
    "last_name": "Zahra El Alaoui",
    "first_name_ar": "فاطمة",
    "last_name_ar": "العلوي",
    "birth_date": "1992-11-30",
    "sex": "F",
    "national_id": "AB12345",
    "establishment": "EST-A",
    "legal_status": "pretrial",
}


def _error(resp, status: int, code: str | None = None) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)[:1000]
    assert resp.is_json
    assert set(resp.json) == {"error"}
    error = resp.json["error"]
    assert {"code", "message", "fields"} <= set(error)
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    if code is not None:
        assert error["code"] == code
    return error


@pytest.fixture
def clerk_a(app, factories):
    with app.app_context():
        factories.establishment("EST-B")
        return factories.user("registry_clerk", ("EST-A",))


@pytest.fixture
def clerk_headers(clerk_a, api_headers):
    return api_headers(clerk_a)


def _count() -> int:
    return session().scalar(select(func.count()).select_from(Detainee)) or 0


# --------------------------------------------------------------------------------------------
# admission
# --------------------------------------------------------------------------------------------


def test_admit_returns_201_with_the_record(app, client, clerk_headers):
    resp = client.post("/api/v1/detainees", json=BODY, headers=clerk_headers)
    assert resp.status_code == 201, resp.json
    data = resp.json
    assert set(data) == RECORD_FIELDS
    assert data["registration_number"]
    assert data["national_id"] == "AB12345"
    assert data["birth_date"] == "1992-11-30"
    admitted = dt.datetime.fromisoformat(data["admitted_at"])
    assert admitted.utcoffset() is not None  # timestamps carry their offset
    second = client.post(
        "/api/v1/detainees", json={**BODY, "national_id": "AB99999"}, headers=clerk_headers
    )
    assert second.json["registration_number"] != data["registration_number"]


def test_admit_optional_fields_may_be_left_out(client, clerk_headers):
    body = {k: v for k, v in BODY.items() if not k.endswith("_ar") and k != "national_id"}
    resp = client.post("/api/v1/detainees", json=body, headers=clerk_headers)
    assert resp.status_code == 201
    assert resp.json["national_id"] is None
    assert resp.json["first_name_ar"] == ""


def test_admit_duplicate_national_id_while_held_is_409(app, client, clerk_headers):
    assert client.post("/api/v1/detainees", json=BODY, headers=clerk_headers).status_code == 201
    resp = client.post("/api/v1/detainees", json=BODY, headers=clerk_headers)
    error = _error(resp, 409, "already_held")
    assert "national_id" in error["fields"]
    with app.app_context():
        assert _count() == 1


@pytest.mark.parametrize(
    "role", ["director", "visits_officer", "doctor", "accountant", "auditor", "central_admin"]
)
def test_admit_refused_to_other_roles(app, client, factories, api_headers, role):
    with app.app_context():
        user = factories.user(role, () if role in ("auditor", "central_admin") else ("EST-A",))
    _error(client.post("/api/v1/detainees", json=BODY, headers=api_headers(user)), 403, "forbidden")
    with app.app_context():
        assert _count() == 0


def test_admit_anonymous_is_401(client):
    _error(client.post("/api/v1/detainees", json=BODY), 401, "unauthorized")


def test_admit_into_another_establishment_is_422(app, client, clerk_headers):
    resp = client.post(
        "/api/v1/detainees", json={**BODY, "establishment": "EST-B"}, headers=clerk_headers
    )
    assert "establishment" in _error(resp, 422, "validation_failed")["fields"]
    with app.app_context():
        assert _count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"birth_date": "30/11/1992"}, "birth_date"),
        ({"birth_date": "1850-01-01"}, "birth_date"),
        ({"birth_date": dt.date.today().isoformat()}, "birth_date"),
        ({"sex": "X"}, "sex"),
        ({"legal_status": "released"}, "legal_status"),
        ({"national_id": "123"}, "national_id"),
        ({"first_name": ""}, "first_name"),
        ({"first_name": "x" * 101}, "first_name"),
        ({"first_name_ar": "Fatima"}, "first_name_ar"),
        ({"establishment": "NOWHERE"}, "establishment"),
        ({"first_name": 12}, "first_name"),
        ({"nickname": "Fafa"}, "nickname"),
    ],
)
def test_admit_bad_values_are_field_errors(app, client, clerk_headers, change, field):
    resp = client.post("/api/v1/detainees", json={**BODY, **change}, headers=clerk_headers)
    error = _error(resp, 422, "validation_failed")
    assert error["fields"].get(field), error
    with app.app_context():
        assert _count() == 0


# --------------------------------------------------------------------------------------------
# the record
# --------------------------------------------------------------------------------------------


@pytest.fixture
def held(app, factories):
    with app.app_context():
        return factories.detainee("EST-A", national_id="BE777777").registration_number


def test_record_has_exactly_the_interface_fields(client, clerk_headers, held):
    resp = client.get(f"/api/v1/detainees/{held}", headers=clerk_headers)
    assert resp.status_code == 200
    data = resp.json
    assert set(data) == RECORD_FIELDS
    assert data["registration_number"] == held
    assert data["establishment"] == "EST-A"
    assert data["legal_status"] == "pretrial"
    assert data["sex"] == "M"
    assert dt.date.fromisoformat(data["birth_date"]) == dt.date(1990, 5, 17)
    assert dt.datetime.fromisoformat(data["admitted_at"]).utcoffset() is not None


@pytest.mark.parametrize(
    ("role", "establishment", "status"),
    [
        ("registry_clerk", "EST-A", 200),
        ("director", "EST-A", 200),
        ("nurse", "EST-A", 200),
        ("registry_clerk", "EST-B", 404),
        ("director", "EST-B", 404),
        ("auditor", (), 200),
        ("central_admin", (), 200),
    ],
)
def test_record_scoping(app, client, factories, api_headers, held, role, establishment, status):
    with app.app_context():
        user = factories.user(role, (establishment,) if isinstance(establishment, str) else ())
    resp = client.get(f"/api/v1/detainees/{held}", headers=api_headers(user))
    if status == 404:
        # another establishment's record does not exist for them: same answer as a wrong number
        error = _error(resp, 404, "detainee_not_found")
        other = client.get("/api/v1/detainees/2020-999999", headers=api_headers(user))
        assert _error(other, 404)["message"] == error["message"]
    else:
        assert resp.status_code == status


def test_record_anonymous_and_visitor(app, client, factories, api_headers, held):
    _error(client.get(f"/api/v1/detainees/{held}"), 401)
    with app.app_context():
        visitor = factories.visitor()
    _error(client.get(f"/api/v1/detainees/{held}", headers=api_headers(visitor)), 403)


@pytest.mark.parametrize("number", ["2020-999999", "nope", "%00", "x" * 500])
def test_record_unknown_number_is_404(client, clerk_headers, number):
    _error(client.get(f"/api/v1/detainees/{number}", headers=clerk_headers), 404)


# --------------------------------------------------------------------------------------------
# release
# --------------------------------------------------------------------------------------------


def test_release_once_then_409(app, client, clerk_headers, held):
    resp = client.post(f"/api/v1/detainees/{held}/release", headers=clerk_headers)
    assert resp.status_code == 200, resp.json
    assert resp.json["status"] == "released"
    assert resp.json["legal_status"] == "released"
    assert dt.datetime.fromisoformat(resp.json["released_at"]).utcoffset() is not None
    _error(
        client.post(f"/api/v1/detainees/{held}/release", headers=clerk_headers),
        409,
        "already_released",
    )
    record = client.get(f"/api/v1/detainees/{held}", headers=clerk_headers).json
    assert record["legal_status"] == "released"


class Veto:
    @hookimpl
    def release_blockers(self, detainee, context):
        return [
            Blocker("unsettled_account", "veto", "Unsettled account"),
            Blocker("pending_transfer", "veto", "Pending transfer", overridable=True),
        ]


def test_release_blocked_is_422_with_every_blocker(app, client, clerk_headers, held):
    pm = get_plugin_manager(app)
    veto = Veto()
    pm.register(veto, name="veto")
    try:
        resp = client.post(f"/api/v1/detainees/{held}/release", headers=clerk_headers)
    finally:
        pm.unregister(veto)
    error = _error(resp, 422, "blocked")
    assert error["fields"]["blockers"] == [
        {
            "code": "pending_transfer",
            "module": "veto",
            "message": "Pending transfer",
            "overridable": True,
        },
        {
            "code": "unsettled_account",
            "module": "veto",
            "message": "Unsettled account",
            "overridable": False,
        },
    ]
    with app.app_context():
        det = session().scalar(select(Detainee).where(Detainee.registration_number == held))
        assert det.legal_status == LegalStatus.pretrial


@pytest.mark.parametrize(
    ("role", "establishment", "status"),
    [
        ("registry_clerk", "EST-B", 404),
        ("director", "EST-A", 403),
        ("auditor", (), 403),
        ("central_admin", (), 403),
    ],
)
def test_release_permissions(
    app, client, factories, api_headers, held, role, establishment, status
):
    with app.app_context():
        user = factories.user(role, (establishment,) if isinstance(establishment, str) else ())
    _error(client.post(f"/api/v1/detainees/{held}/release", headers=api_headers(user)), status)
    _error(client.post(f"/api/v1/detainees/{held}/release"), 401)
    with app.app_context():
        det = session().scalar(select(Detainee).where(Detainee.registration_number == held))
        assert det.legal_status == LegalStatus.pretrial


# --------------------------------------------------------------------------------------------
# error format, pagination, localisation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'"text"', "application/json"),
        (b"null", "application/json"),
        (b"\xff\xfe\x00", "application/json"),
        (b'{"a": NaN}', "application/json"),
        (b"[" * 100000 + b"]" * 100000, "application/json"),
        (b"first_name=x", "application/x-www-form-urlencoded"),
    ],
)
def test_malformed_bodies_are_400(client, clerk_headers, data, content_type):
    resp = client.post(
        "/api/v1/detainees", data=data, content_type=content_type, headers=clerk_headers
    )
    _error(resp, 400, "malformed_json")


@pytest.mark.parametrize(
    "query",
    ["per_page=0", "per_page=101", "per_page=x", "page=0", "page=-1", "page=x", "per_page=1.5"],
)
def test_bad_pagination_is_400(client, clerk_headers, query):
    for path in ("/api/v1/establishments", "/api/v1/detainees"):
        error = _error(client.get(f"{path}?{query}", headers=clerk_headers), 400, "bad_query")
        assert set(error["fields"]) <= {"page", "per_page"} and error["fields"]


def test_pagination_bounds(app, client, clerk_headers, factories):
    with app.app_context():
        for i in range(3):
            factories.detainee("EST-A", first_name=f"Karim{i}")
    data = client.get("/api/v1/detainees?per_page=100", headers=clerk_headers).json
    assert (data["per_page"], data["total"], len(data["items"])) == (100, 3, 3)
    data = client.get("/api/v1/detainees?per_page=2&page=2", headers=clerk_headers).json
    assert (data["page"], data["per_page"], data["total"], len(data["items"])) == (2, 2, 3, 1)
    for item in data["items"]:
        assert set(item) == RECORD_FIELDS


def test_unknown_api_path_and_method_are_json(client, clerk_headers):
    _error(client.get("/api/v1/nothing-here", headers=clerk_headers), 404, "not_found")
    _error(client.delete("/api/v1/detainees", headers=clerk_headers), 405, "method_not_allowed")


def test_messages_follow_accept_language(app, client):
    for lang in ("fr", "en", "ar"):
        with app.test_request_context("/api/v1/establishments", headers={"Accept-Language": lang}):
            assert str(get_locale()).startswith(lang)
            expected = gettext("Sign in first: send a valid bearer token.")
        resp = client.get("/api/v1/establishments", headers={"Accept-Language": lang})
        # the error of a real endpoint is rendered from that locale's catalog
        assert _error(resp, 401)["message"] == expected
