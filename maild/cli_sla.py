"""`maild escalate` and `maild digest`: one SLA sweep or one digest, at a given time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import click

from maild import views
from maild.cli_context import Context, fail, open_db
from maild.config import Config
from maild.digest import digest_context, render_digest, send_digest
from maild.escalation import sweep
from maild.mailer import flush_outbox
from maild.notify_mail import person
from maild.sent_copies import sent_copier
from maild.store.db import Database
from maild.templating import TemplateSet


def parse_now(value: str | None) -> datetime:
    """`--now`: an ISO 8601 time (a zone is needed, or it is taken as UTC); default now."""
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--now {value!r} is not an ISO 8601 time such as 2026-11-26T09:30:00+08:00")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


_now_option = click.option(
    "--now", "now_text", metavar="ISO8601", help="Act as if it were this time (default: now)."
)


def flush_now(config: Config, database: Database, now: datetime) -> None:
    """Send what was just queued, when maild can send (the daemon would within a minute)."""
    if config.smtp is None:
        return
    later = max(now, datetime.now(UTC))
    asyncio.run(
        flush_outbox(
            database,
            config.smtp,
            lambda: max(later, datetime.now(UTC)),
            copy_sent=sent_copier(config, database),
        )
    )


@click.command()
@_now_option
@click.option("--dry-run", is_flag=True, help="Decide, but record and send nothing.")
@click.option("--json", "as_json", is_flag=True, help="The actions as a JSON array.")
@click.pass_obj
def escalate(obj: Context, now_text: str | None, dry_run: bool, as_json: bool) -> None:
    """One escalation sweep: notify owners and supervisors of what waits too long."""
    config, _rules = obj.load_with_rules()
    now = parse_now(now_text)
    database = open_db(config)
    notices = sweep(database, config, TemplateSet(config.templates_dir), now, dry_run=dry_run)
    if not dry_run:
        flush_now(config, database, now)
    if as_json:
        views.print_json([n.as_json() for n in notices], obj.out)
        return
    for notice in notices:
        click.echo(
            f"{'would notify' if dry_run else 'notified'} {notice.to or '(nobody)'}: "
            f"{notice.ticket} {notice.kind} {notice.tier or notice.seq or ''} "
            f"({notice.age_hours:g} h; {notice.reason})"
        )
    if not notices:
        click.echo("nothing due")


@click.command()
@_now_option
@click.option("--preview", is_flag=True, help="Print the digest instead of sending it.")
@click.pass_obj
def digest(obj: Context, now_text: str | None, preview: bool) -> None:
    """Build the supervisors' overdue digest at that time and send it (once per day)."""
    config, _rules = obj.load_with_rules()
    now = parse_now(now_text)
    database = open_db(config)
    templates = TemplateSet(config.templates_dir)
    if preview:
        with database.session() as session:
            context = digest_context(session, config, now)
        first = config.supervisors[0] if config.supervisors else "supervisor@example.com"
        name, address = person(first)
        subject, rendered = render_digest(templates, config, context, (name, address or first))
        click.echo(f"Subject: {subject}\n\n{rendered.text}")
        return
    if not config.supervisors:
        fail("no `supervisors` in the configuration: nobody to send the digest to")
    sent = send_digest(database, config, templates, now, force=True)
    flush_now(config, database, now)
    if not sent:
        click.echo("no digest sent (already sent today, or nothing overdue and send_empty = false)")
    for mail in sent:
        click.echo(f"digest for {mail.to}: {mail.total} ticket(s)")
