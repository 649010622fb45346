"""Load and validate `maild.toml` into frozen typed objects.

Every error names the file, the line (where the key can be found) and what is wrong; unknown keys
are errors, so a misspelt `poll_intervall` cannot be silently ignored. Durations are parsed once,
here. Passwords are never read into the config: only the name of the variable or file holding one.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from maild import resources
from maild.tomlpos import KeyPath, locate_key

DEFAULT_POLL_INTERVAL = timedelta(hours=1)
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|d|h|m|s)")
_DURATION_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
_NAMED_ADDRESS = re.compile(r"^(?:[^<>]*<)?([^@\s<>]+@[^@\s<>]+)>?$")


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


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    security: str
    username: str
    password_env: str | None
    password_file: Path | None
    folders: tuple[str, ...]
    after_import: str
    timeout: float
    batch_size: int

    @property
    def move_to(self) -> str | None:
        return (
            self.after_import.removeprefix("move:")
            if self.after_import.startswith("move:")
            else None
        )

    def read_password(self) -> str:
        """The password from its variable or file; read only when connecting, never logged."""
        if self.password_env is not None:
            value = os.environ.get(self.password_env)
            if value is None:
                raise ConfigError(
                    None,
                    None,
                    "password_env",
                    f"environment variable {self.password_env} is not set",
                )
            return value
        if self.password_file is not None:
            try:
                return self.password_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(
                    self.password_file, None, "password_file", f"cannot read: {exc.strerror}"
                ) from None
        return ""


@dataclass(frozen=True)
class MaildirSettings:
    path: Path


@dataclass(frozen=True)
class MailboxConfig:
    name: str
    address: str
    default_owner: str | None
    imap: ImapSettings | None = None
    maildir: MaildirSettings | None = None


@dataclass(frozen=True)
class Config:
    path: Path | None
    timezone: ZoneInfo
    rules_dir: Path
    templates_dir: Path
    supervisors: tuple[str, ...]
    owners: Mapping[str, str]
    database_url: str
    poll_interval: timedelta
    retry_backoff: timedelta
    mailboxes: tuple[MailboxConfig, ...]
    log_level: str = "info"

    def mailbox(self, name: str) -> MailboxConfig:
        for mailbox in self.mailboxes:
            if mailbox.name == name:
                return mailbox
        raise KeyError(name)


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


class _Reader:
    """Walks one table of the TOML document, recording which keys were consumed."""

    def __init__(self, loader: _Loader, table: Mapping[str, Any], keypath: KeyPath) -> None:
        self._loader = loader
        self._table = table
        self._keypath = keypath
        self._used: set[str] = set()

    def fault(self, key: str, problem: str) -> ConfigError:
        return self._loader.fault((*self._keypath, key) if key else self._keypath, problem)

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
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, bool):
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
        return default if value is None else self._loader.resolve(value)

    def table(self, key: str) -> _Reader | None:
        value = self.raw(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.fault(key, "must be a table")
        return _Reader(self._loader, value, (*self._keypath, key))

    def tables(self, key: str) -> list[_Reader]:
        value = self.raw(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self.fault(key, f"must be an array of tables ([[{key}]])")
        return [
            _Reader(self._loader, item, (*self._keypath, key, i)) for i, item in enumerate(value)
        ]

    def reject_unknown(self) -> None:
        for key in self._table:
            if key not in self._used:
                raise self.fault(key, "unknown key (check the spelling; see README.md)")


class _Loader:
    def __init__(self, path: Path | None, text: str) -> None:
        self.path = path
        self.text = text
        self.base = path.parent if path is not None else Path.cwd()

    def fault(self, keypath: KeyPath, problem: str) -> ConfigError:
        line = locate_key(self.text, keypath) if self.text else None
        dotted = ".".join(f"[{k}]" if isinstance(k, int) else k for k in keypath).replace(".[", "[")
        return ConfigError(self.path, line, dotted, problem)

    def resolve(self, value: str) -> Path:
        candidate = Path(value).expanduser()
        return candidate if candidate.is_absolute() else (self.base / candidate).resolve()


def load_config(path: Path) -> Config:
    """Read and validate a config file; raises ConfigError naming file, line and problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, None, "", "config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, None, "", f"cannot read config file: {exc}") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+)", str(exc))
        raise ConfigError(
            path, int(match.group(1)) if match else None, "", f"not valid TOML: {exc}"
        ) from None
    return config_from_mapping(document, path=path.resolve(), text=text)


