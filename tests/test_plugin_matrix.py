"""The plugin matrix: the app migrates, starts and passes a core smoke check with no plugin,
with each installed plugin alone, and with all of them.

The installed plugins are the entry points of the ``idmaj.plugins`` group (plugins/visits,
plugins/funds… once declared in pyproject.toml and installed). "Alone" goes through the real
discovery path with every other plugin disabled (``DISABLED_PLUGINS``). Each combination gets
a database of its own, so its migrations run from scratch.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core import migrate, testing
from core.plugins import ENTRY_POINT_GROUP, get_plugin_manager
from core.testing import TEST_PASSWORD, Factories

INSTALLED = sorted({ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)})
COMBINATIONS = ["none", "all", *(f"only-{name}" for name in INSTALLED)]


def _plugins_for(combination: str) -> tuple[Any, dict[str, Any], set[str]]:
    """(plugins argument, extra config, the plugin names expected besides the core)."""
    if combination == "none":
        return [], {}, set()
    if combination == "all":
        return None, {"DISABLED_PLUGINS": ""}, set(INSTALLED)
    name = combination.removeprefix("only-")
    others = ",".join(n for n in INSTALLED if n != name)
    return None, {"DISABLED_PLUGINS": others}, {name}


@pytest.fixture(params=COMBINATIONS)
def matrix_app(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    monkeypatch.delenv("IDMAJ_DISABLED_PLUGINS", raising=False)
    plugins, extra, expected = _plugins_for(request.param)
    database = testing.TestDatabase(tmp_path)
    try:
        app = testing.build_migrated_app(database.url, tmp_path, plugins=plugins, **extra)
        try:
            loaded = {i.name for i in get_plugin_manager(app).plugin_infos()} - {"core"}
            assert loaded == expected
            yield app
        finally:
            app.extensions["idmaj.db"].dispose()
    finally:
        database.drop()


def test_app_starts_and_core_smoke_passes(matrix_app: Any) -> None:
    app = matrix_app
    assert all(rev is not None for rev in migrate.current(app).values())
    with app.app_context():
        factories = Factories(app)
        clerk = factories.user("registry_clerk", ("EST-A",))
        director = factories.user("director", ("EST-A",))
    client = app.test_client()
    signed = client.post("/login", data={"username": clerk.username, "password": TEST_PASSWORD})
    assert signed.status_code == 302
    admitted = client.post(
        "/detainees/new",
        data={
            "first_name": "Youssef",
            "last_name": "Benjelloun",
            "first_name_ar": "يوسف",
            "last_name_ar": "بنجلون",
            "birth_date": "1985-03-02",
            "sex": "M",
            "establishment": "EST-A",
            "legal_status": "pretrial",
        },
    )
    assert admitted.status_code == 302, admitted.get_data(as_text=True)[:2000]
    profile = client.get(admitted.headers["Location"])
    assert profile.status_code == 200
    assert "Benjelloun" in profile.get_data(as_text=True)
    found = client.get("/detainees/", query_string={"q": "يوسف بن جلون"})
    assert "Benjelloun" in found.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 200

    token = client.post(
        "/api/v1/auth/token", json={"username": director.username, "password": TEST_PASSWORD}
    )
    assert token.status_code == 200
    api = client.get(
        "/api/v1/detainees",
        query_string={"q": "Youssef Benjelloun"},
        headers={"Authorization": f"Bearer {token.json['token']}"},
    )
    assert api.status_code == 200
    assert api.json["items"][0]["last_name"] == "Benjelloun"
    assert client.get("/api/v1/openapi.json").status_code == 200
