"""name keys: the detainee's establishment copied onto each search key, so that a search
scoped to an establishment reads its own postings of a name (index ``(key, establishment_id,
detainee_id)``), not every posting in the country merged with the establishment's detainees

Revision ID: 0012_name_keys_establishment
Revises: 0011_detainee_est_id_index
Create Date: 2026-12-03 09:30:00

The copy is held by the database: the foreign key is ``(establishment_id, detainee_id)`` →
``core_detainees (establishment_id, id)`` ``ON UPDATE CASCADE ON DELETE CASCADE`` (so the
index ``(establishment_id, id)`` becomes unique: the id alone already is). On PostgreSQL the
table is rebuilt with ``INSERT … SELECT`` (13 million keys at 1,000,000 detainees: far quicker
than updating every row in place under two indexes); on SQLite, Alembic's batch copy. The
new table has no visibility map until it is vacuumed (every index-only probe of a search
would read the heap too): :func:`core.migrate.upgrade` vacuums it once every branch is
upgraded, outside the migrations' transaction.
"""

from alembic import op
import sqlalchemy as sa


revision = "0012_name_keys_establishment"
down_revision = "0011_detainee_est_id_index"
branch_labels = None
depends_on = None

TABLE = "core_detainee_name_keys"
OLD_FK = "fk_core_detainee_name_keys_detainee_id_core_detainees"
NEW_FK = "fk_core_detainee_name_keys_detainee_core_detainees"
KEY_INDEX = "ix_core_detainee_name_keys_key_detainee"
SCOPED_INDEX = "ix_core_detainee_name_keys_key_establishment"
DETAINEE_INDEX = "ix_core_detainees_establishment_id_id"
#: the new foreign key: the pair (establishment, detainee) → the detainee's
NEW_FK_TARGET = {
    "referent_table": "core_detainees",
    "local_cols": ["establishment_id", "detainee_id"],
    "remote_cols": ["establishment_id", "id"],
    "ondelete": "CASCADE",
    "onupdate": "CASCADE",
}


def _detainee_index(unique: bool) -> None:
    with op.batch_alter_table("core_detainees", schema=None) as batch_op:
        batch_op.drop_index(DETAINEE_INDEX)
        batch_op.create_index(DETAINEE_INDEX, ["establishment_id", "id"], unique=unique)


def _upgrade_postgresql() -> None:
    op.execute(
        f"CREATE TABLE {TABLE}_new AS SELECT k.detainee_id, k.key, "
        "d.establishment_id, k.weight "
        f"FROM {TABLE} k JOIN core_detainees d ON d.id = k.detainee_id"
    )
    op.drop_table(TABLE)
    op.rename_table(f"{TABLE}_new", TABLE)
    for column in ("detainee_id", "key", "establishment_id", "weight"):
        op.alter_column(TABLE, column, nullable=False)
    op.create_primary_key(op.f(f"pk_{TABLE}"), TABLE, ["detainee_id", "key"])
    op.create_index(KEY_INDEX, TABLE, ["key", "detainee_id"], unique=False)
    op.create_index(SCOPED_INDEX, TABLE, ["key", "establishment_id", "detainee_id"], unique=False)
    op.create_foreign_key(NEW_FK, TABLE, **NEW_FK_TARGET)
    op.execute(f"ANALYZE {TABLE}")  # the VACUUM comes after the upgrade: migrate.upgrade


def _upgrade_sqlite() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.add_column(sa.Column("establishment_id", sa.Integer(), nullable=True))
    op.execute(
        f"UPDATE {TABLE} SET establishment_id = (SELECT d.establishment_id "
        f"FROM core_detainees d WHERE d.id = {TABLE}.detainee_id)"
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.alter_column("establishment_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint(OLD_FK, type_="foreignkey")
        batch_op.create_foreign_key(NEW_FK, **NEW_FK_TARGET)
        batch_op.create_index(SCOPED_INDEX, ["key", "establishment_id", "detainee_id"])


def upgrade() -> None:
    _detainee_index(unique=True)
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def downgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index(SCOPED_INDEX)
        batch_op.drop_constraint(NEW_FK, type_="foreignkey")
        batch_op.create_foreign_key(
            OLD_FK, "core_detainees", ["detainee_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.drop_column("establishment_id")
    _detainee_index(unique=False)
