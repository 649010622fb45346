"""The people who sign in to maild: accounts, roles, passwords and API tokens.

Passwords are stored only as argon2id hashes (argon2-cffi's defaults, which it raises over time:
a hash made with older, weaker parameters is upgraded at the next successful sign-in). API
tokens are shown once and stored only as their SHA-256, so a copy of the database lets nobody
sign in. Failed sign-ins are counted per user so the web app can slow down guessing
(`login_delay`), and an unknown address costs as much time as a known one, so response times do
not reveal who has an account.

The web app and `maild users …` share these functions; each takes the session of the caller's
transaction and a `now`, and commits nothing itself.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import Argon2Error
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from maild.log import get_logger
from maild.store.models import ApiToken, User

ROLES = ("agent", "supervisor", "admin")  # each role includes the ones before it
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "maild_"
_MAX_DELAY_SECONDS = 8.0
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_MAX_EMAIL = 320  # the column's size (RFC 5321's limit)
_MAX_NAME = 200

_hasher = PasswordHasher()


class UserError(ValueError):
    """A refusal to show the person who asked: a bad address, role or password, an unknown or
    duplicate user."""


def hash_password(password: str) -> str:
    """The argon2id hash (with its salt and parameters) that is stored instead of the password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the hash; False (never an exception) for a wrong password
    or a malformed or foreign hash, so a damaged row cannot turn a sign-in into an error page."""
    try:
        return _hasher.verify(password_hash, password)
    except (Argon2Error, ValueError):  # ValueError: InvalidHashError, non-ASCII hash text
        return False


# The hash of a random password nobody knows, made with argon2-cffi 25.1's defaults.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$aAwCSDyPtAe93oFZ7cov+w"
    "$LlXG9+eVGrklCMlThXjj8+8wrp8Y8zP4rsXzM0Zw02U"
)


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the address is unknown, with the parameters real hashes
    get, so it costs the same time; the stored one is reused unless the defaults changed."""
    if _hasher.check_needs_rehash(_DUMMY_HASH):
        return hash_password(secrets.token_urlsafe(16))
    return _DUMMY_HASH


def normalize_email(email: str) -> str:
    """Addresses are compared and stored lower-case and without surrounding blanks."""
    return email.strip().lower()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise UserError("the password is not valid text (check the terminal's encoding)") from None


def add_user(  # noqa: PLR0917 - positional: the signature the web app is written against
    session: Session, email: str, name: str, role: str, password: str, now: datetime
) -> User:
    """A new, active user; refused (UserError) for a malformed or taken address, an empty
    name, an unknown role or a password shorter than MIN_PASSWORD_LENGTH."""
    address = normalize_email(email)
    if len(address) > _MAX_EMAIL or not _EMAIL.match(address):
        raise UserError(f"{email!r} is not an email address")
    clean_name = " ".join(name.split())
    if not clean_name:
        raise UserError("the user needs a name (--name)")
    if len(clean_name) > _MAX_NAME:
        raise UserError(f"the name is longer than {_MAX_NAME} characters")
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    _check_password(password)
    if find_user(session, address) is not None:
        raise UserError(f"{address} is already a maild user")
    user = User(
        email=address,
        name=clean_name,
        role=role,
        password_hash=hash_password(password),
        active=True,
        created_at=now,
        failed_logins=0,
        last_failed_at=None,
        last_login_at=None,
    )
    session.add(user)
    session.flush()
    get_logger().info("user_added", email=address, role=role)
    return user


def list_users(session: Session) -> list[User]:
    """Every user, active or not, by address."""
    return list(session.scalars(select(User).order_by(User.email)))


def find_user(session: Session, email: str) -> User | None:
    """The user with this address (in any case), active or not."""
    return session.scalars(select(User).where(User.email == normalize_email(email))).one_or_none()


def active_user(session: Session, email: str) -> User | None:
    """The user with this address if they may still act (sign in, approve drafts)."""
    user = find_user(session, email)
    return user if user is not None and user.active else None


