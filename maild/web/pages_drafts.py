"""The draft editor: the rendered reply with unresolved placeholders highlighted, the text to
edit, approve (refused while a placeholder is missing: the page says which) and reject."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from maild.draft_actions import DraftActionError
from maild.log import get_logger
from maild.web import draft_ops
from maild.web.auth import checked_form, require
from maild.web.base import HttpError, flash, redirect, render, state, translator
from maild.web.draft_ops import DraftNotFoundError, MissingPlaceholdersError
from maild.web.ticket_data import draft_page


def _id(request: Request) -> int:
    return int(request.path_params["draft_id"])


async def _show(
    request: Request,
    *,
    error: str | None = None,
    status: int = 200,
    typed: dict[str, str] | None = None,
) -> Response:
    shown = await run_in_threadpool(draft_page, state(request).database, _id(request))
    if shown is None:
        raise HttpError(404, f"no draft {_id(request)}", key="not_found")
    context: dict[str, Any] = {
        "draft": shown,
        "error": error,
        "subject_html": draft_ops.highlight(shown["subject"]),
        "body_html": draft_ops.highlight(shown["body"]),
        # After a refusal the form keeps what the agent typed.
        "typed_subject": (typed or {}).get("subject", shown["subject"]),
        "typed_body": (typed or {}).get("body", shown["body"]),
    }
    return render(request, "draft.html", context, status=status)


async def draft(request: Request) -> Response:
    await require(request)
    return await _show(request)


def _refusal(request: Request, exc: DraftActionError) -> str:
    if isinstance(exc, MissingPlaceholdersError):
        names = ", ".join(f"[[{name}]]" for name in exc.names)
        return translator(request)("placeholders_missing", names=names)
    return str(exc)


async def _save(request: Request, author: str, text: str, subject: object) -> bool:
    web = state(request)
    return await run_in_threadpool(
        draft_ops.edit,
        web.database,
        _id(request),
        text=text,
        subject=str(subject) if subject is not None else None,
        author=author,
        now=web.now(),
    )


async def edit(request: Request) -> Response:
    user = await require(request)
    form = await checked_form(request)
    text, subject = str(form.get("body") or ""), form.get("subject")
    try:
        saved = await _save(request, user.email, text, subject)
    except DraftNotFoundError:
        raise HttpError(404, f"no draft {_id(request)}", key="not_found") from None
    except DraftActionError as exc:
        typed = {"body": text, "subject": str(subject or "")}
        return await _show(request, error=str(exc), status=409, typed=typed)
    if saved:
        flash(request, "draft_saved")
    return redirect(f"/drafts/{_id(request)}")


async def approve(request: Request) -> Response:
    """Approve; with the editor's text in the form ("save and approve"), save it first, so a
    refusal never loses what the agent typed."""
    user = await require(request)
    form = await checked_form(request)
    web = state(request)
    draft_id = _id(request)
    try:
        if form.get("body") is not None:
            await _save(request, user.email, str(form.get("body")), form.get("subject"))
        await run_in_threadpool(
            draft_ops.approve, web.database, draft_id, user.email, web.config, web.now()
        )
    except DraftNotFoundError:
        raise HttpError(404, f"no draft {draft_id}", key="not_found") from None
    except DraftActionError as exc:
        return await _show(request, error=_refusal(request, exc), status=409)
    get_logger().info("draft_approved", draft=draft_id, by=user.email)
    flash(request, "draft_approved")
    return redirect("/queue")


async def reject(request: Request) -> Response:
    user = await require(request)
    form = await checked_form(request)
    web = state(request)
    reason = str(form.get("reason") or "").strip()
    if not reason:
        return await _show(request, error=translator(request)("reject_reason"), status=400)
    try:
        await run_in_threadpool(
            draft_ops.reject, web.database, _id(request), reason, user.email, web.now()
        )
    except DraftNotFoundError:
        raise HttpError(404, f"no draft {_id(request)}", key="not_found") from None
    except DraftActionError as exc:
        return await _show(request, error=str(exc), status=409)
    flash(request, "draft_rejected")
    return redirect("/queue")
