"""Issue 10 point 9: password strength (zxcvbn and a list of common passwords), one
normalisation on page and API, a maximum length on every form and the API."""

from __future__ import annotations

import uuid

import pytest

from core.identity.passwords import MAX_PASSWORD_LENGTH

FR = {"Accept-Language": "fr"}


def _visitor(password: str, username: str | None = None) -> dict[str, str]:
    return {
        "username": username or f"fam{uuid.uuid4().hex[:8]}",
        "password": password,
        "full_name": "Karima Bennani",
        "national_id": "BE123456",
        "phone": "0612345678",
    }


@pytest.mark.parametrize(
    "password",
    [
        "password1234",  # one of the most common
        "Azertyuiop2026!",  # a common one, capitalised, digits and a symbol after it
        "aaaaaaaaaaaa",  # long enough, guessed at once
        "karimabennani",  # the user's own name
    ],
)
def test_weak_and_common_passwords_are_refused_on_page_and_api(app, client, password):
    resp = client.post("/register", data=_visitor(password), headers=FR)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "mot de passe" in html.lower()
    api = client.post("/api/v1/visitors/register", json=_visitor(password), headers=FR)
    assert api.status_code == 422
    error = api.json["error"]
    assert error["code"] == "validation_failed"
    assert set(error["fields"]) == {"password"}
    assert "mot de passe" in error["fields"]["password"].lower()


def test_a_strong_password_is_accepted(app, client):
    resp = client.post("/api/v1/visitors/register", json=_visitor("river lantern copper 71"))
    assert resp.status_code == 201


def test_the_password_change_form_applies_the_same_rule(app, client, login_as):
    from core.testing import TEST_PASSWORD

    login_as("registry_clerk")
    resp = client.post(
        "/account/password",
        data={"current_password": TEST_PASSWORD, "new_password": "password1234"},
        headers=FR,
    )
    assert resp.status_code == 422
    assert "plus courants" in resp.get_data(as_text=True)


def test_spaces_around_a_password_are_kept_on_the_api_as_on_the_page(app, client):
    """The API stripped passwords (str_strip_whitespace) while the pages kept them: an account
    made through the API could not sign in on the page with the password as typed."""
    body = _visitor("  river lantern copper 71  ")
    assert client.post("/api/v1/visitors/register", json=body).status_code == 201
    page = app.test_client()
    resp = page.post("/login", data={"username": body["username"], "password": body["password"]})
    assert resp.status_code == 302
    token = client.post(
        "/api/v1/auth/token", json={"username": body["username"], "password": body["password"]}
    )
    assert token.status_code == 200
    stripped = client.post(
        "/api/v1/auth/token",
        json={"username": body["username"], "password": body["password"].strip()},
    )
    assert stripped.status_code == 401


def test_passwords_are_normalised_the_same_way_everywhere(app, client):
    """NFKC: a password typed with a combining accent (or full-width digits) is the same as its
    precomposed (ASCII) form."""
    decomposed = "cafe\u0301 lantern copper \uff17\uff11"  # café + full-width 71
    composed = "café lantern copper 71"
    body = _visitor(decomposed)
    assert client.post("/api/v1/visitors/register", json=body).status_code == 201
    resp = app.test_client().post(
        "/login", data={"username": body["username"], "password": composed}
    )
    assert resp.status_code == 302


def test_every_password_field_has_a_maximum_length(app, client, login_as):
    from core.testing import TEST_PASSWORD

    too_long = "river lantern copper " * 7  # 147 characters
    assert len(too_long) > MAX_PASSWORD_LENGTH
    resp = client.post("/register", data=_visitor(too_long), headers=FR)
    assert resp.status_code == 422
    assert f"{MAX_PASSWORD_LENGTH} caract" in resp.get_data(as_text=True)
    api = client.post("/api/v1/visitors/register", json=_visitor(too_long))
    assert api.status_code == 422 and set(api.json["error"]["fields"]) == {"password"}
    token = client.post("/api/v1/auth/token", json={"username": "someone", "password": too_long})
    assert token.status_code == 422
    resp = client.post("/login", data={"username": "someone", "password": too_long})
    assert resp.status_code == 422
    login_as("registry_clerk")
    resp = client.post(
        "/account/password", data={"current_password": TEST_PASSWORD, "new_password": too_long}
    )
    assert resp.status_code == 422
    assert str(MAX_PASSWORD_LENGTH) in resp.get_data(as_text=True)
