"""No open redirect: every user-supplied redirect target goes through ``core.redirects.safe_next``.

The bypasses are sent as raw query strings (what an attacker puts in a link), through the real
sign-in page and the language switcher: the answer is always a 302 to a path on this site.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from core.redirects import safe_next
from core.testing import TEST_PASSWORD

# As they appear in the query string of a link (already percent-encoded where needed).
BYPASSES = [
    "//evil.example",
    "//evil.example/login",
    "/\\evil.example",
    "%2F%5Cevil.example",
    "/%09/evil.example/login",
    "%2F%09%2Fevil.example%2Flogin",
    "/%5Cevil.example",
    "/%2F/evil.example",
    "/%252F/evil.example",
    "%2F%252F%252Fevil.example",
    "https:evil.example",
    "https://evil.example",
    "HTTPS://evil.example",
    "javascript:alert(1)",
    "%09/evil.example",
    "%20//evil.example",
    "/%0d%0aSet-Cookie:%20x=1",
    "%2F%0D%0ALocation:%20https://evil.example",
    "/%0a/evil.example",
    "/%00/evil.example",
    "%2F%00",
    "/%7F//evil.example",
    "/\u200b/evil.example",
    "evil.example",
    "@evil.example",
    "//user@evil.example",
    "/%2F%2Fuser:pw@evil.example",
    "///evil.example",
    "/" + "a" * 5000,
    "/%25252F%25252Fevil.example",
]


def _location_is_local(resp: Any) -> str:
    assert resp.status_code == 302, resp.status_code
    location = resp.headers["Location"]
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc, location
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert not any(ord(ch) < 32 or ch == "\\" for ch in location), location
    return location


@pytest.mark.parametrize("target", BYPASSES)
def test_sign_in_never_redirects_off_site(app: Any, client: Any, factories: Any, target: str):
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    resp = client.post(
        "/login?next=" + target, data={"username": clerk.username, "password": TEST_PASSWORD}
    )
    assert _location_is_local(resp) == "/dashboard"


@pytest.mark.parametrize("target", BYPASSES)
def test_language_switch_never_redirects_off_site(client: Any, target: str):
    from urllib.parse import unquote

    resp = client.post("/language", data={"lang": "fr", "next": unquote(target)})
    assert _location_is_local(resp) == "/"


def test_sign_in_goes_back_to_a_local_page(app: Any, client: Any, factories: Any):
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    target = "/detainees?q=" + quote("a/b") + "&page=2"
    resp = client.post(
        "/login?next=" + quote(target, safe=""),
        data={"username": clerk.username, "password": TEST_PASSWORD},
    )
    assert _location_is_local(resp) == target


def test_language_switch_goes_back_and_drops_lang(client: Any):
    resp = client.post("/language", data={"lang": "fr", "next": "/visits?lang=ar&x=1"})
    assert _location_is_local(resp) == "/visits?x=1"


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "//evil",
        "/\\evil",
        "/\t/evil",
        "\t/evil",
        "/%09/evil",
        "/%5Cevil",
        "/%2F/evil",
        "https:evil",
        "javascript:alert(1)",
        "/a\r\nLocation: //evil",
        "/a\x00",
        "/" + "a" * 3000,
        "/\u2028//evil",
    ],
)
def test_safe_next_refuses(value: str | None):
    assert safe_next(value, "/fallback") == "/fallback"


@pytest.mark.parametrize("value", ["/", "/a/b?c=1&d=%2F", "/détenus", "/@team", "/a%20b"])
def test_safe_next_keeps_local_paths(value: str):
    assert safe_next(value, "/fallback") == value
