"""The systemd unit passes `systemd-analyze`, and the real `maild run` speaks sd_notify to it."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from maild import resources
from tests.conftest import REPO, skip_or_fail

UNIT = REPO / "systemd" / "maild.service"
INSTALLED_MAILD = "/opt/maild/venv/bin/maild"
SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze"
QUIET_ENV = {"SYSTEMD_LOG_COLOR": "0", "SYSTEMD_PAGER": "", "SYSTEMD_COLORS": "0"}


def systemd_analyze() -> str:
    """The systemd-analyze binary; skips outside CI (fails under CI=true) when it is missing."""
    found = SYSTEMD_ANALYZE if os.access(SYSTEMD_ANALYZE, os.X_OK) else None
    found = found or shutil.which("systemd-analyze")
    if found is None:
        skip_or_fail("systemd-analyze is not installed (apt-get install systemd)")
        raise AssertionError("unreachable")
    return found


def unit_runnable_here(directory: Path, edit: Callable[[str], str] = lambda text: text) -> Path:
    """The unit as shipped, but starting this checkout's maild instead of /opt/maild's, which
    does not exist here: `verify` rightly rejects a unit whose ExecStart= cannot run."""
    text = UNIT.read_text(encoding="utf-8")
    assert text.count(INSTALLED_MAILD) == 2, "ExecStartPre= and ExecStart= name the venv's maild"
    python = f'"{sys.executable}"' if " " in sys.executable else sys.executable
    text = text.replace(INSTALLED_MAILD, f"{python} -m maild")
    path = directory / "maild.service"
    path.write_text(edit(text), encoding="utf-8")
    return path


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [systemd_analyze(), *args],
        env={**os.environ, **QUIET_ENV},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def complaints_about_the_unit(result: subprocess.CompletedProcess[str]) -> list[str]:
    """verify exits 0 even for an unknown key or a bad value, so its output is what counts:
    every line naming maild.service (lines about other units on this machine are noise)."""
    lines = (result.stdout + result.stderr).splitlines()
    return [line for line in lines if "maild.service" in line]


def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    """systemd-analyze verify accepts the unit: exit 0 and not one warning about it."""
    unit = unit_runnable_here(tmp_path)
    result = analyze("verify", str(unit))
    assert complaints_about_the_unit(result) == []
    assert result.returncode == 0, result.stdout + result.stderr


def test_verify_check_would_see_a_mistake(tmp_path: Path) -> None:
    """The check above can fail: a misspelt key and a bad duration are reported."""
    unit = unit_runnable_here(
        tmp_path,
        lambda text: text.replace("ProtectClock=yes", "ProtectClok=yes").replace(
            "WatchdogSec=5min", "WatchdogSec=five minutes"
        ),
    )
    complaints = "\n".join(complaints_about_the_unit(analyze("verify", str(unit))))
    assert "ProtectClok" in complaints
    assert "five minutes" in complaints


def test_unit_names_what_the_deployment_relies_on() -> None:
    """Type=notify with a watchdog, the documented paths, SIGHUP reload, a sandbox."""
    settings = [
        line.strip()
        for line in UNIT.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    for expected in (
        "Type=notify",
        "NotifyAccess=main",
        "Restart=on-failure",
        "User=maild",
        "StateDirectory=maild",
        "WorkingDirectory=/var/lib/maild",
        "EnvironmentFile=-/etc/maild/env",
        "Environment=MAILD_CONFIG=/etc/maild/maild.toml",
        f"ExecStartPre={INSTALLED_MAILD} check",
        f"ExecStart={INSTALLED_MAILD} run",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "ProtectSystem=strict",
        "CapabilityBoundingSet=",
        "SystemCallFilter=@system-service",
        "MemoryDenyWriteExecute=yes",
        "UMask=0077",
    ):
        assert expected in settings, expected
    assert any(re.fullmatch(r"WatchdogSec=\d+min", line) for line in settings)


def test_unit_sandbox_exposure_stays_low(tmp_path: Path) -> None:
    """`systemd-analyze security` rates the sandbox 2.0 or better ("OK"); loosening fails this."""
    version = analyze("--version").stdout.split()
    if len(version) < 2 or not version[1].isdigit() or int(version[1]) < 252:
        pytest.skip(f"systemd-analyze security --offline needs systemd 252: {version[:2]}")
    unit = unit_runnable_here(tmp_path)
    result = analyze("security", "--no-pager", "--offline=yes", "--threshold=20", str(unit))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr


# --- sd_notify end to end: the real daemon, with this test standing in for systemd ---------


def socket_path(tmp_path: Path) -> str:
    """A path in tmp_path, unless that is too long for sockaddr_un (108 bytes)."""
    path = tmp_path / "notify.sock"
    if len(str(path)) < 100:
        return str(path)
    return os.path.join(tempfile.mkdtemp(prefix="maild-"), "notify.sock")  # pragma: no cover


class FakeSystemd:
    """The notify socket: reads datagrams, keeps them all, waits for the one a test wants."""

    def __init__(self, path: str, deadline: float) -> None:
        self.path = path
        self.deadline = deadline
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.received: list[tuple[float, dict[str, str]]] = []

    def expect(
        self, what: str, wanted: Callable[[dict[str, str]], bool], within: float
    ) -> dict[str, str]:
        """The next message that *wanted* accepts, within *within* seconds (and the deadline)."""
        until = min(time.monotonic() + within, self.deadline)
        while True:
            left = until - time.monotonic()
            if left <= 0:
                seen = [message for _, message in self.received[-8:]]
                raise AssertionError(f"no {what} within {within} s; last messages: {seen}")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096).decode()
            except TimeoutError:
                continue
            message = dict(line.split("=", 1) for line in data.split("\n") if line)
            self.received.append((time.monotonic(), message))
            if wanted(message):
                return message

    def pings_since(self, moment: float) -> int:
        return sum(1 for at, m in self.received if at >= moment and m.get("WATCHDOG") == "1")


@pytest.fixture
def maildir_config(tmp_path: Path) -> Path:
    mailbox = tmp_path / "mailbox"
    shutil.copytree(resources.packaged("sample-mailbox"), mailbox)
    config = tmp_path / "maild.toml"
    config.write_text(
        'timezone = "Asia/Shanghai"\n'
        '[database]\nurl = "sqlite:///maild.db"\n'
        '[schedule]\npoll_interval = "1h"\n'
        '[[mailbox]]\nname = "sample"\naddress = "support@example.com"\n'
        f'  [mailbox.maildir]\n  path = "{mailbox}"\n',
        encoding="utf-8",
    )
    return config


@pytest.fixture
def fake_systemd(tmp_path: Path) -> Iterator[FakeSystemd]:
    server = FakeSystemd(socket_path(tmp_path), deadline=time.monotonic() + 20)
    yield server
    server.sock.close()


def is_ping(message: dict[str, str]) -> bool:
    return message.get("WATCHDOG") == "1"


@pytest.mark.timeout(60)
def test_daemon_notifies_ready_status_watchdog_reload_and_stop(
    tmp_path: Path, maildir_config: Path, fake_systemd: FakeSystemd
) -> None:
    """maild run under Type=notify: READY=1 with a status, WATCHDOG=1 every WATCHDOG_USEC/2,
    a status after each poll, RELOADING=1 then READY=1 on SIGHUP, STOPPING=1 and exit 0."""
    env = {**os.environ, "NOTIFY_SOCKET": fake_systemd.path, "WATCHDOG_USEC": "400000"}
    for name in ("WATCHDOG_PID", "MAILD_CONFIG"):
        env.pop(name, None)
    stderr = (tmp_path / "stderr.log").open("w+", encoding="utf-8")
    daemon = subprocess.Popen(
        [sys.executable, "-m", "maild", "--json-logs", "--config", str(maildir_config), "run"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    try:
        ready = fake_systemd.expect("READY=1", lambda m: m.get("READY") == "1", within=12)
        assert ready["STATUS"] == "watching 1 mailbox, polling every 1h"

        polled = fake_systemd.expect(
            "a status after the first poll",
            lambda m: m.get("STATUS", "").startswith("last poll"),
            within=10,
        )
        assert re.fullmatch(
            r"last poll \d\d:\d\d: sample ok, \d+ new; next at \d\d:\d\d", polled["STATUS"]
        ), polled

        # Pings every 0.2 s from READY on, through the poll and after it.
        started = time.monotonic()
        for _ in range(3):
            fake_systemd.expect("WATCHDOG=1", is_ping, within=2)
        assert time.monotonic() - started < 1.5
        ready_at = next(at for at, m in fake_systemd.received if m.get("READY") == "1")
        assert fake_systemd.pings_since(ready_at) >= 3

        daemon.send_signal(signal.SIGHUP)
        reloading = fake_systemd.expect(
            "RELOADING=1", lambda m: m.get("RELOADING") == "1", within=5
        )
        assert int(reloading["MONOTONIC_USEC"]) > 0
        reloaded = fake_systemd.expect("READY=1", lambda m: m.get("READY") == "1", within=5)
        assert reloaded["STATUS"] == "watching 1 mailbox, polling every 1h"
        # A reload checks every mailbox at once: another poll, another status line.
        fake_systemd.expect(
            "a status after the reload's poll",
            lambda m: m.get("STATUS", "").startswith("last poll"),
            within=10,
        )

        daemon.send_signal(signal.SIGTERM)
        fake_systemd.expect("STOPPING=1", lambda m: m.get("STOPPING") == "1", within=5)
        assert daemon.wait(timeout=max(1.0, fake_systemd.deadline - time.monotonic())) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait(timeout=10)
        stderr.seek(0)
        log = stderr.read()
        stderr.close()
    assert "sd_notify_failed" not in log, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    assert '"event": "daemon_stopped"' in log, log[-3000:]


def test_web_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    """systemd/maild-web.service (`maild web`) is as clean as the daemon's unit."""
    text = (REPO / "systemd" / "maild-web.service").read_text(encoding="utf-8")
    assert INSTALLED_MAILD in text
    python = f'"{sys.executable}"' if " " in sys.executable else sys.executable
    unit = tmp_path / "maild-web.service"
    unit.write_text(text.replace(INSTALLED_MAILD, f"{python} -m maild"), encoding="utf-8")
    result = analyze("verify", str(unit))
    assert [
        line for line in (result.stdout + result.stderr).splitlines() if "maild-web" in line
    ] == []
    assert result.returncode == 0, result.stdout + result.stderr
