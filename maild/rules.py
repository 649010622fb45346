"""Rule files (`rules/*.toml`) → validated, typed rules; every problem with its file and line.

The format is documented in rules/README.md. Loading is strict: unknown keys, bad regular
expressions, unknown priorities, owners that are neither an address nor an `[owners]` name,
duplicate names and rules that can never run are all errors, collected file by file so that
`maild rules check` can list them all at once.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from maild.calendar_time import ClockWindow, parse_clock_window, parse_weekdays
from maild.textmatch import compile_regex, normalise
from maild.tomlreader import ConfigError, TableReader, TomlSource, read_toml

PRIORITIES = ("low", "normal", "high", "urgent")
LANGUAGES = frozenset({"zh", "en", "other"})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
_CATEGORY = re.compile(r"^[a-z][a-z0-9_-]*$")
KEYWORD_CONDITIONS = ("subject_any", "subject_all", "body_any", "body_all", "text_any")
REGEX_CONDITIONS = ("subject_regex", "body_regex", "text_regex")


class RulesError(Exception):
    """One or more rule files are invalid; `problems` lists each with its file and line."""

    def __init__(self, problems: Sequence[ConfigError]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(str(problem) for problem in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the rule files:\n{lines}")


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    where: str  # "file:line", for reasons and errors
    subject_any: tuple[str, ...] = ()
    subject_all: tuple[str, ...] = ()
    body_any: tuple[str, ...] = ()
    body_all: tuple[str, ...] = ()
    text_any: tuple[str, ...] = ()
    subject_regex: str | None = None
    body_regex: str | None = None
    text_regex: str | None = None
    from_address: frozenset[str] = frozenset()
    from_domain: tuple[str, ...] = ()
    to_address: frozenset[str] = frozenset()
    language: frozenset[str] = frozenset()
    has_attachment: bool | None = None
    is_reply: bool | None = None
    auto_submitted: bool | None = None
    weekdays: frozenset[int] = frozenset()
    hours: ClockWindow | None = None
    outside_business_hours: bool | None = None
    category: str | None = None
    priority: str | None = None
    raise_priority: bool = False
    owner: str | None = None
    tags: tuple[str, ...] = ()
    stop: bool = False

    @property
    def has_conditions(self) -> bool:
        return any(
            getattr(self, name) not in (None, (), frozenset())
            for name in (*KEYWORD_CONDITIONS, *REGEX_CONDITIONS, *_OTHER_CONDITIONS)
        )


_OTHER_CONDITIONS = (
    "from_address",
    "from_domain",
    "to_address",
    "language",
    "has_attachment",
    "is_reply",
    "auto_submitted",
    "weekdays",
    "hours",
    "outside_business_hours",
)


@dataclass(frozen=True)
class RuleSet:
    """All rules of a folder in evaluation order, and a digest that changes with any edit."""

    rules: tuple[Rule, ...]
    digest: str
    directory: Path


def load_rules(directory: Path, owners: Mapping[str, str] | None = None) -> RuleSet:
    """Read every `*.toml` in `directory`; raises RulesError listing every problem found."""
    rules, problems, digest = _read_folder(directory, owners)
    if problems:
        raise RulesError(problems)
    return RuleSet(rules=tuple(rules), digest=digest, directory=directory)


def check_rules(directory: Path, owners: Mapping[str, str] | None = None) -> list[ConfigError]:
    """Every problem in the folder's rule files (empty when they are all valid)."""
    return _read_folder(directory, owners)[1]


def _read_folder(
    directory: Path, owners: Mapping[str, str] | None
) -> tuple[list[Rule], list[ConfigError], str]:
    problems: list[ConfigError] = []
    rules: list[Rule] = []
    digest = hashlib.sha256()
    if not directory.is_dir():
        return [], [ConfigError(directory, None, "", "rules folder does not exist")], ""
    files = sorted(directory.glob("*.toml"))
    if not files:
        problems.append(ConfigError(directory, None, "", "no *.toml rule files in the folder"))
    for path in files:
        try:
            document, text = read_toml(path)
        except ConfigError as exc:
            problems.append(exc)
            continue
        digest.update(path.name.encode() + b"\0" + text.encode())
        rules.extend(_read_file(path, document, text, owners, problems))
    problems.extend(_cross_rule_problems(directory, rules))
    return rules, problems, digest.hexdigest()


def _read_file(
    path: Path,
    document: Mapping[str, Any],
    text: str,
    owners: Mapping[str, str] | None,
    problems: list[ConfigError],
) -> list[Rule]:
    source = TomlSource(path, text)
    top = TableReader(source, document, ())
    rules: list[Rule] = []
    try:
        tables = top.tables("rule")
        top.reject_unknown()
    except ConfigError as exc:
        problems.append(exc)
        return rules
    for index, table in enumerate(tables):
        where = f"{path.name}:{source.line_of(('rule', index))}"
        rule, rule_problems = _rule(table, owners, where)
        problems.extend(rule_problems)
        if rule is not None:
            rules.append(rule)
    return rules


def _keywords(table: TableReader, key: str) -> tuple[str, ...]:
    value = table.raw(key)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise table.fault(key, "must be a non-empty list of strings")
    for item in value:
        if not isinstance(item, str):
            raise table.fault(key, f"must be a non-empty list of strings, not one holding {item!r}")
        # A keyword of only invisible characters (zero-width space, soft hyphen) normalises to
        # nothing and could never match: almost certainly a copy-and-paste accident.
        if not normalise(item):
            raise table.fault(key, f"{item!r} is empty after normalising: use non-empty keywords")
    return tuple(value)


