"""Signing in and out.

A failed sign-in is answered only after `users.login_delay` of the earlier recent failures (of
that account, or from that client address, whichever is more), and logged (`login_failed` with
the address tried and the client's IP). Signing out is a POST with the CSRF token, so another
site cannot sign an agent out; GET /logout shows the button.
"""

from __future__ import annotations

from datetime import datetime

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from maild import users
from maild.log import get_logger
from maild.store.db import Database
from maild.web.auth import WebUser, checked_form, client_address, current_user, sign_in, sign_out
from maild.web.base import HttpError, flash, redirect, render, safe_next, state


async def home(request: Request) -> Response:
    return redirect("/queue")


async def login_page(request: Request) -> Response:
    target = safe_next(request.query_params.get("next"))
    if await current_user(request) is not None:
        return redirect(target)
    context = {"next": target, "error": False, "email": "", "expired": False}
    return render(request, "login.html", context)


def _attempt(
    database: Database, email: str, password: str, now: datetime, address: str
) -> tuple[WebUser | None, int]:
    """(the user, if the password is right; the account's earlier recent failures)."""
    with (
        structlog.contextvars.bound_contextvars(client_ip=address),
        database.transaction() as session,
    ):
        earlier = users.recent_failures(users.find_user(session, email), now)
        user = users.authenticate(session, email, password, now)
        return (WebUser.of(user) if user is not None else None), earlier


async def login_submit(request: Request) -> Response:
    try:
        form = await checked_form(request)
    except HttpError:  # the page was open longer than the session: offer a fresh form
        context = {"next": "/queue", "error": False, "email": "", "expired": True}
        return render(request, "login.html", context, status=403)
    email = str(form.get("email") or "").strip()
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or ""))
    web = state(request)
    address = client_address(request)
    now = web.now()
    user, earlier = (None, 0)
    if email and password:
        user, earlier = await run_in_threadpool(
            _attempt, web.database, email, password, now, address
        )
    if user is None:
        from_address = web.throttle.count(address, now)
        web.throttle.record(address, now)
        # users.authenticate logged `login_failed` (with client_ip, bound above).
        await web.sleep(users.login_delay(max(earlier, from_address)))
        context = {"next": target, "error": True, "email": email, "expired": False}
        return render(request, "login.html", context, status=401)
    sign_in(request, user, now)
    get_logger().info("login", email=user.email, client_ip=address)
    return redirect(target)


async def logout_page(request: Request) -> Response:
    if await current_user(request) is None:
        return redirect("/login")
    return render(request, "logout.html")


async def logout_submit(request: Request) -> Response:
    await checked_form(request)
    user = await current_user(request)
    sign_out(request)
    if user is not None:
        get_logger().info("logout", email=user.email, client_ip=client_address(request))
    flash(request, "signed_out")
    return redirect("/login")
