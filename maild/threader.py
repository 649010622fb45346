"""Threading: which ticket a message belongs to, found how, and why.

Owns one decision per message, tried in this order, the first that finds a ticket winning:

1. ``in-reply-to`` / ``references``: a stored message (incoming, or one we sent) has a Message-ID
   the message names: In-Reply-To first, then References from the latest to the earliest.
2. ``referenced-by``: a message that arrived out of order; a stored message already names this
   message's own Message-ID in its In-Reply-To or References.
3. ``ticket-number``: a ticket number (``[CS20261124-0001]``, with or without brackets, full-width
   forms folded) in the subject, else in the quoted text; the first number that is a ticket wins.
4. ``subject``: the normalised subject (see `normalised_subject`) of a ticket of the same
   customer that is not closed and was active within ``subject_window``, under the guards of
   `_subject_gate` (a meaningful subject; a reply, or a fresh mail to a still-active ticket).
5. ``new``: nothing matched.

Mail we sent ourselves (a Bcc or Sent-folder copy, from a support address) is judged by
`decide_outgoing_thread`: the same ids and ticket numbers, without the participant gate (we may
write to anyone) and never by subject (the subject guard is about a customer's address).

Safety: a ticket number attaches only a sender who is already a participant of that ticket
(its customer, or someone on an earlier To/Cc); anyone else gets a new ticket linked to it, so
a stranger cannot join a conversation by typing its number. A ticket found by any method that
was closed more than ``reopen_after`` before the message also gives a new, linked ticket;
closed more recently, the message attaches and the store reopens the ticket.

Invariant: ``ticket is None`` exactly when ``method == "new"``; ``linked_to`` and the reasons say
what a new ticket was linked to and why. Pure: lookups are passed in, ``now`` is an argument.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Protocol

from maild.subjects import has_prefix, strip_prefixes

__all__ = [
    "ThreadDecision",
    "ThreadingFacts",
    "ThreadingPolicy",
    "TicketLookups",
    "TicketRef",
    "decide_outgoing_thread",
    "decide_thread",
    "find_ticket_numbers",
    "normalised_subject",
    "subject_is_meaningful",
]

# Bounds on the lookups one message can cause (each is one indexed query in the store): a long
# References chain is searched from its latest ids, and a mail full of numbers by its first ones.
_MAX_REFERENCES = 20
_MAX_NUMBERS = 10
# Statuses in which a fresh mail (not a reply) with the same subject still joins the ticket.
_ACTIVE = frozenset({"new", "open", "waiting"})
# A subject threads only with ≥ 4 letters or digits, a CJK character counting as two (so
# ≥ 2 Han characters, or ≥ 4 Latin ones), and not one of these generic subjects (compared
# case-folded, letters and digits only).
_MIN_WEIGHT = 4
_GENERIC_SUBJECTS = frozenset(
    word
    for line in (
        "help hello hallo hi hey question questions query inquiry enquiry request support urgent",
        "info information issue problem test thanks thankyou nosubject untitled fyi important",
        "contact feedback complaint",
        "问题 咨询 你好 您好 求助 帮助 帮忙 请问 反馈 投诉 紧急 测试 谢谢 无主题 没有主题",
        "无标题 問題 諮詢 幫助 幫忙 請問 反饋 投訴 緊急 測試 謝謝 無主題 無標題 沒有主旨",
    )
    for word in line.split()
)
_DASHES = "-‐‑‒–—−"  # after NFKC; the full-width and small hyphens fold to "-"


@dataclass(frozen=True)
class TicketRef:
    """What the store tells the threader about an existing ticket."""

    number: str
    status: str  # new | open | waiting | resolved | closed
    closed_at: datetime | None
    participants: frozenset[str]  # lower-case addresses: the customer and earlier To/Cc
    customer: str  # lower-case address
    # The number looked up, when that ticket was merged into this one (`tickets merge`).
    merged_from: str | None = None


@dataclass(frozen=True)
class ThreadingFacts:
    """What threading may look at, from a parsed and stored message."""

    message_id: str
    in_reply_to: str | None
    references: tuple[str, ...]
    subject: str
    quoted_text: str  # the part of the body that is not the new part (may be "")
    sender: str | None  # lower-case address
    received_at: datetime  # aware


class TicketLookups(Protocol):
    """Indexed queries of the store; each answers the ticket of the newest match, or None."""

    def by_message_ids(self, message_ids: Sequence[str]) -> TicketRef | None: ...
    def referenced_by(self, message_id: str) -> TicketRef | None: ...
    def by_number(self, number: str) -> TicketRef | None: ...
    def by_subject(
        self, normalised_subject: str, customer: str, since: datetime
    ) -> TicketRef | None: ...


@dataclass(frozen=True)
class ThreadingPolicy:
    """The `[tickets]` settings threading needs (`number_prefix`, `subject_window_days`,
    `reopen_days`)."""

    number_prefix: str = "CS"
    subject_window: timedelta = timedelta(days=30)
    reopen_after: timedelta = timedelta(days=14)


@dataclass(frozen=True)
class ThreadDecision:
    """Where a message goes: ``ticket`` None (and ``method`` "new") opens a new ticket."""

    ticket: str | None  # the existing ticket to attach to; None: open a new ticket
    method: str  # in-reply-to | references | referenced-by | ticket-number | subject | new
    linked_to: str | None  # a new ticket's link: stranger using a number, long-closed ticket
    reasons: tuple[str, ...]


@lru_cache(maxsize=16)
def _number_pattern(prefix: str) -> re.Pattern[str]:
    # The store numbers <prefix><YYYYMMDD>-<NNNN>, the sequence growing past 9999 without
    # leading zeros; not inside a longer run of ASCII letters and digits (a Han character
    # right before the number is fine: Chinese has no spaces).
    return re.compile(
        rf"(?<![A-Za-z0-9]){re.escape(prefix)}([0-9]{{8}})[{_DASHES}]"
        r"([1-9][0-9]{4,5}|[0-9]{4})(?![A-Za-z0-9])",
        re.IGNORECASE,
    )


@lru_cache(maxsize=16)
def _bracketed_number_pattern(prefix: str) -> re.Pattern[str]:
    number = _number_pattern(prefix).pattern
    return re.compile(rf"[\[(【〔〖]?\s*{number}\s*[\])】〕〗]?", re.IGNORECASE)


def find_ticket_numbers(text: str, prefix: str) -> tuple[str, ...]:
    """The ticket numbers in `text`, canonical (``CS20261124-0001``), in order, without repeats."""
    folded = unicodedata.normalize("NFKC", text)
    found = (f"{prefix}{m[1]}-{m[2]}" for m in _number_pattern(prefix).finditer(folded))
    return tuple(dict.fromkeys(found))


def normalised_subject(subject: str, prefix: str = "CS") -> str:
    """The subject threading compares: ticket numbers (with their brackets) and leading
    reply/forward prefixes and tags removed, case-folded, whitespace collapsed.

    The store must compute its tickets' subject keys with the same `prefix` as the policy.
    """
    folded = unicodedata.normalize("NFKC", subject)
    without_numbers = _bracketed_number_pattern(prefix).sub(" ", folded)
    return " ".join(strip_prefixes(without_numbers).casefold().split())


def subject_is_meaningful(normalised: str) -> bool:
    """Whether a normalised subject says enough to thread by: ≥ 2 CJK or ≥ 4 other letters and
    digits (a CJK character weighs two), and not a generic word such as "help" or "问题"."""
    letters = [c for c in normalised if c.isalnum()]
    weight = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in letters)
    return weight >= _MIN_WEIGHT and "".join(letters) not in _GENERIC_SUBJECTS


def decide_thread(
    facts: ThreadingFacts, lookups: TicketLookups, policy: ThreadingPolicy, now: datetime
) -> ThreadDecision:
    """The ticket `facts` belongs to (or a new one), the method that found it, and why."""
    # The moment the message is judged at: when it was received (a backlog processed late is
    # judged as of its arrival), but never later than now (a clock skewed into the future).
    at = min(_aware(facts.received_at), _aware(now))
    reasons: list[str] = []
    for step in (_by_ids, _by_referenced, _by_number, _by_subject):
        decision = step(facts, lookups, policy, at, reasons)
        if decision is not None:
            return decision
    reasons.append("no earlier message, ticket number or subject matched: a new ticket")
    return ThreadDecision(ticket=None, method="new", linked_to=None, reasons=tuple(reasons))


def decide_outgoing_thread(
    facts: ThreadingFacts, lookups: TicketLookups, policy: ThreadingPolicy, now: datetime
) -> ThreadDecision:
    """The ticket a message we sent belongs to: found by ids or a ticket number, else new.

    Our own mail never reopens nor links a ticket: it joins the one it names, whatever its state.
    """
    del now  # the same signature as decide_thread; our mail joins whatever it names
    reasons = ["sent from a support address: our own mail"]
    found = _find_by_ids(facts, lookups, reasons) or _find_referenced(facts, lookups, reasons)
    if found is None:
        for number in find_ticket_numbers(facts.subject, policy.number_prefix)[:_MAX_NUMBERS]:
            ref = lookups.by_number(number)
            if ref is not None:
                reasons.append(f"the subject names ticket {ref.number}")
                found = ref, "ticket-number"
                break
    if found is None:
        reasons.append("no earlier message or ticket number matched: a new ticket")
        return ThreadDecision(ticket=None, method="new", linked_to=None, reasons=tuple(reasons))
    return ThreadDecision(
        ticket=found[0].number, method=found[1], linked_to=None, reasons=tuple(reasons)
    )


def _by_ids(
    facts: ThreadingFacts,
    lookups: TicketLookups,
    policy: ThreadingPolicy,
    at: datetime,
    reasons: list[str],
) -> ThreadDecision | None:
    return _attach_found(_find_by_ids(facts, lookups, reasons), policy, at, reasons)


def _by_referenced(
    facts: ThreadingFacts,
    lookups: TicketLookups,
    policy: ThreadingPolicy,
    at: datetime,
    reasons: list[str],
) -> ThreadDecision | None:
    return _attach_found(_find_referenced(facts, lookups, reasons), policy, at, reasons)


def _attach_found(
    found: tuple[TicketRef, str] | None, policy: ThreadingPolicy, at: datetime, reasons: list[str]
) -> ThreadDecision | None:
    return _attach_or_link(found[0], found[1], policy, at, reasons) if found else None


def _find_by_ids(
    facts: ThreadingFacts, lookups: TicketLookups, reasons: list[str]
) -> tuple[TicketRef, str] | None:
    """The ticket of the latest stored message that In-Reply-To or References names."""
    own = facts.message_id.strip()
    in_reply_to = (facts.in_reply_to or "").strip()
    references = [r.strip() for r in reversed(facts.references)]
    candidates = [i for i in dict.fromkeys([in_reply_to, *references]) if i and i != own]
    if len(candidates) > _MAX_REFERENCES + 1:
        reasons.append(f"only the latest {_MAX_REFERENCES} References were looked up")
        candidates = candidates[: _MAX_REFERENCES + 1]
    for message_id in candidates:
        ref = lookups.by_message_ids([message_id])
        if ref is None:
            continue
        header = "In-Reply-To" if message_id == in_reply_to else "References"
        reasons.append(f"{header} {message_id} is a message of {ref.number}")
        return ref, header.lower()
    if candidates:
        reasons.append(f"In-Reply-To/References name no stored message ({len(candidates)} ids)")
    return None


def _find_referenced(
    facts: ThreadingFacts, lookups: TicketLookups, reasons: list[str]
) -> tuple[TicketRef, str] | None:
    """The ticket of a stored message that names this one (it arrived out of order)."""
    own = facts.message_id.strip()
    ref = lookups.referenced_by(own) if own else None
    if ref is None:
        return None
    reasons.append(
        f"{own} is named by an earlier-stored message of {ref.number} (arrived out of order)"
    )
    return ref, "referenced-by"


def _by_number(
    facts: ThreadingFacts,
    lookups: TicketLookups,
    policy: ThreadingPolicy,
    at: datetime,
    reasons: list[str],
) -> ThreadDecision | None:
    prefix = policy.number_prefix
    in_subject = find_ticket_numbers(facts.subject, prefix)
    in_quote = find_ticket_numbers(facts.quoted_text, prefix) if facts.quoted_text else ()
    places = dict.fromkeys(in_subject, "the subject")
    for number in in_quote:
        places.setdefault(number, "the quoted text")
    for number in list(places)[:_MAX_NUMBERS]:
        ref = lookups.by_number(number)
        if ref is None:
            reasons.append(f"{places[number]} names {number}, which is not a ticket")
            continue
        merged = f" (merged into {ref.number})" if ref.merged_from else ""
        reasons.append(f"{places[number]} names ticket {ref.merged_from or ref.number}{merged}")
        if not _is_participant(facts.sender, ref):
            reasons.append(
                f"sender {facts.sender or '(none)'} is not a participant of {ref.number}: "
                f"a new ticket linked to it"
            )
            return _new_linked(ref, reasons)
        reasons.append(f"sender {facts.sender} is a participant of {ref.number}")
        return _attach_or_link(ref, "ticket-number", policy, at, reasons)
    return None


def _by_subject(
    facts: ThreadingFacts,
    lookups: TicketLookups,
    policy: ThreadingPolicy,
    at: datetime,
    reasons: list[str],
) -> ThreadDecision | None:
    key = normalised_subject(facts.subject, policy.number_prefix)
    if not facts.sender:
        reasons.append("no sender address: not threaded by subject")
        return None
    if not subject_is_meaningful(key):
        reasons.append(f"subject {key!r} is too short or generic to thread by")
        return None
    customer = facts.sender.lower()
    ref = lookups.by_subject(key, customer, at - policy.subject_window)
    if ref is None or ref.status == "closed" or ref.customer.lower() != customer:
        return None
    days = policy.subject_window.days
    if _looks_like_reply(facts, policy.number_prefix):
        reasons.append(
            f"subject {key!r} is that of {ref.number}, a ticket of the same customer active "
            f"within {days} days, and the message is a reply"
        )
    elif ref.status in _ACTIVE:
        reasons.append(
            f"subject {key!r} is that of {ref.number}, a {ref.status} ticket of the same "
            f"customer active within {days} days (a fresh mail, not a reply)"
        )
    else:
        reasons.append(
            f"subject {key!r} is that of {ref.number} ({ref.status}), but the message is not a "
            "reply and that ticket is no longer active"
        )
        return None
    return _attach_or_link(ref, "subject", policy, at, reasons)


def _looks_like_reply(facts: ThreadingFacts, prefix: str) -> bool:
    """A reply or forward prefix (ticket numbers aside), reply headers, or quoted text."""
    folded = unicodedata.normalize("NFKC", facts.subject)
    return bool(
        has_prefix(_bracketed_number_pattern(prefix).sub(" ", folded))
        or facts.in_reply_to
        or facts.references
        or facts.quoted_text.strip()
    )


def _is_participant(sender: str | None, ref: TicketRef) -> bool:
    if not sender:
        return False
    address = sender.strip().lower()
    return address == ref.customer.lower() or address in {p.lower() for p in ref.participants}


def _attach_or_link(
    ref: TicketRef, method: str, policy: ThreadingPolicy, at: datetime, reasons: list[str]
) -> ThreadDecision:
    """Attach to `ref`, unless it was closed more than ``reopen_after`` before the message."""
    if ref.status == "closed":
        if ref.closed_at is None:
            reasons.append(f"{ref.number} is closed (when is unknown): a new ticket linked to it")
            return _new_linked(ref, reasons)
        age = at - _aware(ref.closed_at)
        closed = f"{ref.number} was closed {_aware(ref.closed_at):%Y-%m-%d %H:%M} UTC"
        if age > policy.reopen_after:
            reasons.append(
                f"{closed}, more than {policy.reopen_after.days} days before this message: "
                "a new ticket linked to it"
            )
            return _new_linked(ref, reasons)
        reasons.append(
            f"{closed}, within {policy.reopen_after.days} days of this message: it reopens"
        )
    return ThreadDecision(ticket=ref.number, method=method, linked_to=None, reasons=tuple(reasons))


def _new_linked(ref: TicketRef, reasons: list[str]) -> ThreadDecision:
    return ThreadDecision(ticket=None, method="new", linked_to=ref.number, reasons=tuple(reasons))


def _aware(moment: datetime) -> datetime:
    # A naive time (a caller's slip) is taken as UTC rather than failing the comparison.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
