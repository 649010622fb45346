"""sd_notify over a real AF_UNIX datagram socket, the watchdog's pace and health rule, status."""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from structlog.testing import capture_logs

from maild.config import Config, MailboxConfig, load_config
from maild.daemon import Daemon, poll_status, watching_status
from maild.ingest import FolderOutcome, MailboxOutcome
from maild.rules import RuleSet, load_rules
from maild.sdnotify import Heartbeat, SdNotifier, watchdog_loop

RECV_TIMEOUT = 2.0


class Listener:
    """Stands in for systemd: a bound datagram socket that reads what the notifier sends."""

    def __init__(self, address: str) -> None:
        self.address = address  # as $NOTIFY_SOCKET spells it ("@name" for an abstract socket)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + address[1:] if address.startswith("@") else address)
        self.sock.settimeout(RECV_TIMEOUT)

    def receive(self) -> dict[str, str]:
        data = self.sock.recv(4096).decode()
        return dict(line.split("=", 1) for line in data.split("\n"))

    def nothing_more(self) -> bool:
        self.sock.settimeout(0.1)
        try:
            self.sock.recv(4096)
        except TimeoutError:
            return True
        finally:
            self.sock.settimeout(RECV_TIMEOUT)
        return False


def short_socket_path(tmp_path: Path) -> str:
    """A path in tmp_path, unless that is too long for sockaddr_un (108 bytes)."""
    path = tmp_path / "notify.sock"
    if len(str(path)) < 100:
        return str(path)
    return os.path.join(tempfile.mkdtemp(prefix="maild-"), "notify.sock")  # pragma: no cover


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[Listener]:
    server = Listener(short_socket_path(tmp_path))
    yield server
    server.sock.close()


@pytest.fixture
def abstract_listener() -> Iterator[Listener]:
    server = Listener(f"@maild-test-{uuid.uuid4().hex}")
    yield server
    server.sock.close()


def notifier_for(listener: Listener, **env: str) -> SdNotifier:
    return SdNotifier.from_environment({"NOTIFY_SOCKET": listener.address, **env})


def test_ready_sends_ready_and_status_over_a_path_socket(listener: Listener) -> None:
    """ready() sends READY=1 with the STATUS text in one datagram."""
    notifier = notifier_for(listener)
    assert notifier.enabled
    notifier.ready("watching 2 mailboxes, polling every 1h")
    assert listener.receive() == {
        "READY": "1",
        "STATUS": "watching 2 mailboxes, polling every 1h",
    }
    notifier.close()


def test_abstract_socket_names_start_with_at(abstract_listener: Listener) -> None:
    """A NOTIFY_SOCKET starting with "@" is an abstract socket: same messages, no file."""
    notifier = notifier_for(abstract_listener)
    notifier.ready("up")
    notifier.status("last poll 05:12: support ok, 3 new")
    assert abstract_listener.receive() == {"READY": "1", "STATUS": "up"}
    assert abstract_listener.receive() == {"STATUS": "last poll 05:12: support ok, 3 new"}
    notifier.close()


def test_watchdog_ping_and_half_the_timeout_as_interval(listener: Listener) -> None:
    """With WATCHDOG_USEC and no WATCHDOG_PID, watchdog() sends WATCHDOG=1 every USEC/2."""
    notifier = notifier_for(listener, WATCHDOG_USEC="400000")
    assert notifier.watchdog_interval == pytest.approx(0.2)
    notifier.watchdog()
    assert listener.receive() == {"WATCHDOG": "1"}
    notifier.close()


def test_watchdog_pid_equal_to_ours_keeps_the_watchdog(listener: Listener) -> None:
    """WATCHDOG_PID naming this process means the watchdog is ours."""
    notifier = notifier_for(listener, WATCHDOG_USEC="300000000", WATCHDOG_PID=str(os.getpid()))
    assert notifier.watchdog_interval == pytest.approx(150.0)
    notifier.watchdog()
    assert listener.receive() == {"WATCHDOG": "1"}
    notifier.close()


