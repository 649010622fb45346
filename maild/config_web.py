"""The `[web]` section of maild.toml: where `maild web` listens, where its session-signing key
comes from, and whether its session cookie is marked Secure.

```toml
[web]
listen = "127.0.0.1:8025"             # default; behind a TLS reverse proxy
secret_key_env = "MAILD_WEB_SECRET"   # or secret_key_file = "/var/lib/maild/web-secret.key"
secure_cookies = "auto"               # auto (default): Secure when the request came over https
session_lifetime = "12h"              # default 12h: a session cookie older than this is refused
```

Without `secret_key_env` or `secret_key_file`, the key is generated once and kept in
`web-secret.key` beside an SQLite database (see `maild.web.keys`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from maild.tomlreader import TableReader

DEFAULT_LISTEN = "127.0.0.1:8025"
SECURE_COOKIE_MODES = ("auto", "true", "false")
_HOST_PORT = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:\[\]\s]+)):(?P<port>\d{1,5})$")


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8025
    secret_key_env: str | None = None
    secret_key_file: Path | None = None
    # "auto": Secure exactly when the request reached maild over https (X-Forwarded-Proto from
    # a trusted proxy counts); "true" / "false": always / never.
    secure_cookies: str = "auto"
    session_lifetime: timedelta = timedelta(hours=12)

    @property
    def listen(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_listen(text: str) -> tuple[str, int]:
    """`"127.0.0.1:8025"`, `"[::1]:8025"` or `"0.0.0.0:80"` → (host, port); ValueError else."""
    match = _HOST_PORT.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not HOST:PORT (e.g. 127.0.0.1:8025 or [::1]:8025)")
    port = int(match.group("port"))
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} is not from 1 to 65535")
    return match.group("v6") or match.group("host"), port


def read_web(top: TableReader) -> WebSettings:
    table = top.table("web")
    if table is None:
        return WebSettings()
    listen = table.string("listen", DEFAULT_LISTEN) or DEFAULT_LISTEN
    try:
        host, port = parse_listen(listen)
    except ValueError as exc:
        raise table.fault("listen", str(exc)) from None
    if table.has("secret_key"):
        raise table.fault(
            "secret_key", "secrets never go in the file: use secret_key_env or secret_key_file"
        )
    secret_env = table.string("secret_key_env")
    secret_file = table.string("secret_key_file")
    if secret_env is not None and secret_file is not None:
        raise table.fault("secret_key_file", "set secret_key_env or secret_key_file, not both")
    settings = WebSettings(
        host=host,
        port=port,
        secret_key_env=secret_env,
        secret_key_file=table.resolve(secret_file) if secret_file else None,
        secure_cookies=_secure_cookies(table),
        session_lifetime=table.duration(
            "session_lifetime", timedelta(hours=12), timedelta(minutes=5)
        ),
    )
    table.reject_unknown()
    return settings


def _secure_cookies(table: TableReader) -> str:
    value = table.raw("secure_cookies")
    if value is None:
        return "auto"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value not in SECURE_COOKIE_MODES:
        raise table.fault("secure_cookies", f'must be "auto", true or false, not {value!r}')
    return str(value)
