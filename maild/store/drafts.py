"""Drafts in the database: one pending draft per ticket, every text kept as a revision."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from maild.drafting import DraftText
from maild.store.models import Draft, DraftRevision
from maild.store.tickets import ACTOR, record_event

_DRAFTS = cast(Table, Draft.__table__)
_INSERT_DRAFT = insert(_DRAFTS).returning(_DRAFTS.c.id)
_INSERT_REVISION = insert(cast(Table, DraftRevision.__table__))


def pending_draft(session: Session, ticket_id: int) -> Draft | None:
    return session.scalars(
        select(Draft).where(Draft.ticket_id == ticket_id, Draft.status == "pending")
    ).first()


def save_draft(
    session: Session,
    ticket_id: int,
    answers_message_pk: int,
    draft: DraftText,
    now: datetime,
    *,
    new_ticket: bool = False,
) -> int:
    """Create the ticket's pending draft, or refresh it for a newer customer message; returns
    the draft's id. A refresh replaces the text with a new render; what the draft said before
    (an agent's edit included) stays in its revisions. A `new_ticket` has no draft yet."""
    existing = None if new_ticket else pending_draft(session, ticket_id)
    if existing is None:
        # Plain Core: a first sync drafts thousands of replies in one go.
        draft_id = session.execute(
            _INSERT_DRAFT,
            {
                "ticket_id": ticket_id,
                "answers_message_id": answers_message_pk,
                "status": "pending",
                "template": draft.template,
                "language": draft.language,
                "subject": draft.subject,
                "body_text": draft.text,
                "body_html": draft.html,
                "missing": list(draft.missing),
                "edited": False,
                "created_at": now,
                "updated_at": now,
            },
        ).scalar_one()
        _insert_revision(
            session,
            draft_id,
            author=ACTOR,
            kind="rendered",
            now=now,
            subject=draft.subject,
            body=draft.text,
        )
        return int(draft_id)
    row = existing
    if row.edited:
        record_event(session, ticket_id, now, "draft_refreshed", draft=row.id, edit_kept=True)
    row.answers_message_id = answers_message_pk
    row.template, row.language = draft.template, draft.language
    row.subject, row.body_text, row.body_html = draft.subject, draft.text, draft.html
    row.missing = list(draft.missing)
    row.edited = False
    row.updated_at = now
    add_revision(session, row, ACTOR, "refreshed", now)
    return row.id


def add_revision(session: Session, draft: Draft, author: str, kind: str, now: datetime) -> None:
    _insert_revision(
        session,
        draft.id,
        author=author,
        kind=kind,
        now=now,
        subject=draft.subject,
        body=draft.body_text,
    )


def _insert_revision(
    session: Session,
    draft_id: int,
    *,
    author: str,
    kind: str,
    now: datetime,
    subject: str,
    body: str,
) -> None:
    session.execute(
        _INSERT_REVISION,
        {
            "draft_id": draft_id,
            "at": now,
            "author": author,
            "kind": kind,
            "subject": subject,
            "body_text": body,
        },
    )


def revisions(session: Session, draft_id: int) -> list[DraftRevision]:
    return list(
        session.scalars(
            select(DraftRevision)
            .where(DraftRevision.draft_id == draft_id)
            .order_by(DraftRevision.id)
        )
    )