def config_from_mapping(
    document: Mapping[str, Any], *, path: Path | None = None, text: str = ""
) -> Config:
    loader = _Loader(path, text)
    top = _Reader(loader, document, ())

    tz_name = top.string("timezone", "UTC") or "UTC"
    try:
        timezone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise top.fault("timezone", f"unknown time zone {tz_name!r} (e.g. Asia/Shanghai)") from None

    rules_dir = top.path("rules_dir", resources.packaged("rules"))
    templates_dir = top.path("templates_dir", resources.packaged("templates"))
    for key, folder in (("rules_dir", rules_dir), ("templates_dir", templates_dir)):
        if not folder.is_dir():
            raise top.fault(key, f"folder {folder} does not exist")

    supervisors = top.string_list("supervisors", ())
    for supervisor in supervisors:
        if not _NAMED_ADDRESS.match(supervisor.strip()):
            raise top.fault("supervisors", f"{supervisor!r} is not an address")

    owners = _owners(top)
    database_url = _database_url(top, loader.base)
    poll_interval, retry_backoff = _schedule(top)
    log_level = _log_level(top)

    mailboxes = tuple(_mailbox(reader, owners) for reader in top.tables("mailbox"))
    names = [m.name for m in mailboxes]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise loader.fault(("mailbox", i, "name"), f"mailbox name {name!r} is used twice")
    top.reject_unknown()
    return Config(
        path=path,
        timezone=timezone,
        rules_dir=rules_dir,
        templates_dir=templates_dir,
        supervisors=supervisors,
        owners=owners,
        database_url=database_url,
        poll_interval=poll_interval,
        retry_backoff=retry_backoff,
        mailboxes=mailboxes,
        log_level=log_level,
    )


def _owners(top: _Reader) -> dict[str, str]:
    owners: dict[str, str] = {}
    table = top.table("owners")
    if table is None:
        return owners
    for name in table.names():
        value = table.raw(name)
        if not isinstance(value, str) or not _NAMED_ADDRESS.match(value.strip()):
            raise table.fault(
                name, f"must be an address like 'Li Na <li.na@example.com>', not {value!r}"
            )
        owners[name] = value.strip()
    return owners


def _database_url(top: _Reader, base: Path) -> str:
    url = f"sqlite:///{(base / 'maild.db').resolve()}"
    table = top.table("database")
    if table is not None:
        given = table.string("url")
        if given is not None:
            url = _resolve_sqlite_url(given, base)
        table.reject_unknown()
    return url


def _schedule(top: _Reader) -> tuple[timedelta, timedelta]:
    poll_interval = DEFAULT_POLL_INTERVAL
    retry_backoff = timedelta(seconds=10)
    table = top.table("schedule")
    if table is not None:
        poll_interval = table.duration("poll_interval", poll_interval, timedelta(seconds=1))
        retry_backoff = table.duration("retry_backoff", retry_backoff, timedelta(milliseconds=100))
        table.reject_unknown()
    return poll_interval, retry_backoff


def _log_level(top: _Reader) -> str:
    table = top.table("logging")
    if table is None:
        return "info"
    level = table.string("level", "info") or "info"
    if level not in {"debug", "info", "warning", "error"}:
        raise table.fault("level", "must be one of debug, info, warning, error")
    table.reject_unknown()
    return level


