"""The `maild` command: parses arguments, builds config, database and adapters once, prints."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import shutil
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import click
from rich.console import Console

from maild import resources, views
from maild.cli_context import EXIT_POLL_FAILED, Context, fail, open_db
from maild.cli_drafts import drafts, send
from maild.cli_rules import classify, rules
from maild.cli_sla import digest, escalate
from maild.cli_tickets import customers, tickets
from maild.cli_users import users
from maild.cli_web import web
from maild.config import Config, load_config
from maild.daemon import Daemon
from maild.ingest import Ingestor
from maild.log import configure_logging
from maild.mailer import flush_outbox
from maild.progress import BarProgress, LogProgress, ProgressReporter
from maild.rules import RuleSet, load_rules
from maild.sent_copies import sent_copier
from maild.store.db import Database
from maild.store.models import utcnow
from maild.store.rows import warm_up
from maild.sweeping import sweep_and_send


@contextmanager
def worker_pool() -> Iterator[ProcessPoolExecutor]:
    """Parsing runs in worker processes so it overlaps fetching and storing."""
    # spawn: forking a process that already runs threads (prefetch, asyncio) is unsafe.
    workers = max(1, os.cpu_count() or 1)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    for _ in range(workers):
        pool.submit(warm_up)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@click.group()
@click.option("--config", "config_option", metavar="PATH", help="maild.toml (or $MAILD_CONFIG).")
@click.option("--json-logs/--console-logs", default=None, help="Log format (default: by terminal).")
@click.version_option(package_name="maild")
@click.pass_context
def main(ctx: click.Context, config_option: str | None, json_logs: bool | None) -> None:
    """maild: email-queue processing for customer-support teams."""
    configure_logging(json_output=json_logs)
    ctx.obj = Context(config_option, json_logs)


def favour_io_threads() -> None:
    """Let the fetching thread get the GIL back quickly after each socket read.

    With the default 5 ms switch interval, the thread that reads IMAP responses waits behind the
    thread that writes to the database after every read; at 0.5 ms a 20,000-message poll ran
    about a third faster here (bench/ingest.py).
    """
    sys.setswitchinterval(0.0005)


def _poll_once(
    config: Config, rules: RuleSet, database: Database, *, as_json: bool, out: Console
) -> bool:
    favour_io_threads()
    interactive = sys.stderr.isatty() and not as_json
    with ExitStack() as stack:
        pool = stack.enter_context(worker_pool())
        progress: ProgressReporter = (
            stack.enter_context(BarProgress()) if interactive else LogProgress()
        )
        ingestor = Ingestor(database, config, executor=pool, progress=progress, rules=rules)
        outcomes = ingestor.poll_all()
    for outcome in outcomes:
        if not outcome.ok:
            click.echo(
                f"maild: mailbox {outcome.mailbox!r} could not be read: {outcome.error}", err=True
            )
    if as_json:
        views.print_json(
            [
                {"mailbox": o.mailbox, "ok": o.ok, "stored": o.stored, "error": o.error}
                for o in outcomes
            ],
            out,
        )
    return all(outcome.ok for outcome in outcomes)


@main.command()
@click.option("--once", is_flag=True, default=True, help="Read every mailbox once and exit.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.pass_obj
def poll(obj: Context, once: bool, as_json: bool) -> None:
    """Read every configured mailbox once; exit 0 if all were read."""
    config, rules = obj.load_with_rules()
    database = open_db(config)
    if not _poll_once(config, rules, database, as_json=as_json, out=obj.out):
        sys.exit(EXIT_POLL_FAILED)


@main.command()
@click.pass_obj
def run(obj: Context) -> None:
    """Run as a daemon: poll at start and every poll_interval until SIGTERM."""
    config, rules = obj.load_with_rules()
    database = open_db(config)
    path = obj.config_path()
    favour_io_threads()

    def reload() -> tuple[Config, RuleSet]:
        fresh = load_config(path)
        return fresh, load_rules(fresh.rules_dir, fresh.owners)

    with worker_pool() as pool:

        def make_ingestor(
            current: Config, current_rules: RuleSet, stop: threading.Event
        ) -> Ingestor:
            return Ingestor(
                database,
                current,
                executor=pool,
                progress=LogProgress(),
                stop=stop,
                rules=current_rules,
            )

        async def flush(current: Config) -> None:
            if current.smtp is not None:
                copier = sent_copier(current, database)
                await flush_outbox(database, current.smtp, utcnow, copy_sent=copier)

        async def sweep(current: Config) -> None:
            await sweep_and_send(database, current)

        daemon = Daemon(config, rules, make_ingestor, reload, flush=flush, sweep=sweep)
        code = asyncio.run(daemon.run())
    sys.exit(code)


@main.group()
def messages() -> None:
    """Stored messages."""


@messages.command("list")
@click.option("--json", "as_json", is_flag=True, help="A JSON array instead of a table.")
@click.option("--status", type=click.Choice(["pending", "ok", "quarantined"]))
@click.pass_obj
def messages_list(obj: Context, as_json: bool, status: str | None) -> None:
    """Every stored message, oldest first."""
    config = obj.load()
    _show_messages(obj, open_db(config), as_json=as_json, status=status, title="Messages")


def _show_messages(
    obj: Context, database: Database, *, as_json: bool, status: str | None, title: str
) -> None:
    rows = views.list_messages(database, status=status)
    if as_json:
        views.print_json(rows, obj.out)
    else:
        obj.out.print(views.messages_table(rows, title, obj.out.width))


@main.group()
def quarantine() -> None:
    """Messages that could not be processed, with the reason."""


@quarantine.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def quarantine_list(obj: Context, as_json: bool) -> None:
    """Quarantined messages and why."""
    config = obj.load()
    _show_messages(obj, open_db(config), as_json=as_json, status="quarantined", title="Quarantine")


@main.command()
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "all_", is_flag=True, help="Every quarantined message.")
@click.pass_obj
def reprocess(obj: Context, ids: tuple[int, ...], all_: bool) -> None:
    """Run the pipeline again on stored messages (by id, or --all quarantined)."""
    if not ids and not all_:
        fail("give message ids or --all")
    config, rules = obj.load_with_rules()
    database = open_db(config)
    if all_:
        ids = tuple(row["id"] for row in views.list_messages(database, status="quarantined"))
    results = Ingestor(database, config, rules=rules).reprocess(list(ids))
    found = {result.message_pk for result in results}
    for missing in sorted(set(ids) - found):
        click.echo(f"maild: no message with id {missing}", err=True)
    for result in results:
        outcome = (
            "ok" if result.quarantine_reason is None else f"quarantined: {result.quarantine_reason}"
        )
        obj.out.print(f"{result.message_pk}: {outcome}", markup=False)
    if set(ids) - found:
        sys.exit(1)


@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def status(obj: Context, as_json: bool) -> None:
    """Per mailbox and folder: server count, stored count, last poll and its outcome."""
    config = obj.load()
    rows = views.status_rows(open_db(config), config)
    if as_json:
        views.print_json(rows, obj.out)
    else:
        obj.out.print(views.status_table(rows))


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(obj: Context) -> None:
    """Apply database migrations (also done on every start)."""
    config = obj.load()
    database = open_db(config)
    obj.out.print(f"database {database.display_url()} is up to date", markup=False)


@main.command()
@click.pass_obj
def check(obj: Context) -> None:
    """Load the configuration and everything it names; exit 2 on a problem."""
    config, rules = obj.load_with_rules()
    obj.out.print(
        f"{obj.config_path()}: ok ({len(config.mailboxes)} mailbox(es), {len(rules.rules)} "
        f"rules in {config.rules_dir}, templates in {config.templates_dir})",
        markup=False,
    )


@main.command()
@click.argument("directory", type=click.Path(path_type=Path))
def init(directory: Path) -> None:
    """Copy the packaged rules, templates and an example maild.toml into DIRECTORY."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("rules", "templates"):
        target = directory / name
        if target.exists():
            fail(f"{target} already exists; not overwriting it")
        shutil.copytree(resources.packaged(name), target)
    example = directory / "maild.toml"
    if not example.exists():
        shutil.copyfile(resources.example_config(), example)
    click.echo(
        f"wrote {directory}/maild.toml, rules/ and templates/: edit them, then "
        f"`maild --config {directory}/maild.toml check`"
    )


@main.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to keep the demo's files (default: ~/.local/share/maild/demo).",
)
@click.option("--fresh", is_flag=True, help="Start from an empty database.")
@click.pass_obj
def demo(obj: Context, directory: Path | None, fresh: bool) -> None:
    """Ingest the bundled sample mailbox into SQLite and show the result; no server needed."""
    from maild.demo import run_demo  # noqa: PLC0415 - only this command needs it

    code = run_demo(directory, fresh=fresh, out=obj.out, json_logs=obj.json_logs)
    sys.exit(code)


main.add_command(classify)
main.add_command(rules)
main.add_command(tickets)
main.add_command(customers)
main.add_command(drafts)
main.add_command(send)
main.add_command(escalate)
main.add_command(digest)
main.add_command(users)
main.add_command(web)
