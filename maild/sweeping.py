"""The daemon's periodic sweep: escalations and reminders due now, today's digest once it is
time, then the outbox, so a notification leaves within minutes of its moment even though
mailboxes are polled hourly."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from maild.config import Config
from maild.digest import send_digest
from maild.escalation import sweep
from maild.log import get_logger
from maild.mailer import flush_outbox
from maild.sent_copies import sent_copier
from maild.store.db import Database
from maild.templating import TemplateSet


async def sweep_and_send(database: Database, config: Config) -> None:
    """One sweep at the current time; the database work runs in a thread."""
    now = datetime.now(UTC)
    templates = TemplateSet(config.templates_dir)
    notices = await asyncio.to_thread(sweep, database, config, templates, now)
    digests = await asyncio.to_thread(send_digest, database, config, templates, now)
    if notices or digests:
        get_logger().info("sweep_done", notifications=len(notices), digests=len(digests))
    if config.smtp is not None and (notices or digests):
        await flush_outbox(
            database,
            config.smtp,
            lambda: datetime.now(UTC),
            copy_sent=sent_copier(config, database),
        )
