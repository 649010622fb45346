"""The JSON API under /api: the same data and roles as the pages.

Authenticate with `Authorization: Bearer maild_…` (a token from `maild users token EMAIL`), or
with the browser's session cookie, in which case a POST must also send the session's CSRF token
in `X-CSRF-Token`. Errors are `{"error": "…"}` with 400, 401, 403, 404 or 409 (a refusal,
such as approving a draft with a missing placeholder). `ENDPOINTS` is the list served at `/api`
and, as OpenAPI 3.1, at `/api/openapi.json`.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from maild.draft_actions import DraftActionError
from maild.draft_views import STATUSES, show_draft
from maild.log import get_logger
from maild.ticket_views import show_ticket
from maild.web import draft_ops
from maild.web.auth import WebUser, check_api_csrf, require
from maild.web.base import HttpError, state
from maild.web.draft_ops import DraftNotFoundError, MissingPlaceholdersError
from maild.web.listing import Filters, Page, drafts_page, queue_row_json, tickets_page
from maild.web.metrics import metrics

# (method, path, role, summary)
ENDPOINTS: tuple[tuple[str, str, str, str], ...] = (
    ("GET", "/api", "agent", "This list of endpoints."),
    ("GET", "/api/openapi.json", "agent", "This list as an OpenAPI 3.1 document."),
    ("GET", "/api/me", "agent", "Who the token or session belongs to, and their role."),
    (
        "GET",
        "/api/tickets",
        "agent",
        "Tickets, newest first. Query: status, category, priority, owner (mine | unclaimed | "
        "text; agents see their own and unclaimed tickets), mailbox, customer, page, per_page "
        "(at most 200, default 50).",
    ),
    ("GET", "/api/tickets/{number}", "agent", "One ticket with messages and history."),
    (
        "GET",
        "/api/drafts",
        "agent",
        "Drafts (default status=pending: the queue, most urgent and oldest first). Query: "
        "status, category, priority, owner, mailbox, page, per_page.",
    ),
    ("GET", "/api/drafts/{id}", "agent", "One draft with its revisions."),
    (
        "POST",
        "/api/drafts/{id}/approve",
        "agent",
        "Approve and queue the reply; 409 with `missing` while a placeholder has no value.",
    ),
    ("POST", "/api/drafts/{id}/reject", "agent", 'Reject; JSON body {"reason": "…"}.'),
    ("GET", "/api/metrics", "supervisor", "The dashboard's figures."),
)


def _page_json(page: Page, key: str) -> dict[str, Any]:
    return {
        key: page.rows,
        "page": page.page,
        "per_page": page.per_page,
        "pages": page.pages,
        "total": page.total,
    }


def _user_json(user: WebUser) -> dict[str, Any]:
    return {"email": user.email, "name": user.name, "role": user.role}


async def index(request: Request) -> Response:
    await require(request)
    return JSONResponse(
        {
            "endpoints": [
                {"method": m, "path": p, "role": r, "summary": s} for m, p, r, s in ENDPOINTS
            ]
        }
    )


async def openapi(request: Request) -> Response:
    await require(request)
    paths: dict[str, dict[str, Any]] = {}
    for method, path, role, summary in ENDPOINTS:
        paths.setdefault(path, {})[method.lower()] = {
            "summary": summary,
            "description": f"Needs the {role} role.",
            "security": [{"bearer": []}, {"session": []}],
            "responses": {"200": {"description": "OK (JSON)"}},
        }
    return JSONResponse(
        {
            "openapi": "3.1.0",
            "info": {"title": "maild", "version": "1"},
            "paths": paths,
            "components": {
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer"},
                    "session": {"type": "apiKey", "in": "cookie", "name": "maild_session"},
                }
            },
        }
    )


async def me(request: Request) -> Response:
    return JSONResponse(_user_json(await require(request)))


async def tickets(request: Request) -> Response:
    user = await require(request)
    filters = Filters.from_query(request.query_params)
    web = state(request)

    def load() -> Page:
        with web.database.session() as session:
            return tickets_page(session, filters, user)

    return JSONResponse(_page_json(await run_in_threadpool(load), "tickets"))


async def ticket(request: Request) -> Response:
    await require(request)
    number = str(request.path_params["number"])
    shown = await run_in_threadpool(show_ticket, state(request).database, number)
    if shown is None:
        raise HttpError(404, f"no ticket {number}")
    return JSONResponse(shown)


async def drafts(request: Request) -> Response:
    user = await require(request)
    filters = Filters.from_query(request.query_params, status="pending")
    if filters.status not in STATUSES:
        raise HttpError(400, f"unknown status {filters.status!r}: one of {', '.join(STATUSES)}")
    web = state(request)

    def load() -> Page:
        with web.database.session() as session:
            page = drafts_page(session, filters, user, web.policy, web.now())
        return Page(
            [queue_row_json(row) for row in page.rows], page.total, page.page, page.per_page
        )

    return JSONResponse(_page_json(await run_in_threadpool(load), "drafts"))


async def _draft_json(request: Request, draft_id: int) -> dict[str, Any]:
    shown = await run_in_threadpool(show_draft, state(request).database, draft_id)
    if shown is None:
        raise HttpError(404, f"no draft {draft_id}")
    return shown


async def draft(request: Request) -> Response:
    await require(request)
    return JSONResponse(await _draft_json(request, int(request.path_params["draft_id"])))


async def approve(request: Request) -> Response:
    user = await require(request)
    check_api_csrf(request, user)
    web = state(request)
    draft_id = int(request.path_params["draft_id"])
    try:
        await run_in_threadpool(
            draft_ops.approve, web.database, draft_id, user.email, web.config, web.now()
        )
    except DraftNotFoundError:
        raise HttpError(404, f"no draft {draft_id}") from None
    except MissingPlaceholdersError as exc:
        return JSONResponse({"error": str(exc), "missing": exc.names}, status_code=409)
    except DraftActionError as exc:
        raise HttpError(409, str(exc)) from None
    get_logger().info("draft_approved", draft=draft_id, by=user.email, via="api")
    return JSONResponse({"draft": await _draft_json(request, draft_id)})


async def reject(request: Request) -> Response:
    user = await require(request)
    check_api_csrf(request, user)
    try:
        body = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise HttpError(400, 'the body must be JSON, e.g. {"reason": "…"}') from None
    reason = body.get("reason") if isinstance(body, dict) else None
    if not isinstance(reason, str) or not reason.strip():
        raise HttpError(400, 'say why the draft is rejected: {"reason": "…"}')
    web = state(request)
    draft_id = int(request.path_params["draft_id"])
    try:
        await run_in_threadpool(
            draft_ops.reject, web.database, draft_id, reason, user.email, web.now()
        )
    except DraftNotFoundError:
        raise HttpError(404, f"no draft {draft_id}") from None
    except DraftActionError as exc:
        raise HttpError(409, str(exc)) from None
    return JSONResponse({"draft": await _draft_json(request, draft_id)})


async def metrics_json(request: Request) -> Response:
    await require(request, "supervisor")
    web = state(request)
    data = await run_in_threadpool(metrics, web.database, web.config, web.policy, web.now())
    return JSONResponse(data)
