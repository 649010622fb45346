"""Users, passwords and API tokens against a real database (SQLite, PostgreSQL): who may sign
in, how failures are counted and slowed down, and that only hashes are ever stored."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from structlog.testing import capture_logs

from maild import users
from maild.store.db import Database
from maild.store.models import ApiToken, User
from maild.users import UserError

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse"
EMAIL = "li.na@example.com"


def add(database: Database, email: str = EMAIL, role: str = "agent", **kwargs: str) -> User:
    with database.transaction() as session:
        return users.add_user(
            session,
            email,
            kwargs.get("name", "Li Na"),
            role,
            kwargs.get("password", PASSWORD),
            NOW,
        )


def login(
    database: Database, password: str, email: str = EMAIL, now: datetime = NOW
) -> User | None:
    with database.transaction() as session:
        return users.authenticate(session, email, password, now)


def stored(database: Database, email: str = EMAIL) -> User:
    with database.session() as session:
        user = users.find_user(session, email)
        assert user is not None
        return user


def test_add_stores_a_lower_case_address_and_only_a_hash(database: Database) -> None:
    """A new user is active, found whatever the case of the address, and the password is
    stored as an argon2id hash that verifies."""
    with database.session() as session:
        assert users.users_exist(session) is False
    user = add(database, " Li.Na@Example.COM ", role="supervisor")
    assert (user.email, user.name, user.role, user.active) == (EMAIL, "Li Na", "supervisor", True)
    assert (user.created_at, user.failed_logins, user.last_login_at) == (NOW, 0, None)
    add(database, "a.zhou@example.com")
    with database.session() as session:
        assert users.users_exist(session) is True
        assert [u.email for u in users.list_users(session)] == ["a.zhou@example.com", EMAIL]
        found = users.find_user(session, "LI.NA@example.com")
        assert found is not None and found.id == user.id
        assert users.find_user(session, "nobody@example.com") is None
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert users.verify_password(user.password_hash, PASSWORD)
    assert not users.verify_password(user.password_hash, PASSWORD + "!")


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (("li.na", "Li Na", "agent", PASSWORD), "not an email address"),
        (("li na@example.com", "Li Na", "agent", PASSWORD), "not an email address"),
        (("x@example.com", "  ", "agent", PASSWORD), "needs a name"),
        (("x@example.com", "X", "root", PASSWORD), "unknown role 'root'"),
        (("x@example.com", "X", "agent", "123456789"), "at least 10 characters"),
        (("x@example.com", "X", "agent", ""), "at least 10 characters"),
    ],
)
def test_add_refuses_bad_input(
    database: Database, fields: tuple[str, str, str, str], reason: str
) -> None:
    """A malformed address, an empty name, an unknown role or a short password is refused
    with a reason, and nobody is added."""
    email, name, role, password = fields
    with pytest.raises(UserError, match=reason), database.transaction() as session:
        users.add_user(session, email, name, role, password, NOW)
    with database.session() as session:
        assert users.list_users(session) == []


def test_add_refuses_a_duplicate_address_in_any_case(database: Database) -> None:
    """An address can belong to one user only; a ten-character password is long enough."""
    add(database, password="0123456789")
    with pytest.raises(UserError, match="already a maild user"):
        add(database, "LI.NA@EXAMPLE.COM", name="Someone Else")
    with database.session() as session:
        assert len(users.list_users(session)) == 1


def test_authenticate_counts_failures_and_a_success_resets_them(database: Database) -> None:
    """A wrong password returns None and is counted with its time; the right one returns the
    user, records the sign-in and starts the count again."""
    add(database)
    assert login(database, "wrong password") is None
    assert login(database, PASSWORD.upper(), now=NOW + timedelta(seconds=5)) is None
    user = stored(database)
    assert (user.failed_logins, user.last_failed_at) == (2, NOW + timedelta(seconds=5))
    signed_in = login(database, PASSWORD, email="Li.Na@Example.com", now=NOW + timedelta(1))
    assert signed_in is not None and signed_in.email == EMAIL
    user = stored(database)
    assert (user.failed_logins, user.last_login_at) == (0, NOW + timedelta(1))


def test_authenticate_refuses_unknown_and_disabled_users(database: Database) -> None:
    """An unknown address or a disabled user's right password gets None; the disabled
    user's attempt counts as a failure."""
    add(database)
    assert login(database, PASSWORD, email="nobody@example.com") is None
    with database.transaction() as session:
        disabled = users.disable_user(session, EMAIL, NOW)
        assert disabled.active is False
        assert users.active_user(session, EMAIL) is None
    assert login(database, PASSWORD) is None
    user = stored(database)
    assert (user.failed_logins, user.last_login_at) == (1, None)
    with pytest.raises(UserError, match="no maild user"), database.transaction() as session:
        users.disable_user(session, "nobody@example.com", NOW)


