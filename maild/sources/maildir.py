"""A local Maildir as a read-only source (the demo's sample mailbox, or mail delivered locally).

Maildir has no UIDs: a message is known by its unique file name (without the `:2,flags` suffix,
which changes when a mail client marks it read), and maild numbers new ones after the last it saw.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from maild.sources.base import FetchedMessage, FolderSnapshot, KnownKeys, NewItem, SourceError

_CHUNK = 500
_LEADING_SECONDS = re.compile(r"^(\d{9,10})\.")


class MaildirInbox:
    def __init__(self, path: Path, batch_size: int = 200) -> None:
        self._path = path
        self._batch_size = batch_size
        self._files: dict[str, Path] = {}

    def folders(self) -> tuple[str, ...]:
        return ("INBOX",)

    def _folder_path(self, folder: str) -> Path:
        return self._path if folder == "INBOX" else self._path / f".{folder}"

    def _scan(self, folder: str) -> dict[str, Path]:
        root = self._folder_path(folder)
        if not (root / "cur").is_dir() and not (root / "new").is_dir():
            raise SourceError(f"{root} is not a Maildir (no cur/ or new/ folder)")
        files: dict[str, Path] = {}
        for sub in ("new", "cur"):
            directory = root / sub
            if not directory.is_dir():
                continue
            for entry in os.scandir(directory):
                if entry.is_file() and not entry.name.startswith("."):
                    key = entry.name.split(":", 1)[0].split("!", 1)[0]
                    files[key] = Path(entry.path)
        return files

    def open_folder(self, folder: str) -> FolderSnapshot:
        self._files = self._scan(folder)
        return FolderSnapshot(uidvalidity=0, message_count=len(self._files))

    def list_new(self, folder: str, last_uid: int, known: KnownKeys) -> list[NewItem]:
        keys = sorted(self._files)
        stored: set[str] = set()
        for start in range(0, len(keys), _CHUNK):
            stored |= known(keys[start : start + _CHUNK])
        fresh = [key for key in keys if key not in stored]
        return [NewItem(uid=last_uid + i, source_key=key) for i, key in enumerate(fresh, start=1)]

    def fetch(self, folder: str, items: Sequence[NewItem]) -> Iterator[list[FetchedMessage]]:
        batch: list[FetchedMessage] = []
        for item in items:
            path = self._files[item.source_key]
            try:
                raw = path.read_bytes()
                mtime = path.stat().st_mtime
            except FileNotFoundError:
                continue  # moved away by a mail client since the scan; it will be seen again
            except OSError as exc:
                raise SourceError(f"cannot read {path}: {exc.strerror}") from exc
            flags = _maildir_flags(path.name)
            batch.append(
                FetchedMessage(
                    uid=item.uid,
                    source_key=item.source_key,
                    raw=raw,
                    internaldate=_delivery_time(path.name, mtime),
                    flags=flags,
                )
            )
            if len(batch) >= self._batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def mark_done(self, folder: str, uids: Sequence[int]) -> None:
        """Maildir sources are read-only: the files stay as they are."""

    def close(self) -> None:
        self._files = {}


def _delivery_time(name: str, mtime: float) -> datetime:
    """Maildir names start with the delivery time; the mtime changes when files are copied."""
    leading = _LEADING_SECONDS.match(name)
    seconds = float(leading.group(1)) if leading else mtime
    return datetime.fromtimestamp(seconds, UTC)


def _maildir_flags(name: str) -> tuple[str, ...]:
    _, sep, info = name.partition(":2,")
    if not sep:
        return ()
    names = {"S": "\\Seen", "R": "\\Answered", "F": "\\Flagged", "T": "\\Deleted", "D": "\\Draft"}
    return tuple(names[c] for c in info if c in names)
