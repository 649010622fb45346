"""The small interface every mail source implements, and the plain data it returns."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

# Given source keys, answers which of them are already stored for the folder being read.
KnownKeys = Callable[[Sequence[str]], set[str]]


class SourceError(Exception):
    """The mailbox could not be read (connection, login, missing folder).

    `permanent` means trying again soon cannot help (a certificate that does not verify, a
    refused login, TLS spoken to a plain-text port): it needs a person, so the poll stops.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class FolderSnapshot:
    uidvalidity: int
    message_count: int


@dataclass(frozen=True, slots=True)
class NewItem:
    uid: int
    source_key: str


@dataclass(frozen=True, slots=True)
class FetchedMessage:
    uid: int
    source_key: str
    raw: bytes
    internaldate: datetime
    flags: tuple[str, ...]


class Inbox(Protocol):
    def folders(self) -> tuple[str, ...]: ...

    def open_folder(self, folder: str) -> FolderSnapshot: ...

    def list_new(self, folder: str, last_uid: int, known: KnownKeys) -> list[NewItem]: ...

    def fetch(self, folder: str, items: Sequence[NewItem]) -> Iterator[list[FetchedMessage]]: ...

    def mark_done(self, folder: str, uids: Sequence[int]) -> None: ...

    def close(self) -> None: ...
