"""An in-memory Inbox for pipeline tests (imapclient itself is only tested against Dovecot)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from maild.sources.base import FetchedMessage, FolderSnapshot, KnownKeys, NewItem

DEFAULT_ARRIVAL = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@dataclass
class MemoryInbox:
    messages: dict[int, bytes] = field(default_factory=dict)
    uidvalidity: int = 1
    batch_size: int = 3
    marked: list[int] = field(default_factory=list)
    # Arrival time (IMAP INTERNALDATE) per UID; DEFAULT_ARRIVAL unless `add` was given one.
    arrivals: dict[int, datetime] = field(default_factory=dict)

    def add(self, raw: bytes, internaldate: datetime | None = None) -> int:
        uid = max(self.messages, default=0) + 1
        self.messages[uid] = raw
        self.arrivals[uid] = internaldate or DEFAULT_ARRIVAL
        return uid

    def folders(self) -> tuple[str, ...]:
        return ("INBOX",)

    def open_folder(self, folder: str) -> FolderSnapshot:
        return FolderSnapshot(self.uidvalidity, len(self.messages))

    def list_new(self, folder: str, last_uid: int, known: KnownKeys) -> list[NewItem]:
        return [NewItem(uid, str(uid)) for uid in sorted(self.messages) if uid > last_uid]

    def fetch(self, folder: str, items: Sequence[NewItem]) -> Iterator[list[FetchedMessage]]:
        for start in range(0, len(items), self.batch_size):
            yield [
                FetchedMessage(
                    uid=item.uid,
                    source_key=item.source_key,
                    raw=self.messages[item.uid],
                    internaldate=self.arrivals.get(item.uid, DEFAULT_ARRIVAL),
                    flags=(),
                )
                for item in items[start : start + self.batch_size]
            ]

    def mark_done(self, folder: str, uids: Sequence[int]) -> None:
        self.marked.extend(uids)

    def close(self) -> None:
        pass


def simple_message(number: int, *, message_id: str | None = None, body: str = "") -> bytes:
    mid = message_id or f"<m{number}@customer.example.com>"
    return (
        f"From: Customer {number} <c{number}@customer.example.com>\r\n"
        f"To: support@example.com\r\n"
        f"Subject: Question {number}\r\n"
        f"Message-ID: {mid}\r\n"
        f"Date: Tue, 24 Nov 2026 10:00:00 +0800\r\n"
        f"\r\n"
        f"Hello, this is message {number}. {body}\r\n"
    ).encode()
