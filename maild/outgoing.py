"""Building the messages we send (pure): headers that thread, encodings that survive.

Every reply, acknowledgement and notification goes through `build_message`, so each one carries
`In-Reply-To` and `References` continuing the customer's thread (the commonest helpdesk bug is
a reply without them, which the customer's client shows as a new conversation), our own
`Message-ID` (stored before sending, so the customer's answer threads back), a `Date`, and UTF-8
text with RFC 2047 encoded headers for Chinese.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

__all__ = ["OutgoingMail", "build_message", "references_for"]

# A long thread's References keep the first (the conversation's root) and the latest ids.
_MAX_REFERENCES = 20


@dataclass(frozen=True)
class OutgoingMail:
    message_id: str
    raw: bytes
    subject: str
    to_address: str


def references_for(parent_message_id: str | None, parent_references: Sequence[str]) -> list[str]:
    """The References of a reply to a message: the parent's References plus its Message-ID."""
    chain = [r for r in dict.fromkeys([*parent_references, parent_message_id or ""]) if r]
    if len(chain) > _MAX_REFERENCES:
        chain = [chain[0], *chain[-(_MAX_REFERENCES - 1) :]]
    return chain


def build_message(
    *,
    from_address: str,
    from_name: str | None,
    to_address: str,
    to_name: str | None,
    subject: str,
    text: str,
    html: str | None,
    in_reply_to: str | None,
    references: Sequence[str],
    date: datetime,
    auto_submitted: str | None = None,
    extra_headers: Sequence[tuple[str, str]] = (),
) -> OutgoingMail:
    """One message, text (plus HTML as an alternative when given), ready for SMTP."""
    domain = from_address.rpartition("@")[2] or "localhost"
    message_id = make_msgid(idstring="maild", domain=domain)
    message = EmailMessage(policy=SMTP)
    message["From"] = _address(from_name, from_address)
    message["To"] = _address(to_name, to_address)
    message["Subject"] = subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = " ".join(references)
    if auto_submitted:
        # RFC 3834: "auto-replied" (an acknowledgement) or "auto-generated" (a notification)
        # marks the message as automatic, so other responders do not answer it.
        message["Auto-Submitted"] = auto_submitted
        message["X-Auto-Response-Suppress"] = "All"  # Exchange's own out-of-office loop guard
    for name, value in extra_headers:
        message[name] = value
    message.set_content(_lines(text), charset="utf-8", cte="quoted-printable")
    if html is not None:
        message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return OutgoingMail(
        message_id=message_id, raw=message.as_bytes(), subject=subject, to_address=to_address
    )


def _address(name: str | None, address: str) -> str:
    local, _, domain = address.partition("@")
    return str(Address(display_name=name or "", username=local, domain=domain))


def _lines(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"
