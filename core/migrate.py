"""Migrations: one Alembic branch per owner (the core, then each plugin), each with its own
version table ``alembic_version_<name>``, all through the shared env in
:mod:`core.migration_env`.

Separate version tables cannot express dependencies between branches, so the core is always
upgraded first and plugins after it, in name order.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import text

from core.contributions import MigrationBranch
from core.db import get_database
from core.plugins import get_plugin_manager


def branches(app: Flask) -> list[MigrationBranch]:
    found = get_plugin_manager(app).collect("plugin_migrations")
    core = [b for b in found if b.name == "core"]
    rest = sorted((b for b in found if b.name != "core"), key=lambda b: b.name)
    return core + rest


def alembic_config(app: Flask, branch: MigrationBranch, connection: Any = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", branch.directory)
    cfg.set_main_option("sqlalchemy.url", get_database(app).url.replace("%", "%%"))
    cfg.attributes["branch"] = branch
    cfg.attributes["app"] = app
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@contextmanager
def _connection(app: Flask) -> Iterator[Any]:
    engine = get_database(app).engine
    with engine.connect() as conn:
        yield conn
        if conn.in_transaction():
            conn.commit()


#: pages from which a table never vacuumed is vacuumed after an upgrade (8 MB)
UNVACUUMED_PAGES = 1000


def upgrade(app: Flask, revision: str = "heads") -> None:
    """Apply every migration of the core, then of each loaded plugin; then, on PostgreSQL,
    vacuum the large tables a migration rebuilt (:func:`vacuum_rebuilt_tables`)."""
    for branch in branches(app):
        with _connection(app) as conn:
            command.upgrade(alembic_config(app, branch, conn), revision)
    vacuum_rebuilt_tables(app)


def vacuum_rebuilt_tables(app: Flask, min_pages: int | None = None) -> list[str]:
    """``VACUUM (ANALYZE)`` every table of at least ``min_pages`` pages (default
    :data:`UNVACUUMED_PAGES`) none of whose pages is marked all-visible: a table a migration
    has just rebuilt (``CREATE TABLE … AS``, a rewrite). Until then every index-only scan of
    it reads the heap as well, and autovacuum (when it is on at all) comes when it comes.
    VACUUM cannot run in a transaction, hence here and not in the migration. PostgreSQL only;
    returns the tables vacuumed."""
    engine = get_database(app).engine
    if engine.dialect.name != "postgresql":
        return []
    found = text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'r' AND n.nspname = current_schema() AND c.relallvisible = 0 "
        "AND c.relpages >= :pages ORDER BY c.relname"
    )
    pages = UNVACUUMED_PAGES if min_pages is None else min_pages
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        names = list(conn.execute(found, {"pages": pages}).scalars())
        for name in names:
            conn.exec_driver_sql(f'VACUUM (ANALYZE) "{name}"')
    return names


def downgrade_branch(app: Flask, name: str, revision: str) -> None:
    """Undo one branch's migrations down to ``revision``, the other branches untouched (tests
    of a migration's backfill start from the revision before it)."""
    branch = {b.name: b for b in branches(app)}[name]
    with _connection(app) as conn:
        command.downgrade(alembic_config(app, branch, conn), revision)


def downgrade(app: Flask, revision: str = "base") -> None:
    """Undo migrations: plugins first (reverse order), the core last."""
    for branch in reversed(branches(app)):
        with _connection(app) as conn:
            command.downgrade(alembic_config(app, branch, conn), revision)


def current(app: Flask) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    with _connection(app) as conn:
        for branch in branches(app):
            ctx = MigrationContext.configure(
                conn, opts={"version_table": f"alembic_version_{branch.name}"}
            )
            out[branch.name] = ctx.get_current_revision()
    return out


def head(app: Flask, branch: MigrationBranch) -> str | None:
    return ScriptDirectory.from_config(alembic_config(app, branch)).get_current_head()


def check(app: Flask) -> list[str]:
    """Compare the models with the migrated database; returns differences per branch."""
    problems: list[str] = []
    for branch in branches(app):
        buf = io.StringIO()
        with _connection(app) as conn, redirect_stdout(buf):
            try:
                command.check(alembic_config(app, branch, conn))
            except Exception as exc:  # alembic raises AutogenerateDiffsDetected
                problems.append(f"{branch.name}: {exc}")
    return problems


def revision(app: Flask, branch_name: str, message: str) -> None:
    """Autogenerate a new migration in one branch (a developer's command)."""
    for branch in branches(app):
        if branch.name == branch_name:
            with _connection(app) as conn:
                command.revision(
                    alembic_config(app, branch, conn), message=message, autogenerate=True
                )
            return
    raise KeyError(branch_name)
