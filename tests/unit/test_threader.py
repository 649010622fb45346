"""Tests for maild.threader: each method, their precedence, the safety rules, subjects, numbers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maild.newpart import new_part
from maild.parsing import ParseError, parse_message
from maild.threader import (
    ThreadDecision,
    ThreadingFacts,
    ThreadingPolicy,
    TicketRef,
    decide_thread,
    find_ticket_numbers,
    normalised_subject,
    subject_is_meaningful,
)
from tests.unit.test_subjects import FORWARD_PREFIXES, REPLY_PREFIXES

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
POLICY = ThreadingPolicy()
ALICE = "alice@example.com"
BOB = "bob@example.com"  # on Alice's ticket's Cc
MALLORY = "mallory@example.net"  # a stranger
T1 = "CS20261101-0001"
T2 = "CS20261102-0002"
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "replies"


def ticket(
    number: str = T1,
    status: str = "open",
    closed_at: datetime | None = None,
    customer: str = ALICE,
    participants: Sequence[str] = (ALICE, BOB),
) -> TicketRef:
    return TicketRef(number, status, closed_at, frozenset(participants), customer)


def facts(**changes: object) -> ThreadingFacts:
    base = ThreadingFacts(
        message_id="<new@alice.example.com>",
        in_reply_to=None,
        references=(),
        subject="Invoice for October is wrong",
        quoted_text="",
        sender=ALICE,
        received_at=NOW - timedelta(minutes=5),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@dataclass
class FakeLookups:
    """An in-memory store: messages and references by Message-ID, tickets by number/subject."""

    tickets: dict[str, TicketRef] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)  # Message-ID → ticket number
    referencing: dict[str, str] = field(default_factory=dict)  # referenced id → ticket number
    subjects: list[tuple[str, str, datetime, str]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def add(self, ref: TicketRef, subject: str = "", last_activity: datetime = NOW) -> TicketRef:
        self.tickets[ref.number] = ref
        if subject:
            self.subjects.append(
                (normalised_subject(subject), ref.customer, last_activity, ref.number)
            )
        return ref

    def by_message_ids(self, message_ids: Sequence[str]) -> TicketRef | None:
        self.calls.append("ids")
        for message_id in message_ids:
            if message_id in self.messages:
                return self.tickets[self.messages[message_id]]
        return None

    def referenced_by(self, message_id: str) -> TicketRef | None:
        self.calls.append("referenced")
        number = self.referencing.get(message_id)
        return self.tickets[number] if number else None

    def by_number(self, number: str) -> TicketRef | None:
        self.calls.append("number")
        return self.tickets.get(number)

    def by_subject(self, normalised: str, customer: str, since: datetime) -> TicketRef | None:
        self.calls.append("subject")
        found = [
            (last, self.tickets[number])
            for key, who, last, number in self.subjects
            if key == normalised and who == customer and last >= since
        ]
        found = [(last, ref) for last, ref in found if ref.status != "closed"]
        return max(found, key=lambda pair: pair[0])[1] if found else None


def decide(
    f: ThreadingFacts, lookups: FakeLookups, policy: ThreadingPolicy = POLICY
) -> ThreadDecision:
    return decide_thread(f, lookups, policy, NOW)


# --- method 1: In-Reply-To / References ---------------------------------------------------


def test_in_reply_to_a_stored_message_attaches() -> None:
    """A reply to a stored message (ours or the customer's) joins that message's ticket."""
    store = FakeLookups(messages={"<ours@support.example>": T1})
    store.add(ticket())
    decision = decide(facts(in_reply_to="<ours@support.example>"), store)
    assert (decision.ticket, decision.method, decision.linked_to) == (T1, "in-reply-to", None)
    assert f"In-Reply-To <ours@support.example> is a message of {T1}" in decision.reasons


def test_any_reference_attaches_not_only_the_last() -> None:
    """A message whose References name a stored message anywhere in the chain joins its ticket."""
    store = FakeLookups(messages={"<first@x>": T1})
    store.add(ticket())
    f = facts(in_reply_to="<unknown@y>", references=("<first@x>", "<unknown2@y>", "<unknown@y>"))
    decision = decide(f, store)
    assert (decision.ticket, decision.method) == (T1, "references")
    assert f"References <first@x> is a message of {T1}" in decision.reasons


def test_in_reply_to_beats_references_and_the_latest_reference_wins() -> None:
    """In-Reply-To is checked first, then References from the latest to the earliest."""
    store = FakeLookups(messages={"<a@x>": T1, "<b@x>": T2, "<c@x>": T1})
    store.add(ticket(T1))
    store.add(ticket(T2))
    assert decide(facts(in_reply_to="<c@x>", references=("<b@x>",)), store).ticket == T1
    decision = decide(facts(references=("<a@x>", "<b@x>")), store)
    assert (decision.ticket, decision.method) == (T2, "references")


def test_the_message_own_id_is_never_looked_up_as_a_reference() -> None:
    """A message naming itself in References does not thread onto its own stored copy."""
    store = FakeLookups(messages={"<new@alice.example.com>": T1})
    store.add(ticket())
    decision = decide(facts(references=("<new@alice.example.com>",)), store)
    assert decision.method == "new"


def test_a_long_references_chain_costs_a_bounded_number_of_lookups() -> None:
    """Only the latest References are looked up, so a hostile header cannot cost 10,000 queries."""
    store = FakeLookups()
    refs = tuple(f"<r{i}@x>" for i in range(10_000))
    decision = decide(facts(references=refs, subject="help"), store)
    assert decision.method == "new"
    assert store.calls.count("ids") <= 21
    assert any("only the latest" in reason for reason in decision.reasons)


# --- out-of-order arrival -----------------------------------------------------------------


def test_a_message_referenced_by_a_stored_message_joins_its_ticket() -> None:
    """A message that arrives after the reply to it joins the reply's ticket (referenced-by)."""
    store = FakeLookups(referencing={"<new@alice.example.com>": T1})
    store.add(ticket())
    decision = decide(facts(subject="Something else entirely"), store)
    assert (decision.ticket, decision.method) == (T1, "referenced-by")
    assert "out of order" in decision.reasons[-1]


# --- precedence ---------------------------------------------------------------------------


def test_message_ids_beat_ticket_numbers_and_subjects() -> None:
    """A known In-Reply-To wins over a ticket number and a subject that point elsewhere."""
    store = FakeLookups(messages={"<ours@x>": T1}, referencing={"<new@alice.example.com>": T2})
    store.add(ticket(T1))
    store.add(ticket(T2), subject="Invoice for October is wrong")
    f = facts(in_reply_to="<ours@x>", subject=f"Re: [{T2}] Invoice for October is wrong")
    assert decide(f, store).method == "in-reply-to"


def test_referenced_by_beats_ticket_numbers() -> None:
    """An out-of-order message found by id wins over a number in its subject."""
    store = FakeLookups(referencing={"<new@alice.example.com>": T1})
    store.add(ticket(T1))
    store.add(ticket(T2))
    decision = decide(facts(subject=f"[{T2}] question"), store)
    assert (decision.ticket, decision.method) == (T1, "referenced-by")


def test_ticket_numbers_beat_subjects() -> None:
    """A ticket number wins over a subject that matches another ticket of the same customer."""
    store = FakeLookups()
    store.add(ticket(T1))
    store.add(ticket(T2), subject="Invoice for October is wrong")
    decision = decide(facts(subject=f"Re: {T1} Invoice for October is wrong"), store)
    assert (decision.ticket, decision.method) == (T1, "ticket-number")


# --- method 2: ticket numbers and the participant rule -------------------------------------


@pytest.mark.parametrize("sender", [ALICE, BOB, "Alice@Example.COM"])
def test_a_participant_citing_a_ticket_number_attaches(sender: str) -> None:
    """The customer or someone on the ticket's To/Cc citing its number joins the ticket."""
    store = FakeLookups()
    store.add(ticket())
    decision = decide(facts(subject=f"Re: [{T1}] Invoice", sender=sender), store)
    assert (decision.ticket, decision.method, decision.linked_to) == (T1, "ticket-number", None)


@pytest.mark.parametrize("sender", [MALLORY, None])
def test_a_stranger_citing_a_ticket_number_gets_a_new_linked_ticket(sender: str | None) -> None:
    """Typing a ticket's number does not let a stranger into someone else's conversation."""
    store = FakeLookups()
    store.add(ticket())
    decision = decide(facts(subject=f"[{T1}] let me in", sender=sender), store)
    assert (decision.ticket, decision.method, decision.linked_to) == (None, "new", T1)
    assert "not a participant" in decision.reasons[-1]


@pytest.mark.parametrize(
    "subject",
    [
        f"[{T1}] Invoice",
        f"Re: {T1} Invoice",
        f"Invoice ({T1})",
        f"Invoice {T1.lower()}",
        "［ＣＳ２０２６１１０１－０００１］发票",
        "回复：【CS20261101-0001】发票",
        "工单CS20261101-0001的问题",
        "CS20261101–0001 with an en dash",
    ],
)
def test_ticket_number_forms_in_the_subject(subject: str) -> None:
    """Numbers with or without brackets, in full-width forms, lower case or after Han text count."""
    store = FakeLookups()
    store.add(ticket())
    assert decide(facts(subject=subject), store).ticket == T1


def test_a_number_in_the_quoted_text_counts_below_the_subject() -> None:
    """A number only in the quoted text threads; the subject's number wins over it."""
    store = FakeLookups()
    store.add(ticket(T1))
    store.add(ticket(T2))
    quoted = f"> Your ticket [{T2}] was received.\n"
    decision = decide(facts(subject="Still broken", quoted_text=quoted), store)
    assert (decision.ticket, decision.method) == (T2, "ticket-number")
    assert "the quoted text names ticket" in decision.reasons[-2]
    assert decide(facts(subject=f"[{T1}] Still broken", quoted_text=quoted), store).ticket == T1


def test_the_first_existing_number_in_the_subject_wins() -> None:
    """Of several numbers the first in the subject wins; one that is no ticket is skipped."""
    store = FakeLookups()
    store.add(ticket(T1))
    store.add(ticket(T2))
    assert decide(facts(subject=f"{T2} and {T1}"), store).ticket == T2
    decision = decide(facts(subject=f"CS20990101-0001 and {T1}"), store)
    assert decision.ticket == T1
    assert "CS20990101-0001, which is not a ticket" in decision.reasons[0]


def test_an_unknown_number_falls_through_to_a_new_ticket() -> None:
    """A number that names no ticket does not stop threading; here nothing else matches."""
    decision = decide(facts(subject="[CS20990101-0001] help"), FakeLookups())
    assert (decision.ticket, decision.method, decision.linked_to) == (None, "new", None)


def test_the_number_prefix_is_configurable() -> None:
    """With another prefix, only numbers with that prefix count."""
    store = FakeLookups()
    store.add(ticket("HD20261101-0001"))
    store.add(ticket(T1))
    policy = ThreadingPolicy(number_prefix="HD")
    assert decide(facts(subject="[HD20261101-0001] x"), store, policy).ticket == "HD20261101-0001"
    assert decide(facts(subject=f"[{T1}] help"), store, policy).method == "new"


# --- closed tickets -----------------------------------------------------------------------

LONG_AGO = NOW - timedelta(days=30)
RECENTLY = NOW - timedelta(days=3)


def _store_for(method: str, ref: TicketRef) -> tuple[FakeLookups, ThreadingFacts]:
    store = FakeLookups(messages={"<ours@x>": ref.number})
    store.add(ref, subject="Invoice for October is wrong", last_activity=NOW - timedelta(days=1))
    if method == "in-reply-to":
        return store, facts(in_reply_to="<ours@x>")
    if method == "referenced-by":
        store.referencing["<new@alice.example.com>"] = ref.number
        return store, facts()
    return store, facts(subject=f"Re: [{ref.number}] Invoice")


@pytest.mark.parametrize("method", ["in-reply-to", "referenced-by", "ticket-number"])
def test_a_reply_to_a_long_closed_ticket_opens_a_linked_one(method: str) -> None:
    """Whatever method found it, a ticket closed longer than reopen_after is not reopened."""
    store, f = _store_for(method, ticket(status="closed", closed_at=LONG_AGO))
    decision = decide(f, store)
    assert (decision.ticket, decision.method, decision.linked_to) == (None, "new", T1)
    assert "more than 14 days" in decision.reasons[-1]


@pytest.mark.parametrize("method", ["in-reply-to", "referenced-by", "ticket-number"])
def test_a_reply_to_a_recently_closed_ticket_attaches(method: str) -> None:
    """A ticket closed within reopen_after takes the message (the store reopens it)."""
    store, f = _store_for(method, ticket(status="closed", closed_at=RECENTLY))
    decision = decide(f, store)
    assert (decision.ticket, decision.method) == (T1, method)
    assert "it reopens" in decision.reasons[-1]


def test_reopen_age_is_measured_at_arrival_and_its_boundary_attaches() -> None:
    """Closed exactly reopen_after before the message still attaches; a late run changes nothing."""
    received = NOW - timedelta(days=40)
    closed = ticket(status="closed", closed_at=received - timedelta(days=14))
    store, f = _store_for("in-reply-to", closed)
    assert decide(replace(f, received_at=received), store).ticket == T1
    later = replace(closed, closed_at=received - timedelta(days=14, seconds=1))
    store, f = _store_for("in-reply-to", later)
    assert decide(replace(f, received_at=received), store).linked_to == T1


def test_a_closed_ticket_without_a_closing_time_is_not_reopened() -> None:
    """A closed ticket whose closing time is unknown is treated as closed long ago."""
    store, f = _store_for("in-reply-to", ticket(status="closed", closed_at=None))
    assert decide(f, store).linked_to == T1


def test_resolved_tickets_take_replies() -> None:
    """A resolved (not closed) ticket takes a reply whatever its age."""
    store, f = _store_for("in-reply-to", ticket(status="resolved"))
    assert decide(f, store).ticket == T1


# --- method 3: subjects -------------------------------------------------------------------

SUBJECT = "Invoice for October is wrong"


def _subject_store(
    status: str = "waiting", last: datetime = NOW - timedelta(days=2)
) -> FakeLookups:
    store = FakeLookups()
    store.add(ticket(status=status), subject=SUBJECT, last_activity=last)
    return store


@pytest.mark.parametrize("prefix", REPLY_PREFIXES + FORWARD_PREFIXES + ["[External] RE:"])
def test_reply_prefixes_in_many_languages_thread_by_subject(prefix: str) -> None:
    """A reply or forward, in any supported language, of the customer's subject joins the ticket."""
    store = _subject_store(status="resolved")
    decision = decide(facts(subject=f"{prefix} {SUBJECT.upper()}"), store)
    assert (decision.ticket, decision.method) == (T1, "subject")


def test_reply_headers_or_quoted_text_make_a_reply_without_a_prefix() -> None:
    """A message with unknown reply headers or with quoted text counts as a reply."""
    store = _subject_store(status="resolved")
    assert decide(facts(in_reply_to="<elsewhere@x>"), store).ticket == T1
    assert decide(facts(quoted_text="> earlier words"), store).ticket == T1


def test_subject_threading_needs_the_same_customer() -> None:
    """Another sender with the same subject gets a new ticket."""
    decision = decide(facts(subject=f"Re: {SUBJECT}", sender=MALLORY), _subject_store())
    assert decision.method == "new"


def test_subject_threading_stays_within_the_window() -> None:
    """A ticket last active more than subject_window ago is not joined by subject."""
    store = _subject_store(last=NOW - timedelta(days=31))
    assert decide(facts(subject=f"Re: {SUBJECT}"), store).method == "new"
    narrow = ThreadingPolicy(subject_window=timedelta(days=1))
    assert decide(facts(subject=f"Re: {SUBJECT}"), _subject_store(), narrow).method == "new"


def test_closed_tickets_are_never_joined_by_subject() -> None:
    """A closed ticket is not found by subject, even one closed a minute ago."""
    store = _subject_store(status="closed")
    assert decide(facts(subject=f"Re: {SUBJECT}"), store).method == "new"


@pytest.mark.parametrize(
    ("status", "joined"), [("new", True), ("waiting", True), ("resolved", False)]
)
def test_a_fresh_mail_with_the_same_subject_joins_only_an_active_ticket(
    status: str, joined: bool
) -> None:
    """A non-reply with an identical subject joins a new/open/waiting ticket, not a resolved one."""
    decision = decide(facts(), _subject_store(status=status))
    assert (decision.ticket == T1) is joined
    assert decision.method == ("subject" if joined else "new")


def test_the_same_subject_a_month_apart_is_a_new_ticket() -> None:
    """A customer writing "Invoice" again after the window gets a new ticket."""
    store = FakeLookups()
    store.add(ticket(status="waiting"), subject="Invoice", last_activity=NOW - timedelta(days=32))
    assert decide(facts(subject="Invoice"), store).method == "new"
    assert decide(facts(subject="Re: Invoice"), store).method == "new"


@pytest.mark.parametrize(
    "subject", ["", "Re:", "回复：", "help", "Re: HELP!", "问题", "回复：问题？", "abc", "发", "Hi"]
)
def test_empty_or_generic_subjects_never_thread_by_subject(subject: str) -> None:
    """Subjects that say nothing specific do not join a ticket with the same subject."""
    store = FakeLookups()
    store.add(ticket(), subject=subject)
    decision = decide(facts(subject=subject, in_reply_to="<gone@x>"), store)
    assert decision.method == "new"
    assert "subject" not in store.calls


@pytest.mark.parametrize(
    ("subject", "meaningful"),
    [
        ("发票", True),
        ("invoice", True),
        ("vpn", False),
        ("退款 a", True),
        ("发", False),
        ("问题", False),
        ("help", False),
        ("help me please", True),
        ("", False),
        ("!!!!", False),
    ],
)
def test_meaningful_subjects(subject: str, meaningful: bool) -> None:
    """A subject needs ≥ 2 Han or ≥ 4 other letters and digits and must not be generic."""
    assert subject_is_meaningful(subject) is meaningful


# --- normalised subjects and numbers ------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "normalised"),
    [
        ("", ""),
        ("Re: [CS20261124-0001] Invoice   WRONG", "invoice wrong"),
        ("[CS20261124-0001] RE: AW: Invoice", "invoice"),
        ("回复：［ＣＳ２０２６１１２４－０００１］发票　问题", "发票 问题"),
        ("[External] Fwd: Ｉｎｖｏｉｃｅ", "invoice"),
        ("Invoice (CS20261124-0001)", "invoice"),
        ("Question: Re: billing", "question: re: billing"),
        ("Re: [Ticket #123] hello", "[ticket #123] hello"),
    ],
)
def test_normalised_subject(subject: str, normalised: str) -> None:
    """Prefixes, tags and ticket numbers go; case and spacing are folded; the rest stays."""
    assert normalised_subject(subject) == normalised


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("[CS20261124-0001]", ("CS20261124-0001",)),
        ("cs20261124-0001 and CS20261124-0001", ("CS20261124-0001",)),
        ("［ＣＳ２０２６１１２４－０００１］", ("CS20261124-0001",)),
        ("B CS20261124-0002, A CS20261124-0001", ("CS20261124-0002", "CS20261124-0001")),
        ("CS20261124-12345 after 9999 a day", ("CS20261124-12345",)),
        ("工单号CS20261124-0001。", ("CS20261124-0001",)),
        ("XCS20261124-00011", ()),
        ("XCS20261124-0001", ()),
        ("CS20261124-00011", ()),
        ("CS20261124-0001a", ()),
        ("CS2026112-0001", ()),
        ("CS 20261124-0001", ()),
        ("HD20261124-0001", ()),
        ("", ()),
    ],
)
def test_find_ticket_numbers(text: str, numbers: tuple[str, ...]) -> None:
    """Canonical numbers, in order, deduplicated, never from inside longer alphanumerics."""
    assert find_ticket_numbers(text, "CS") == numbers


