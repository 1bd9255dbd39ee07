"""The ``idmaj`` command line: a Flask CLI group over the app factory."""

from __future__ import annotations

import os
import sys
from typing import Any

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from core.app import create_app
from core.principals import SYSTEM


def _make_app() -> Any:
    return create_app()


class IdmajGroup(FlaskGroup):
    """Adds the plugins' commands (``plugin_cli_commands``) of the app being run.

    They are looked up in that app on each call and never added to the group itself, so two
    apps with different plugins (tests build many in one process) each see their own.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._plugin_commands(ctx)))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        return self._plugin_commands(ctx).get(name) or super().get_command(ctx, name)

    def _plugin_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        from flask.cli import ScriptInfo

        from core.plugins import get_plugin_manager

        info = ctx.ensure_object(ScriptInfo)
        if info.create_app is None:
            info.create_app = _make_app
        app = info.load_app()  # cached by ScriptInfo: one app per invocation
        found: dict[str, click.Command] = {}
        for command in get_plugin_manager(app).collect("plugin_cli_commands"):
            if command.name and command.name not in self.commands:
                found.setdefault(command.name, command)
        return found


cli = IdmajGroup(
    create_app=_make_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
    help="Idmaj — the prison administration's information system.",
)


# --------------------------------------------------------------------------------------------
# db
# --------------------------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Apply every migration of the core and of each loaded plugin."""
    from core import migrate
    from core.db import session
    from core.detainees.services import reindex_names
    from core.identity.services import sync_permissions

    migrate.upgrade(current_app)
    added = sync_permissions(session())
    reindexed = reindex_names()
    session().commit()
    if reindexed:
        click.echo(f"search keys rebuilt for {reindexed} detainee(s)")
    for name, rev in migrate.current(current_app).items():
        click.echo(f"{name}: {rev}")
    if added:
        click.echo(f"{added} new permission(s) granted to their default roles")


@db.command("downgrade")
@click.option("--yes", is_flag=True, help="Really drop every table.")
@with_appcontext
def db_downgrade(yes: bool) -> None:
    """Undo every migration (plugins first, then the core)."""
    from core import migrate

    if not yes:
        raise click.UsageError("this drops every table: pass --yes")
    migrate.downgrade(current_app)
    click.echo("downgraded to base")


@db.command("check")
@with_appcontext
def db_check() -> None:
    """Fail when the models and the migrations disagree (no drift allowed)."""
    from core import migrate

    problems = migrate.check(current_app)
    for p in problems:
        click.echo(p, err=True)
    if problems:
        sys.exit(1)
    click.echo("no drift")


@db.command("revision")
@click.argument("branch")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(branch: str, message: str) -> None:
    """Autogenerate a migration in BRANCH (core or a plugin name)."""
    from core import migrate

    migrate.revision(current_app, branch, message)


# --------------------------------------------------------------------------------------------
# users, plugins, audit, notifications, serve
# --------------------------------------------------------------------------------------------


@cli.group()
def users() -> None:
    """Staff users."""


@users.command("create")
@click.argument("username")
@click.option(
    "--role", "roles", multiple=True, required=True, help="A role code; repeat for several."
)
@click.option(
    "--establishment", "establishments", multiple=True, help="An establishment code; repeat."
)
@click.option("--full-name", default=None)
@click.option(
    "--password-stdin", is_flag=True, required=True, help="Read the password from standard input."
)
@with_appcontext
def users_create(
    username: str,
    roles: tuple[str, ...],
    establishments: tuple[str, ...],
    full_name: str | None,
    password_stdin: bool,
) -> None:
    """Create a staff user; the password is read from standard input."""
    from core.db import session
    from core.errors import DomainError
    from core.identity.services import create_user, sync_permissions

    password = sys.stdin.readline().rstrip("\n")
    sync_permissions(session())
    try:
        user = create_user(
            username=username,
            password=password,
            full_name=full_name or username,
            roles=list(roles),
            establishments=list(establishments),
            actor=SYSTEM,
        )
    except DomainError as exc:
        session().rollback()
        click.echo(f"error: {exc.message}", err=True)
        for field, msg in exc.fields.items():
            click.echo(f"  {field}: {msg}", err=True)
        sys.exit(1)
    session().commit()
    click.echo(f"created {user.username} ({', '.join(sorted(user.roles))})")


