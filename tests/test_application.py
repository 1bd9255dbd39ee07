"""The application class (core.application): the URLs a request builds, kept for the next
requests (the same URL as Flask builds, per script root and scheme, and only for calls whose
answer cannot change), and what it learnt of each hook's kind."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, url_for

from core import application


@pytest.fixture
def builds(app: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The endpoints Flask actually builds (not answered from the memo)."""
    seen: list[str] = []
    original = Flask.url_for

    def counting(self: Any, endpoint: str, /, **kwargs: Any) -> str:
        seen.append(endpoint)
        return original(self, endpoint, **kwargs)

    monkeypatch.setattr(Flask, "url_for", counting)
    app._url_memo.clear()
    return seen


def test_the_app_is_ours(app: Any) -> None:
    assert isinstance(app, application.App)


def test_built_once_then_kept(app: Any, builds: list[str]) -> None:
    for _ in range(3):
        with app.test_request_context("/"):
            assert url_for("static", filename="style.css") == "/static/style.css"
            assert url_for("detainees.profile", registration_number="2026-000001") == (
                "/detainees/2026-000001"
            )
    assert builds == ["static", "detainees.profile"]


def test_per_script_root_and_scheme(app: Any, builds: list[str]) -> None:
    with app.test_request_context("/"):
        plain = url_for("portal.home")
    with app.test_request_context("/", base_url="http://localhost/idmaj"):
        prefixed = url_for("portal.home")
    with app.test_request_context("/", base_url="https://localhost/idmaj"):
        other = url_for("portal.home", _external=True)
        again = url_for("portal.home")
    assert plain == "/"
    assert prefixed == again == "/idmaj/"
    assert other == "https://localhost/idmaj/"  # its scheme
    # "/", "/idmaj/" over http, the external one (never kept), "/idmaj/" over https: each
    # built by Flask; the same call again in one of those requests would not be
    assert builds.count("portal.home") == 4


def test_query_arguments_in_the_order_given(app: Any) -> None:
    with app.test_request_context("/"):
        first = url_for("detainees.index", q="a b", page=2)
        second = url_for("detainees.index", page=2, q="a b")
        assert first == "/detainees/?q=a+b&page=2"
        assert second == "/detainees/?page=2&q=a+b"
        assert url_for("detainees.index", q="a b", page=2) == first


class _Changing:
    def __init__(self) -> None:
        self.text = "2026-000001"

    def __str__(self) -> str:
        return self.text


def test_what_is_not_kept(app: Any, builds: list[str]) -> None:
    value = _Changing()
    with app.test_request_context("/detainees/"):
        assert url_for("detainees.profile", registration_number=value).endswith("000001")
        value.text = "2026-000002"
        assert url_for("detainees.profile", registration_number=value).endswith("000002")
        url_for("static", filename="x.css", _anchor="top")
        url_for("static", filename="x.css", _anchor="top")
        url_for(".index")
        url_for(".index")
    with app.app_context():  # outside a request: Flask's rules (SERVER_NAME), never kept
        url_for("portal.home")
        url_for("portal.home")
    assert (
        builds == ["detainees.profile"] * 2 + ["static"] * 2 + [".index"] * 2 + ["portal.home"] * 2
    )


def test_a_url_defaults_function_turns_it_off(app: Any, builds: list[str]) -> None:
    app.url_default_functions.setdefault(None, []).append(lambda endpoint, values: None)
    try:
        with app.test_request_context("/"):
            url_for("portal.home")
            url_for("portal.home")
    finally:
        app.url_default_functions[None].pop()
    assert builds == ["portal.home", "portal.home"]


def test_the_memo_stays_small(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(application, "MEMO_SIZE", 5)
    app._url_memo.clear()
    with app.test_request_context("/"):
        for n in range(12):
            url_for("detainees.profile", registration_number=f"2026-{n:06d}")
            assert len(app._url_memo) <= 5


def test_plain_functions_kept_coroutines_still_asked(app: Any) -> None:
    """A plain function is kept; a coroutine function goes to Flask every time (Flask's
    "async" extra is not installed: Flask refuses it, each time, as it did)."""

    def plain() -> str:
        return "plain"

    async def coroutine() -> str:
        return "awaited"

    assert app.ensure_sync(plain) is plain
    assert plain in app._plain_functions
    assert app.ensure_sync(plain) is plain
    for _ in range(2):
        with pytest.raises(RuntimeError, match="async"):
            app.ensure_sync(coroutine)
    assert coroutine not in app._plain_functions
