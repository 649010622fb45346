"""Helpers to configure maild against a test Dovecot and run the real `maild` process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.servers.dovecot import DovecotServer

PASSWORD_ENV = "MAILD_TEST_IMAP_PASSWORD"


def write_config(
    directory: Path,
    server: DovecotServer,
    *,
    name: str = "support",
    poll_interval: str = "1h",
    after_import: str = "keep",
    batch_size: int = 200,
    extra_mailboxes: str = "",
    database_url: str = "sqlite:///maild.db",
    security: str = "none",
    port: int | None = None,
    ca_file: Path | str | None = None,
) -> Path:
    """A maild.toml with one IMAP mailbox on *server* (plain text unless *security* says else).

    *port* defaults to the server's plain port; pass `server.tls_port` for security = "tls".
    *ca_file*, when given, is written as the mailbox's `ca_file` (the CA maild must trust).
    """
    directory.mkdir(parents=True, exist_ok=True)
    # allow_insecure only goes with "none": maild requires it there and it means nothing else.
    security_lines = f'  security = "{security}"\n'
    if security == "none":
        security_lines += "  allow_insecure = true\n"
    if ca_file is not None:
        security_lines += f'  ca_file = "{ca_file}"\n'
    path = directory / "maild.toml"
    path.write_text(
        f"""\
timezone = "Asia/Shanghai"
[database]
url = "{database_url}"
[schedule]
poll_interval = "{poll_interval}"
retry_backoff = "200ms"
[[mailbox]]
name = "{name}"
address = "support@example.com"
  [mailbox.imap]
  host = "{server.host}"
  port = {server.port if port is None else port}
{security_lines}  username = "{server.user}"
  password_env = "{PASSWORD_ENV}"
  after_import = "{after_import}"
  batch_size = {batch_size}
  timeout = 10
{extra_mailboxes}""",
        encoding="utf-8",
    )
    return path


def maild_env(server: DovecotServer, password: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env[PASSWORD_ENV] = server.password if password is None else password
    env.pop("MAILD_CONFIG", None)
    return env


def maild_command(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "maild", "--json-logs", "--config", str(config), *args]


def run_maild(
    config: Path,
    server: DovecotServer,
    *args: str,
    timeout: float = 120,
    password: str | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        maild_command(config, *args),
        env=maild_env(server, password),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
