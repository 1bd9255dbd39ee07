"""principal stamps: what a worker's cached signed-in principal is checked against

Revision ID: 0010_principal_stamps
Revises: 0009_form_submissions
Create Date: 2026-12-02 08:45:00

``core_users.principal_stamp`` changes (a new random value) whenever the user's row, roles,
establishments or second factor change; ``core_principal_epoch`` holds one stamp that changes whenever any
role's permissions or roles themselves change. Triggers keep both, whoever writes (the app,
a command, psql): see docs/architecture.md, "The signed-in principal, cached".
"""

from alembic import op
import sqlalchemy as sa


revision = "0010_principal_stamps"
down_revision = "0009_form_submissions"
branch_labels = None
depends_on = None

# a new stamp: random, so that a value of a rolled-back transaction never comes back
PG_STAMP = "floor(random() * 9000000000000000000)::bigint"
SQLITE_STAMP = "random()"

PG_UP = (
    f"""
CREATE OR REPLACE FUNCTION core_users_restamp() RETURNS trigger AS $$
BEGIN
    IF NEW.principal_stamp IS NOT DISTINCT FROM OLD.principal_stamp THEN
        NEW.principal_stamp := {PG_STAMP};
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
""",
    f"""
CREATE OR REPLACE FUNCTION core_user_links_restamp() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE core_users SET principal_stamp = {PG_STAMP} WHERE id = OLD.user_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE core_users SET principal_stamp = {PG_STAMP} WHERE id = NEW.user_id;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
""",
    f"""
CREATE OR REPLACE FUNCTION core_principal_epoch_bump() RETURNS trigger AS $$
BEGIN
    UPDATE core_principal_epoch SET stamp = {PG_STAMP} WHERE id = 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
""",
    "CREATE TRIGGER core_users_restamp BEFORE UPDATE ON core_users "
    "FOR EACH ROW EXECUTE FUNCTION core_users_restamp()",
    "CREATE TRIGGER core_user_roles_restamp AFTER INSERT OR UPDATE OR DELETE "
    "ON core_user_roles FOR EACH ROW EXECUTE FUNCTION core_user_links_restamp()",
    "CREATE TRIGGER core_user_establishments_restamp AFTER INSERT OR UPDATE OR DELETE "
    "ON core_user_establishments FOR EACH ROW EXECUTE FUNCTION core_user_links_restamp()",
    "CREATE TRIGGER core_second_factors_restamp AFTER INSERT OR UPDATE OR DELETE "
    "ON core_second_factors FOR EACH ROW EXECUTE FUNCTION core_user_links_restamp()",
    # a TRUNCATE names no user: every principal is reloaded
    "CREATE TRIGGER core_user_roles_truncate AFTER TRUNCATE ON core_user_roles "
    "FOR EACH STATEMENT EXECUTE FUNCTION core_principal_epoch_bump()",
    "CREATE TRIGGER core_user_establishments_truncate AFTER TRUNCATE "
    "ON core_user_establishments FOR EACH STATEMENT EXECUTE FUNCTION core_principal_epoch_bump()",
    "CREATE TRIGGER core_second_factors_truncate AFTER TRUNCATE ON core_second_factors "
    "FOR EACH STATEMENT EXECUTE FUNCTION core_principal_epoch_bump()",
    "CREATE TRIGGER core_role_permissions_epoch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
    "ON core_role_permissions FOR EACH STATEMENT EXECUTE FUNCTION core_principal_epoch_bump()",
    "CREATE TRIGGER core_roles_epoch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
    "ON core_roles FOR EACH STATEMENT EXECUTE FUNCTION core_principal_epoch_bump()",
)