def test_find_ticket_numbers_uses_the_given_prefix() -> None:
    """The prefix is a parameter, matched case-insensitively and returned as configured."""
    assert find_ticket_numbers("[hd20261124-0001] CS20261124-0002", "HD") == ("HD20261124-0001",)


# --- the corpus and arbitrary input -------------------------------------------------------


def _corpus_facts() -> list[tuple[str, ThreadingFacts]]:
    found = []
    for path in sorted(CORPUS.glob("*.eml")):
        try:
            parsed = parse_message(path.read_bytes(), NOW)
        except ParseError:
            continue  # quarantined by the pipeline, never threaded
        new = new_part(parsed.text)
        found.append(
            (
                path.name,
                ThreadingFacts(
                    message_id=parsed.message_id,
                    in_reply_to=parsed.in_reply_to,
                    references=parsed.references,
                    subject=parsed.subject,
                    quoted_text=parsed.text.replace(new, "", 1) if new else parsed.text,
                    sender=parsed.sender.address.lower() if parsed.sender else None,
                    received_at=parsed.internaldate,
                ),
            )
        )
    return found


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not checked out")
def test_corpus_replies_thread_by_their_headers() -> None:
    """Every corpus reply threads without error, and joins the ticket of the message it answers."""
    corpus = _corpus_facts()
    assert len(corpus) >= 45
    answered = 0
    for name, f in corpus:
        assert decide(f, FakeLookups()).method == "new", name
        if f.in_reply_to:
            store = FakeLookups(messages={f.in_reply_to: T1})
            store.add(ticket(participants=()))
            decision = decide(replace(f, sender=MALLORY), store)
            assert (decision.ticket, decision.method) == (T1, "in-reply-to"), name
            answered += 1
        if f.references:
            store = FakeLookups(messages={f.references[0]: T2})
            store.add(ticket(T2))
            assert decide(f, store).ticket == T2, name
    assert answered >= 15