def _rule(
    table: TableReader, owners: Mapping[str, str] | None, where: str
) -> tuple[Rule | None, list[ConfigError]]:
    """The rule, and every problem in it (not just the first), so one check lists them all."""
    problems: list[ConfigError] = []
    values: dict[str, Any] = {"where": where}

    def read(key: str, reader: Callable[[], Any], default: Any = None) -> None:
        try:
            values[key] = reader()
        except ConfigError as exc:
            problems.append(exc)
            values[key] = default

    read("name", lambda: _name(table))
    read("description", lambda: table.string("description", "") or "", "")
    for key in KEYWORD_CONDITIONS:
        read(key, partial(_keywords, table, key), ())
    for key in REGEX_CONDITIONS:
        read(key, partial(_regex, table, key))
    read("from_address", lambda: frozenset(a.lower() for a in _addresses(table, "from_address")))
    read("to_address", lambda: frozenset(a.lower() for a in _addresses(table, "to_address")))
    read("from_domain", lambda: _domains(table), ())
    read("language", lambda: _languages(table), frozenset())
    for key in ("has_attachment", "is_reply", "auto_submitted", "outside_business_hours"):
        read(key, partial(table.optional_boolean, key))
    read("weekdays", lambda: _parsed(table, "weekdays", parse_weekdays, _keywords), frozenset())
    read("hours", lambda: _parsed(table, "hours", parse_clock_window, TableReader.string))
    read("category", lambda: _category(table))
    read("priority", lambda: _priority(table))
    read("raise_priority", lambda: table.boolean("raise_priority", False), False)
    read("owner", lambda: _owner(table, owners))
    read("tags", lambda: _keywords(table, "tags"), ())
    read("stop", lambda: table.boolean("stop", False), False)
    try:
        table.reject_unknown()
    except ConfigError as exc:
        problems.append(exc)
    if problems or values.get("name") is None:
        return None, problems
    values = {
        key: frozenset() if value is None and key in _SET_FIELDS else value
        for key, value in values.items()
    }
    return Rule(**values), problems


_SET_FIELDS = frozenset({"from_address", "to_address", "weekdays", "language"})


def _name(table: TableReader) -> str:
    name = table.required_string("name")
    if not _NAME.match(name):
        raise table.fault("name", "use letters, digits, '.', '_' or '-' (no spaces)")
    return name


def _regex(table: TableReader, key: str) -> str | None:
    pattern = table.string(key)
    if pattern is not None:
        try:
            compile_regex(pattern)
        except ValueError as exc:
            raise table.fault(key, str(exc)) from None
    return pattern


def _domains(table: TableReader) -> tuple[str, ...]:
    domains = tuple(
        d.strip().lower().lstrip("@").strip(".") for d in _keywords(table, "from_domain")
    )
    for domain in domains:
        if not domain or " " in domain:
            raise table.fault("from_domain", 'must be domains such as "example.com"')
    return domains


def _languages(table: TableReader) -> frozenset[str]:
    language = frozenset(_keywords(table, "language"))
    if language - LANGUAGES:
        raise table.fault(
            "language", f"must be among {sorted(LANGUAGES)}, not {sorted(language - LANGUAGES)}"
        )
    return language


def _parsed(table: TableReader, key: str, parse: Callable[[Any], Any], get: Any) -> Any:
    value = get(table, key)
    if value is None or value == ():
        return None
    try:
        return parse(value)
    except ValueError as exc:
        raise table.fault(key, str(exc)) from None


def _category(table: TableReader) -> str | None:
    category = table.string("category")
    if category is not None and not _CATEGORY.match(category):
        raise table.fault("category", "use lower-case letters, digits, '_' or '-'")
    return category


def _priority(table: TableReader) -> str | None:
    priority = table.string("priority")
    if priority is not None and priority not in PRIORITIES:
        raise table.fault(
            "priority", f"must be one of {', '.join(reversed(PRIORITIES))}, not {priority!r}"
        )
    return priority


def _owner(table: TableReader, owners: Mapping[str, str] | None) -> str | None:
    owner = table.string("owner")
    is_address = owner is not None and _ADDRESS.match(owner.strip().split("<")[-1].strip(">"))
    if owner is not None and not is_address and owners is not None and owner not in owners:
        raise table.fault(
            "owner", f"{owner!r} is neither an address nor a name in [owners] of maild.toml"
        )
    return owner


def _addresses(table: TableReader, key: str) -> tuple[str, ...]:
    addresses = _keywords(table, key)
    for address in addresses:
        if not _ADDRESS.match(address.strip()):
            raise table.fault(key, f"{address!r} is not an email address")
    return tuple(a.strip() for a in addresses)


def _cross_rule_problems(directory: Path, rules: Sequence[Rule]) -> list[ConfigError]:
    problems: list[ConfigError] = []
    seen: dict[str, str] = {}
    stopped_by: Rule | None = None
    for rule in rules:
        file_name, _, line = rule.where.rpartition(":")
        location = directory / file_name, int(line) if line.isdigit() else None
        if rule.name in seen:
            problems.append(
                ConfigError(
                    *location,
                    "name",
                    f"rule name {rule.name!r} is already used at {seen[rule.name]}",
                )
            )
        seen.setdefault(rule.name, rule.where)
        if stopped_by is not None:
            problems.append(
                ConfigError(
                    *location,
                    "",
                    f"rule {rule.name!r} can never run: rule {stopped_by.name!r} "
                    f"({stopped_by.where}) matches every message and stops",
                )
            )
        elif rule.stop and not rule.has_conditions:
            stopped_by = rule
    return problems
