"""Helpers for the rule and classification tests: rule folders, compiled rules, message facts."""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from maild.calendar_time import BusinessCalendar
from maild.classify import ClassifyContext, CompiledRules, Decision, MessageFacts
from maild.rules import RuleSet, load_rules

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")

# Mainland China's 2026 National Day: 1 October is a public holiday, and Sunday 27 September a
# make-up workday.
HOLIDAY = date(2026, 10, 1)
MAKE_UP_WORKDAY = date(2026, 9, 27)
CALENDAR = BusinessCalendar(
    timezone=SHANGHAI,
    holidays=frozenset({HOLIDAY}),
    extra_workdays=frozenset({MAKE_UP_WORKDAY}),
)
OWNERS = {"lina": "Li Na <li.na@example.com>", "wei": "Zhang Wei <zhang.wei@example.com>"}
CONTEXT = ClassifyContext(calendar=CALENDAR, owners=OWNERS, default_owner="lina")

# Tuesday 24 November 2026, 10:30 in Shanghai: a workday, inside business hours.
SENT = datetime(2026, 11, 24, 10, 30, tzinfo=SHANGHAI)

FACTS = MessageFacts(
    subject="A question",
    body="Hello, I have a question about my account.",
    from_address="customer@customer.example.com",
    recipients=("support@example.com",),
    mailbox_address="support@example.com",
    language="en",
    has_attachment=False,
    is_reply=False,
    auto_submitted=False,
    sent_at=SENT,
    sent_at_source="Date header",
)


def write_rules(folder: Path, files: Mapping[str, str]) -> Path:
    """Write each named rule file (dedented) into ``folder``, creating it; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def ruleset(folder: Path, text: str, owners: Mapping[str, str] | None = OWNERS) -> RuleSet:
    """The rule set of one file, ``50-test.toml``, holding ``text``."""
    return load_rules(write_rules(folder, {"50-test.toml": text}), owners)


def compile_rules(folder: Path, text: str) -> CompiledRules:
    """``text`` as the only rule file, loaded (with OWNERS) and compiled."""
    return CompiledRules(ruleset(folder, text))


def facts(**changes: Any) -> MessageFacts:
    """FACTS with some fields changed."""
    return dataclasses.replace(FACTS, **changes)


def classify(rules: CompiledRules, **changes: Any) -> Decision:
    """The decision for FACTS with ``changes``, in CONTEXT."""
    return rules.classify(facts(**changes), CONTEXT)


def shanghai(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in Shanghai."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)
