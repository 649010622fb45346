"""Classification: compiled rules + the facts of one message → a Decision with its reasons.

Keywords of all rules are compiled once per rule set into one index per field (subject, body), so
a message is scanned once per field whatever the number of rules; each rule then only checks
which of its keywords were found. Pure: no clock, no database, plain data in and out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from maild.conditions import (
    Check,
    ClassifyContext,
    CompiledRule,
    MessageFacts,
    Scan,
    compile_rule,
)
from maild.rules import PRIORITIES, RuleSet
from maild.textmatch import KeywordIndex, normalise

__all__ = ["ClassifyContext", "CompiledRules", "Decision", "MessageFacts", "compiled_rules"]


@dataclass(frozen=True)
class Decision:
    category: str
    priority: str
    owner: str | None  # "Name <address>" or an address
    tags: tuple[str, ...]
    captures: Mapping[str, str]
    reasons: tuple[str, ...]
    rules: tuple[str, ...] = field(default=())


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
            compiled.append(compile_rule(rule, ids))
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

    def _candidates(self, scan: Scan) -> list[CompiledRule]:
        """The rules that could match, in evaluation order: those a found keyword points to,
        and those without keywords whose regex shortcut (if any) finds its literal."""
        positions = set(self._always)
        for hits in (scan.subject_hits, scan.body_hits):
            for i in hits:
                positions.update(self._rules_by_keyword.get(i, ()))
        rules = (self._rules[position] for position in sorted(positions))
        return [r for r in rules if r.triggers is None or scan.contains_any(r.triggers)]

    def classify(self, facts: MessageFacts, context: ClassifyContext) -> Decision:
        check = Check(
            Scan(facts, self._subject_index, self._body_index), facts, context, self._by_id
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


_CACHE: dict[str, CompiledRules] = {}


def compiled_rules(ruleset: RuleSet) -> CompiledRules:
    """Compile once per rule-set version in each process (the parse workers reuse it)."""
    cached = _CACHE.get(ruleset.digest)
    if cached is None:
        _CACHE.clear()
        cached = _CACHE[ruleset.digest] = CompiledRules(ruleset)
    return cached
