"""The daemon's sweep end to end: `maild run` over the sample mailbox, left unanswered for days,
escalates to the owner, sends the supervisors' digest through a real SMTP server within
seconds, and sends none of it again after a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from maild import resources
from tests.servers.smtp import SmtpServer


def write_config(directory: Path, smtp: SmtpServer) -> Path:
    sample = resources.packaged("sample-mailbox")
    config = directory / "maild.toml"
    config.write_text(
        'timezone = "Asia/Shanghai"\n'
        'supervisors = ["Wang Fang <wang.fang@example.com>"]\n'
        "[schedule]\n"
        'poll_interval = "1h"\n'
        'sweep_interval = "1s"\n'
        "[smtp]\n"
        f'host = "{smtp.host}"\n'
        f"port = {smtp.port}\n"
        'security = "none"\n'
        "allow_insecure = true\n"
        'flush_interval = "1s"\n'
        "[digest]\n"
        'at = "00:00"\n'
        "[[mailbox]]\n"
        'name = "sample"\n'
        'address = "support@example.com"\n'
        'default_owner = "Li Na <li.na@example.com>"\n'
        "  [mailbox.maildir]\n"
        f'  path = "{sample}"\n',
        encoding="utf-8",
    )
    return config


def run_for(config: Path, seconds: float) -> None:
    daemon = subprocess.Popen(
        [sys.executable, "-m", "maild", "--json-logs", "--config", str(config), "run"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"},
    )
    try:
        time.sleep(seconds)
    finally:
        daemon.send_signal(signal.SIGTERM)
        _out, err = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, err.decode(errors="replace")[-2000:]


def test_the_daemon_escalates_and_digests_once(tmp_path: Path) -> None:
    with SmtpServer() as smtp:
        config = write_config(tmp_path, smtp)
        run_for(config, 6)
        first = smtp.received
        assert first, "no notification arrived within 6 s"
        owner = [r.message() for r in first if r.recipients == ("li.na@example.com",)]
        assert owner and all(m["Auto-Submitted"] == "auto-generated" for m in owner)
        assert all(m["In-Reply-To"] for m in owner)  # threaded under the customer's message
        digests = [r for r in first if "Overdue tickets" in str(r.message()["Subject"])]
        assert [d.recipients for d in digests] == [("wang.fang@example.com",)]
        run_for(config, 4)  # a restart: everything was decided once already
        assert len(smtp.received) == len(first)
