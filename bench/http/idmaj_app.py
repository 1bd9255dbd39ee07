"""The Idmaj app as gunicorn loads it for the HTTP benchmark: ``create_app`` with the settings
of the benchmark's temporary database (a JSON file named by ``BENCH_IDMAJ_CONFIG``) and every
installed module."""

from __future__ import annotations

import json
import os
from typing import Any


def create() -> Any:
    from core.app import create_app

    with open(os.environ["BENCH_IDMAJ_CONFIG"], encoding="utf-8") as fh:
        return create_app(json.load(fh))
