"""Mail sources: each yields raw messages of a mailbox folder that maild has not stored yet."""

from maild.sources.base import (
    FetchedMessage,
    FolderSnapshot,
    Inbox,
    KnownKeys,
    NewItem,
    SourceError,
)

__all__ = ["FetchedMessage", "FolderSnapshot", "Inbox", "KnownKeys", "NewItem", "SourceError"]
