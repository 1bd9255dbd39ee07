"""Key rotation: every encrypted value of the module re-encrypted with the first key of
``IDMAJ_HEALTH_KEYS`` (``idmaj health rotate-key``). Values already under the first key are
left alone, so an interrupted run can simply be run again."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from core.db import metadata
from core.db import session as db_session
from plugins.health.crypto import encrypted_columns, health_keys


@dataclass(frozen=True)
class RotationResult:
    columns: int
    rotated: int
    already: int


def rotate_all(batch: int = 500) -> RotationResult:
    """Re-encrypt in batches (one transaction per batch, committed here: a command's work)."""
    keys = health_keys()
    sess = db_session()
    rotated = already = 0
    columns = encrypted_columns(metadata)
    for table, column in columns:
        last = 0
        while True:
            rows = sess.execute(
                text(
                    f"SELECT id, {column} FROM {table} WHERE id > :last AND {column} IS NOT NULL "
                    "ORDER BY id LIMIT :n"
                ),
                {"last": last, "n": batch},
            ).all()
            if not rows:
                break
            for row_id, token in rows:
                last = row_id
                if keys.is_primary(token):
                    already += 1
                    continue
                sess.execute(
                    text(f"UPDATE {table} SET {column} = :v WHERE id = :id"),
                    {"v": keys.rotate(token), "id": row_id},
                )
                rotated += 1
            sess.commit()
    return RotationResult(len(columns), rotated, already)