def test_watchdog_pid_mismatch_disables_the_watchdog(listener: Listener) -> None:
    """WATCHDOG_PID of another process (a parent's, inherited): no interval, no pings."""
    notifier = notifier_for(listener, WATCHDOG_USEC="400000", WATCHDOG_PID=str(os.getpid() + 1))
    assert notifier.watchdog_interval is None
    notifier.watchdog()
    notifier.ready("still talks to systemd")
    assert listener.receive() == {"READY": "1", "STATUS": "still talks to systemd"}
    assert listener.nothing_more()
    notifier.close()


@pytest.mark.parametrize("usec", ["", "0", "-5", "soon"])
def test_missing_or_bad_watchdog_usec_means_no_watchdog(listener: Listener, usec: str) -> None:
    """No usable WATCHDOG_USEC: no watchdog, and no crash."""
    assert notifier_for(listener, WATCHDOG_USEC=usec).watchdog_interval is None


def test_stopping_and_reloading(listener: Listener) -> None:
    """STOPPING=1 on shutdown; RELOADING=1 with MONOTONIC_USEC (systemd ≥ 253) on reload."""
    notifier = notifier_for(listener)
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    notifier.reloading()
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    message = listener.receive()
    assert message["RELOADING"] == "1"
    assert before <= int(message["MONOTONIC_USEC"]) <= after
    notifier.stopping()
    assert listener.receive()["STOPPING"] == "1"
    notifier.close()


def test_multi_line_status_is_flattened_to_one_line(listener: Listener) -> None:
    """A newline in STATUS would end the line and start a bogus key: lines are joined."""
    notifier = notifier_for(listener)
    notifier.status("support ok\r\n  billing FAILED\n\nINJECTED=1")
    assert listener.receive() == {"STATUS": "support ok billing FAILED INJECTED=1"}
    notifier.close()


def test_one_socket_is_kept_open_for_every_message(listener: Listener) -> None:
    """The notifier opens one socket on its first message and reuses it."""
    notifier = notifier_for(listener)
    before = len(os.listdir("/proc/self/fd"))
    notifier.status("one")
    after_first = len(os.listdir("/proc/self/fd"))
    for n in range(5):
        notifier.status(f"more {n}")
    assert len(os.listdir("/proc/self/fd")) == after_first == before + 1
    for _ in range(6):
        listener.receive()
    notifier.close()
    assert len(os.listdir("/proc/self/fd")) == before


def test_no_notify_socket_makes_everything_a_no_op() -> None:
    """Outside systemd (no NOTIFY_SOCKET) every method does nothing and opens nothing."""
    notifier = SdNotifier.from_environment({"WATCHDOG_USEC": "400000"})
    assert not notifier.enabled
    assert notifier.watchdog_interval is None
    before = len(os.listdir("/proc/self/fd"))
    notifier.ready("x")
    notifier.status("x")
    notifier.reloading()
    notifier.stopping()
    notifier.watchdog()
    notifier.close()
    assert len(os.listdir("/proc/self/fd")) == before


def test_a_socket_that_does_not_exist_warns_once_and_never_raises(tmp_path: Path) -> None:
    """A dead notify socket must not kill the daemon: one warning, then silence, no exception."""
    notifier = SdNotifier.from_environment(
        {"NOTIFY_SOCKET": str(tmp_path / "gone.sock"), "WATCHDOG_USEC": "400000"}
    )
    with capture_logs() as logs:
        notifier.ready("x")
        notifier.watchdog()
        notifier.status("y")
        notifier.stopping()
    warnings = [entry for entry in logs if entry["event"] == "sd_notify_failed"]
    assert len(warnings) == 1
    assert warnings[0]["log_level"] == "warning"
    assert warnings[0]["socket"] == str(tmp_path / "gone.sock")
    notifier.close()


