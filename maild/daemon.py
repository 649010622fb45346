"""The long-running service: polls every mailbox at start and then every `poll_interval`.

SIGTERM/SIGINT: the poll in hand finishes its current batch, commits and the process exits 0.
SIGHUP: the configuration and the rules are read again (broken files are reported and the old
ones kept) and every mailbox is checked at once.
With `[smtp]`, the outbox (approved replies, acknowledgements) is flushed every
`flush_interval` (default a minute), between polls.
A mailbox that could not be read is tried again with backoff, not after a whole interval.
Under systemd (Type=notify) it reports readiness, a one-line status after every poll, reloads,
shutdown, and pings the watchdog (maild.sdnotify).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from maild.config import Config, ConfigError, MailboxConfig
from maild.ingest import Ingestor, MailboxOutcome
from maild.log import get_logger
from maild.rules import RulesError, RuleSet
from maild.sdnotify import Heartbeat, SdNotifier, watchdog_loop


@dataclass
class _Schedule:
    due: float
    failures: int = 0


def _interval_text(span: timedelta) -> str:
    """A poll interval as the config says it: 1h, 15m, 1h30m, 90s."""
    seconds = int(span.total_seconds())
    parts = [(seconds // 86400, "d"), (seconds % 86400 // 3600, "h")]
    parts += [(seconds % 3600 // 60, "m"), (seconds % 60, "s")]
    return "".join(f"{amount}{unit}" for amount, unit in parts if amount) or "0s"


def watching_status(config: Config) -> str:
    """systemd's status line at start-up and after a reload."""
    count = len(config.mailboxes)
    return (
        f"watching {count} mailbox{'' if count == 1 else 'es'}, "
        f"polling every {_interval_text(config.poll_interval)}"
    )


def poll_status(
    outcomes: Sequence[MailboxOutcome], polled_at: datetime, next_at: datetime | None
) -> str:
    """systemd's status line after a poll: "last poll 05:12: support ok, 3 new; next at 06:12"."""

    def clock(moment: datetime) -> str:
        return moment.strftime("%H:%M" if moment.date() == polled_at.date() else "%m-%d %H:%M")

    if len(outcomes) <= 3:
        parts = [
            f"{o.mailbox} ok, {o.stored} new" if o.ok else f"{o.mailbox} FAILED" for o in outcomes
        ]
    else:  # keep the line short: counts, and the names only of the failures
        failed = [o.mailbox for o in outcomes if not o.ok]
        parts = [f"{len(outcomes) - len(failed)} ok, {sum(o.stored for o in outcomes)} new"]
        if failed:
            parts.append("FAILED " + ", ".join(failed))
    text = f"last poll {clock(polled_at)}: " + "; ".join(parts)
    return text + (f"; next at {clock(next_at)}" if next_at is not None else "")


