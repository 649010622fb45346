"""The sending sections of maild.toml: `[smtp]`, and each mailbox's reply settings (language,
display name, signature, automatic acknowledgement), plus reading secrets from the environment
or a file (never from maild.toml itself)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from maild.tomlreader import ConfigError, TableReader

LANGUAGES = ("en", "zh")


def read_secret(env: str | None, file: Path | None) -> str:
    """The secret from its variable or file; read only when connecting, never logged."""
    if env is not None:
        value = os.environ.get(env)
        if value is None:
            raise ConfigError(None, None, "password_env", f"environment variable {env} is not set")
        return value
    if file is not None:
        try:
            return file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(file, None, "password_file", f"cannot read: {exc.strerror}") from None
    return ""


def secret_keys(reader: TableReader) -> tuple[str | None, Path | None]:
    """`password_env` / `password_file` of a table; a plain `password` is refused."""
    if reader.has("password"):
        raise reader.fault(
            "password", "passwords never go in the file: use password_env or password_file"
        )
    env = reader.string("password_env")
    file = reader.string("password_file")
    if env is not None and file is not None:
        raise reader.fault("password_file", "set password_env or password_file, not both")
    return env, reader.resolve(file) if file else None


def read_security(reader: TableReader, default: str) -> str:
    """`security` (tls | starttls | none); plain text only with `allow_insecure = true`."""
    security = reader.string("security", default) or default
    if security not in {"tls", "starttls", "none"}:
        raise reader.fault("security", f"must be tls, starttls or none, not {security!r}")
    allow_insecure = reader.boolean("allow_insecure", False)
    if security == "none" and not allow_insecure:
        raise reader.fault(
            "security", 'is "none" (plain text): set allow_insecure = true to allow it'
        )
    return security


def optional_file(reader: TableReader, key: str) -> Path | None:
    """A path key that, when set, must name an existing file."""
    value = reader.string(key)
    if value is None:
        return None
    path = reader.resolve(value)
    if not path.is_file():
        raise reader.fault(key, f"file {path} does not exist")
    return path


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # tls | starttls | none
    username: str | None
    password_env: str | None
    password_file: Path | None
    timeout: float
    flush_interval: timedelta
    ca_file: Path | None = None

    def read_password(self) -> str:
        return read_secret(self.password_env, self.password_file)


@dataclass(frozen=True)
class ReplySettings:
    """How a mailbox answers: the language when the customer's is unknown, the From display
    name, the signature, and the automatic acknowledgement."""

    language: str = "en"
    display_name: str | None = None
    signature: str | None = None
    auto_ack: bool = False
    ack_interval: timedelta = timedelta(hours=4)


def read_smtp(top: TableReader) -> SmtpSettings | None:
    table = top.table("smtp")
    if table is None:
        return None
    security = read_security(table, "starttls")
    password_env, password_file = secret_keys(table)
    username = table.string("username")
    if username is None and (password_env or password_file):
        raise table.fault("username", "is required when a password is given")
    settings = SmtpSettings(
        host=table.required_string("host"),
        port=table.integer("port", {"tls": 465, "starttls": 587}.get(security, 25), 1, 65535),
        security=security,
        username=username,
        password_env=password_env,
        password_file=password_file,
        timeout=float(table.integer("timeout", 60, 1, 3600)),
        flush_interval=table.duration("flush_interval", timedelta(minutes=1), timedelta(seconds=1)),
        ca_file=optional_file(table, "ca_file"),
    )
    table.reject_unknown()
    return settings


def read_reply_settings(mailbox: TableReader, smtp: SmtpSettings | None) -> ReplySettings:
    """The reply keys of one `[[mailbox]]` (the caller rejects unknown keys)."""
    language = mailbox.string("language", "en") or "en"
    if language not in LANGUAGES:
        raise mailbox.fault("language", f"must be one of {', '.join(LANGUAGES)}, not {language!r}")
    auto_ack = mailbox.boolean("auto_ack", False)
    if auto_ack and smtp is None:
        raise mailbox.fault("auto_ack", "is true, but there is no [smtp] section to send with")
    return ReplySettings(
        language=language,
        display_name=mailbox.string("display_name"),
        signature=mailbox.string("signature"),
        auto_ack=auto_ack,
        ack_interval=mailbox.duration("ack_interval", timedelta(hours=4), timedelta(minutes=1)),
    )
