"""The Alembic environment shared by every branch (each branch's ``env.py`` calls :func:`run`).

Autogenerate sees only the tables of the branch's prefix, never another owner's tables nor the
version tables; SQLite uses batch mode.
"""

from __future__ import annotations

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


def run() -> None:
    config = context.config
    branch = config.attributes["branch"]
    include_name, include_object = _include(branch.table_prefix)
    connection = config.attributes.get("connection")
    if connection is None:
        from sqlalchemy import create_engine

        engine = create_engine(config.get_main_option("sqlalchemy.url"))
        connection = engine.connect()
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=f"alembic_version_{branch.name}",
        include_name=include_name,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()
