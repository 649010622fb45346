"""Copies of what maild sends, appended to the mailbox's IMAP Sent folder (`sent_folder`), so
people who read the mailbox in a mail client see the replies too."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from maild.config import Config
from maild.sources.imap import ImapInbox
from maild.store.db import Database
from maild.store.models import Mailbox

SentCopier = Callable[[int, bytes, datetime], None]


def sent_copier(config: Config, database: Database) -> SentCopier | None:
    """A function (mailbox id, raw message, sent at) → appended copy; None when no mailbox of
    the configuration has a `sent_folder`."""
    targets = {m.name: m.imap for m in config.mailboxes if m.imap and m.imap.sent_folder}
    if not targets:
        return None
    with database.session() as session:
        names = {row.id: row.name for row in session.scalars(select(Mailbox))}

    def copy(mailbox_id: int, raw: bytes, sent_at: datetime) -> None:
        name = names.get(mailbox_id, "")
        settings = targets.get(name)
        if settings is None or settings.sent_folder is None:
            return
        inbox = ImapInbox(settings, name)
        try:
            inbox.append(settings.sent_folder, raw, sent_at)
        finally:
            inbox.close()

    return copy
