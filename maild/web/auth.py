"""Who is asking, and may they: sessions, API tokens, roles and CSRF checks.

A browser signs in once and carries a signed session cookie holding its user id, a stamp of
their password hash and a CSRF token; the user is loaded again on every request, so a disabled
account, a new password or a changed role takes effect at once. A script sends
`Authorization: Bearer maild_…` instead (no cookie, so no CSRF token needed). Every form
POST, and every API POST made with the cookie, must carry the session's CSRF token (form field
`csrf`, header `X-CSRF-Token`), or it is refused with 403.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request

from maild import users
from maild.store.db import Database
from maild.store.models import User
from maild.web.base import SESSION_CSRF, HttpError, NotSignedInError, csrf_token, state

SESSION_USER = "uid"
SESSION_SINCE = "since"
SESSION_STAMP = "stamp"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class WebUser:
    id: int
    email: str
    name: str
    role: str
    via_token: bool = False
    # Changes with the password: a reset (`maild users password`) ends every session.
    stamp: str = ""

    def has(self, role: str) -> bool:
        """Whether this user's role includes `role` (admin ⊃ supervisor ⊃ agent)."""
        if self.role not in users.ROLES or role not in users.ROLES:
            return False
        return users.ROLES.index(self.role) >= users.ROLES.index(role)

    @classmethod
    def of(cls, user: User, *, via_token: bool = False) -> WebUser:
        stamp = hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]
        return cls(user.id, user.email, user.name, user.role, via_token, stamp)


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def sign_in(request: Request, user: WebUser, now: datetime) -> None:
    """A fresh session (no fixation: nothing from before survives) with a new CSRF token."""
    request.session.clear()
    request.session[SESSION_USER] = user.id
    request.session[SESSION_SINCE] = now.isoformat()
    request.session[SESSION_STAMP] = user.stamp
    csrf_token(request)


def sign_out(request: Request) -> None:
    request.session.clear()


async def current_user(request: Request) -> WebUser | None:
    """The user of the bearer token, else of the session; None when neither is valid."""
    found = getattr(request.state, "user", None)
    if isinstance(found, WebUser):
        return found
    web = state(request)
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        user = await run_in_threadpool(_token_user, web.database, token.strip(), web.now())
    else:
        user = await _session_user(request)
    request.state.user = user
    return user


def _token_user(database: Database, token: str, now: datetime) -> WebUser | None:
    with database.transaction() as session:
        user = users.user_for_token(session, token, now)
        return WebUser.of(user, via_token=True) if user is not None and user.active else None


async def _session_user(request: Request) -> WebUser | None:
    user_id = request.session.get(SESSION_USER)
    if not isinstance(user_id, int):
        return None
    web = state(request)
    since = request.session.get(SESSION_SINCE)
    try:
        started = datetime.fromisoformat(since) if isinstance(since, str) else None
    except ValueError:
        started = None
    if started is None or web.now() - started > web.config.web.session_lifetime:
        sign_out(request)
        return None

    def load() -> WebUser | None:
        with web.database.session() as session:
            user = session.get(User, user_id)
            return WebUser.of(user) if user is not None and user.active else None

    user = await run_in_threadpool(load)
    if user is None or user.stamp != request.session.get(SESSION_STAMP):
        sign_out(request)  # disabled, deleted or given a new password since: it ends now
        return None
    return user


async def require(request: Request, role: str = "agent") -> WebUser:
    """The signed-in user, who must have `role`; NotSignedInError or a 403 otherwise."""
    user = await current_user(request)
    if user is None:
        raise NotSignedInError()
    if not user.has(role):
        raise HttpError(403, f"this needs the {role} role", key="forbidden_role", role=role)
    return user


def _csrf_matches(request: Request, given: object) -> bool:
    expected = request.session.get(SESSION_CSRF)
    return (
        isinstance(expected, str)
        and isinstance(given, str)
        and bool(given)
        and hmac.compare_digest(expected.encode(), given.encode())
    )


async def checked_form(request: Request) -> FormData:
    """The POSTed form, once its CSRF token matched the session's; 403 otherwise."""
    form = await request.form()
    if not _csrf_matches(request, form.get("csrf")):
        raise HttpError(403, "missing or wrong CSRF token", key="csrf_failed")
    return form


def check_api_csrf(request: Request, user: WebUser) -> None:
    """An API POST made with the session cookie must send the token in X-CSRF-Token."""
    if not user.via_token and not _csrf_matches(request, request.headers.get(CSRF_HEADER)):
        raise HttpError(403, "missing or wrong X-CSRF-Token header (or use a bearer token)")