def _resolve_sqlite_url(url: str, base: Path) -> str:
    """Make a relative SQLite path relative to the config file's folder, not the cwd."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == "sqlite:///:memory:":
        return url
    rest = url[len(prefix) :]
    file_part, sep, query = rest.partition("?")
    if file_part.startswith("/"):
        return url
    return f"{prefix}{(base / file_part).resolve()}{sep}{query}"


def _mailbox(reader: _Reader, owners: Mapping[str, str]) -> MailboxConfig:
    name = reader.required_string("name")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise reader.fault("name", "use letters, digits, '.', '_' or '-' only")
    address = reader.required_string("address")
    if not _ADDRESS.match(address):
        raise reader.fault("address", f"{address!r} is not an email address")
    default_owner = reader.string("default_owner")
    if (
        default_owner is not None
        and default_owner not in owners
        and not _NAMED_ADDRESS.match(default_owner)
    ):
        raise reader.fault(
            "default_owner", f"{default_owner!r} is neither an [owners] name nor an address"
        )
    imap_table = reader.table("imap")
    maildir_table = reader.table("maildir")
    if (imap_table is None) == (maildir_table is None):
        raise reader.fault(
            "", f"mailbox {name!r} needs exactly one of [mailbox.imap] or [mailbox.maildir]"
        )
    imap = _imap(imap_table) if imap_table is not None else None
    maildir = None
    if maildir_table is not None:
        maildir = MaildirSettings(path=maildir_table.path("path", Path()))
        if not maildir_table.has("path"):
            raise maildir_table.fault("path", "is required")
        maildir_table.reject_unknown()
    reader.reject_unknown()
    return MailboxConfig(
        name=name, address=address.lower(), default_owner=default_owner, imap=imap, maildir=maildir
    )


def _imap(reader: _Reader) -> ImapSettings:
    host = reader.required_string("host")
    security = reader.string("security", "tls") or "tls"
    if security not in {"tls", "starttls", "none"}:
        raise reader.fault("security", f"must be tls, starttls or none, not {security!r}")
    allow_insecure = reader.boolean("allow_insecure", False)
    if security == "none" and not allow_insecure:
        raise reader.fault(
            "security", 'is "none" (plain text): set allow_insecure = true to allow it'
        )
    port = reader.integer("port", 993 if security == "tls" else 143, 1, 65535)
    if reader.has("password"):
        raise reader.fault(
            "password", "passwords never go in the file: use password_env or password_file"
        )
    password_env = reader.string("password_env")
    password_file_value = reader.string("password_file")
    if password_env is not None and password_file_value is not None:
        raise reader.fault("password_file", "set password_env or password_file, not both")
    after_import = reader.string("after_import", "keep") or "keep"
    if after_import not in {"keep", "seen"} and not re.fullmatch(r"move:\S.*", after_import):
        raise reader.fault(
            "after_import", f'must be "keep", "seen" or "move:FOLDER", not {after_import!r}'
        )
    settings = ImapSettings(
        host=host,
        port=port,
        security=security,
        username=reader.required_string("username"),
        password_env=password_env,
        password_file=reader._loader.resolve(password_file_value) if password_file_value else None,
        folders=reader.string_list("folders", ("INBOX",)),
        after_import=after_import,
        timeout=float(reader.integer("timeout", 60, 1, 3600)),
        batch_size=reader.integer("batch_size", 200, 1, 5000),
    )
    reader.reject_unknown()
    return settings


def demo_config(data_dir: Path) -> Config:
    """The embedded default: SQLite in `data_dir` and the bundled sample mailbox, no file needed."""
    document = {
        "timezone": "Asia/Shanghai",
        "database": {"url": f"sqlite:///{data_dir / 'maild.db'}"},
        "mailbox": [
            {
                "name": "sample",
                "address": "support@example.com",
                "maildir": {"path": str(resources.packaged("sample-mailbox"))},
            }
        ],
    }
    return config_from_mapping(document, path=None)
