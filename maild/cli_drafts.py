"""`maild drafts …` (agents review replies) and `maild send --once` (flush the outbox)."""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy.orm import Session

from maild import draft_actions, draft_views, views
from maild.cli_context import EXIT_REFUSED, Context, fail, open_db, run_action
from maild.draft_actions import DraftActionError
from maild.mailer import flush_outbox
from maild.sent_copies import sent_copier
from maild.store.models import Draft


def _act(obj: Context, draft_id: int, action: Callable[[Session, Draft, datetime], str]) -> None:
    run_action(
        obj,
        lambda session, now: action(session, draft_actions.find_draft(session, draft_id), now),
        (DraftActionError,),
    )


@click.group()
def drafts() -> None:
    """Reply drafts: nothing is sent to a customer until an agent approves it."""


@drafts.command("list")
@click.option("--status", type=click.Choice(draft_views.STATUSES))
@click.option("--ticket", help="Only the drafts of this ticket.")
@click.option("--json", "as_json", is_flag=True, help="A JSON array instead of a table.")
@click.pass_obj
def drafts_list(obj: Context, status: str | None, ticket: str | None, as_json: bool) -> None:
    """Every draft, oldest first."""
    rows = draft_views.list_drafts(open_db(obj.load()), status=status, ticket=ticket)
    if as_json:
        views.print_json(rows, obj.out)
    else:
        obj.out.print(draft_views.drafts_table(rows))


@drafts.command("show")
@click.argument("draft_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def drafts_show(obj: Context, draft_id: int, as_json: bool) -> None:
    """One draft: its text, what is missing, and its revisions."""
    draft = draft_views.show_draft(open_db(obj.load()), draft_id)
    if draft is None:
        fail(f"no draft {draft_id}", EXIT_REFUSED)
    if as_json:
        views.print_json(draft, obj.out)
        return
    click.echo(
        f"draft {draft['id']}  {draft['status']}  ticket {draft['ticket']}  "
        f"{draft['template']} ({draft['language']})"
    )
    if draft["reason"]:
        click.echo(f"reason: {draft['reason']}")
    if draft["missing"]:
        click.echo(f"missing: {', '.join(draft['missing'])} (approval is refused until filled)")
    click.echo(f"To: {draft['customer']}\nSubject: {draft['subject']}\n\n{draft['body']}")
    for revision in draft["revisions"]:
        click.echo(f"  {revision['at'][:16]} {revision['author']} {revision['kind']}")


@drafts.command("edit")
@click.argument("draft_id", type=int)
@click.option("--file", "file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--subject", help="A new subject line.")
@click.option("--as", "author", required=True, help="Your email address, for the revision.")
@click.pass_obj
def drafts_edit(
    obj: Context, draft_id: int, file: Path | None, subject: str | None, author: str
) -> None:
    """Replace the draft's text with FILE's, or edit it in $EDITOR."""
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read {file}: {exc}", EXIT_REFUSED)
    else:
        shown = draft_views.show_draft(open_db(obj.load()), draft_id)
        if shown is None:
            fail(f"no draft {draft_id}", EXIT_REFUSED)
        text = _edit_in_editor(shown["body"])

    def action(session: Session, draft: Draft, now: datetime) -> str:
        draft_actions.edit(session, draft, text, subject=subject, author=author, now=now)
        still = f"; still missing: {', '.join(draft.missing)}" if draft.missing else ""
        return f"draft {draft.id} edited{still}"

    _act(obj, draft_id, action)


@drafts.command("approve")
@click.argument("draft_id", type=int)
@click.option("--as", "approver", required=True, help="The approving agent's email address.")
@click.pass_obj
def drafts_approve(obj: Context, draft_id: int, approver: str) -> None:
    """Approve a draft: the outbox sends it (`maild send --once`, or the daemon each minute)."""
    config = obj.load()

    def action(session: Session, draft: Draft, now: datetime) -> str:
        queued = draft_actions.approve(session, draft, approver, config, now)
        return f"draft {draft.id} approved by {approver}; queued as {queued.message_id}"

    _act(obj, draft_id, action)


@drafts.command("reject")
@click.argument("draft_id", type=int)
@click.option("--reason", required=True, help="Why (kept in the ticket's history).")
@click.option("--as", "actor", required=True, help="Your email address.")
@click.pass_obj
def drafts_reject(obj: Context, draft_id: int, reason: str, actor: str) -> None:
    """Reject a draft: it is never sent."""

    def action(session: Session, draft: Draft, now: datetime) -> str:
        draft_actions.reject(session, draft, reason, actor, now)
        return f"draft {draft.id} rejected"

    _act(obj, draft_id, action)


@drafts.command("resend")
@click.argument("draft_id", type=int)
@click.option("--as", "actor", required=True, help="Your email address.")
@click.pass_obj
def drafts_resend(obj: Context, draft_id: int, actor: str) -> None:
    """Queue a failed or uncertain reply again (the same message and Message-ID)."""

    def action(session: Session, draft: Draft, now: datetime) -> str:
        draft_actions.resend(session, draft, actor, now)
        return f"draft {draft.id} queued again"

    _act(obj, draft_id, action)


@click.command("send")
@click.option("--once", is_flag=True, required=True, help="Flush the outbox once and exit.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def send(obj: Context, once: bool, as_json: bool) -> None:
    """Send what the outbox holds (approved replies, acknowledgements) and exit.

    Exit 0 when nothing is left failing; 1 when a message failed or its outcome is uncertain."""
    del once  # the daemon flushes on its own schedule; this command only ever runs once
    config = obj.load()
    if config.smtp is None:
        fail("no [smtp] section in the configuration: nothing can be sent")
    database = open_db(config)
    report = asyncio.run(
        flush_outbox(
            database,
            config.smtp,
            lambda: datetime.now(UTC),
            copy_sent=sent_copier(config, database),
        )
    )
    if as_json:
        views.print_json(report.__dict__, obj.out)
    else:
        click.echo(
            f"sent {report.sent}, retrying later {report.retrying}, failed {report.failed}, "
            f"uncertain {report.uncertain}"
        )
    sys.exit(EXIT_REFUSED if report.failed or report.uncertain else 0)


def _edit_in_editor(text: str) -> str:
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8", delete=False) as f:
        f.write(text)
        path = Path(f.name)
    try:
        if subprocess.run([*shlex.split(editor), str(path)], check=False).returncode != 0:
            fail(f"{editor} exited with an error: the draft is unchanged", EXIT_REFUSED)
        return path.read_text(encoding="utf-8")
    finally:
        path.unlink(missing_ok=True)
