"""The long-running service: polls every mailbox at start and then every `poll_interval`.

SIGTERM/SIGINT: the poll in hand finishes its current batch, commits and the process exits 0.
SIGHUP: the configuration and the rules are read again (broken files are reported and the old
ones kept) and every mailbox is checked at once.
With `[smtp]`, the outbox (approved replies, acknowledgements) is flushed every
`flush_interval` (default a minute), between polls.
A mailbox that could not be read is tried again with backoff, not after a whole interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from maild.config import Config, ConfigError, MailboxConfig
from maild.ingest import Ingestor
from maild.log import get_logger
from maild.rules import RulesError, RuleSet


@dataclass
class _Schedule:
    due: float
    failures: int = 0


def notify_systemd(state: str) -> None:
    """sd_notify without a dependency: a datagram to $NOTIFY_SOCKET when systemd gave one."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(address)
            sock.sendall(state.encode())
        except OSError:
            get_logger().warning("sd_notify_failed", state=state)


class Daemon:
    def __init__(
        self,
        config: Config,
        rules: RuleSet,
        make_ingestor: Callable[[Config, RuleSet, threading.Event], Ingestor],
        reload_config: Callable[[], tuple[Config, RuleSet]],
        *,
        flush: Callable[[Config], Awaitable[None]] | None = None,
    ) -> None:
        self._config = config
        self._flush = flush
        self._next_flush = time.monotonic()
        self._make_ingestor = make_ingestor
        self._reload_config = reload_config
        self._stop = threading.Event()
        self._wake = asyncio.Event()
        self._ingestor = make_ingestor(config, rules, self._stop)
        self._schedule: dict[str, _Schedule] = {}
        self._log = get_logger()

    def request_stop(self) -> None:
        self._log.info("stop_requested")
        self._stop.set()
        self._wake.set()

    def request_reload(self) -> None:
        try:
            config, rules = self._reload_config()
        except (ConfigError, RulesError) as exc:
            self._log.error(
                "reload_failed", error=str(exc), keeping="previous configuration and rules"
            )
            return
        if config.database_url != self._config.database_url:
            self._log.warning(
                "reload_database_ignored", reason="a new database URL needs a restart"
            )
        self._config = config
        self._ingestor = self._make_ingestor(config, rules, self._stop)
        # A reload is usually an admin who just changed a mailbox: check them all now.
        self._schedule.clear()
        self._log.info(
            "config_reloaded",
            mailboxes=[m.name for m in config.mailboxes],
            rules=len(rules.rules),
        )
        self._wake.set()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.request_stop)
        loop.add_signal_handler(signal.SIGHUP, self.request_reload)
        self._log.info(
            "daemon_started",
            mailboxes=[m.name for m in self._config.mailboxes],
            poll_interval_s=self._config.poll_interval.total_seconds(),
        )
        notify_systemd("READY=1")
        await asyncio.to_thread(self._ingestor.process_pending)
        while not self._stop.is_set():
            await self._poll_due()
            if self._stop.is_set():
                break
            await self._flush_due()
            await self._sleep_until_next()
        notify_systemd("STOPPING=1")
        self._log.info("daemon_stopped")
        return 0

    def _entry(self, mailbox: MailboxConfig) -> _Schedule:
        return self._schedule.setdefault(mailbox.name, _Schedule(due=time.monotonic()))

    async def _poll_due(self) -> None:
        for mailbox in self._config.mailboxes:
            if self._stop.is_set():
                return
            entry = self._entry(mailbox)
            if entry.due > time.monotonic():
                continue
            outcome = await asyncio.to_thread(self._ingestor.poll_mailbox, mailbox)
            interval = self._config.poll_interval
            if outcome.ok:
                entry.failures = 0
                entry.due = time.monotonic() + interval.total_seconds()
            else:
                entry.failures += 1
                backoff = self._config.retry_backoff * (2 ** min(entry.failures, 10))
                wait = min(backoff, interval, timedelta(minutes=15))
                entry.due = time.monotonic() + wait.total_seconds()
                self._log.warning(
                    "mailbox_unreachable", mailbox=mailbox.name, retry_in_s=wait.total_seconds()
                )

    async def _flush_due(self) -> None:
        smtp = self._config.smtp
        if self._flush is None or smtp is None or self._next_flush > time.monotonic():
            return
        self._next_flush = time.monotonic() + smtp.flush_interval.total_seconds()
        try:
            await self._flush(self._config)
        except Exception:  # a database hiccup must not end the daemon; the next flush retries
            self._log.exception("outbox_flush_failed")

    async def _sleep_until_next(self) -> None:
        names = {m.name for m in self._config.mailboxes}
        upcoming = [entry.due for name, entry in self._schedule.items() if name in names]
        if len(upcoming) < len(names):
            return  # a mailbox added by a reload is due now
        if self._flush is not None and self._config.smtp is not None:
            upcoming.append(self._next_flush)
        delay = max(0.0, min(upcoming, default=time.monotonic() + 60) - time.monotonic())
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=delay)
