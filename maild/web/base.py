"""What every page shares: the app's state (config, database, clock), errors that become the
right response (an HTML page, or JSON under /api), rendering, redirects and one-shot messages.
"""

from __future__ import annotations

import secrets
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from maild.config import Config
from maild.sla import SlaPolicy
from maild.store.db import Database
from maild.web.i18n import Translator, negotiate

TEMPLATES = Path(__file__).resolve().parent / "templates"
SESSION_CSRF = "csrf"
_FLASH = "flash"


class HttpError(Exception):
    """Stop handling the request: answer `status` with this message (a page or JSON)."""

    def __init__(self, status: int, message: str, *, key: str | None = None, **params: Any):
        super().__init__(message)
        self.status = status
        self.message = message
        self.key = key  # an i18n key for the page; the English `message` goes to JSON
        self.params = params


class NotSignedInError(Exception):
    """No valid session or token: pages redirect to /login, the API answers 401."""


class LoginThrottle:
    """Recent failed logins per client address (in memory), so guessing across many accounts
    from one address is slowed down as much as guessing one account's password."""

    def __init__(self, window: timedelta = timedelta(minutes=15), limit: int = 10_000) -> None:
        self.window = window
        self.limit = limit
        self._failures: dict[str, deque[datetime]] = {}

    def record(self, address: str, now: datetime) -> None:
        if len(self._failures) >= self.limit and address not in self._failures:
            self._failures.clear()  # a flood of addresses: start over rather than grow
        self._failures.setdefault(address, deque(maxlen=100)).append(now)

    def count(self, address: str, now: datetime) -> int:
        recent = self._failures.get(address)
        if not recent:
            return 0
        while recent and now - recent[0] > self.window:
            recent.popleft()
        return len(recent)


@dataclass
class WebState:
    config: Config
    database: Database
    now: Callable[[], datetime]
    sleep: Callable[[float], Awaitable[None]]
    categories: frozenset[str]
    policy: SlaPolicy
    templates: jinja2.Environment
    throttle: LoginThrottle = field(default_factory=LoginThrottle)


def make_templates() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["markup"] = Markup  # only for HTML built and escaped by maild
    return environment


def state(request: Request) -> WebState:
    found: WebState = request.app.state.maild
    return found


def translator(request: Request) -> Translator:
    cached = getattr(request.state, "translator", None)
    if isinstance(cached, Translator):
        return cached
    made = Translator(negotiate(request.headers.get("accept-language")))
    request.state.translator = made
    return made


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use; a new one at every sign-in)."""
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str) or len(token) < 20:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


def flash(request: Request, key: str, kind: str = "ok", **params: Any) -> None:
    """A message for the next page shown (after a redirect)."""
    messages = list(request.session.get(_FLASH, []))
    messages.append([kind, key, params])
    request.session[_FLASH] = messages[-5:]


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    t = translator(request)
    messages = request.session.pop(_FLASH, []) if _FLASH in request.session else []
    user = getattr(request.state, "user", None)
    values = {
        "t": t,
        "lang": t.html_lang,
        "user": user,
        "csrf": csrf_token(request),
        "flashes": [(kind, t(key, **params)) for kind, key, params in messages],
        "path": request.url.path,
        **(context or {}),
    }
    zone = state(request).config.timezone

    def when(value: datetime | str | None) -> str:
        """A time as local date and minute, in the configured timezone."""
        if value is None or value == "":
            return ""
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    values["when"] = when
    body = state(request).templates.get_template(template).render(values)
    return HTMLResponse(body, status_code=status, headers=headers)


def redirect(url: str) -> RedirectResponse:
    """See other: after a form POST the browser GETs `url`."""
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None, default: str = "/queue") -> str:
    """A local path to go to after signing in; never another site (//evil, https://…)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ord(c) < 32 for c in target):
        return default
    return target
