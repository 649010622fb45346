"""Validated reading of hand-written TOML files (maild.toml, and later rule files).

tomllib returns plain dicts; a `TableReader` walks one table, converts and checks each value, and
remembers which keys it consumed so that any other key is reported as unknown. Every error is a
`ConfigError` naming the file, the line (found by `maild.tomlpos`) and what is wrong.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from maild.tomlpos import KeyPath, key_lines, locate_key

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|d|h|m|s)")
_DURATION_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


class ConfigError(Exception):
    """A configuration problem a person can fix: where it is and what is wrong."""

    def __init__(self, path: Path | None, line: int | None, key: str, problem: str) -> None:
        self.path = path
        self.line = line
        self.key = key
        self.problem = problem
        where = str(path) if path is not None else "<defaults>"
        if line is not None:
            where += f":{line}"
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")


def parse_duration(text: str) -> timedelta:
    """`"1h"`, `"90s"`, `"1h30m"`, `"2d"` → timedelta; ValueError on anything else."""
    compact = text.strip().lower().replace(" ", "")
    if not compact:
        raise ValueError("empty duration")
    position = 0
    seconds = 0.0
    for match in _DURATION_PART.finditer(compact):
        if match.start() != position:
            break
        seconds += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if position != len(compact):
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 15m, 1h, 1h30m, 2d)")
    return timedelta(seconds=seconds)


class TableReader:
    """Walks one table of the TOML document, recording which keys were consumed."""

    def __init__(self, source: TomlSource, table: Mapping[str, Any], keypath: KeyPath) -> None:
        self._source = source
        self._table = table
        self._keypath = keypath
        self._used: set[str] = set()

    def fault(self, key: str, problem: str) -> ConfigError:
        return self._source.fault((*self._keypath, key) if key else self._keypath, problem)

    def names(self) -> list[str]:
        return list(self._table)

    def has(self, key: str) -> bool:
        return key in self._table

    def raw(self, key: str) -> Any:
        self._used.add(key)
        return self._table.get(key)

    def string(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.raw(key)
        if value is None:
            if required:
                raise self.fault(key, "is required")
            return default
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fault(key, f"must be a non-empty string, not {value!r}")
        return value

    def required_string(self, key: str) -> str:
        value = self.string(key, required=True)
        assert value is not None
        return value

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.raw(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fault(key, f"must be a whole number from {low} to {high}, not {value!r}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.optional_boolean(key)
        return default if value is None else value

    def optional_boolean(self, key: str) -> bool | None:
        """True, false, or None when the key is absent (a condition not given)."""
        value = self.raw(key)
        if value is not None and not isinstance(value, bool):
            raise self.fault(key, f"must be true or false, not {value!r}")
        return value

    def duration(self, key: str, default: timedelta, minimum: timedelta) -> timedelta:
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self.fault(key, f'must be a duration string such as "1h", not {value!r}')
        try:
            parsed = parse_duration(value)
        except ValueError as exc:
            raise self.fault(key, str(exc)) from None
        if parsed < minimum:
            raise self.fault(key, f"must be at least {minimum.total_seconds():g}s")
        return parsed

    def string_list(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fault(key, "must be a list of non-empty strings")
        return tuple(value)

    def path(self, key: str, default: Path) -> Path:
        value = self.string(key)
        return default if value is None else self.resolve(value)

    def resolve(self, value: str) -> Path:
        """A path relative to the file's folder (not the working directory)."""
        return self._source.resolve(value)

    def table(self, key: str) -> TableReader | None:
        value = self.raw(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.fault(key, "must be a table")
        return TableReader(self._source, value, (*self._keypath, key))

    def tables(self, key: str) -> list[TableReader]:
        value = self.raw(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self.fault(key, f"must be an array of tables ([[{key}]])")
        return [
            TableReader(self._source, item, (*self._keypath, key, i))
            for i, item in enumerate(value)
        ]

    def reject_unknown(self) -> None:
        for key in self._table:
            if key not in self._used:
                raise self.fault(key, "unknown key (check the spelling; see README.md)")


class TomlSource:
    def __init__(self, path: Path | None, text: str) -> None:
        self.path = path
        self.text = text
        self.base = path.parent if path is not None else Path.cwd()
        self._key_lines: dict[KeyPath, int] | None = None

    def fault(self, keypath: KeyPath, problem: str) -> ConfigError:
        line = self.line_of(keypath)
        dotted = ".".join(f"[{k}]" if isinstance(k, int) else k for k in keypath).replace(".[", "[")
        return ConfigError(self.path, line, dotted, problem)

    def line_of(self, keypath: KeyPath) -> int | None:
        if not self.text:
            return None
        if self._key_lines is None:
            self._key_lines = key_lines(self.text)
        return locate_key(self.text, keypath, self._key_lines)

    def resolve(self, value: str) -> Path:
        candidate = Path(value).expanduser()
        return candidate if candidate.is_absolute() else (self.base / candidate).resolve()


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """The parsed document and its text; ConfigError (with the line) when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, None, "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, None, "", f"cannot read: {exc}") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+)", str(exc))
        # "(at end of document)": the problem is that the file stops, so point at its end.
        line = int(match.group(1)) if match else max(1, len(text.splitlines()))
        raise ConfigError(path, line, "", f"not valid TOML: {exc}") from None
