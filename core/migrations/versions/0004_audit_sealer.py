"""audit sealer: events appended without a lock, chained and signed in the background

Revision ID: 0004_audit_sealer
Revises: 0003_held_national_id
Create Date: 2026-12-01 23:40:00

The events already written keep their hashes: they were chained in ``id`` order, so their
``chain_index`` is their rank by ``id`` and the chain stays valid. The first run of the sealer
signs a checkpoint covering them. ``core_audit_head`` (the national lock) goes away.
"""

from alembic import op
import sqlalchemy as sa
import core.db


revision = "0004_audit_sealer"
down_revision = "0003_held_national_id"
branch_labels = None
depends_on = None


GUARD_FUNCTION = """
CREATE OR REPLACE FUNCTION core_audit_events_immutable() RETURNS trigger AS $$
BEGIN
    -- the sealer may set chain_index, prev_hash and hash once, on an unsealed event, and
    -- change nothing else
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'core_audit_events' THEN
        IF OLD.hash IS NULL
           AND (to_jsonb(NEW) - 'chain_index' - 'prev_hash' - 'hash')
               = (to_jsonb(OLD) - 'chain_index' - 'prev_hash' - 'hash') THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""

OLD_GUARD_FUNCTION = """
CREATE OR REPLACE FUNCTION core_audit_events_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'core_audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""

TRIGGERS = (
    "CREATE TRIGGER core_audit_events_no_truncate BEFORE TRUNCATE ON core_audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION core_audit_events_immutable()",
    "CREATE TRIGGER core_audit_checkpoints_immutable BEFORE UPDATE OR DELETE "
    "ON core_audit_checkpoints FOR EACH ROW EXECUTE FUNCTION core_audit_events_immutable()",
    "CREATE TRIGGER core_audit_checkpoints_no_truncate BEFORE TRUNCATE "
    "ON core_audit_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION core_audit_events_immutable()",
)


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:  # the existing trigger would refuse the numbering below
        op.execute("DROP TRIGGER IF EXISTS core_audit_events_immutable ON core_audit_events")
    op.create_table(
        "core_audit_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("up_to_index", sa.BigInteger(), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_audit_checkpoints")),
        sa.UniqueConstraint("up_to_index", name=op.f("uq_core_audit_checkpoints_up_to_index")),
    )
    with op.batch_alter_table("core_audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain_index", sa.BigInteger(), nullable=True))
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=True)
    # the existing chain was written in id order: its position is its rank by id
    op.execute(
        "UPDATE core_audit_events SET chain_index = ranked.rn FROM "
        "(SELECT id, row_number() OVER (ORDER BY id) AS rn FROM core_audit_events) AS ranked "
        "WHERE ranked.id = core_audit_events.id"
    )
    with op.batch_alter_table("core_audit_events", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_core_audit_events_chain_index"), ["chain_index"]
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_core_audit_events_prev_hash"), ["prev_hash"]
        )
    op.drop_table("core_audit_head")
    if postgresql:
        op.execute(GUARD_FUNCTION)
        op.execute(
            "CREATE TRIGGER core_audit_events_immutable BEFORE UPDATE OR DELETE "
            "ON core_audit_events FOR EACH ROW EXECUTE FUNCTION core_audit_events_immutable()"
        )
        for sql in TRIGGERS:
            op.execute(sql)


def downgrade() -> None:
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    unsealed = bind.execute(
        sa.text("SELECT count(*) FROM core_audit_events WHERE hash IS NULL")
    ).scalar()
    if unsealed:
        raise RuntimeError(
            f"{unsealed} audit events are not sealed: run `idmaj audit seal --all` first"
        )
    if postgresql:
        for name, table in (
            ("core_audit_checkpoints_no_truncate", "core_audit_checkpoints"),
            ("core_audit_checkpoints_immutable", "core_audit_checkpoints"),
            ("core_audit_events_no_truncate", "core_audit_events"),
            ("core_audit_events_immutable", "core_audit_events"),
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    head = bind.execute(
        sa.text(
            "SELECT id, hash FROM core_audit_events WHERE chain_index IS NOT NULL "
            "ORDER BY chain_index DESC LIMIT 1"
        )
    ).first()
    op.create_table(
        "core_audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_audit_head")),
    )
    if head is not None:
        op.execute(
            sa.text(
                "INSERT INTO core_audit_head (id, last_event_id, last_hash) VALUES (1, :i, :h)"
            ).bindparams(i=head[0], h=head[1])
        )
    with op.batch_alter_table("core_audit_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_core_audit_events_prev_hash"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_core_audit_events_chain_index"), type_="unique")
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column("chain_index")
    op.drop_table("core_audit_checkpoints")
    if postgresql:
        op.execute(OLD_GUARD_FUNCTION)
        op.execute(
            "CREATE TRIGGER core_audit_events_immutable BEFORE UPDATE OR DELETE "
            "ON core_audit_events FOR EACH ROW EXECUTE FUNCTION core_audit_events_immutable()"
        )
