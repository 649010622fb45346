"""Walking a parsed MIME tree: which parts are the text, which the HTML, which attachments.

Iterative (no recursion, a depth limit), tolerant of every defect the corpus shows: a part that
cannot be decoded is noted and skipped, never raised.
"""

from __future__ import annotations

import email.message
from dataclasses import dataclass

from maild import bodytext, charsets

_MAX_DEPTH = 60


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int


def content_charset(part: email.message.Message) -> str | None:
    try:
        value = part.get_content_charset()
    except Exception:
        return None
    return value if isinstance(value, str) else None


class Body:
    """The text, HTML and attachments of a MIME tree, walked without recursion."""

    def __init__(self, notes: list[str]) -> None:
        self.notes = notes
        self.plain: list[str] = []
        self.html: list[str] = []
        self.attachments: list[Attachment] = []
        self.types: set[str] = set()
        self.first_charset: str | None = None

    def walk(self, root: email.message.Message) -> None:
        stack = [(root, 0, "")]
        while stack:
            part, depth, parent = stack.pop()
            ctype = part.get_content_type()
            self.types.add(ctype)
            self.notes.extend(f"MIME defect: {type(d).__name__}" for d in part.defects)
            # is_multipart() checks the payload type; get_payload() on a leaf would decode it with
            # the declared charset, which raises on hostile labels.
            if part.is_multipart() and not ctype.startswith("message/"):
                if depth >= _MAX_DEPTH:
                    self.notes.append(f"MIME parts nested deeper than {_MAX_DEPTH} ignored")
                    continue
                children = [c for c in part.get_payload() if isinstance(c, email.message.Message)]
                stack.extend((child, depth + 1, ctype) for child in reversed(children))
            elif not (parent == "multipart/alternative" and ctype.startswith("text/")):
                self._leaf(part, ctype)
            elif ctype in ("text/plain", "text/html"):
                self._text(part, ctype)
            # Other text alternatives (text/enriched, …) repeat the body: neither text nor file.

    def _leaf(self, part: email.message.Message, ctype: str) -> None:
        filename = _filename(part, self.notes)
        try:
            disposition = part.get_content_disposition()
        except Exception:
            disposition = None
        multipart = ctype.startswith("multipart/")
        if (multipart or ctype in ("text/plain", "text/html")) and not filename:
            if multipart:
                self.notes.append(f"{ctype} without readable parts; its body is used as text")
            if disposition != "attachment":
                self._text(part, ctype)
                return
        try:
            data = part.get_payload(decode=True)
            size = len(data) if isinstance(data, bytes) else _flattened_size(part)
        except Exception:
            size = 0
        self.attachments.append(Attachment(filename, ctype, size))

    def _text(self, part: email.message.Message, ctype: str) -> None:
        try:
            data = part.get_payload(decode=True)
        except Exception:
            self.notes.append(f"{ctype} part could not be decoded")
            return
        if not isinstance(data, bytes):
            return
        declared = content_charset(part)
        if declared is None and ctype == "text/html":
            declared = charsets.html_meta_charset(data)
        self.first_charset = self.first_charset or declared
        text = charsets.decode_bytes(data, declared, self.notes, ctype)
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").lstrip("\ufeff")
        if ctype == "text/plain" and str(part.get_param("format", "")).lower() == "flowed":
            text = bodytext.unflow(text, str(part.get_param("delsp", "")).lower() == "yes")
        (self.html if ctype == "text/html" else self.plain).append(text)


def _flattened_size(part: email.message.Message) -> int:
    """Approximate encoded size of an attached message: re-serialising it costs more than the
    whole parse, and an attachment list only needs a size to show."""
    size = 0
    stack: list[object] = [part.get_payload()]
    while stack and size < 1 << 30:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, email.message.Message):
            size += sum(len(k) + len(str(v)) + 4 for k, v in item.raw_items()) + 2
            stack.append(item.get_payload())
        elif isinstance(item, str | bytes):
            size += len(item)
    return size


def _filename(part: email.message.Message, notes: list[str]) -> str:
    for param, header in (("filename", "content-disposition"), ("name", "content-type")):
        try:
            value = part.get_param(param, None, header)
        except Exception:
            continue
        raw = next((v for k, v in part.raw_items() if k.lower() == header), "")
        name = charsets.filename_text(value, raw, param, content_charset(part), notes)
        if name:
            return name
    return ""
