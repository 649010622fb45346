"""Fixtures that start real Dovecot IMAP servers on free loopback ports and stop them by pid."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Generator, Iterator, Mapping
from typing import Any

import pytest

from tests.servers.dovecot import SKIP_REASON, DovecotServer, dovecot_available

MakeDovecot = Callable[..., DovecotServer]

_SERVERS = pytest.StashKey[list[DovecotServer]]()
_DOVECOT_FIXTURES = frozenset({"dovecot_server", "make_dovecot"})
_LOG_TAIL_CHARS = 6000


def require_dovecot() -> None:
    """Skip without dovecot, except in CI, where a silently skipped IMAP suite would hide bugs."""
    if dovecot_available():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{SKIP_REASON}; CI must run the Dovecot tests", pytrace=False)
    pytest.skip(SKIP_REASON)


@pytest.fixture
def make_dovecot(request: pytest.FixtureRequest) -> Iterator[MakeDovecot]:
    """A factory: `make_dovecot(users={...}, port=..., tls=...)` starts one more server."""
    require_dovecot()
    servers = request.node.stash.setdefault(_SERVERS, [])
    with contextlib.ExitStack() as stack:

        def make(users: Mapping[str, str] | None = None, **options: Any) -> DovecotServer:
            server = DovecotServer(users, **options)
            # Registered before start() so a server that fails half-way is still cleaned up.
            stack.callback(server.cleanup)
            servers.append(server)
            return server.start()

        yield make


@pytest.fixture
def dovecot_server(make_dovecot: MakeDovecot) -> DovecotServer:
    """A started Dovecot with one user (`.user`, `.password`) and an empty INBOX."""
    return make_dovecot()


@pytest.fixture
def dovecot_tls_server(make_dovecot: MakeDovecot) -> DovecotServer:
    """Like `dovecot_server`, plus STARTTLS on `.port` and implicit TLS on `.tls_port`.

    The certificate is signed by a fresh test CA that only `.ca_pem_path` holds.
    """
    return make_dovecot(tls=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Lets `-m "not dovecot"` deselect every test that needs the binary, without each test
    # module having to remember the marker.
    for item in items:
        if _DOVECOT_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.dovecot)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    # The server's directory is deleted at teardown, so a failing test carries the tail of
    # Dovecot's log in its report instead.
    if report.failed and call.when == "call":
        for server in item.stash.get(_SERVERS, []):
            with contextlib.suppress(OSError):
                tail = server.log_text()[-_LOG_TAIL_CHARS:]
                report.sections.append((f"dovecot log ({server.host}:{server.port})", tail))
    return report
