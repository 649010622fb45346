"""An IMAP folder as a source, through imapclient: UID-incremental, fetched in batches.

Messages are fetched with BODY.PEEK[] so reading never marks them \\Seen; what happens to them
afterwards (`after_import`) is done only by `mark_done`, which ingest calls after its commit.
"""

from __future__ import annotations

import contextlib
import imaplib
import socket
import ssl
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from maild.config import ImapSettings
from maild.sources.base import FetchedMessage, FolderSnapshot, KnownKeys, NewItem, SourceError

_MARK_CHUNK = 1000
_FETCH_ITEMS = ["BODY.PEEK[]", "INTERNALDATE", "RFC822.SIZE", "FLAGS"]
# Errors that mean "the server or the network let us down", as opposed to a bug of ours.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    socket.timeout,
    ssl.SSLError,
    imaplib.IMAP4.abort,
    imaplib.IMAP4.error,
    IMAPClientError,
    EOFError,
)


class ImapInbox:
    def __init__(self, settings: ImapSettings, mailbox_name: str) -> None:
        self._settings = settings
        self._mailbox_name = mailbox_name
        self._client: Any = None
        self._selected: str | None = None

    def _connect(self) -> Any:
        settings = self._settings
        where = f"{settings.host}:{settings.port}"
        # The system's CAs, or the one the admin named for a server with a private CA.
        context = ssl.create_default_context(
            cafile=str(settings.ca_file) if settings.ca_file is not None else None
        )
        try:
            client = IMAPClient(
                settings.host,
                port=settings.port,
                ssl=settings.security == "tls",
                ssl_context=context if settings.security == "tls" else None,
                timeout=settings.timeout,
            )
        except CONNECTION_ERRORS as exc:
            raise _connection_failure(exc, where, settings.security) from exc
        try:
            if settings.security == "starttls":
                client.starttls(context)
            client.login(settings.username, settings.read_password())
        except LoginError as exc:
            with contextlib.suppress(*CONNECTION_ERRORS):
                client.shutdown()
            raise SourceError(
                f"{where} refused the login of {settings.username}: {_describe(exc)}",
                permanent=True,
            ) from exc
        except CONNECTION_ERRORS as exc:
            with contextlib.suppress(*CONNECTION_ERRORS):
                client.shutdown()
            raise _connection_failure(exc, where, settings.security) from exc
        # Keep INTERNALDATE timezone-aware instead of imapclient's local naive default.
        client.normalise_times = False
        return client

    def _ensure(self) -> Any:
        if self._client is None:
            self._client = self._connect()
        return self._client

    def folders(self) -> tuple[str, ...]:
        return self._settings.folders

    def open_folder(self, folder: str) -> FolderSnapshot:
        client = self._ensure()
        readonly = self._settings.after_import == "keep"
        try:
            info = client.select_folder(folder, readonly=readonly)
        except CONNECTION_ERRORS as exc:
            raise SourceError(f"cannot open folder {folder!r}: {_describe(exc)}") from exc
        self._selected = folder
        return FolderSnapshot(
            uidvalidity=int(info[b"UIDVALIDITY"]), message_count=int(info.get(b"EXISTS", 0))
        )

    def list_new(self, folder: str, last_uid: int, known: KnownKeys) -> list[NewItem]:
        """UIDs above the high-water mark; flags and dates play no part in what is new."""
        client = self._ensure()
        try:
            # "N:*" always matches the highest UID even when it is below N, hence the filter.
            uids = client.search(["UID", f"{last_uid + 1}:*"])
        except CONNECTION_ERRORS as exc:
            raise SourceError(f"cannot search folder {folder!r}: {_describe(exc)}") from exc
        return [
            NewItem(uid=int(uid), source_key=str(uid)) for uid in sorted(uids) if uid > last_uid
        ]

    def fetch(self, folder: str, items: Sequence[NewItem]) -> Iterator[list[FetchedMessage]]:
        client = self._ensure()
        size = self._settings.batch_size
        for start in range(0, len(items), size):
            chunk = items[start : start + size]
            try:
                response = client.fetch([item.uid for item in chunk], _FETCH_ITEMS)
            except CONNECTION_ERRORS as exc:
                raise SourceError(f"fetch from {folder!r} failed: {_describe(exc)}") from exc
            batch = []
            for item in chunk:
                data = response.get(item.uid)
                if data is None or b"BODY[]" not in data:
                    continue  # expunged between SEARCH and FETCH: nothing to store
                batch.append(
                    FetchedMessage(
                        uid=item.uid,
                        source_key=item.source_key,
                        raw=bytes(data[b"BODY[]"]),
                        internaldate=_aware(data.get(b"INTERNALDATE")),
                        flags=tuple(_text(flag) for flag in data.get(b"FLAGS", ())),
                    )
                )
            yield batch

    def mark_done(self, folder: str, uids: Sequence[int]) -> None:
        if not uids or self._settings.after_import == "keep":
            return
        client = self._ensure()
        try:
            # Chunks keep each command well under servers' line limits (Dovecot: 64 KB).
            for start in range(0, len(uids), _MARK_CHUNK):
                chunk = list(uids[start : start + _MARK_CHUNK])
                if self._settings.after_import == "seen":
                    client.add_flags(chunk, [b"\\Seen"], silent=True)
                elif self._settings.move_to is not None:
                    client.move(chunk, self._settings.move_to)
        except CONNECTION_ERRORS as exc:
            raise SourceError(
                f"after_import {self._settings.after_import!r} failed: {_describe(exc)}"
            ) from exc

    def append(self, folder: str, raw: bytes, when: datetime) -> None:
        """Store a copy of a message we sent (flagged \\Seen) in `folder`."""
        client = self._ensure()
        try:
            client.append(folder, raw, flags=(b"\\Seen",), msg_time=when)
        except CONNECTION_ERRORS as exc:
            self.close()
            raise SourceError(f"cannot append to {folder}: {_describe(exc)}") from exc

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except CONNECTION_ERRORS:
            with contextlib.suppress(*CONNECTION_ERRORS):
                client.shutdown()


def _connection_failure(exc: BaseException, where: str, security: str) -> SourceError:
    """What went wrong while connecting, in words that point at the fix."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return SourceError(
            f"the TLS certificate of {where} could not be verified "
            f"({exc.verify_message}); if this server uses a private CA, set ca_file in "
            "[mailbox.imap]",
            permanent=True,
        )
    if isinstance(exc, ssl.SSLError) and "WRONG_VERSION_NUMBER" in str(exc):
        return SourceError(
            f'{where} did not answer with TLS: with security = "tls" use the IMAPS port '
            '(usually 993), or security = "starttls" on port 143',
            permanent=True,
        )
    if security == "starttls" and isinstance(exc, IMAPClientError) and "STARTTLS" in str(exc):
        return SourceError(f"{where} does not offer STARTTLS: {_describe(exc)}", permanent=True)
    return SourceError(f"cannot connect to {where}: {_describe(exc)}")


def _aware(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime.now(UTC)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text != type(exc).__name__ else text
