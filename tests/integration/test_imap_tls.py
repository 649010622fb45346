"""IMAP over TLS and STARTTLS against a real Dovecot with a certificate from a test CA.

TLS is maild's default, so these run the `maild` process itself: implicit TLS and STARTTLS with
the CA named in `ca_file`, the refusal of a certificate nothing trusts, and a missing `ca_file`.
"""

from __future__ import annotations

import json
import re
import ssl
from pathlib import Path

import pytest
from imapclient import IMAPClient

from tests.integration.maild_process import run_maild, write_config
from tests.memory_inbox import simple_message
from tests.servers.dovecot import DovecotServer

pytestmark = pytest.mark.dovecot

EXIT_CONFIG = 2
EXIT_POLL_FAILED = 3
# Dovecot logs every successful login; "TLS" in it means the session was encrypted when the
# password went over (a loopback session in plain text is logged as "secured" instead).
_LOGIN = re.compile(r"imap-login: Info: Login: user=<(?P<user>[^>]+)>, (?P<rest>.*)")


def log_mark(server: DovecotServer) -> int:
    """Where the server's log ends now, so `logins` can skip the test helpers' own logins."""
    return len(server.log_text())


def logins(server: DovecotServer, since: int = 0) -> list[str]:
    """The details of each successful login logged after *since*, e.g. '..., mpid=7, TLS, ...'."""
    text = server.log_text()[since:]
    return [m["rest"] for m in _LOGIN.finditer(text) if m["user"] == server.user]


def maild_error_line(stderr: str) -> str:
    """The one-line summary `maild` prints last (the log lines before it are JSON)."""
    lines = [line for line in stderr.splitlines() if line.startswith("maild: ")]
    assert lines, stderr
    return lines[-1]


def stored_subjects(config: Path, server: DovecotServer) -> list[str]:
    result = run_maild(config, server, "messages", "list", "--json")
    assert result.returncode == 0, result.stderr
    return sorted(str(row["subject"]) for row in json.loads(result.stdout))


def test_default_server_has_no_tls(dovecot_server: DovecotServer) -> None:
    """Without tls=True the test server has no imaps port, no CA and offers no STARTTLS."""
    assert dovecot_server.tls_port is None
    assert dovecot_server.ca_pem_path is None
    with dovecot_server.connect() as client:
        assert b"STARTTLS" not in client.capabilities()


def test_tls_server_speaks_both_kinds_of_tls(dovecot_tls_server: DovecotServer) -> None:
    """The TLS server verifies against its CA on both ports, and keeps them across a restart."""
    server = dovecot_tls_server
    assert server.tls_port is not None and server.ca_pem_path is not None
    ports = (server.port, server.tls_port)
    server.restart()
    assert (server.port, server.tls_port) == ports
    with IMAPClient(
        server.host, port=server.tls_port, ssl_context=server.client_ssl_context(), timeout=10
    ) as client:
        client.login(server.user, server.password)
    with IMAPClient(server.host, port=server.port, ssl=False, timeout=10) as client:
        assert b"STARTTLS" in client.capabilities()
        client.starttls(server.client_ssl_context())
        client.login(server.user, server.password)
    assert len(logins(server)) == 2
    assert all(re.search(r"\bTLS\b", login) for login in logins(server)), logins(server)
    with pytest.raises(ssl.SSLCertVerificationError):
        IMAPClient(server.host, port=server.tls_port, ssl_context=ssl.create_default_context())


def test_poll_over_implicit_tls_with_ca_file(
    dovecot_tls_server: DovecotServer, tmp_path: Path
) -> None:
    """security = "tls" on the imaps port, trusting the test CA via ca_file, stores the mail."""
    server = dovecot_tls_server
    server.append_many(simple_message(n) for n in range(1, 4))
    config = write_config(
        tmp_path, server, security="tls", port=server.tls_port, ca_file=server.ca_pem_path
    )
    mark = log_mark(server)
    result = run_maild(config, server, "poll", "--once")
    assert result.returncode == 0, result.stderr
    (login,) = logins(server, since=mark)
    assert stored_subjects(config, server) == ["Question 1", "Question 2", "Question 3"]
    assert re.search(r"\bTLS\b", login), login


