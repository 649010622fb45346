"""Edit, approve and reject a draft from the web (pages and API alike), each in its own
transaction, through `maild.draft_actions`, with the signed-in user as author or approver.

After approval the daemon's outbox sends the reply, exactly as after `maild drafts approve`.
"""

from __future__ import annotations

import re
from datetime import datetime

from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from maild import draft_actions
from maild.config import Config
from maild.draft_actions import DraftActionError
from maild.store.db import Database
from maild.store.models import Draft
from maild.templating import markers_in

_MARKER = re.compile(r"\[\[([A-Za-z_][A-Za-z0-9_.]*)\]\]")


class DraftNotFoundError(LookupError):
    pass


class MissingPlaceholdersError(DraftActionError):
    """Approval refused: these placeholders still have no value."""

    def __init__(self, draft_id: int, names: list[str]) -> None:
        shown = ", ".join(f"[[{name}]]" for name in names)
        super().__init__(
            f"draft {draft_id} still has placeholders without a value: {shown}; edit it first"
        )
        self.names = names


def highlight(text: str) -> Markup:
    """The text, escaped, with each unresolved ``[[placeholder]]`` wrapped in <mark>."""
    escaped = str(escape(text))
    return Markup(_MARKER.sub(lambda m: f'<mark class="missing">{m.group(0)}</mark>', escaped))


def normalise_text(text: str) -> str:
    """A textarea's text as maild stores a draft: LF line ends, one final newline."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if text.endswith("\n") else text + "\n"


def _draft(session: Session, draft_id: int) -> Draft:
    draft = session.get(Draft, draft_id)
    if draft is None:
        raise DraftNotFoundError(f"no draft {draft_id}")
    return draft


def edit(
    database: Database,
    draft_id: int,
    *,
    text: str,
    subject: str | None,
    author: str,
    now: datetime,
) -> bool:
    """Replace the text (and subject) if they changed; whether anything was saved."""
    with database.transaction() as session:
        draft = _draft(session, draft_id)
        new_text = normalise_text(text)
        new_subject = " ".join(subject.split()) if subject is not None else None
        if new_text == draft.body_text and new_subject in (None, draft.subject):
            return False
        draft_actions.edit(session, draft, new_text, subject=new_subject, author=author, now=now)
        return True


def approve(
    database: Database, draft_id: int, approver: str, config: Config, now: datetime
) -> None:
    """Approve and queue; if refused, MissingPlaceholdersError (or DraftActionError) and
    nothing changed."""
    with database.transaction() as session:
        draft = _draft(session, draft_id)
        if draft.status == "pending":
            missing = markers_in(draft.subject, draft.body_text, draft.body_html or "")
            if missing:
                raise MissingPlaceholdersError(draft_id, list(missing))
        draft_actions.approve(session, draft, approver, config, now)


def reject(database: Database, draft_id: int, reason: str, actor: str, now: datetime) -> None:
    with database.transaction() as session:
        draft_actions.reject(session, _draft(session, draft_id), reason, actor, now)