def test_a_socket_recreated_at_the_same_path_is_found_again(tmp_path: Path) -> None:
    """systemd re-binding its socket (daemon-reexec) does not silence the daemon for good."""
    path = short_socket_path(tmp_path)
    first = Listener(path)
    notifier = SdNotifier.from_environment({"NOTIFY_SOCKET": path})
    notifier.status("one")
    assert first.receive() == {"STATUS": "one"}
    first.sock.close()
    os.unlink(path)
    with capture_logs() as logs:
        notifier.status("lost")
        second = Listener(path)
        notifier.status("two")
    assert second.receive() == {"STATUS": "two"}
    assert [entry["event"] for entry in logs] == ["sd_notify_failed"]
    second.sock.close()
    notifier.close()


def test_watchdog_loop_pings_at_its_interval_until_stopped(listener: Listener) -> None:
    """watchdog_loop sends WATCHDOG=1 every interval and ends when the stop flag is set."""
    notifier = notifier_for(listener, WATCHDOG_USEC="40000")  # a ping every 20 ms
    stop = threading.Event()

    async def scenario() -> None:
        task = asyncio.create_task(watchdog_loop(notifier, stop))
        await asyncio.sleep(0.15)
        stop.set()
        await asyncio.wait_for(task, timeout=1)

    asyncio.run(scenario())
    pings = 0
    while not listener.nothing_more():
        pings += 1
    assert 3 <= pings <= 10
    notifier.close()


def test_watchdog_loop_withholds_pings_while_unhealthy(listener: Listener) -> None:
    """health() False: no WATCHDOG=1 (one warning), so systemd's timeout can restart us."""
    notifier = notifier_for(listener, WATCHDOG_USEC="40000")

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(watchdog_loop(notifier, stop, lambda: False))
        await asyncio.sleep(0.1)
        stop.set()
        await asyncio.wait_for(task, timeout=1)

    with capture_logs() as logs:
        asyncio.run(scenario())
    assert listener.nothing_more()
    assert [entry["event"] for entry in logs] == ["watchdog_withheld"]
    notifier.close()


def test_watchdog_loop_returns_at_once_without_a_watchdog(listener: Listener) -> None:
    """No WATCHDOG_USEC: the loop has nothing to do and returns."""
    notifier = notifier_for(listener)
    asyncio.run(asyncio.wait_for(watchdog_loop(notifier, threading.Event()), timeout=1))
    assert listener.nothing_more()


def test_heartbeat_is_healthy_idle_and_stale_after_a_long_step() -> None:
    """Idle is healthy; a step is healthy until it has run longer than stale_after."""
    now = [100.0]
    beat = Heartbeat(30.0, clock=lambda: now[0])
    assert beat.healthy()
    beat.busy()
    now[0] += 30
    assert beat.healthy()
    beat.busy()  # a second step in the same turn does not reset the age
    now[0] += 1
    assert not beat.healthy()
    assert beat.busy_for == pytest.approx(31)
    beat.idle()
    assert beat.healthy()
    with beat.step():
        now[0] += 1000
        assert not beat.healthy()
    assert beat.healthy()
    assert Heartbeat(None, clock=lambda: now[0]).healthy()


def test_status_lines_are_short_and_say_what_happened() -> None:
    """After a poll: time, each mailbox's result and new count, and when the next poll is."""
    zone = ZoneInfo("Asia/Shanghai")
    at = datetime(2026, 11, 24, 5, 12, tzinfo=zone)
    ok = MailboxOutcome("support", (FolderOutcome("INBOX", 3, 3),))
    failed = MailboxOutcome("billing", (), error="connection refused")
    assert (
        poll_status([ok], at, at + timedelta(hours=1))
        == "last poll 05:12: support ok, 3 new; next at 06:12"
    )
    assert (
        poll_status([ok, failed], at, at + timedelta(days=1))
        == "last poll 05:12: support ok, 3 new; billing FAILED; next at 11-25 05:12"
    )
    many = [MailboxOutcome(f"m{n}", (FolderOutcome("INBOX", 1, 1),)) for n in range(5)]
    assert poll_status([*many, failed], at, None) == "last poll 05:12: 5 ok, 5 new; FAILED billing"


