"""The ASGI app: routes at fixed paths, signed session cookies, security headers on every
response, and errors answered as a page (or as JSON under /api).

Sessions: Starlette's SessionMiddleware (an itsdangerous-signed cookie `maild_session`,
HttpOnly, SameSite=Lax, expiring after `[web] session_lifetime`). Its Secure flag follows
`[web] secure_cookies`: "auto" sets it on every response to a request that came over https,
which behind the reverse proxy uvicorn learns from X-Forwarded-Proto (trusted from
127.0.0.1 only, unless FORWARDED_ALLOW_IPS says otherwise).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from maild.config import Config
from maild.escalation import sla_policy
from maild.log import get_logger
from maild.rules import RuleSet, load_rules
from maild.store.db import Database
from maild.store.models import utcnow
from maild.web import api, pages_admin, pages_auth, pages_drafts, pages_tickets
from maild.web.base import (
    HttpError,
    NotSignedInError,
    WebState,
    make_templates,
    render,
    translator,
)
from maild.web.keys import session_key

STATIC = Path(__file__).resolve().parent / "static"
SESSION_COOKIE = "maild_session"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


class SecurityHeaders:
    """Adds the security headers to every response that does not set its own (one view sets
    a wider img-src for the images an agent asked to load); pages are never cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if not static and "cache-control" not in headers:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Sessions:
    """SessionMiddleware whose cookie is Secure always, never, or ("auto") exactly when the
    request came over https."""

    def __init__(self, app: ASGIApp, *, secret: str, secure: str, max_age: int) -> None:
        def make(https_only: bool) -> SessionMiddleware:
            return SessionMiddleware(
                app,
                secret_key=secret,
                session_cookie=SESSION_COOKIE,
                max_age=max_age,
                same_site="lax",
                https_only=https_only,
            )

        self.mode = secure
        self.plain = make(False)
        self.secure = make(True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        https = scope["type"] == "http" and scope.get("scheme") == "https"
        chosen = (
            self.secure if self.mode == "true" or (self.mode == "auto" and https) else self.plain
        )
        await chosen(scope, receive, send)


def _is_api(request: Request) -> bool:
    return request.url.path == "/api" or request.url.path.startswith("/api/")


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HttpError)
    if _is_api(request):
        return JSONResponse({"error": exc.message}, status_code=exc.status)
    t = translator(request)
    params = dict(exc.params)
    if "role" in params:
        params["role"] = t(f"role_{params['role']}")
    message = t(exc.key, **params) if exc.key else exc.message
    context = {"status": exc.status, "message": message}
    return render(request, "error.html", context, status=exc.status)


async def _not_signed_in(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return JSONResponse(
            {"error": "authentication required: a bearer token or a session"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="maild"'},
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if _is_api(request):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
    keys = {404: "not_found", 403: "forbidden"}
    message = translator(request)(keys.get(exc.status_code, "bad_request"))
    context = {"status": exc.status_code, "message": message}
    return render(request, "error.html", context, status=exc.status_code)


async def _server_error(request: Request, exc: Exception) -> Response:
    get_logger().error("web_error", path=request.url.path, error=f"{type(exc).__name__}: {exc}")
    if _is_api(request):
        response: Response = JSONResponse({"error": "internal error"}, status_code=500)
    else:
        response = PlainTextResponse("500: maild could not answer this request", status_code=500)
    response.headers.update(SECURITY_HEADERS)
    return response


def routes() -> list[BaseRoute]:
    t, d = pages_tickets, pages_drafts
    message = "/tickets/{number}/messages/{message_id:int}"
    return [
        Route("/", pages_auth.home),
        Route("/login", pages_auth.login_page, methods=["GET"]),
        Route("/login", pages_auth.login_submit, methods=["POST"]),
        Route("/logout", pages_auth.logout_page, methods=["GET"]),
        Route("/logout", pages_auth.logout_submit, methods=["POST"]),
        Route("/queue", t.queue),
        Route("/tickets/{number}", t.ticket),
        Route("/tickets/{number}/assign", t.assign_to_me, methods=["POST"]),
        Route("/tickets/{number}/close", t.close, methods=["POST"]),
        Route("/tickets/{number}/set", t.correct, methods=["POST"]),
        Route(f"{message}/original", t.original),
        Route(f"{message}/raw", t.raw),
        Route(f"{message}/attachments/{{index:int}}", t.attachment),
        Route("/drafts/{draft_id:int}", d.draft),
        Route("/drafts/{draft_id:int}/edit", d.edit, methods=["POST"]),
        Route("/drafts/{draft_id:int}/approve", d.approve, methods=["POST"]),
        Route("/drafts/{draft_id:int}/reject", d.reject, methods=["POST"]),
        Route("/dashboard", pages_admin.dashboard),
        Route("/admin/users", pages_admin.users_list, methods=["GET"]),
        Route("/admin/users", pages_admin.users_add, methods=["POST"]),
        Route("/admin/users/disable", pages_admin.users_disable, methods=["POST"]),
        Route("/api", api.index),
        Route("/api/openapi.json", api.openapi),
        Route("/api/me", api.me),
        Route("/api/tickets", api.tickets),
        Route("/api/tickets/{number}", api.ticket),
        Route("/api/drafts", api.drafts),
        Route("/api/drafts/{draft_id:int}", api.draft),
        Route("/api/drafts/{draft_id:int}/approve", api.approve, methods=["POST"]),
        Route("/api/drafts/{draft_id:int}/reject", api.reject, methods=["POST"]),
        Route("/api/metrics", api.metrics_json),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


def create_app(
    config: Config,
    database: Database,
    *,
    now: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rules: RuleSet | None = None,
    secret_key: str | None = None,
) -> Starlette:
    """The web app over an open (migrated) database. `now` and `sleep` are the clock and the
    wait before answering a failed sign-in (tests pass their own); the session key comes from
    `[web]` (see `maild.web.keys`) unless given."""
    rules = rules if rules is not None else load_rules(config.rules_dir, config.owners)
    categories = frozenset({rule.category for rule in rules.rules if rule.category} | {"other"})
    key = secret_key if secret_key is not None else session_key(config.web, config.database_url)
    lifetime = int(config.web.session_lifetime.total_seconds())
    app = Starlette(
        routes=routes(),
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(Sessions, secret=key, secure=config.web.secure_cookies, max_age=lifetime),
        ],
        exception_handlers={
            HttpError: _problem,
            NotSignedInError: _not_signed_in,
            HTTPException: _http_error,
            Exception: _server_error,
        },
    )
    app.state.maild = WebState(
        config=config,
        database=database,
        now=now,
        sleep=sleep,
        categories=categories,
        policy=sla_policy(config),
        templates=make_templates(),
    )
    return app