@cli.command("plugins")
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Also the plugin contract each supports, and the hooks, service ports and roles it adds.",
)
@with_appcontext
def plugins_cmd(verbose: bool) -> None:
    """One line per loaded plugin: name, version, distribution."""
    from core.identity.roles import role_registry
    from core.plugins import CONTRACT, get_plugin_manager
    from core.ports import port_registry

    pm = get_plugin_manager()
    for info in pm.plugin_infos():
        line = f"{info.name}\t{info.version or '-'}\t{info.distribution}"
        if verbose:
            hooks = sorted(h for h, owner in pm.published.items() if owner == info.name)
            extras = {
                "contract": info.contract or "(undeclared)",
                "hooks": ",".join(hooks),
                "ports": ",".join(port_registry().keys_of(info.name)),
                "roles": ",".join(role_registry().of_owner(info.name))
                if info.name != "core"
                else "",
            }
            line += "".join(f"\t{k} {v}" for k, v in extras.items() if v)
        click.echo(line)
    if verbose:
        click.echo(f"(this core offers plugin contract {CONTRACT})")


@cli.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
@with_appcontext
def audit_verify() -> None:
    """Check the hash chain, the signed checkpoints and the anchor file; exit 1 naming the
    first broken event."""
    from core.audit.services import verify

    result = verify()
    if result.ok:
        click.echo(
            f"audit trail intact: {result.checked} events, {result.checkpoints} signed "
            f"checkpoints ({result.unsealed} events not sealed yet)"
        )
        return
    click.echo(f"audit trail BROKEN at event {result.broken_event_id}: {result.reason}", err=True)
    sys.exit(1)


@audit.command("seal")
@click.option("--batch-size", default=5000, show_default=True, type=click.IntRange(1))
@click.option("--all", "seal_everything", is_flag=True, help="Repeat until nothing is left.")
@with_appcontext
def audit_seal(batch_size: int, seal_everything: bool) -> None:
    """Chain the events not sealed yet and sign a checkpoint (one batch; the worker runs it
    every few seconds)."""
    from core.audit.sealer import seal_all, seal_pending

    count = seal_all(batch_size) if seal_everything else seal_pending(batch_size)
    click.echo(f"sealed {count} events")


@cli.group()
def notifications() -> None:
    """The outbox of notifications."""


@notifications.command("send")
@with_appcontext
def notifications_send() -> None:
    """Deliver pending notifications."""
    from core.notifications.services import dispatch_pending

    click.echo(f"sent {dispatch_pending()}")


@notifications.command("failed")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@with_appcontext
def notifications_failed(limit: int) -> None:
    """List messages that failed for good (every try spent), with their last error."""
    from core.notifications.services import failed_messages

    rows = failed_messages(limit)
    for msg in rows:
        when = msg.failed_at.isoformat(timespec="seconds") if msg.failed_at else ""
        click.echo(
            f"{msg.id}\t{when}\t{msg.channel}\t{msg.kind}\t{msg.recipient}\t"
            f"{msg.attempts} tries\t{msg.last_error}"
        )
    click.echo(f"failed: {len(rows)}")


@notifications.command("retry")
@click.argument("message_ids", nargs=-1, type=int, required=True)
@with_appcontext
def notifications_retry(message_ids: tuple[int, ...]) -> None:
    """Give failed messages a fresh set of tries (after the channel is repaired)."""
    from core.db import session
    from core.notifications.services import retry_failed
    from core.principals import SYSTEM

    count = retry_failed(list(message_ids), SYSTEM)
    session().commit()
    click.echo(f"queued again: {count}")


@cli.command("worker")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--periodic/--no-periodic",
    default=True,
    show_default=True,
    help="Also run the scheduler of periodic tasks (run it on one host only).",
)
@click.option("--list", "list_only", is_flag=True, help="List the periodic tasks and exit.")
@with_appcontext
def worker(workers: int, periodic: bool, list_only: bool) -> None:
    """Run the background tasks: notifications, modules' periodic tasks (Ctrl-C stops it)."""
    import logging

    from core.tasks import get_queue

    queue = get_queue(current_app._get_current_object())  # type: ignore[attr-defined]
    huey = queue.huey
    if list_only:
        for name, task in sorted(queue.periodic.items()):
            click.echo(f"{name}\t{task.every}")
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    storage = "redis" if current_app.config.get("REDIS_URL") else current_app.config["TASKS_FILE"]
    click.echo(
        f"idmaj worker: {workers} threads, periodic tasks {'on' if periodic else 'off'} "
        f"({len(queue.periodic)}), queue {huey.name} on {storage}"
    )
    queue.consumer(workers=workers, periodic=periodic).run()


