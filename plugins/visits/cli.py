"""``idmaj visits …`` commands (added through ``plugin_cli_commands``)."""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import with_appcontext

from core.principals import SYSTEM


@click.group("visits")
def visits_group() -> None:
    """Family visits (Ziara)."""


@visits_group.command("remind")
@with_appcontext
def remind() -> None:
    """Queue a reminder for every confirmed visit of tomorrow (once per visit)."""
    from core.db import session

    from .services import send_reminders

    count = send_reminders()
    session().commit()
    click.echo(f"reminders queued: {count}")


@visits_group.command("generate")
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 120))
@click.option("--establishment", "codes", multiple=True, help="establishment code (default: all)")
@with_appcontext
def generate(days: int, codes: tuple[str, ...]) -> None:
    """Create the slots of the weekly sessions for the coming days (idempotent)."""
    from core.db import session, utcnow

    from . import services

    ests = (
        [services.establishment_by_code(c) for c in codes]
        if codes
        else services.public_establishments()
    )
    today: dt.date = services.local_date(utcnow())
    total = 0
    for est in ests:
        total += services.generate_slots(SYSTEM, est, today, days)
    session().commit()
    click.echo(f"slots created: {total}")
