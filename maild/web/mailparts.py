"""A stored message's attachments, taken from its raw bytes (message_blobs) by walking the MIME
tree exactly as the parser did, so index N here is the Nth attachment it listed.

Downloads are always `application/octet-stream` with `Content-Disposition: attachment`: a
customer's .html or .svg attachment is saved, never rendered inside our origin.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import re
from dataclasses import dataclass
from urllib.parse import quote

from maild.mimewalk import Body

_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\x7f"\\/]')


@dataclass(frozen=True)
class AttachmentData:
    filename: str
    content_type: str
    data: bytes


class _CollectingBody(Body):
    """The parser's walk, remembering the MIME part behind each attachment it lists."""

    def __init__(self) -> None:
        super().__init__([])
        self.parts: list[email.message.Message] = []

    def _leaf(self, part: email.message.Message, ctype: str) -> None:
        before = len(self.attachments)
        super()._leaf(part, ctype)
        if len(self.attachments) > before:
            self.parts.append(part)


def attachment(raw: bytes, index: int) -> AttachmentData | None:
    """The index-th attachment's name, declared type and decoded bytes; None if there is none."""
    try:
        root = email.message_from_bytes(raw, policy=email.policy.compat32)
    except RecursionError:
        return None
    body = _CollectingBody()
    body.walk(root)
    if not 0 <= index < len(body.parts):
        return None
    part = body.parts[index]
    listed = body.attachments[index]
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if not isinstance(data, bytes):
        data = _attached_message(part)
    return AttachmentData(listed.filename or f"attachment-{index + 1}", listed.content_type, data)


def _attached_message(part: email.message.Message) -> bytes:
    """An attached message/rfc822 as bytes (its payload is the inner message, not bytes)."""
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], email.message.Message):
        try:
            return payload[0].as_bytes()
        except Exception:
            return b""
    return b""


def download_headers(filename: str) -> dict[str, str]:
    """Headers that make a browser save `filename` (UTF-8 names kept, via RFC 6266)."""
    fallback = _UNSAFE_FILENAME.sub("_", filename).encode("ascii", "replace").decode()
    fallback = fallback.replace("?", "_") or "download"
    return {
        "Content-Disposition": (
            f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
        ),
        "X-Content-Type-Options": "nosniff",
    }
