"""``python -m core.migration_check``: upgrade → no drift → downgrade → upgrade, on a fresh
SQLite database and (unless ``IDMAJ_SKIP_POSTGRES=1``) a fresh PostgreSQL database."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from sqlalchemy import inspect

from core import migrate
from core.testing import TestDatabase, test_config


def check_backend(kind: str, tmp: Path) -> list[str]:
    from core.app import create_app

    os.environ["IDMAJ_TEST_BACKEND"] = kind
    database = TestDatabase(tmp)
    problems: list[str] = []
    try:
        app = create_app(test_config(database.url, tmp))
        migrate.upgrade(app)
        problems += [f"{kind}: drift after upgrade: {p}" for p in migrate.check(app)]
        migrate.downgrade(app)
        left = [
            t
            for t in inspect(app.extensions["idmaj.db"].engine).get_table_names()
            if not t.startswith("alembic_version")
        ]
        if left:
            problems.append(f"{kind}: tables left after downgrade: {left}")
        migrate.upgrade(app)
        problems += [f"{kind}: drift after re-upgrade: {p}" for p in migrate.check(app)]
        app.extensions["idmaj.db"].dispose()
    finally:
        database.drop()
    print(f"{kind}: {'OK' if not problems else 'FAILED'}")
    return problems


def main() -> int:
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        problems += check_backend("sqlite", Path(tmp))
        if os.environ.get("IDMAJ_SKIP_POSTGRES") != "1":
            problems += check_backend("postgresql", Path(tmp))
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
