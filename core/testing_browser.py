"""Browser-test support: a live Idmaj server in a thread and Playwright driving Debian's Chromium.

Playwright's own browser download does not work here; we launch the system Chromium
(``IDMAJ_CHROMIUM``, default ``/usr/bin/chromium``) with the flags this machine needs.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from core.testing import TestDatabase, build_migrated_app

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    for candidate in (
        os.environ.get("IDMAJ_CHROMIUM"),
        "/usr/lib/chromium/chromium",
        "/usr/bin/chromium",
        shutil.which("chromium"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    raise RuntimeError("Chromium is not installed: apt-get install chromium")


class LiveServer:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory, idmaj_plugins: Any) -> Iterator[Any]:
    """A migrated app on its own database, committed for real, with CSRF on as in production."""
    tmp = tmp_path_factory.mktemp("live")
    database = TestDatabase(tmp)
    app = build_migrated_app(
        database.url,
        tmp,
        plugins=idmaj_plugins,
        WTF_CSRF_ENABLED=True,
        SERVER_NAME=None,
        TESTING=False,
    )
    yield app
    app.extensions["idmaj.db"].dispose()
    database.drop()


@pytest.fixture(scope="module")
def live_server(live_app: Any) -> Iterator[LiveServer]:
    with LiveServer(live_app) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_FLAGS, headless=True
        )
        print(f"Chromium {instance.version}")
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


@pytest.fixture
def phone_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        locale="ar-MA", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()
