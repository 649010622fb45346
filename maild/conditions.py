"""One rule's conditions against one message: the compiled form of a rule and the checks.

`maild.classify` decides which rules to check and applies their actions; this module answers,
for one rule and one message, whether it matches and why.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from maild.calendar_time import BusinessCalendar
from maild.rules import Rule
from maild.textmatch import (
    KeywordIndex,
    compile_regex,
    normalise,
    normalise_width,
    required_literals,
)
from maild.textmatch import captures as named_groups

_WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class MessageFacts:
    """What rules can look at, taken from a parsed message (see `maild.facts`)."""

    subject: str
    body: str  # the new part of the message, without quoted history and signature
    from_address: str | None
    recipients: tuple[str, ...]
    mailbox_address: str
    language: str
    has_attachment: bool
    is_reply: bool
    auto_submitted: bool
    sent_at: datetime  # in the configured timezone
    sent_at_source: str  # "Date header", or why the arrival time was used


@dataclass(frozen=True)
class ClassifyContext:
    calendar: BusinessCalendar
    owners: Mapping[str, str]
    default_owner: str | None


@dataclass(frozen=True)
class CompiledRule:
    rule: Rule
    subject_any: tuple[int, ...]
    subject_all: tuple[int, ...]
    body_any: tuple[int, ...]
    body_all: tuple[int, ...]
    text_any: tuple[int, ...]
    subject_regex: re.Pattern[str] | None
    body_regex: re.Pattern[str] | None
    text_regex: re.Pattern[str] | None
    # Which groups of conditions the rule has, so a check skips the groups it does not.
    has_flags: bool = False
    has_people: bool = False
    has_time: bool = False
    has_keywords: bool = False
    has_regex: bool = False
    # For a rule without keywords: strings one of which must be in the text for its regular
    # expressions to match (None: no such shortcut).
    triggers: tuple[str, ...] | None = None


class Scan:
    """The message's fields, normalised and scanned once, shared by every rule."""

    def __init__(self, facts: MessageFacts, subject_index: KeywordIndex, body_index: KeywordIndex):
        self.subject_width = normalise_width(facts.subject)
        self.body_width = normalise_width(facts.body)
        self.subject_folded = normalise(facts.subject)
        self.body_folded = normalise(facts.body)
        self.subject_hits = subject_index.find(self.subject_folded)
        self.body_hits = body_index.find(self.body_folded)
        self._outside_business_hours: bool | None = None
        domain = (facts.from_address or "").rpartition("@")[2].lower()
        self.domain = domain
        self.recipients = {a.lower() for a in facts.recipients} | {facts.mailbox_address.lower()}

    def contains_any(self, needles: tuple[str, ...]) -> bool:
        return any(n in self.subject_folded or n in self.body_folded for n in needles)

    def outside_business_hours(self, calendar: BusinessCalendar, sent: datetime) -> bool:
        """Worked out once per message, however many rules ask."""
        if self._outside_business_hours is None:
            self._outside_business_hours = not calendar.is_business_time(sent)
        return self._outside_business_hours


