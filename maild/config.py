"""Load and validate `maild.toml` into frozen typed objects.

Every error names the file, the line (where the key can be found) and what is wrong; unknown keys
are errors, so a misspelt `poll_intervall` cannot be silently ignored. Durations are parsed once,
here. Passwords are never read into the config: only the name of the variable or file holding one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from maild import resources
from maild.config_mail import (
    ReplySettings,
    SmtpSettings,
    optional_file,
    read_reply_settings,
    read_secret,
    read_security,
    read_smtp,
    secret_keys,
)
from maild.config_policy import (
    DEFAULT_TIERS,
    DigestSettings,
    EscalationTier,
    NotificationSettings,
    SlaSettings,
    TicketSettings,
    read_digest,
    read_escalation,
    read_notifications,
    read_sla,
    read_tickets,
)
from maild.config_web import WebSettings, read_web
from maild.tomlreader import ConfigError, TableReader, TomlSource, parse_duration, read_toml

__all__ = [
    "Config",
    "ConfigError",
    "ImapSettings",
    "MailboxConfig",
    "MaildirSettings",
    "load_config",
    "parse_duration",
]

DEFAULT_POLL_INTERVAL = timedelta(hours=1)
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
_NAMED_ADDRESS = re.compile(r"^(?:[^<>]*<)?([^@\s<>]+@[^@\s<>]+)>?$")


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
    ca_file: Path | None = None
    # Where a copy of each message maild sends from this mailbox is appended (e.g. "Sent").
    sent_folder: str | None = None

    @property
    def move_to(self) -> str | None:
        return (
            self.after_import.removeprefix("move:")
            if self.after_import.startswith("move:")
            else None
        )

    def read_password(self) -> str:
        return read_secret(self.password_env, self.password_file)


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
    replies: ReplySettings = field(default_factory=ReplySettings)

    @property
    def folders(self) -> tuple[str, ...]:
        """The folders maild reads: the configured IMAP folders, or a Maildir's inbox."""
        return self.imap.folders if self.imap is not None else ("INBOX",)


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
    sla: SlaSettings
    tickets: TicketSettings
    log_level: str = "info"
    smtp: SmtpSettings | None = None
    escalation: tuple[EscalationTier, ...] = DEFAULT_TIERS
    digest: DigestSettings = field(default_factory=DigestSettings)
    notifications: NotificationSettings = field(default_factory=NotificationSettings)
    sweep_interval: timedelta = timedelta(minutes=5)
    web: WebSettings = field(default_factory=WebSettings)

    def mailbox(self, name: str) -> MailboxConfig:
        for mailbox in self.mailboxes:
            if mailbox.name == name:
                return mailbox
        raise KeyError(name)

    def display_name_of(self, mailbox_name: str) -> str | None:
        """The From display name of a configured mailbox (None once it left the config)."""
        try:
            return self.mailbox(mailbox_name).replies.display_name
        except KeyError:
            return None


def load_config(path: Path) -> Config:
    """Read and validate a config file; raises ConfigError naming file, line and problem."""
    document, text = read_toml(path)
    return config_from_mapping(document, path=path.resolve(), text=text)


def config_from_mapping(
    document: Mapping[str, Any], *, path: Path | None = None, text: str = ""
) -> Config:
    source = TomlSource(path, text)
    top = TableReader(source, document, ())

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
    database_url = _database_url(top, source.base)
    poll_interval, retry_backoff, sweep_interval = _schedule(top)
    log_level = _log_level(top)
    sla = read_sla(top, timezone)
    tickets = read_tickets(top)
    escalation = read_escalation(top)
    digest = read_digest(top)
    notifications = read_notifications(top)
    smtp = read_smtp(top)
    web = read_web(top)

    mailboxes = tuple(_mailbox(reader, owners, smtp) for reader in top.tables("mailbox"))
    names = [m.name for m in mailboxes]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise source.fault(("mailbox", i, "name"), f"mailbox name {name!r} is used twice")
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
        sla=sla,
        tickets=tickets,
        log_level=log_level,
        smtp=smtp,
        escalation=escalation,
        digest=digest,
        notifications=notifications,
        sweep_interval=sweep_interval,
        web=web,
    )


def _owners(top: TableReader) -> dict[str, str]:
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


def _database_url(top: TableReader, base: Path) -> str:
    """The database URL; a relative SQLite path is relative to the config file's folder, or to
    systemd's `$STATE_DIRECTORY` when maild runs as a service (its config folder, /etc/maild,
    is read-only there)."""
    state = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    if state:
        base = Path(state)
    url = f"sqlite:///{(base / 'maild.db').resolve()}"
    table = top.table("database")
    if table is not None:
        given = table.string("url")
        if given is not None:
            url = _resolve_sqlite_url(given, base)
        table.reject_unknown()
    return url


def _schedule(top: TableReader) -> tuple[timedelta, timedelta, timedelta]:
    """(poll_interval, retry_backoff, sweep_interval) of `[schedule]`."""
    poll_interval = DEFAULT_POLL_INTERVAL
    retry_backoff = timedelta(seconds=10)
    sweep_interval = timedelta(minutes=5)
    table = top.table("schedule")
    if table is not None:
        poll_interval = table.duration("poll_interval", poll_interval, timedelta(seconds=1))
        retry_backoff = table.duration("retry_backoff", retry_backoff, timedelta(milliseconds=100))
        sweep_interval = table.duration("sweep_interval", sweep_interval, timedelta(seconds=1))
        table.reject_unknown()
    return poll_interval, retry_backoff, sweep_interval


def _log_level(top: TableReader) -> str:
    table = top.table("logging")
    if table is None:
        return "info"
    level = table.string("level", "info") or "info"
    if level not in {"debug", "info", "warning", "error"}:
        raise table.fault("level", "must be one of debug, info, warning, error")
    table.reject_unknown()
    return level


def _resolve_sqlite_url(url: str, base: Path) -> str:
    """Make a relative SQLite path relative to `base` (see `_database_url`), not the cwd."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == "sqlite:///:memory:":
        return url
    rest = url[len(prefix) :]
    file_part, sep, query = rest.partition("?")
    if file_part.startswith("/"):
        return url
    return f"{prefix}{(base / file_part).resolve()}{sep}{query}"


def _mailbox(
    reader: TableReader, owners: Mapping[str, str], smtp: SmtpSettings | None
) -> MailboxConfig:
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
    replies = read_reply_settings(reader, smtp)
    reader.reject_unknown()
    return MailboxConfig(
        name=name,
        address=address.lower(),
        default_owner=default_owner,
        imap=imap,
        maildir=maildir,
        replies=replies,
    )


def _imap(reader: TableReader) -> ImapSettings:
    host = reader.required_string("host")
    security = read_security(reader, "tls")
    port = reader.integer("port", 993 if security == "tls" else 143, 1, 65535)
    password_env, password_file = secret_keys(reader)
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
        password_file=password_file,
        folders=reader.string_list("folders", ("INBOX",)),
        sent_folder=reader.string("sent_folder"),
        after_import=after_import,
        timeout=float(reader.integer("timeout", 60, 1, 3600)),
        batch_size=reader.integer("batch_size", 200, 1, 5000),
        ca_file=optional_file(reader, "ca_file"),
    )
    reader.reject_unknown()
    return settings