def test_failed_logins_are_logged_without_the_password(database: Database) -> None:
    """login_failed names the address and the count of failures, never the password tried."""
    add(database)
    with capture_logs() as logs:
        login(database, "my secret guess")
        login(database, "other secret guess", email="ghost@example.com")
    failed = [entry for entry in logs if entry["event"] == "login_failed"]
    assert [(e["email"], e["failures"]) for e in failed] == [(EMAIL, 1), ("ghost@example.com", 0)]
    assert "secret guess" not in repr(logs)


def test_login_delay_doubles_up_to_eight_seconds() -> None:
    """No delay before the first failure, then 0.5 s doubling to at most 8 s."""
    assert [users.login_delay(n) for n in range(9)] == [0, 0.5, 1, 2, 4, 8, 8, 8, 8]
    assert users.login_delay(10_000) == 8
    assert users.login_delay(-1) == 0


def test_recent_failures_are_forgotten_after_the_window(database: Database) -> None:
    """Failures count while the last one is within the window (15 minutes by default)."""
    add(database)
    for _ in range(3):
        login(database, "wrong password")
    user = stored(database)
    assert users.recent_failures(user, NOW + timedelta(minutes=15)) == 3
    assert users.recent_failures(user, NOW + timedelta(minutes=16)) == 0
    assert users.recent_failures(user, NOW + timedelta(minutes=16), timedelta(hours=1)) == 3
    assert users.recent_failures(None, NOW) == 0
    assert users.recent_failures(add(database, "new@example.com"), NOW) == 0


def test_set_password_replaces_the_old_one_and_clears_failures(database: Database) -> None:
    """After a reset only the new password works, and the failure count starts again."""
    add(database)
    login(database, "wrong password")
    with database.transaction() as session:
        users.set_password(session, EMAIL, "a new password ")
    assert stored(database).failed_logins == 0
    assert login(database, PASSWORD) is None
    assert login(database, "a new password ") is not None
    with pytest.raises(UserError, match="at least 10"), database.transaction() as session:
        users.set_password(session, EMAIL, "short")
    with pytest.raises(UserError, match="no maild user"), database.transaction() as session:
        users.set_password(session, "nobody@example.com", PASSWORD)


def test_tokens_are_shown_once_stored_hashed_and_die_with_the_user(database: Database) -> None:
    """A token finds its active user (noting its use); only its SHA-256 is stored; a
    disabled user's tokens are deleted and none can be issued to them."""
    add(database)
    with database.transaction() as session:
        token = users.issue_token(session, "Li.Na@example.com", NOW)
    assert token.startswith("maild_") and len(token) >= 6 + 43
    with database.transaction() as session:
        user = users.user_for_token(session, token, NOW + timedelta(hours=1))
        assert user is not None and user.email == EMAIL
        assert users.user_for_token(session, token + "x", NOW) is None
        assert users.user_for_token(session, "", NOW) is None
        assert users.user_for_token(session, token.removeprefix("maild_"), NOW) is None
    with database.session() as session:
        (row,) = session.scalars(select(ApiToken)).all()
    assert row.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert row.last_used_at == NOW + timedelta(hours=1)
    with database.transaction() as session:
        users.disable_user(session, EMAIL, NOW)
    with database.transaction() as session:
        assert users.user_for_token(session, token, NOW) is None
        assert session.scalars(select(ApiToken)).all() == []
        with pytest.raises(UserError, match="disabled"):
            users.issue_token(session, EMAIL, NOW)
        with pytest.raises(UserError, match="no maild user"):
            users.issue_token(session, "nobody@example.com", NOW)


def test_roles_include_the_ones_below(database: Database) -> None:
    """admin ⊇ supervisor ⊇ agent."""
    agent = add(database, "agent@example.com", role="agent")
    supervisor = add(database, "boss@example.com", role="supervisor")
    admin = add(database, "root@example.com", role="admin")
    table = [
        [users.has_role(u, needed) for needed in users.ROLES] for u in (agent, supervisor, admin)
    ]
    assert table == [[True, False, False], [True, True, False], [True, True, True]]
    with pytest.raises(ValueError, match="unknown role"):
        users.has_role(admin, "owner")


def test_a_weak_hash_is_upgraded_at_the_next_sign_in(database: Database) -> None:
    """A hash made with weaker argon2 parameters still verifies, and a successful sign-in
    replaces it with one made with the current defaults."""
    add(database)
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    with database.transaction() as session:
        user = users.find_user(session, EMAIL)
        assert user is not None
        user.password_hash = weak
    assert login(database, "wrong password") is None
    assert stored(database).password_hash == weak  # a failure changes no hash
    assert login(database, PASSWORD) is not None
    upgraded = stored(database).password_hash
    assert upgraded != weak and not PasswordHasher().check_needs_rehash(upgraded)
    assert users.verify_password(upgraded, PASSWORD)


@pytest.mark.parametrize("bad_hash", ["", "not a hash", "$argon2id$v=19$m=1,t=1,p=1$x$y", "é"])
def test_verify_password_never_raises(bad_hash: str) -> None:
    """A malformed or damaged hash is a failed check, not an exception."""
    assert users.verify_password(bad_hash, PASSWORD) is False
