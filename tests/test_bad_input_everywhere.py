"""Issue 10 point 10: every page and endpoint, walked from the app's url_map, answers huge page
numbers, extreme dates, NUL and CR/LF in its query string without a 500; every core form and
JSON body refuses extreme dates and NUL with a 4xx tied to the field."""

from __future__ import annotations

import json

import pytest

from core.security import EXTENSION_KEY
from core.testing import TEST_PASSWORD
from core.testing_bad_input import (
    BAD_BODY_DATES,
    BAD_TEXTS,
    get_routes,
    post_values,
    walk_queries,
)

STAFF_ROLES = ("central_admin", "registry_clerk", "accountant", "visits_officer", "director")


@pytest.fixture
def no_rate_limit(app, monkeypatch):
    """Rate limits would answer 429 before validation runs: switch them off here."""
    monkeypatch.setitem(app.extensions[EXTENSION_KEY], "enabled", False)


@pytest.fixture
def world(app, factories):
    with app.app_context():
        factories.establishment("EST-A")
        det = factories.detainee("EST-A")
        staff = factories.user(STAFF_ROLES, ("EST-A",))
        return {"rn": det.registration_number, "staff": staff}


def _variables(app, world) -> dict[str, object]:
    """Real values for the core's URL variables; 1 for any other (a module's tests walk its own
    pages with real values)."""
    known: dict[str, object] = {
        "registration_number": world["rn"],
        "rn": world["rn"],
        "code": "EST-A",
        "user_id": world["staff"].id,
        "role": "registry_clerk",
    }
    names = {name for rule in app.url_map.iter_rules() for name in rule.arguments}
    return {name: known.get(name, 1) for name in names}


def test_every_route_answers_bad_query_strings_without_a_500(
    monkeypatch, app, client, world, api_headers, no_rate_limit
):
    monkeypatch.setitem(app.config, "PROPAGATE_UNEXPECTED", False)  # list every 500
    headers = api_headers(world["staff"])
    resp = client.post(
        "/login", data={"username": world["staff"].username, "password": TEST_PASSWORD}
    )
    assert resp.status_code == 302
    paths = get_routes(app, variables=_variables(app, world))
    assert "/detainees/" in paths and "/api/v1/detainees" in paths and "/audit/" in paths
    failures = walk_queries(client, paths, headers=headers)
    assert not failures, "\n".join(map(str, failures))


# --------------------------------------------------------------------------------------------
# bodies and forms: extreme dates and NUL
# --------------------------------------------------------------------------------------------

ADMISSION = {
    "first_name": "Hamza",
    "last_name": "Ouazzani",
    "birth_date": "1988-08-08",
    "sex": "M",
    "national_id": "BK998877",
    "establishment": "EST-A",
    "legal_status": "pretrial",
}


def test_api_admission_refuses_extreme_birth_dates_and_nul(client, world, api_headers):
    headers = api_headers(world["staff"])

    def send(body):
        return client.post(
            "/api/v1/detainees",
            data=json.dumps(body),
            content_type="application/json",
            headers=headers,
        )

    fields = {"birth_date": BAD_BODY_DATES, "first_name": BAD_TEXTS, "last_name": BAD_TEXTS}
    assert post_values(send, ADMISSION, fields) == []
    resp = send({**ADMISSION, "birth_date": "9999-12-31"})
    assert resp.status_code == 422 and "birth_date" in resp.json["error"]["fields"]


def test_admission_form_refuses_extreme_birth_dates_and_nul(client, login_as):
    login_as("registry_clerk", "EST-A")

    def send(data):
        return client.post("/detainees/new", data=data)

    fields = {
        "birth_date": BAD_BODY_DATES,
        "first_name": BAD_TEXTS,
        "last_name": BAD_TEXTS,
        "national_id": BAD_TEXTS,
    }
    assert post_values(send, ADMISSION, fields) == []


@pytest.mark.parametrize(
    ("url", "good", "fields"),
    [
        (
            "/establishments/new",
            {
                "code": "FZ-9",
                "name": "Prison locale",
                "kind": "local_prison",
                "capacity": "100",
            },
            ("code", "name", "name_ar", "region", "city"),
        ),
        (
            "/admin/users/new",
            {
                "username": "someone",
                "password": "a-long-password-123",
                "full_name": "Some One",
                "roles": "registry_clerk",
                "establishments": "EST-A",
            },
            ("username", "password", "full_name"),
        ),
    ],
)
def test_core_forms_refuse_nul_in_every_text_field(app, client, world, url, good, fields):
    client.post("/login", data={"username": world["staff"].username, "password": TEST_PASSWORD})
    failures = post_values(
        lambda data: client.post(url, data=data), good, {f: BAD_TEXTS for f in fields}
    )
    assert failures == []


@pytest.mark.parametrize(
    ("url", "good", "fields"),
    [
        ("/login", {"username": "someone", "password": "secret"}, ("username", "password")),
        (
            "/register",
            {
                "username": "family1",
                "password": "a-long-password-123",
                "password2": "a-long-password-123",
                "full_name": "Fatima",
                "national_id": "BE123456",
                "phone": "0612345678",
            },
            ("username", "full_name", "national_id", "phone"),
        ),
    ],
)
def test_public_forms_refuse_nul(client, no_rate_limit, url, good, fields):
    failures = post_values(
        lambda data: client.post(url, data=data), good, {f: BAD_TEXTS for f in fields}
    )
    assert failures == []


def test_the_form_layer_names_the_field(client, login_as):
    login_as("registry_clerk", "EST-A")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    resp = client.post("/detainees/new", data={**ADMISSION, "last_name": "Oua\x00zzani"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'id="last_name-error"' in html and "cannot be stored" in html


def test_every_web_form_goes_through_the_input_layer(app):
    """Every form of the core and of the loaded modules derives from ``core.forms.IdmajForm``
    (NUL, lone surrogates and out-of-range dates refused on the field, one mechanism)."""
    from flask_wtf import FlaskForm

    from core.forms import IdmajForm

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = [c for c in subclasses(FlaskForm) if c.__module__.split(".")[0] in ("core", "plugins")]
    assert len(ours) > 20  # the forms of the core and of the modules were imported
    assert [c.__qualname__ for c in ours if not issubclass(c, IdmajForm)] == []
