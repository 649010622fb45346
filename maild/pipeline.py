"""The stages one stored message goes through, wired in an explicit order.

The stages here are pure (bytes in, frozen dataclasses out), so they can run in worker processes
off the I/O path. A failure in any stage is not an error of the batch: the message stays stored
and is marked quarantined with the stage and the reason. Later issues append classify, thread and
draft to `STAGES`.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from maild.parsing import ParsedMessage, ParseError, parse_message


@dataclass(frozen=True)
class PipelineResult:
    message_pk: int
    parsed: ParsedMessage | None
    quarantine_reason: str | None


@dataclass(frozen=True)
class _Input:
    raw: bytes
    internaldate: datetime


def _parse(item: _Input) -> ParsedMessage:
    return parse_message(item.raw, item.internaldate)


STAGES: tuple[tuple[str, Callable[[_Input], ParsedMessage]], ...] = (("parse", _parse),)


def run_pipeline(message_pk: int, raw: bytes, internaldate: datetime) -> PipelineResult:
    """Run every stage; never raises, so one bad message cannot stop a batch."""
    item = _Input(raw=raw, internaldate=internaldate)
    parsed: ParsedMessage | None = None
    for name, stage in STAGES:
        try:
            parsed = stage(item)
        except ParseError as exc:
            return PipelineResult(message_pk, None, f"{name}: {exc.reason}")
        except RecursionError:
            return PipelineResult(message_pk, None, f"{name}: structure nested too deeply")
        except Exception as exc:  # a bug or an input nobody foresaw: quarantine, keep going
            where = traceback.extract_tb(exc.__traceback__)[-1]
            return PipelineResult(
                message_pk,
                None,
                f"{name}: unexpected {type(exc).__name__}: {exc} "
                f"({where.filename.rsplit('/', 1)[-1]}:{where.lineno})",
            )
    return PipelineResult(message_pk, parsed, None)


def run_batch(items: list[tuple[int, bytes, datetime]]) -> list[PipelineResult]:
    """A batch at a time keeps the per-message cost of shipping work to a process small."""
    return [run_pipeline(pk, raw, internaldate) for pk, raw, internaldate in items]
