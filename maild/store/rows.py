"""How a pipeline result becomes the column values of its stored message (pure).

This runs in the parse workers, so the main process only ships ready rows to the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from maild.parsing import ParsedMessage
from maild.pipeline import PipelineResult, PipelineSettings, WorkItem, run_batch


@dataclass(frozen=True)
class PreparedRow:
    message_pk: int
    columns: dict[str, Any]
    quarantine_reason: str | None


def warm_up() -> None:
    """Run once per worker at start: importing this module loads the parser while the main
    process is still connecting, instead of in the middle of the first batch."""


def prepare_batch(work: list[WorkItem], settings: PipelineSettings) -> list[PreparedRow]:
    """Run the pipeline on a batch and turn each result into the columns to store."""
    now = datetime.now(UTC)
    return [
        PreparedRow(result.message_pk, message_columns(result, now), result.quarantine_reason)
        for result in run_batch(work, settings)
    ]


def message_columns(result: PipelineResult, now: datetime) -> dict[str, Any]:
    """The Message columns a pipeline result sets."""
    columns: dict[str, Any] = {"id": result.message_pk, "processed_at": now}
    if result.parsed is None:
        columns.update(status="quarantined", reason=_clean(result.quarantine_reason or "unknown"))
        return columns
    parsed: ParsedMessage = result.parsed
    decision = result.decision
    columns.update(
        status="ok" if result.quarantine_reason is None else "quarantined",
        reason=result.quarantine_reason,
        new_part=result.new_part,
        category=decision.category if decision else None,
        priority=decision.priority if decision else None,
        owner=decision.owner if decision else None,
        tags=list(decision.tags) if decision else [],
        captures=dict(decision.captures) if decision else {},
        classification=list(decision.reasons) if decision else [],
        message_id=parsed.message_id[:998],
        message_id_synthesized=parsed.message_id_synthesized,
        subject=parsed.subject,
        from_name=parsed.sender.name if parsed.sender else None,
        from_address=parsed.sender.address[:320] if parsed.sender else None,
        recipients={
            "to": [[a.name, a.address] for a in parsed.to],
            "cc": [[a.name, a.address] for a in parsed.cc],
            "reply_to": [[a.name, a.address] for a in parsed.reply_to],
        },
        in_reply_to=parsed.in_reply_to[:998] if parsed.in_reply_to else None,
        references=list(parsed.references),
        sent_at=parsed.date,
        text=parsed.text,
        html=parsed.html,
        attachments=[[a.filename, a.content_type, a.size] for a in parsed.attachments],
        language=parsed.language,
        is_auto_submitted=parsed.is_auto_submitted,
        is_bounce=parsed.is_bounce,
        is_mailing_list=parsed.is_mailing_list,
        parse_notes=list(parsed.notes),
    )
    return {key: _clean(value) for key, value in columns.items()}


def _clean(value: Any) -> Any:
    """Text both databases accept: PostgreSQL refuses NUL, and UTF-8 refuses lone surrogates."""
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "\ufffd")
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [_clean(item) for item in value]
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    return value
