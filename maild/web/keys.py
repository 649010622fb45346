"""The key that signs session cookies: from `[web] secret_key_env`, from `secret_key_file`, or
generated once and kept in `web-secret.key` beside an SQLite database.

A generated key is written to a private temporary file and hard-linked into place, so two
processes starting at once agree on one key, and it survives restarts (sessions stay valid).
Deleting the file signs everyone out at the next start.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url

from maild.config_web import WebSettings

KEY_FILE_NAME = "web-secret.key"
_MIN_LENGTH = 32


class WebKeyError(Exception):
    """No usable session key: say where one should come from."""


def session_key(settings: WebSettings, database_url: str) -> str:
    """The session-signing key; WebKeyError when none is configured and none can be kept."""
    if settings.secret_key_env is not None:
        value = os.environ.get(settings.secret_key_env, "")
        if len(value.strip()) < _MIN_LENGTH:
            raise WebKeyError(
                f"[web] secret_key_env: environment variable {settings.secret_key_env} must hold "
                f"at least {_MIN_LENGTH} characters (e.g. `python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'`)"
            )
        return value.strip()
    path = settings.secret_key_file or default_key_path(database_url)
    if path is None:
        raise WebKeyError(
            "[web] needs secret_key_env or secret_key_file with a database that is not an "
            "SQLite file (a key file is created there when it does not exist)"
        )
    return read_or_create(path)


def default_key_path(database_url: str) -> Path | None:
    """`web-secret.key` in the SQLite database's folder; None for other databases."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database or "").resolve().parent / KEY_FILE_NAME


def read_or_create(path: Path) -> str:
    """The key in `path`, creating the file (mode 0600, a random key) when it is missing."""
    if not path.exists():
        _create(path)
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise WebKeyError(f"cannot read the session key {path}: {exc.strerror}") from None
    if len(value) < _MIN_LENGTH:
        raise WebKeyError(f"the session key in {path} is shorter than {_MIN_LENGTH} characters")
    return value


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        # link() fails if the key appeared meanwhile: then the other process's key is used.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    except OSError as exc:
        raise WebKeyError(f"cannot create the session key {path}: {exc.strerror}") from None
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()
