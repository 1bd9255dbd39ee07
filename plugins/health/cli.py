"""``idmaj health …`` commands."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group()
def health() -> None:
    """Health files."""


@health.command("rotate-key")
@with_appcontext
def rotate_key() -> None:
    """Re-encrypt every clinical text with the first key of IDMAJ_HEALTH_KEYS.

    Put the new key first in IDMAJ_HEALTH_KEYS and keep the old ones after it, run this, then
    remove the old keys.
    """
    from core.principals import SYSTEM, acting_as
    from plugins.health.crypto import health_keys
    from plugins.health.services.rotation import rotate_all

    keys = health_keys()
    if keys.development:
        click.echo("warning: IDMAJ_HEALTH_KEYS is not set; the development key is in use", err=True)
    with acting_as(SYSTEM):
        result = rotate_all()
    click.echo(
        f"health: {result.rotated} value(s) re-encrypted with the first key, "
        f"{result.already} already under it ({result.columns} encrypted columns)"
    )
