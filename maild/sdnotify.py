"""systemd's sd_notify protocol, no dependency: readiness, status text, reload, stop, watchdog.

systemd hands a service started with `Type=notify` the address of a datagram socket in
`$NOTIFY_SOCKET` (a path, or an abstract name written with a leading "@"); every message is one
datagram of newline-separated `KEY=VALUE` lines. With `WatchdogSec=` it also sets `$WATCHDOG_USEC`
(and `$WATCHDOG_PID`, the process it means), and kills the service unless `WATCHDOG=1` arrives at
least that often. Outside systemd none of this is set and every method here does nothing.

Sending never raises: a notify socket that went away must not take the daemon with it.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Protocol

from maild.log import get_logger


class StopFlag(Protocol):
    """An `asyncio.Event` or a `threading.Event`: anything that says whether to stop."""

    def is_set(self) -> bool: ...


def _single_line(text: str) -> str:
    """STATUS= is one line of the datagram: a newline would end it (and start a bogus key)."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _watchdog_usec(environ: Mapping[str, str]) -> int | None:
    """$WATCHDOG_USEC when it is meant for this process ($WATCHDOG_PID unset or ours)."""
    pid = environ.get("WATCHDOG_PID")
    if pid and pid.strip() != str(os.getpid()):
        return None  # inherited from a parent that systemd watches, not from systemd for us
    try:
        usec = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec if usec > 0 else None


class SdNotifier:
    """Talks to systemd's notify socket: one socket, opened on the first message, kept open."""

    def __init__(self, address: str | None, *, watchdog_usec: int | None = None) -> None:
        self._address = (
            "\0" + address[1:] if address and address.startswith("@") else address or None
        )
        self._watchdog_usec = watchdog_usec if watchdog_usec and watchdog_usec > 0 else None
        self._socket: socket.socket | None = None
        self._failing = False
        self._log = get_logger()

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> SdNotifier:
        """The notifier systemd set up for this process ($NOTIFY_SOCKET, $WATCHDOG_USEC/_PID)."""
        env = os.environ if environ is None else environ
        return cls(env.get("NOTIFY_SOCKET"), watchdog_usec=_watchdog_usec(env))

    @property
    def enabled(self) -> bool:
        """Whether systemd (or a test standing in for it) is listening at all."""
        return self._address is not None

    @property
    def watchdog_interval(self) -> float | None:
        """How often to send WATCHDOG=1, in seconds: half the timeout, as systemd recommends."""
        if not self.enabled or self._watchdog_usec is None:
            return None
        return self._watchdog_usec / 2 / 1_000_000

    def ready(self, status: str) -> None:
        """Start-up (or a reload) is complete; systemd may consider the service started."""
        self._send(f"READY=1\nSTATUS={_single_line(status)}")

    def status(self, text: str) -> None:
        """The one-line text `systemctl status` shows under the unit's name."""
        self._send(f"STATUS={_single_line(text)}")

    def reloading(self, status: str = "reloading configuration") -> None:
        """A reload began; `ready()` ends it. MONOTONIC_USEC is what systemd ≥ 253 wants with
        Type=notify-reload (to tell this reload from an older one); older ones ignore it."""
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self._send(f"RELOADING=1\nMONOTONIC_USEC={usec}\nSTATUS={_single_line(status)}")

    def stopping(self, status: str = "stopping") -> None:
        """Shutdown began: systemd shows "deactivating" instead of thinking the service died."""
        self._send(f"STOPPING=1\nSTATUS={_single_line(status)}")

    def watchdog(self) -> None:
        """The keep-alive ping; nothing is sent unless systemd watches this process."""
        if self.watchdog_interval is not None:
            self._send("WATCHDOG=1")

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def _send(self, message: str) -> None:
        if self._address is None:
            return
        try:
            if self._socket is None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                # Never block the event loop on a full queue: a lost ping is followed by another.
                sock.setblocking(False)
                self._socket = sock
            # sendto, not connect: a socket systemd recreated (daemon-reexec) is found again.
            self._socket.sendto(message.encode(), self._address)
        except OSError as exc:
            if not self._failing:  # once per outage, not on every ping
                self._log.warning(
                    "sd_notify_failed",
                    socket=self._address.replace("\0", "@", 1),
                    message=message.split("\n", 1)[0],
                    error=str(exc),
                )
            self._failing = True
        else:
            self._failing = False


class Heartbeat:
    """How long the daemon has been inside one step of its loop (a poll, a flush), if at all.

    Healthy while idle (sleeping until the next poll is what a daemon mostly does) or while the
    current step is younger than `stale_after` seconds; `stale_after=None` is always healthy.
    """

    def __init__(
        self, stale_after: float | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.stale_after = stale_after
        self._clock = clock
        self._busy_since: float | None = None

    def busy(self) -> None:
        """A step begins (a no-op if one already runs: the age counts from the first)."""
        if self._busy_since is None:
            self._busy_since = self._clock()

    def idle(self) -> None:
        """The steps are done; the loop waits for the next one."""
        self._busy_since = None

    @contextmanager
    def step(self) -> Iterator[None]:
        self.busy()
        try:
            yield
        finally:
            self.idle()

    @property
    def busy_for(self) -> float:
        """Seconds the current step has been running; 0 while idle."""
        return 0.0 if self._busy_since is None else self._clock() - self._busy_since

    def healthy(self) -> bool:
        return self.stale_after is None or self.busy_for <= self.stale_after


async def watchdog_loop(
    notifier: SdNotifier, stop: StopFlag, health: Callable[[], bool] = lambda: True
) -> None:
    """Sends WATCHDOG=1 every `notifier.watchdog_interval` while `health()` says so.

    The pings come from the event loop itself, so they prove what the watchdog can see: the
    process is alive and its loop turns. Polls run in worker threads (asyncio.to_thread), so a
    slow or hung poll leaves the loop free and the pings go on. That is deliberate: every network
    operation has a timeout (IMAP `timeout`, SMTP `timeout`), so a hung server ends as a failed
    poll and a retry, not as a restart loop; and a long first sync is legitimate work that a
    watchdog restart would only interrupt. A daemon that wants more passes `health` (see
    `Heartbeat`): while it returns False no ping is sent, and systemd restarts the service once
    WatchdogSec passes. Returns at once when systemd set no watchdog; cancel it to stop it.
    """
    interval = notifier.watchdog_interval
    if interval is None:
        return
    log = get_logger()
    withheld = False
    while not stop.is_set():
        if health():
            notifier.watchdog()
            withheld = False
        elif not withheld:
            log.warning("watchdog_withheld", reason="the daemon's current step is stale")
            withheld = True
        await asyncio.sleep(interval)
