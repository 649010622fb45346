"""`maild users …` as an admin runs it: passwords from a file or a hidden prompt, listing,
disabling, API tokens shown once, and refusals with their exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from maild import resources, users
from maild.store.db import Database, open_database

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'maild.db'}"


@pytest.fixture
def run(tmp_path: Path, database_url: str) -> Run:
    """`run(*args, stdin=...)`: the real `maild` process with a minimal configuration."""
    config = tmp_path / "maild.toml"
    config.write_text(
        f'[database]\nurl = "{database_url}"\n\n'
        '[[mailbox]]\nname = "sample"\naddress = "support@example.com"\n'
        f'  [mailbox.maildir]\n  path = "{resources.packaged("sample-mailbox")}"\n',
        encoding="utf-8",
    )

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "maild", "--config", str(config), *args],
            cwd=tmp_path,
            env={**os.environ, "MAILD_CONFIG": ""},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            # No controlling terminal: the hidden prompt reads stdin instead of /dev/tty, even
            # when the tests themselves run in a terminal.
            start_new_session=True,
        )

    return run


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """The same database the processes use, opened in this process to check what they did."""
    db = open_database(database_url)
    try:
        yield db
    finally:
        db.dispose()


def signs_in(database: Database, email: str, password: str) -> bool:
    with database.transaction() as session:
        return users.authenticate(session, email, password, datetime.now(UTC)) is not None


def password_file(tmp_path: Path, content: bytes) -> str:
    path = tmp_path / "password.txt"
    path.write_bytes(content)
    return str(path)


def test_password_file_loses_one_trailing_newline_and_nothing_else(
    run: Run, database: Database, tmp_path: Path
) -> None:
    """A password file's final "\\n" or "\\r\\n" is not part of the password; trailing spaces
    are."""
    result = run(
        "users", "add", "Li.Na@example.com", "--name", "Li Na", "--role", "agent",
        "--password-file", password_file(tmp_path, b"secret pass 1\n"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == "added li.na@example.com (agent)\n"
    assert "secret pass 1" not in result.stderr
    assert signs_in(database, "li.na@example.com", "secret pass 1")
    assert not signs_in(database, "li.na@example.com", "secret pass 1\n")
    spaced = run(
        "users", "add", "wu.lei@example.com", "--name", "Wu Lei", "--role", "admin",
        "--password-file", password_file(tmp_path, b"ends in a space \r\n"),
    )  # fmt: skip
    assert spaced.returncode == 0, spaced.stderr
    assert signs_in(database, "wu.lei@example.com", "ends in a space ")
    assert not signs_in(database, "wu.lei@example.com", "ends in a space")
    reset = run(
        "users", "password", "wu.lei@example.com",
        "--password-file", password_file(tmp_path, b"another secret\n\n"),
    )  # fmt: skip
    assert reset.returncode == 0, reset.stderr
    assert reset.stdout == "password changed for wu.lei@example.com\n"
    assert signs_in(database, "wu.lei@example.com", "another secret\n")


def test_the_prompt_asks_twice(run: Run, database: Database) -> None:
    """Without --password-file the password is typed twice; two different ones add nobody."""
    added = run(
        "users", "add", "li.na@example.com", "--name", "Li Na", "--role", "supervisor",
        stdin="secretpass1\nsecretpass1\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert added.stdout.endswith("added li.na@example.com (supervisor)\n")
    assert "secretpass1" not in added.stdout + added.stderr
    assert signs_in(database, "li.na@example.com", "secretpass1")
    mismatch = run(
        "users", "add", "wu.lei@example.com", "--name", "Wu Lei", "--role", "agent",
        stdin="secretpass1\nsecretpass2\n",
    )  # fmt: skip
    assert mismatch.returncode != 0
    with database.session() as session:
        assert users.find_user(session, "wu.lei@example.com") is None


def test_list_disable_and_tokens(run: Run, database: Database, tmp_path: Path) -> None:
    """list --json shows every user; a token is printed once, alone on stdout, and works
    until its user is disabled."""
    secret = password_file(tmp_path, b"secret pass 1\n")
    for email, role in (("li.na@example.com", "agent"), ("boss@example.com", "admin")):
        added = run(
            "users", "add", email, "--name", email.split("@")[0], "--role", role,
            "--password-file", secret,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
    issued = run("users", "token", "li.na@example.com")
    assert issued.returncode == 0, issued.stderr
    (token,) = issued.stdout.splitlines()
    assert token.startswith("maild_") and "shown only once" in issued.stderr
    assert token not in issued.stderr
    with database.transaction() as session:
        user = users.user_for_token(session, token, datetime.now(UTC))
        assert user is not None and user.email == "li.na@example.com"

    disabled = run("users", "disable", "LI.NA@example.com")
    assert disabled.returncode == 0, disabled.stderr
    assert disabled.stdout.startswith("disabled li.na@example.com")
    listed = run("users", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["email"], r["role"], r["active"]) for r in rows] == [
        ("boss@example.com", "admin", True),
        ("li.na@example.com", "agent", False),
    ]
    assert {"name", "created_at", "last_login_at"} <= rows[0].keys()
    table = run("users", "list")
    assert table.returncode == 0 and "boss@example.com" in table.stdout
    with database.transaction() as session:
        assert users.user_for_token(session, token, datetime.now(UTC)) is None
    refused = run("users", "token", "li.na@example.com")
    assert (refused.returncode, refused.stdout) == (1, "")
    assert "disabled" in refused.stderr


def test_refusals_exit_with_the_reason(run: Run, tmp_path: Path) -> None:
    """An unknown role is a usage error (2); a duplicate, an unknown user or a short password
    is refused (1) with the reason."""
    secret = password_file(tmp_path, b"secret pass 1\n")
    add = ("users", "add", "li.na@example.com", "--name", "Li Na")
    bad_role = run(*add, "--role", "owner", "--password-file", secret)
    assert bad_role.returncode == 2 and "'owner' is not one of" in bad_role.stderr
    assert run(*add, "--role", "agent", "--password-file", secret).returncode == 0
    duplicate = run(*add, "--role", "agent", "--password-file", secret)
    assert duplicate.returncode == 1
    assert "li.na@example.com is already a maild user" in duplicate.stderr
    short = run(
        "users", "add", "wu@example.com", "--name", "Wu", "--role", "agent",
        "--password-file", password_file(tmp_path, b"short\n"),
    )  # fmt: skip
    assert short.returncode == 1 and "at least 10 characters" in short.stderr
    for command in (("disable",), ("token",), ("password", "--password-file", secret)):
        unknown = run("users", *command, "nobody@example.com")
        assert unknown.returncode == 1 and "no maild user nobody@example.com" in unknown.stderr