PG_DOWN = (
    "DROP TRIGGER IF EXISTS core_roles_epoch ON core_roles",
    "DROP TRIGGER IF EXISTS core_role_permissions_epoch ON core_role_permissions",
    "DROP TRIGGER IF EXISTS core_second_factors_truncate ON core_second_factors",
    "DROP TRIGGER IF EXISTS core_second_factors_restamp ON core_second_factors",
    "DROP TRIGGER IF EXISTS core_user_establishments_truncate ON core_user_establishments",
    "DROP TRIGGER IF EXISTS core_user_roles_truncate ON core_user_roles",
    "DROP TRIGGER IF EXISTS core_user_establishments_restamp ON core_user_establishments",
    "DROP TRIGGER IF EXISTS core_user_roles_restamp ON core_user_roles",
    "DROP TRIGGER IF EXISTS core_users_restamp ON core_users",
    "DROP FUNCTION IF EXISTS core_principal_epoch_bump()",
    "DROP FUNCTION IF EXISTS core_user_links_restamp()",
    "DROP FUNCTION IF EXISTS core_users_restamp()",
)


def _sqlite_links(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_restamp_insert AFTER INSERT ON {table} BEGIN "
        f"UPDATE core_users SET principal_stamp = {SQLITE_STAMP} WHERE id = NEW.user_id; END",
        f"CREATE TRIGGER {table}_restamp_update AFTER UPDATE ON {table} BEGIN "
        f"UPDATE core_users SET principal_stamp = {SQLITE_STAMP} WHERE id = OLD.user_id; "
        f"UPDATE core_users SET principal_stamp = {SQLITE_STAMP} WHERE id = NEW.user_id; END",
        f"CREATE TRIGGER {table}_restamp_delete AFTER DELETE ON {table} BEGIN "
        f"UPDATE core_users SET principal_stamp = {SQLITE_STAMP} WHERE id = OLD.user_id; END",
    ]


def _sqlite_epoch(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_epoch_{op_} AFTER {op_.upper()} ON {table} BEGIN "
        f"UPDATE core_principal_epoch SET stamp = {SQLITE_STAMP} WHERE id = 1; END"
        for op_ in ("insert", "update", "delete")
    ]


SQLITE_UP = (
    # SQLite cannot change NEW: a second UPDATE gives the new stamp (recursive triggers are off,
    # and the WHEN clause would stop a second round anyway)
    "CREATE TRIGGER core_users_restamp AFTER UPDATE ON core_users "
    "WHEN NEW.principal_stamp IS OLD.principal_stamp BEGIN "
    f"UPDATE core_users SET principal_stamp = {SQLITE_STAMP} WHERE id = NEW.id; END",
    *_sqlite_links("core_user_roles"),
    *_sqlite_links("core_user_establishments"),
    *_sqlite_links("core_second_factors"),
    *_sqlite_epoch("core_role_permissions"),
    *_sqlite_epoch("core_roles"),
)

SQLITE_TRIGGERS = (
    "core_users_restamp",
    *(
        f"{t}_restamp_{o}"
        for t in ("core_user_roles", "core_user_establishments", "core_second_factors")
        for o in ("insert", "update", "delete")
    ),
    *(
        f"{t}_epoch_{o}"
        for t in ("core_role_permissions", "core_roles")
        for o in ("insert", "update", "delete")
    ),
)


def upgrade() -> None:
    op.create_table(
        "core_principal_epoch",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("stamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_principal_epoch")),
    )
    with op.batch_alter_table("core_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("principal_stamp", sa.BigInteger(), nullable=True))
    postgresql = op.get_bind().dialect.name == "postgresql"
    stamp = PG_STAMP if postgresql else SQLITE_STAMP
    op.execute(f"INSERT INTO core_principal_epoch (id, stamp) VALUES (1, {stamp})")
    op.execute(f"UPDATE core_users SET principal_stamp = {stamp}")
    for statement in PG_UP if postgresql else SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in PG_DOWN:
            op.execute(statement)
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("core_users", schema=None) as batch_op:
        batch_op.drop_column("principal_stamp")
    op.drop_table("core_principal_epoch")