def test_poll_over_starttls_with_ca_file(dovecot_tls_server: DovecotServer, tmp_path: Path) -> None:
    """security = "starttls" on the plain port upgrades to TLS before it logs in, and stores."""
    server = dovecot_tls_server
    server.append_many(simple_message(n) for n in range(1, 3))
    config = write_config(tmp_path, server, security="starttls", ca_file=server.ca_pem_path)
    mark = log_mark(server)
    result = run_maild(config, server, "poll", "--once")
    assert result.returncode == 0, result.stderr
    (login,) = logins(server, since=mark)
    assert stored_subjects(config, server) == ["Question 1", "Question 2"]
    assert re.search(r"\bTLS\b", login), f"the password went over in plain text: {login}"


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_untrusted_certificate_is_refused(
    dovecot_tls_server: DovecotServer, tmp_path: Path, security: str
) -> None:
    """Without ca_file the test CA is untrusted: exit 3, naming the mailbox and the certificate."""
    server = dovecot_tls_server
    server.append(simple_message(1))
    port = server.tls_port if security == "tls" else server.port
    config = write_config(tmp_path, server, name="billing", security=security, port=port)
    mark = log_mark(server)
    result = run_maild(config, server, "poll", "--once")
    assert result.returncode == EXIT_POLL_FAILED, result.stderr
    line = maild_error_line(result.stderr)
    assert "mailbox 'billing' could not be read" in line
    assert "TLS certificate of 127.0.0.1:" in line and "could not be verified" in line, line
    assert "set ca_file in [mailbox.imap]" in line, line
    assert server.password not in result.stdout + result.stderr
    assert logins(server, since=mark) == [], "it logged in despite refusing the certificate"
    assert "Traceback" not in result.stderr


def test_missing_ca_file_is_a_configuration_error(
    dovecot_tls_server: DovecotServer, tmp_path: Path
) -> None:
    """A ca_file that does not exist stops maild with exit 2, naming the file and the key."""
    server = dovecot_tls_server
    missing = tmp_path / "no-such-ca.pem"
    config = write_config(
        tmp_path / "conf", server, security="tls", port=server.tls_port, ca_file=missing
    )
    mark = log_mark(server)
    result = run_maild(config, server, "poll", "--once")
    assert result.returncode == EXIT_CONFIG, result.stderr
    line = maild_error_line(result.stderr)
    assert str(config) in line
    assert "ca_file" in line
    assert str(missing) in line
    assert "does not exist" in line
    assert logins(server, since=mark) == []


def poll_failures(stderr: str) -> list[dict[str, object]]:
    events = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return [event for event in events if event["event"] == "poll_failed"]


def test_tls_spoken_to_a_plain_port_is_explained_and_not_retried(
    dovecot_tls_server: DovecotServer, tmp_path: Path
) -> None:
    """security = "tls" on the STARTTLS port says which port or mode to use, at the first try."""
    server = dovecot_tls_server
    config = write_config(
        tmp_path, server, security="tls", port=server.port, ca_file=server.ca_pem_path
    )
    result = run_maild(config, server, "poll", "--once")
    assert result.returncode == EXIT_POLL_FAILED, result.stderr
    line = maild_error_line(result.stderr)
    assert "did not answer with TLS" in line and 'security = "starttls"' in line, line
    assert len(poll_failures(result.stderr)) == 1


def test_refused_login_is_reported_once_without_the_password(
    dovecot_tls_server: DovecotServer, tmp_path: Path
) -> None:
    """A wrong password is a permanent failure: one attempt, the server's refusal, no secret."""
    server = dovecot_tls_server
    config = write_config(tmp_path, server, security="starttls", ca_file=server.ca_pem_path)
    env_password = "not-the-password-" + server.password[::-1]
    result = run_maild(config, server, "poll", "--once", password=env_password)
    assert result.returncode == EXIT_POLL_FAILED, result.stderr
    line = maild_error_line(result.stderr)
    assert f"refused the login of {server.user}" in line, line
    assert len(poll_failures(result.stderr)) == 1
    assert env_password not in result.stdout + result.stderr
