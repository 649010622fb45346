"""What the commands show: stored rows as plain dicts (for --json) and as terminal tables."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from maild.config import Config
from maild.store import repository as repo
from maild.store.db import Database
from maild.store.models import FolderState, Mailbox, Message


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def message_dict(message: Message, mailbox: str, ticket: str | None = None) -> dict[str, Any]:
    return {
        "id": message.id,
        "mailbox": mailbox,
        "folder": message.folder,
        "uid": message.uid,
        "message_id": message.message_id,
        "subject": message.subject,
        "from": message.from_address,
        "from_name": message.from_name,
        "received_at": _iso(message.internaldate),
        "sent_at": _iso(message.sent_at),
        "status": message.status,
        "reason": message.reason,
        "direction": message.direction,
        "ticket": ticket,
        "category": message.category,
        "priority": message.priority,
        "owner": message.owner,
        "tags": message.tags or [],
        "classification": message.classification or [],
        "language": message.language,
        "size": message.size,
        "attachments": [
            {"filename": name, "content_type": kind, "size": size}
            for name, kind, size in (message.attachments or [])
        ],
        "flags": [
            flag
            for flag, on in (
                ("auto_submitted", message.is_auto_submitted),
                ("bounce", message.is_bounce),
                ("mailing_list", message.is_mailing_list),
            )
            if on
        ],
    }


def list_messages(database: Database, *, status: str | None = None) -> list[dict[str, Any]]:
    with database.session() as session:
        rows = session.execute(repo.messages_query(status=status))
        return [message_dict(message, mailbox, ticket) for message, mailbox, ticket in rows]


def status_rows(database: Database, config: Config) -> list[dict[str, Any]]:
    """Per configured mailbox and folder: server count at the last poll beside what is stored."""
    with database.session() as session:
        mailboxes = {m.name: m.id for m in session.scalars(select(Mailbox))}
        states = {(s.mailbox_id, s.folder): s for s in session.scalars(select(FolderState))}
        counts = repo.stored_counts(session)
    rows = []
    for mailbox in config.mailboxes:
        mailbox_id = mailboxes.get(mailbox.name)
        for folder in mailbox.folders:
            state = states.get((mailbox_id, folder)) if mailbox_id is not None else None
            rows.append(
                {
                    "mailbox": mailbox.name,
                    "folder": folder,
                    "server_count": state.server_count if state else None,
                    "stored_count": counts.get((mailbox_id, folder), 0) if mailbox_id else 0,
                    "last_uid": state.last_uid if state else None,
                    "uidvalidity": state.uidvalidity if state else None,
                    "last_poll_at": _iso(state.last_poll_at) if state else None,
                    "last_outcome": state.last_outcome if state else "never polled",
                    "last_error": state.last_error if state else None,
                }
            )
    return rows


def print_json(rows: Sequence[dict[str, Any]] | dict[str, Any], console: Console) -> None:
    console.file.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")


def _short(value: str | None, width: int) -> str:
    text = " ".join((value or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def messages_table(rows: Sequence[dict[str, Any]], title: str, width: int = 120) -> Table:
    """One line per message: what it is, who sent it, when, and whether it needs attention.

    Widths are worked out here so that on an 80-column terminal every column keeps some room:
    the mailbox column only appears when there are several, and times lose their year.
    """
    several_mailboxes = len({row["mailbox"] for row in rows}) > 1
    narrow = width < 110
    id_width = max([len(str(row["id"])) for row in rows] + [2])
    mailbox_width = max([len(row["mailbox"]) for row in rows] + [7]) if several_mailboxes else 0
    received_width = 11 if narrow else 16
    category_width = 14 if narrow else 16
    status_width = 14
    columns = 7 if several_mailboxes else 6
    # Borders and padding take 3 characters per column, plus one.
    room = width - (id_width + mailbox_width + received_width + category_width + status_width)
    room -= 3 * columns + 1
    from_width = max(8, min(30, room * 2 // 5))
    subject_width = max(12, min(60, room - from_width))
    status_width += max(0, room - from_width - subject_width)  # a wide terminal shows reasons
    table = Table(title=title, title_justify="left")
    table.add_column("id", justify="right", no_wrap=True, width=id_width)
    if several_mailboxes:
        table.add_column("mailbox", no_wrap=True, width=mailbox_width)
    table.add_column("from", no_wrap=True, width=from_width)
    table.add_column("subject", no_wrap=True, width=subject_width)
    table.add_column("received", no_wrap=True, width=received_width)
    table.add_column("category", no_wrap=True, width=category_width)
    table.add_column("status", min_width=status_width)
    for row in rows:
        status = row["status"]
        if status == "quarantined":
            status = f"[red]quarantined[/red]: {_short(row['reason'], 70)}"
        elif status == "ok" and row["flags"]:
            status = f"ok ({', '.join(row['flags'])})"
        received = (row["received_at"] or "")[:16].replace("T", " ")
        cells = [
            str(row["id"]),
            *([row["mailbox"]] if several_mailboxes else []),
            _short(row["from"] or row["from_name"], from_width),
            _short(row["subject"], subject_width),
            received[5:] if narrow else received,
            f"{row['category']}/{row['priority']}" if row["category"] else "",
            status,
        ]
        table.add_row(*cells)
    return table


def status_table(rows: Sequence[dict[str, Any]]) -> Table:
    table = Table(title="Mailboxes")
    for column in ("mailbox", "folder", "on server", "stored", "last poll", "outcome"):
        table.add_column(column)
    for row in rows:
        outcome = row["last_outcome"] or ""
        if row["last_error"]:
            outcome += f": {_short(row['last_error'], 60)}"
        table.add_row(
            row["mailbox"],
            row["folder"],
            "-" if row["server_count"] is None else str(row["server_count"]),
            str(row["stored_count"]),
            (row["last_poll_at"] or "never")[:19].replace("T", " "),
            outcome,
        )
    return table
