"""The queue, a ticket's page, a message's original and its files, and what agents do to a
ticket (assign to me, close with a reason, correct category and priority)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from maild import ticket_actions
from maild.rules import PRIORITIES
from maild.store.models import Ticket
from maild.ticket_actions import CLOSE_REASONS, TicketActionError
from maild.web import mailparts
from maild.web.auth import WebUser, checked_form, require
from maild.web.base import HttpError, flash, redirect, render, safe_next, state
from maild.web.listing import Filters, Page, drafts_page, queue_owners
from maild.web.sanitize import sanitize_html
from maild.web.ticket_data import raw_message, stored_message, ticket_page

PRIORITY_CHOICES = tuple(reversed(PRIORITIES))  # urgent first
REMOTE_IMAGES_CSP = (
    "default-src 'self'; img-src 'self' data: https: http:; script-src 'self'; "
    "style-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)


async def queue(request: Request) -> Response:
    user = await require(request)
    web = state(request)
    filters = replace(Filters.from_query(request.query_params), status="pending")
    now = web.now()

    def load() -> tuple[Page, list[str]]:
        with web.database.session() as session:
            page = drafts_page(session, filters, user, web.policy, now)
            owners = queue_owners(session) if user.has("supervisor") else []
        return page, owners

    page, owners = await run_in_threadpool(load)
    context = {
        "page": page,
        "filters": filters,
        "owners": owners,
        "categories": sorted(web.categories),
        "priorities": PRIORITY_CHOICES,
        "mailboxes": [m.name for m in web.config.mailboxes],
        "supervisor": user.has("supervisor"),
    }
    return render(request, "queue.html", context)


def _number(request: Request) -> str:
    return str(request.path_params["number"])


async def ticket(request: Request) -> Response:
    await require(request)
    web = state(request)
    shown = await run_in_threadpool(ticket_page, web.database, _number(request))
    if shown is None:
        raise HttpError(404, f"no ticket {_number(request)}", key="not_found")
    context = {
        "ticket": shown,
        "categories": sorted(web.categories),
        "priorities": PRIORITY_CHOICES,
        "close_reasons": CLOSE_REASONS,
    }
    return render(request, "ticket.html", context)


async def original(request: Request) -> Response:
    await require(request)
    web = state(request)
    message_id = int(request.path_params["message_id"])
    message = await run_in_threadpool(stored_message, web.database, _number(request), message_id)
    if message is None:
        raise HttpError(404, "no such message on this ticket", key="not_found")
    as_text = request.query_params.get("view") == "text" or not message.html
    images = request.query_params.get("images") == "1"
    safe = None if as_text else sanitize_html(message.html or "", remote_images=images)
    headers = {"Content-Security-Policy": REMOTE_IMAGES_CSP} if images and not as_text else None
    context = {"message": message, "safe": safe, "as_text": as_text, "images": images}
    return render(request, "original.html", context, headers=headers)


async def raw(request: Request) -> Response:
    await require(request)
    message_id = int(request.path_params["message_id"])
    data = await run_in_threadpool(
        raw_message, state(request).database, _number(request), message_id
    )
    if data is None:
        raise HttpError(404, "no such message on this ticket", key="not_found")
    name = f"{_number(request)}-{message_id}.eml"
    return Response(data, media_type="message/rfc822", headers=mailparts.download_headers(name))


async def attachment(request: Request) -> Response:
    await require(request)
    message_id = int(request.path_params["message_id"])
    data = await run_in_threadpool(
        raw_message, state(request).database, _number(request), message_id
    )
    found = (
        await run_in_threadpool(mailparts.attachment, data, int(request.path_params["index"]))
        if data is not None
        else None
    )
    if found is None:
        raise HttpError(404, "no such attachment", key="not_found")
    return Response(
        found.data,
        media_type="application/octet-stream",
        headers=mailparts.download_headers(found.filename),
    )


TicketChange = Callable[[Session, Ticket, WebUser, datetime], None]


async def _change(request: Request, change: TicketChange, done: str) -> Response:
    """Run an agent's change on the ticket in one transaction, then back to where they were."""
    user = await require(request)
    form = await checked_form(request)
    web = state(request)
    number = _number(request)
    back = safe_next(str(form.get("back") or ""), f"/tickets/{number}")

    def act() -> None:
        with web.database.transaction() as session:
            change(session, ticket_actions.find_ticket(session, number), user, web.now())

    try:
        await run_in_threadpool(act)
    except TicketActionError as exc:
        if str(exc).startswith("no ticket"):
            raise HttpError(404, str(exc), key="not_found") from None
        flash(request, "error_text", "error", text=str(exc))
        return redirect(back)
    flash(request, done)
    return redirect(back)


async def assign_to_me(request: Request) -> Response:
    def change(session: Session, ticket: Ticket, user: WebUser, now: datetime) -> None:
        ticket_actions.assign(session, ticket, user.email, user.email, now)

    return await _change(request, change, "ticket_assigned")


async def close(request: Request) -> Response:
    reason = str((await request.form()).get("reason") or "")

    def change(session: Session, ticket: Ticket, user: WebUser, now: datetime) -> None:
        ticket_actions.close(session, ticket, reason, user.email, now)

    return await _change(request, change, "ticket_closed")


async def correct(request: Request) -> Response:
    form = await request.form()
    category = str(form.get("category") or "") or None
    priority = str(form.get("priority") or "") or None
    known = state(request).categories

    def change(session: Session, ticket: Ticket, user: WebUser, now: datetime) -> None:
        if category == ticket.category and priority == ticket.priority:
            return
        ticket_actions.correct(
            session,
            ticket,
            category=category if category != ticket.category else None,
            priority=priority if priority != ticket.priority else None,
            known_categories=known,
            actor=user.email,
            now=now,
        )

    return await _change(request, change, "ticket_corrected")
