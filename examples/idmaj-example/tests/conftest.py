"""The fixtures (app, client, login_as, api_headers, factories…) come from Idmaj's pytest
plugin, registered by the ``pytest11`` entry point of the installed ``idmaj``; we only choose
the plugins of the test app: the core and this package."""

from __future__ import annotations

from typing import Any

import idmaj_example
import pytest


@pytest.fixture(scope="session")
def idmaj_plugins() -> Any:
    return [idmaj_example]