@cli.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--workers", default=2, type=int)
def serve(host: str, port: int, workers: int) -> None:
    """Production server (gunicorn)."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")
            self.cfg.set("preload_app", False)  # engines are created after the fork

        def load(self) -> Any:
            return create_app()

    Server().run()


@cli.command("dev-server", hidden=True)
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--with-worker", is_flag=True, help="Start `idmaj worker` beside the server.")
def dev_server(host: str, port: int, with_worker: bool) -> None:
    """Werkzeug's development server (used by `make run`).

    ``app.run()`` would refuse to start inside a Flask CLI command, so the server is started
    directly. ``--with-worker`` runs ``idmaj worker`` in a child process, stopped with the
    server.
    """
    import subprocess

    from werkzeug.serving import run_simple

    app = create_app()
    debug = os.environ.get("IDMAJ_DEBUG") == "1"
    child = None
    if with_worker:
        child = subprocess.Popen(
            [sys.executable, "-c", "from core.cli import main; main()", "worker"]
        )
        click.echo(f"idmaj worker started (process {child.pid})")
    click.echo(f"Idmaj is served on http://{host}:{port} (Ctrl-C stops it)")
    try:
        run_simple(host, port, app, use_debugger=debug, use_reloader=False, threaded=True)
    finally:
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()


@cli.group()
def demo() -> None:
    """Demo data."""


@demo.command("seed")
@click.option(
    "--detainees", "count", default=400, show_default=True, type=click.IntRange(0, 200_000)
)
@click.option("--seed", "seed_value", default=2025, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when data exists.")
@click.option(
    "--population/--no-population",
    default=True,
    show_default=True,
    help="Also fill every establishment to a real-looking occupancy (bulk-loaded detainees).",
)
@with_appcontext
def demo_seed(count: int, seed_value: int, if_empty: bool, population: bool) -> None:
    """Demo establishments, one user per role, detainees… on an empty database."""
    from core import demo as demo_data
    from core.db import session

    if not demo_data.database_is_empty():
        if if_empty:
            click.echo("database already has data: demo seed skipped")
            _print_logins(demo_data.demo_logins())
            return
        click.echo("error: the database is not empty", err=True)
        sys.exit(1)
    with click.progressbar(length=1, label="seeding") as bar:
        result = demo_data.seed(count, seed_value, population=population)
        session().commit()
        bar.update(1)
    click.echo(
        f"{result.establishments} establishments, {result.users} users, "
        f"{result.detainees} detainees"
    )
    _print_logins(result.logins)


def _print_logins(logins: list[tuple[str, str, str]]) -> None:
    if not logins:
        click.echo("No demo login opens with the demo password any more.")
        return
    click.echo("Demo logins (username / password / role):")
    for username, password, what in logins:
        click.echo(f"  {username:<16} {password:<18} {what}")


@cli.group()
def detainees() -> None:
    """Detainee records."""


@detainees.command("reindex")
@with_appcontext
def detainees_reindex() -> None:
    """Rebuild every detainee's name search keys (db upgrade does it when they change)."""
    from core.db import session
    from core.detainees.services import reindex_names

    count = reindex_names(force=True)
    session().commit()
    click.echo(f"search keys rebuilt for {count} detainee(s)")


@detainees.command("import")
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--user",
    "username",
    default=None,
    help="Act as this staff user (audited as them, limited to their establishments).",
)
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10_000))
@with_appcontext
def detainees_import(csv_file: str, username: str | None, batch_size: int) -> None:
    """Admit the detainees of a CSV file, with a progress bar.

    Columns (header line required; UTF-8, with or without BOM; ',' or ';'):
    first_name,last_name,first_name_ar,last_name_ar,birth_date,sex,national_id,establishment,legal_status

    Good rows are kept (committed in batches); each bad row is reported on standard error by
    line number with the field and the reason.

    Exit status: 0 when every row was imported, 1 when some rows were bad (the good ones are
    still imported) or when the file cannot be read at all (then nothing is imported).
    """
    from sqlalchemy import select

    from core.db import session
    from core.detainees import importer
    from core.errors import DomainError
    from core.identity.models import User

    actor: Any = SYSTEM
    if username:
        actor = session().scalar(select(User).where(User.username == username))
        if actor is None:
            raise click.BadParameter(f"no user {username!r}", param_hint="--user")
    with open(csv_file, "rb") as fh:
        data = fh.read()
    try:
        parsed = importer.parse(data)
        with click.progressbar(length=len(parsed.rows), label="importing") as bar:
            result = importer.import_rows(parsed, actor, batch_size=batch_size, progress=bar.update)
    except DomainError as exc:
        session().rollback()
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    for line in importer.iter_error_lines(result):
        click.echo(line, err=True)
    click.echo(
        f"{result.imported} of {result.total} rows imported, {len(result.bad_lines)} bad rows"
    )
    if not result.ok:
        sys.exit(1)


def main() -> None:
    cli.main(prog_name="idmaj")