class Daemon:
    def __init__(
        self,
        config: Config,
        rules: RuleSet,
        make_ingestor: Callable[[Config, RuleSet, threading.Event], Ingestor],
        reload_config: Callable[[], tuple[Config, RuleSet]],
        *,
        flush: Callable[[Config], Awaitable[None]] | None = None,
        sweep: Callable[[Config], Awaitable[None]] | None = None,
        notifier: SdNotifier | None = None,
        watchdog_stale_after: float | None = None,
    ) -> None:
        """*notifier*: systemd's notify socket (default: from the environment).
        *watchdog_stale_after*: withhold watchdog pings once one turn of the loop (its polls and
        flush) has run this many seconds, so systemd restarts a daemon stuck in a step; None
        (the default) pings as long as the event loop runs (see maild.sdnotify.watchdog_loop).
        """
        self._notifier = notifier if notifier is not None else SdNotifier.from_environment()
        self._heartbeat = Heartbeat(watchdog_stale_after)
        self._config = config
        self._flush = flush
        self._next_flush = time.monotonic()
        self._sweep = sweep
        self._next_sweep = time.monotonic()
        self._make_ingestor = make_ingestor
        self._reload_config = reload_config
        self._stop = threading.Event()
        self._wake = asyncio.Event()
        self._ingestor = make_ingestor(config, rules, self._stop)
        self._schedule: dict[str, _Schedule] = {}
        self._log = get_logger()

    def request_stop(self) -> None:
        self._log.info("stop_requested")
        self._notifier.stopping("stopping: finishing the batch in hand")
        self._stop.set()
        self._wake.set()

    def request_reload(self) -> None:
        self._notifier.reloading()
        try:
            config, rules = self._reload_config()
        except (ConfigError, RulesError) as exc:
            self._log.error(
                "reload_failed", error=str(exc), keeping="previous configuration and rules"
            )
            status = watching_status(self._config)
            self._notifier.ready(f"reload failed, kept the previous configuration; {status}")
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
        self._notifier.ready(watching_status(config))
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
        # Ready before the first poll: a first sync may take hours, longer than any start timeout.
        self._notifier.ready(watching_status(self._config))
        watchdog = asyncio.create_task(
            watchdog_loop(self._notifier, self._stop, self._heartbeat.healthy)
        )
        try:
            await self._serve()
        finally:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog
            self._notifier.close()
        self._log.info("daemon_stopped")
        return 0

    async def _serve(self) -> None:
        self._heartbeat.busy()
        await asyncio.to_thread(self._ingestor.process_pending)
        while not self._stop.is_set():
            self._heartbeat.busy()  # the watchdog's health rule: how long this turn has run
            await self._poll_due()
            if self._stop.is_set():
                break
            await self._flush_due()
            await self._sweep_due()
            self._heartbeat.idle()
            await self._sleep_until_next()

    def _entry(self, mailbox: MailboxConfig) -> _Schedule:
        return self._schedule.setdefault(mailbox.name, _Schedule(due=time.monotonic()))

    async def _poll_due(self) -> None:
        outcomes: list[MailboxOutcome] = []
        for mailbox in self._config.mailboxes:
            if self._stop.is_set():
                return
            entry = self._entry(mailbox)
            if entry.due > time.monotonic():
                continue
            outcome = await asyncio.to_thread(self._ingestor.poll_mailbox, mailbox)
            outcomes.append(outcome)
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
        if outcomes:
            self._notify_polled(outcomes)

    def _notify_polled(self, outcomes: Sequence[MailboxOutcome]) -> None:
        now = datetime.now(self._config.timezone)
        names = {m.name for m in self._config.mailboxes}
        dues = [entry.due for name, entry in self._schedule.items() if name in names]
        next_at = now + timedelta(seconds=max(0.0, min(dues) - time.monotonic())) if dues else None
        self._notifier.status(poll_status(outcomes, now, next_at))

    async def _flush_due(self) -> None:
        smtp = self._config.smtp
        if self._flush is None or smtp is None or self._next_flush > time.monotonic():
            return
        self._next_flush = time.monotonic() + smtp.flush_interval.total_seconds()
        try:
            await self._flush(self._config)
        except Exception:  # a database hiccup must not end the daemon; the next flush retries
            self._log.exception("outbox_flush_failed")

    async def _sweep_due(self) -> None:
        """Escalations, reminders and the digest, every `sweep_interval`."""
        if self._sweep is None or self._next_sweep > time.monotonic():
            return
        self._next_sweep = time.monotonic() + self._config.sweep_interval.total_seconds()
        try:
            await self._sweep(self._config)
        except Exception:  # like a flush: logged, and the next sweep tries again
            self._log.exception("sweep_failed")

    async def _sleep_until_next(self) -> None:
        names = {m.name for m in self._config.mailboxes}
        upcoming = [entry.due for name, entry in self._schedule.items() if name in names]
        if len(upcoming) < len(names):
            return  # a mailbox added by a reload is due now
        if self._flush is not None and self._config.smtp is not None:
            upcoming.append(self._next_flush)
        if self._sweep is not None:
            upcoming.append(self._next_sweep)
        delay = max(0.0, min(upcoming, default=time.monotonic() + 60) - time.monotonic())
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=delay)
