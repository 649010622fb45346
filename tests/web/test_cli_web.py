"""`maild web` as a process: it serves on the address given, with a key it keeps beside the
SQLite database, and stops cleanly on SIGTERM."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_maild_web_serves_the_login_page_and_stops_on_sigterm(tmp_path: Path) -> None:
    config = tmp_path / "maild.toml"
    config.write_text('[web]\nlisten = "127.0.0.1:1"\n', encoding="utf-8")
    port = free_port()
    command = [sys.executable, "-m", "maild", "--json-logs", "--config", str(config)]
    process = subprocess.Popen(
        [*command, "web", "--listen", f"127.0.0.1:{port}"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, headers, body = get(port, "/login")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"maild web did not start: {process.stderr and process.stderr.read()}"
                    )
                time.sleep(0.1)
        assert status == 200
        assert "default-src 'self'" in headers["content-security-policy"]
        assert '<meta charset="utf-8">' in body.decode()
        status, _, body = get(port, "/api/tickets")
        assert (status, json.loads(body)["error"]) == (
            401,
            "authentication required: a bearer token or a session",
        )
        assert (tmp_path / "web-secret.key").stat().st_mode & 0o777 == 0o600
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=30)
    assert process.returncode == 0
    events = [json.loads(line)["event"] for line in errors.splitlines() if line.startswith("{")]
    assert events[0] == "web_started" and events[-1] == "web_stopped"