def config_with_one_maildir(tmp_path: Path, poll_interval: str = "1h30m") -> Config:
    (tmp_path / "mail").mkdir()
    path = tmp_path / "maild.toml"
    path.write_text(
        f'[schedule]\npoll_interval = "{poll_interval}"\n'
        '[[mailbox]]\nname = "support"\naddress = "support@example.com"\n'
        f'  [mailbox.maildir]\n  path = "{tmp_path / "mail"}"\n',
        encoding="utf-8",
    )
    return load_config(path)


def test_watching_status_names_mailboxes_and_interval(tmp_path: Path) -> None:
    """The start-up status: how many mailboxes, how often."""
    config = config_with_one_maildir(tmp_path)
    assert watching_status(config) == "watching 1 mailbox, polling every 1h30m"


class RecordingNotifier(SdNotifier):
    """A notifier whose messages are kept, with the time each was sent."""

    def __init__(self, watchdog_usec: int) -> None:
        super().__init__("@unused", watchdog_usec=watchdog_usec)
        self.sent: list[tuple[float, str]] = []

    def _send(self, message: str) -> None:
        self.sent.append((time.monotonic(), message))


class StuckIngestor:
    """An ingestor whose poll hangs until released: what a poll without a timeout would do."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.started_at = 0.0
        self.release = threading.Event()

    def process_pending(self) -> None:
        pass

    def poll_mailbox(self, mailbox: MailboxConfig) -> MailboxOutcome:
        self.started_at = time.monotonic()
        self.started.set()
        self.release.wait(timeout=10)
        return MailboxOutcome(mailbox.name, (FolderOutcome("INBOX", 2, 2),))


def test_daemon_withholds_pings_while_a_step_is_stale_and_resumes_after(tmp_path: Path) -> None:
    """With watchdog_stale_after, a poll stuck past it stops the pings; they resume after it."""
    config = config_with_one_maildir(tmp_path)
    rules = load_rules(config.rules_dir, config.owners)
    ingestor = StuckIngestor()
    notifier = RecordingNotifier(watchdog_usec=100_000)  # a ping every 50 ms
    stale_after = 0.3

    def make_ingestor(_config: Config, _rules: RuleSet, _stop: threading.Event) -> StuckIngestor:
        return ingestor

    def reload() -> tuple[Config, RuleSet]:
        return config, rules

    daemon = Daemon(
        config,
        rules,
        make_ingestor,  # type: ignore[arg-type]
        reload,
        notifier=notifier,
        watchdog_stale_after=stale_after,
    )

    async def scenario() -> int:
        run = asyncio.create_task(daemon.run())
        await asyncio.to_thread(ingestor.started.wait, 5)
        await asyncio.sleep(1.0)
        ingestor.release.set()
        await asyncio.sleep(0.3)
        daemon.request_stop()
        return await asyncio.wait_for(run, timeout=5)

    with capture_logs() as logs:
        assert asyncio.run(scenario()) == 0
    messages = [message for _, message in notifier.sent]
    assert messages[0].startswith("READY=1\nSTATUS=watching 1 mailbox")
    assert messages[-1].startswith("STOPPING=1")
    pings = [at - ingestor.started_at for at, message in notifier.sent if message == "WATCHDOG=1"]
    status_at = next(
        at - ingestor.started_at
        for at, message in notifier.sent
        if message.startswith("STATUS=last poll")
    )
    assert any(0 < ping <= stale_after for ping in pings), "pinged while the step was young"
    assert not [p for p in pings if stale_after + 0.1 < p < status_at], "pinged while stale"
    assert any(ping > status_at for ping in pings), "pings resumed after the step"
    assert "watchdog_withheld" in [entry["event"] for entry in logs]
    status = next(m for m in messages if m.startswith("STATUS=last poll"))
    assert "support ok, 2 new; next at" in status
