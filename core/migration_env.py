"""The Alembic environment shared by every branch (each branch's ``env.py`` calls :func:`run`).

Autogenerate sees only the tables of the branch's prefix, never another owner's tables nor the
version tables; SQLite uses batch mode, with foreign keys off while it rebuilds tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from alembic import context

from core.db import metadata


def _include(prefix: str) -> Any:
    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        if type_ == "table":
            return bool(name) and name.startswith(prefix) and not name.startswith("alembic_version")
        return True

    def include_object(
        obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
    ) -> bool:
        if type_ == "table":
            return bool(name) and name.startswith(prefix)
        table = getattr(obj, "table", None)
        if table is not None:
            return str(table.name).startswith(prefix)
        return True

    return include_name, include_object


@contextmanager
def _sqlite_foreign_keys_off(connection: Any) -> Iterator[None]:
    """Batch mode changes a SQLite table by creating a new one, copying the rows, dropping the
    old one and renaming the new one. With foreign keys enforced, that DROP would delete the rows
    that reference the table (``ON DELETE CASCADE``) or fail, so they are off meanwhile (SQLite
    only takes the switch outside a transaction) and checked before the commit instead."""
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    enforced = driver.execute("PRAGMA foreign_keys").fetchone()[0]
    driver.execute("PRAGMA foreign_keys=OFF")
    if driver.execute("PRAGMA foreign_keys").fetchone()[0]:
        raise RuntimeError("cannot switch SQLite foreign keys off inside a transaction")
    try:
        yield
    finally:
        if connection.in_transaction():  # the switch would be ignored
            connection.rollback()
        driver.execute(f"PRAGMA foreign_keys={'ON' if enforced else 'OFF'}")


def _check_foreign_keys(connection: Any) -> None:
    if connection.dialect.name != "sqlite":
        return  # PostgreSQL checks every row as it is written
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"migration left rows with broken foreign keys: {broken[:10]}")


def run() -> None:
    config = context.config
    branch = config.attributes["branch"]
    include_name, include_object = _include(branch.table_prefix)
    connection = config.attributes.get("connection")
    if connection is None:
        from sqlalchemy import create_engine

        engine = create_engine(config.get_main_option("sqlalchemy.url"))
        connection = engine.connect()
    applied: list[Any] = []  # the migration steps this run applied
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=f"alembic_version_{branch.name}",
        include_name=include_name,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        transactional_ddl=True,  # SQLite too: a branch upgrades in one transaction
        transaction_per_migration=False,
        on_version_apply=lambda **kw: applied.append(kw["step"]),
    )
    with _sqlite_foreign_keys_off(connection), context.begin_transaction():
        context.run_migrations()
        if applied:
            _check_foreign_keys(connection)
