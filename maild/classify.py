"""Classification: compiled rules + the facts of one message → a Decision with its reasons.

Keywords of all rules are compiled once per rule set into one index per field (subject, body), so
a message is scanned once per field whatever the number of rules; each rule then only checks
which of its keywords were found. Pure: no clock, no database, plain data in and out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from maild.calendar_time import BusinessCalendar
from maild.rules import PRIORITIES, Rule, RuleSet
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
class Decision:
    category: str
    priority: str
    owner: str | None  # "Name <address>" or an address
    tags: tuple[str, ...]
    captures: Mapping[str, str]
    reasons: tuple[str, ...]
    rules: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class _CompiledRule:
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


class CompiledRules:
    """A rule set compiled for matching; build once per (re)load, reuse for every message."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.digest = ruleset.digest
        self._keywords: dict[str, int] = {}
        subject_ids: set[int] = set()
        body_ids: set[int] = set()
        compiled = []
        for rule in ruleset.rules:
            ids = {
                key: self._ids(getattr(rule, key))
                for key in ("subject_any", "subject_all", "body_any", "body_all", "text_any")
            }
            subject_ids.update(ids["subject_any"], ids["subject_all"], ids["text_any"])
            body_ids.update(ids["body_any"], ids["body_all"], ids["text_any"])
            compiled.append(_compile(rule, ids))
        self._rules = tuple(compiled)
        # A rule with keyword conditions can only match a message in which one of its keywords
        # was found: index rules by keyword, so a message is checked against the few rules its
        # words point to (plus the rules without keywords), not against every rule.
        self._rules_by_keyword: dict[int, list[int]] = {}
        always: list[int] = []
        for position, item in enumerate(compiled):
            keyword_ids = {
                *item.subject_any,
                *item.subject_all,
                *item.body_any,
                *item.body_all,
                *item.text_any,
            }
            if not keyword_ids:
                always.append(position)
            for i in keyword_ids:
                self._rules_by_keyword.setdefault(i, []).append(position)
        self._always = frozenset(always)
        self._by_id = {i: keyword for keyword, i in self._keywords.items()}
        self._subject_index = KeywordIndex((i, self._by_id[i]) for i in sorted(subject_ids))
        self._body_index = KeywordIndex((i, self._by_id[i]) for i in sorted(body_ids))

    def _ids(self, keywords: tuple[str, ...]) -> tuple[int, ...]:
        return tuple(
            self._keywords.setdefault(normalise(keyword), len(self._keywords))
            for keyword in keywords
        )

    def _candidates(self, scan: _Scan) -> list[_CompiledRule]:
        """The rules that could match, in evaluation order: those a found keyword points to,
        and those without keywords whose regex shortcut (if any) finds its literal."""
        positions = set(self._always)
        for hits in (scan.subject_hits, scan.body_hits):
            for i in hits:
                positions.update(self._rules_by_keyword.get(i, ()))
        rules = (self._rules[position] for position in sorted(positions))
        return [r for r in rules if r.triggers is None or scan.contains_any(r.triggers)]

    def classify(self, facts: MessageFacts, context: ClassifyContext) -> Decision:
        check = _Check(
            _Scan(facts, self._subject_index, self._body_index), facts, context, self._by_id
        )
        category: str | None = None
        priority: str | None = None
        owner: str | None = None
        tags: list[str] = []
        captures: dict[str, str] = {}
        reasons: list[str] = []
        matched: list[str] = []
        for compiled in self._candidates(check.scan):
            why = check.reasons(compiled, captures)
            if why is None:
                continue
            rule = compiled.rule
            matched.append(rule.name)
            reasons.append(f'rule "{rule.name}": {"; ".join(why) or "matches every message"}')
            if rule.category is not None and category is None:
                category = rule.category
            if rule.priority is not None and (
                priority is None or _rank(rule.priority) > _rank(priority)
            ):
                priority = rule.priority
            if rule.raise_priority:
                priority = PRIORITIES[min(_rank(priority or "normal") + 1, len(PRIORITIES) - 1)]
            if rule.owner is not None and owner is None:
                owner = rule.owner
            tags.extend(tag for tag in rule.tags if tag not in tags)
            if rule.stop:
                reasons.append(f'rule "{rule.name}" stops evaluation')
                break
        if category is None:
            reasons.append("no rule set a category: other")
        if priority is None:
            reasons.append("no rule set a priority: normal")
        if owner is None and context.default_owner is not None:
            owner = context.default_owner
            reasons.append("no rule named an owner: the mailbox's default owner")
        return Decision(
            category=category or "other",
            priority=priority or "normal",
            owner=context.owners.get(owner, owner) if owner is not None else None,
            tags=tuple(tags),
            captures=captures,
            reasons=tuple(reasons),
            rules=tuple(matched),
        )


def _rank(priority: str) -> int:
    return PRIORITIES.index(priority)


class _Scan:
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


class _Check:
    """Checks one rule's conditions against one message, collecting the reasons it matches."""

    def __init__(
        self, scan: _Scan, facts: MessageFacts, context: ClassifyContext, by_id: Mapping[int, str]
    ) -> None:
        self.scan = scan
        self.facts = facts
        self.context = context
        self.by_id = by_id

    def reasons(self, compiled: _CompiledRule, captures: dict[str, str]) -> list[str] | None:
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

    def _flags(self, compiled: _CompiledRule, why: list[str]) -> bool:
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

    def _people(self, compiled: _CompiledRule, why: list[str]) -> bool:
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

    def _time(self, compiled: _CompiledRule, why: list[str]) -> bool:
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

    def _keywords(self, compiled: _CompiledRule, why: list[str]) -> bool:
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

    def _regexes(self, compiled: _CompiledRule, why: list[str], found: dict[str, str]) -> bool:
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


def _compile(rule: Rule, ids: Mapping[str, tuple[int, ...]]) -> _CompiledRule:
    regexes = [p for p in (rule.subject_regex, rule.body_regex, rule.text_regex) if p]
    has_keywords = any(ids.values())
    triggers: tuple[str, ...] | None = None
    if regexes and not has_keywords:
        # Every regex must match, so the requirement of any one of them is a requirement.
        known = [found for found in map(required_literals, regexes) if found]
        triggers = min(known, key=lambda t: (len(t), -min(map(len, t)))) if known else None
    return _CompiledRule(
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


_CACHE: dict[str, CompiledRules] = {}


def compiled_rules(ruleset: RuleSet) -> CompiledRules:
    """Compile once per rule-set version in each process (the parse workers reuse it)."""
    cached = _CACHE.get(ruleset.digest)
    if cached is None:
        _CACHE.clear()
        cached = _CACHE[ruleset.digest] = CompiledRules(ruleset)
    return cached