def users_exist(session: Session) -> bool:
    """Whether any account was ever made: until then maild runs as before, without sign-in."""
    return bool(session.scalar(select(exists().select_from(User))))


def _known(session: Session, email: str) -> User:
    user = find_user(session, email)
    if user is None:
        raise UserError(f"no maild user {normalize_email(email)}: `maild users list` shows them")
    return user


def disable_user(session: Session, email: str, now: datetime) -> User:
    """Stop a user signing in or approving; their API tokens are deleted, not just refused,
    so re-enabling an account could never bring an old token back. The row stays, because
    drafts and history name the address."""
    user = _known(session, email)
    user.active = False
    tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).all()
    for token in tokens:
        session.delete(token)
    session.flush()
    get_logger().info(
        "user_disabled", email=user.email, tokens_revoked=len(tokens), at=now.isoformat()
    )
    return user


def set_password(session: Session, email: str, password: str) -> User:
    """An admin's reset: the new password replaces the old one, and the count of failed
    sign-ins starts again (the reset is the answer to a locked-out user)."""
    user = _known(session, email)
    _check_password(password)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.last_failed_at = None
    get_logger().info("password_set", email=user.email)
    return user


def authenticate(session: Session, email: str, password: str, now: datetime) -> User | None:
    """The user if the address belongs to an active user and the password is theirs, else None.

    A failure on a known address is counted (failed_logins, last_failed_at) for login_delay; a
    success resets the count and upgrades a hash made with weaker parameters. An unknown
    address still costs one verification, so timing does not tell which addresses exist.
    """
    user = find_user(session, email)
    if user is None:
        verify_password(_dummy_hash(), password)
        get_logger().warning(
            "login_failed", email=normalize_email(email), failures=0, reason="unknown"
        )
        return None
    matches = verify_password(user.password_hash, password)
    if not matches or not user.active:
        user.failed_logins += 1
        user.last_failed_at = now
        reason = "wrong_password" if not matches else "disabled"
        get_logger().warning(
            "login_failed", email=user.email, failures=user.failed_logins, reason=reason
        )
        return None
    user.failed_logins = 0
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def login_delay(failures: int) -> float:
    """Seconds to wait before answering a failed sign-in: 0 for no earlier failure, then 0.5,
    1, 2, 4 and at most 8, which slows guessing without locking out the real user."""
    if failures <= 0:
        return 0.0
    return min(_MAX_DELAY_SECONDS, 0.5 * 2.0 ** min(failures - 1, 8))


def recent_failures(
    user: User | None, now: datetime, window: timedelta = timedelta(minutes=15)
) -> int:
    """The user's failed sign-ins if the last one was within `window`, else 0: after a quiet
    spell the delay is forgotten."""
    if user is None or user.last_failed_at is None:
        return 0
    return user.failed_logins if now - user.last_failed_at <= window else 0


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(session: Session, email: str, now: datetime) -> str:
    """A new API token for an active user, returned once in plain text; only its SHA-256 is
    kept. A random 256-bit token needs no slow hash: nobody can guess it from its digest."""
    user = _known(session, email)
    if not user.active:
        raise UserError(f"{user.email} is disabled: no token is issued")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_sha256=_digest(token), created_at=now))
    session.flush()
    get_logger().info("token_issued", user=user.email)
    return token


def user_for_token(session: Session, token: str, now: datetime) -> User | None:
    """The active user a token belongs to (and notes when it was last used), else None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.scalars(
        select(ApiToken).where(ApiToken.token_sha256 == _digest(token))
    ).one_or_none()
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    row.last_used_at = now
    return user


def has_role(user: User, needed: str) -> bool:
    """Whether the user's role is `needed` or above it (admin ⊇ supervisor ⊇ agent)."""
    if needed not in ROLES:
        raise ValueError(f"unknown role {needed!r}")
    return user.role in ROLES and ROLES.index(user.role) >= ROLES.index(needed)