class Check:
    """Checks one rule's conditions against one message, collecting the reasons it matches."""

    def __init__(
        self, scan: Scan, facts: MessageFacts, context: ClassifyContext, by_id: Mapping[int, str]
    ) -> None:
        self.scan = scan
        self.facts = facts
        self.context = context
        self.by_id = by_id

    def reasons(self, compiled: CompiledRule, captures: dict[str, str]) -> list[str] | None:
        """Why the rule matches, or None; captures are added only for a matching rule."""
        why: list[str] = []
        found: dict[str, str] = {}
        if compiled.has_flags and not self._flags(compiled, why):
            return None
        if compiled.has_people and not self._people(compiled, why):
            return None
        if compiled.has_time and not self._time(compiled, why):
            return None
        if compiled.has_keywords and not self._keywords(compiled, why):
            return None
        if compiled.has_regex and not self._regexes(compiled, why, found):
            return None
        for name, value in found.items():
            captures.setdefault(name, value)
        return why

    def _flags(self, compiled: CompiledRule, why: list[str]) -> bool:
        rule, facts = compiled.rule, self.facts
        for wanted, actual, yes, no in (
            (
                rule.auto_submitted,
                facts.auto_submitted,
                "automatic mail (auto-reply or bounce)",
                "not automatic mail",
            ),
            (rule.is_reply, facts.is_reply, "is a reply", "is not a reply"),
            (rule.has_attachment, facts.has_attachment, "has an attachment", "has no attachment"),
        ):
            if wanted is None:
                continue
            if wanted != actual:
                return False
            why.append(yes if wanted else no)
        if rule.language:
            if facts.language not in rule.language:
                return False
            why.append(f"language is {facts.language}")
        return True

    def _people(self, compiled: CompiledRule, why: list[str]) -> bool:
        rule, scan = compiled.rule, self.scan
        if rule.from_address:
            if (self.facts.from_address or "").lower() not in rule.from_address:
                return False
            why.append(f"sender is {self.facts.from_address}")
        if rule.from_domain:
            domain = next(
                (d for d in rule.from_domain if scan.domain == d or scan.domain.endswith("." + d)),
                None,
            )
            if domain is None:
                return False
            why.append(f"sender's domain is {domain}")
        if rule.to_address:
            hit = next((a for a in sorted(rule.to_address) if a in scan.recipients), None)
            if hit is None:
                return False
            why.append(f"sent to {hit}")
        return True

    def _time(self, compiled: CompiledRule, why: list[str]) -> bool:
        rule = compiled.rule
        sent = self.facts.sent_at.astimezone(self.context.calendar.timezone)
        if not (rule.weekdays or rule.hours is not None or rule.outside_business_hours is not None):
            return True
        if rule.weekdays and sent.weekday() not in rule.weekdays:
            return False
        if rule.hours is not None and not rule.hours.contains(sent.time()):
            return False
        detail = []
        if rule.outside_business_hours is not None:
            outside = self.scan.outside_business_hours(self.context.calendar, sent)
            if outside != rule.outside_business_hours:
                return False
            detail.append("outside business hours" if outside else "within business hours")
        if rule.hours is not None:
            detail.append(f"within {rule.hours}")
        source = self.facts.sent_at_source
        when = f"sent {sent:%H:%M} {_WEEKDAY_NAMES[sent.weekday()]}"
        when += "" if source == "Date header" else f" ({source})"
        why.append(", ".join([when, *detail]))
        return True

    def _keywords(self, compiled: CompiledRule, why: list[str]) -> bool:
        scan = self.scan
        subject, body = scan.subject_hits, scan.body_hits
        for ids, hits, where, need_all in (
            (compiled.subject_any, (subject,), ("subject",), False),
            (compiled.subject_all, (subject,), ("subject",), True),
            (compiled.body_any, (body,), ("body",), False),
            (compiled.body_all, (body,), ("body",), True),
            (compiled.text_any, (subject, body), ("subject", "body"), False),
        ):
            if ids and not self._found(ids, hits, where, need_all, why):
                return False
        return True

    def _found(
        self,
        ids: tuple[int, ...],
        fields: tuple[Mapping[int, str], ...],
        names: tuple[str, ...],
        need_all: bool,
        why: list[str],
    ) -> bool:
        if need_all:
            (hits,) = fields
            if not all(i in hits for i in ids):
                return False
            why.append(f"{names[0]} contains " + ", ".join(f'"{self.by_id[i]}"' for i in ids))
            return True
        for hits, name in zip(fields, names, strict=True):
            for i in ids:
                if i in hits:
                    why.append(f'{name} contains "{self.by_id[i]}"')
                    return True
        return False

    def _regexes(self, compiled: CompiledRule, why: list[str], found: dict[str, str]) -> bool:
        scan = self.scan
        for pattern, texts in (
            (compiled.subject_regex, (("subject", scan.subject_width),)),
            (compiled.body_regex, (("body", scan.body_width),)),
            (compiled.text_regex, (("subject", scan.subject_width), ("body", scan.body_width))),
        ):
            if pattern is None:
                continue
            for where, text in texts:
                match = pattern.search(text)
                if match is not None:
                    shown = (
                        pattern.pattern
                        if len(pattern.pattern) <= 40
                        else pattern.pattern[:39] + "…"
                    )
                    why.append(f'{where} matches /{shown}/ ("{match.group(0)[:60]}")')
                    for name, value in named_groups(match).items():
                        found.setdefault(name, value)
                    break
            else:
                return False
        return True


def compile_rule(rule: Rule, ids: Mapping[str, tuple[int, ...]]) -> CompiledRule:
    regexes = [p for p in (rule.subject_regex, rule.body_regex, rule.text_regex) if p]
    has_keywords = any(ids.values())
    triggers: tuple[str, ...] | None = None
    if regexes and not has_keywords:
        # Every regex must match, so the requirement of any one of them is a requirement.
        known = [found for found in map(required_literals, regexes) if found]
        triggers = min(known, key=lambda t: (len(t), -min(map(len, t)))) if known else None
    return CompiledRule(
        rule=rule,
        subject_any=ids["subject_any"],
        subject_all=ids["subject_all"],
        body_any=ids["body_any"],
        body_all=ids["body_all"],
        text_any=ids["text_any"],
        subject_regex=compile_regex(rule.subject_regex) if rule.subject_regex else None,
        body_regex=compile_regex(rule.body_regex) if rule.body_regex else None,
        text_regex=compile_regex(rule.text_regex) if rule.text_regex else None,
        has_flags=rule.auto_submitted is not None
        or rule.is_reply is not None
        or rule.has_attachment is not None
        or bool(rule.language),
        has_people=bool(rule.from_address or rule.from_domain or rule.to_address),
        has_time=bool(rule.weekdays)
        or rule.hours is not None
        or rule.outside_business_hours is not None,
        has_keywords=has_keywords,
        has_regex=bool(regexes),
        triggers=triggers,
    )
