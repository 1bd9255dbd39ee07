"""``idmaj funds …`` commands."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext


@click.group()
def funds() -> None:
    """Detainee funds (pécule)."""


@funds.command("reconcile")
@with_appcontext
def reconcile() -> None:
    """Check every stored balance against its postings; exit 1 on any difference."""
    from plugins.funds.services import check_ledger

    problems = check_ledger()
    if not problems:
        click.echo("funds ledger consistent: every balance equals the sum of its postings")
        return
    for problem in problems:
        click.echo(problem, err=True)
    click.echo(f"funds ledger INCONSISTENT: {len(problems)} problem(s)", err=True)
    sys.exit(1)