TEXT = st.text(max_size=200)
ID = st.one_of(st.text(max_size=30), st.builds("<{}@x>".format, st.text(max_size=10)))
STATUS = st.sampled_from(["new", "open", "waiting", "resolved", "closed"])
MOMENT = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
REF = st.builds(
    TicketRef,
    number=st.text(max_size=20),
    status=STATUS,
    closed_at=st.none() | MOMENT,
    participants=st.frozensets(st.text(max_size=20), max_size=3),
    customer=st.text(max_size=20),
)


@dataclass
class AnswerAll:
    """A store that answers every lookup with the same ticket (or none)."""

    ref: TicketRef | None

    def by_message_ids(self, message_ids: Sequence[str]) -> TicketRef | None:
        return self.ref

    def referenced_by(self, message_id: str) -> TicketRef | None:
        return self.ref

    def by_number(self, number: str) -> TicketRef | None:
        return self.ref

    def by_subject(self, normalised: str, customer: str, since: datetime) -> TicketRef | None:
        return self.ref


@given(
    f=st.builds(
        ThreadingFacts,
        message_id=ID,
        in_reply_to=st.none() | ID,
        references=st.lists(ID, max_size=5).map(tuple),
        subject=TEXT,
        quoted_text=TEXT,
        sender=st.none() | st.text(max_size=30),
        received_at=MOMENT,
    ),
    ref=st.none() | REF,
    prefix=st.sampled_from(["CS", "HD", "X"]),
)
def test_threading_never_raises(f: ThreadingFacts, ref: TicketRef | None, prefix: str) -> None:
    """Any text, ids, sender and ticket give a decision whose ticket is None exactly when new."""
    decision = decide_thread(f, AnswerAll(ref), ThreadingPolicy(number_prefix=prefix), NOW)
    assert (decision.ticket is None) is (decision.method == "new")
    assert decision.reasons
    assert all(n.startswith(prefix) for n in find_ticket_numbers(f.subject, prefix))
    key = normalised_subject(f.subject, prefix)
    assert key == " ".join(key.split())
