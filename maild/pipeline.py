"""The stages one stored message goes through, in order: parse, then classify.

The stages are pure (bytes and plain settings in, frozen dataclasses out), so they run in worker
processes off the I/O path. A failure in any stage is not an error of the batch: the message
stays stored and is marked quarantined with the stage and the reason. Threading
(`maild.ticketing`) needs the database and runs after these, in the main process; drafting will
too.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from maild.calendar_time import BusinessCalendar
from maild.classify import ClassifyContext, Decision, compiled_rules
from maild.facts import message_facts
from maild.parsing import ParsedMessage, ParseError, parse_message
from maild.rules import RuleSet


@dataclass(frozen=True)
class MailboxFacts:
    address: str
    default_owner: str | None


@dataclass(frozen=True)
class PipelineSettings:
    """Everything the stages need, as plain picklable data (shipped to the workers)."""

    ruleset: RuleSet
    timezone: ZoneInfo
    calendar: BusinessCalendar
    owners: Mapping[str, str]
    mailboxes: Mapping[str, MailboxFacts]


@dataclass(frozen=True)
class PipelineResult:
    message_pk: int
    parsed: ParsedMessage | None
    new_part: str | None
    decision: Decision | None
    quarantine_reason: str | None


# (message pk, raw bytes, arrival time, mailbox name)
WorkItem = tuple[int, bytes, datetime, str]


def run_pipeline(item: WorkItem, settings: PipelineSettings) -> PipelineResult:
    """Run every stage; never raises, so one bad message cannot stop a batch.

    A message whose classification fails keeps what parsing found (and is quarantined), so
    `maild reprocess` after a fix has everything to go on.
    """
    pk, raw, internaldate, mailbox = item
    try:
        parsed = parse_message(raw, internaldate)
    except ParseError as exc:
        return PipelineResult(pk, None, None, None, f"parse: {exc.reason}")
    except Exception as exc:
        return PipelineResult(pk, None, None, None, _unexpected("parse", exc))
    try:
        mailbox_facts = settings.mailboxes.get(mailbox, MailboxFacts("", None))
        facts = message_facts(parsed, mailbox_facts.address, settings.timezone)
        context = ClassifyContext(
            calendar=settings.calendar,
            owners=settings.owners,
            default_owner=mailbox_facts.default_owner,
        )
        decision = compiled_rules(settings.ruleset).classify(facts, context)
    except Exception as exc:  # a bug or an input nobody foresaw: quarantine, keep going
        return PipelineResult(pk, parsed, None, None, _unexpected("classify", exc))
    return PipelineResult(pk, parsed, facts.body, decision, None)


def _unexpected(stage: str, exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return f"{stage}: structure nested too deeply"
    where = traceback.extract_tb(exc.__traceback__)[-1]
    return (
        f"{stage}: unexpected {type(exc).__name__}: {exc} "
        f"({where.filename.rsplit('/', 1)[-1]}:{where.lineno})"
    )


def run_batch(items: list[WorkItem], settings: PipelineSettings) -> list[PipelineResult]:
    """A batch at a time keeps the per-message cost of shipping work to a process small."""
    return [run_pipeline(item, settings) for item in items]
