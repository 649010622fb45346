"""The SLA clock (pure): which tickets are unanswered, how long, overdue or not, and which
escalations, reminders and follow-ups are due now.

A ticket is *unanswered* from the arrival (IMAP INTERNALDATE) of the oldest customer message not
yet answered by an agent reply that was actually sent; acknowledgements do not answer. Only
`new` and `open` tickets can be unanswered (`waiting` is on the customer; `resolved` and
`closed` are done). An *episode* is one such stretch: a new customer message after an agent's
reply starts a new one, and every tier fires once per episode.

With the business clock, ages count business time only, and notifications wait for business
hours to begin (no 3 a.m. pages), except for urgent tickets.

Everything here is a function of its arguments; `now` is one of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from maild.calendar_time import BusinessCalendar
from maild.config_policy import EscalationTier

__all__ = [
    "HARD_LIMIT",
    "SlaAction",
    "SlaPolicy",
    "TicketClock",
    "actions_due",
    "age",
    "is_overdue",
    "needs_attention",
    "notification_key",
]

# The mission's rule: nothing waits more than this without its owner knowing; the digest
# lists every ticket past it, whatever its priority's target.
HARD_LIMIT = timedelta(hours=24)
_FOLLOWUP_PRIORITIES = frozenset({"high", "urgent"})


@dataclass(frozen=True)
class SlaPolicy:
    targets: Mapping[str, timedelta]  # per priority
    tiers: tuple[EscalationTier, ...]
    remind_every: timedelta
    followup_after: timedelta
    calendar: BusinessCalendar | None  # None: the 24x7 clock

    @property
    def clock(self) -> str:
        return "24x7" if self.calendar is None else "business"


@dataclass(frozen=True)
class TicketClock:
    """What the SLA needs to know about one ticket."""

    ticket_id: int
    number: str
    status: str
    priority: str | None
    unanswered_since: datetime | None  # None: answered, or nothing from the customer
    resolved_at: datetime | None
    # Keys (see `notification_key`) of what was already decided for this ticket.
    fired: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SlaAction:
    """One notification that is due: to whom (`notify`), about what, and why."""

    kind: str  # escalation | reminder | followup
    ticket_id: int
    number: str
    priority: str | None
    notify: str  # owner | supervisors
    episode: datetime  # unanswered since (escalation, reminder) or resolved at (followup)
    tier: int  # 1-based escalation tier; 0 otherwise
    seq: int  # reminder number (1, 2, …); 0 otherwise
    after: timedelta  # the threshold that was crossed
    age: timedelta  # how long it has been unanswered (or resolved), on the policy's clock
    reason: str

    @property
    def key(self) -> str:
        return notification_key(self.kind, self.number, self.episode, self.tier, self.seq)


def notification_key(kind: str, number: str, episode: datetime, tier: int, seq: int) -> str:
    """The identity of a decision: one per ticket, episode, tier (and reminder number)."""
    return f"{kind}:{number}:{episode.isoformat(timespec='seconds')}:{tier}:{seq}"


def age(since: datetime, now: datetime, calendar: BusinessCalendar | None) -> timedelta:
    """Time elapsed from `since` to `now` on the clock (business time with a calendar)."""
    if now <= since:
        return timedelta(0)
    if calendar is None:
        return now - since
    return calendar.business_time_between(since, now)


def is_overdue(clock: TicketClock, now: datetime, policy: SlaPolicy) -> bool:
    """Unanswered for longer than its priority's response target."""
    if not _unanswered(clock) or clock.unanswered_since is None:
        return False
    target = policy.targets.get(clock.priority or "normal", policy.targets["normal"])
    return age(clock.unanswered_since, now, policy.calendar) > target


def needs_attention(clock: TicketClock, now: datetime, policy: SlaPolicy) -> bool:
    """What the digest and `tickets list --overdue` show: overdue for its priority, or
    unanswered for more than `HARD_LIMIT` (a low-priority ticket waiting 30 h is one)."""
    if not _unanswered(clock) or clock.unanswered_since is None:
        return False
    waited = age(clock.unanswered_since, now, policy.calendar)
    return waited > HARD_LIMIT or is_overdue(clock, now, policy)


def actions_due(
    clocks: Iterable[TicketClock], now: datetime, policy: SlaPolicy
) -> tuple[list[SlaAction], list[SlaAction]]:
    """(due now, held until business hours) over `clocks`, leaving out what already fired."""
    due: list[SlaAction] = []
    held: list[SlaAction] = []
    in_hours = policy.calendar is None or policy.calendar.is_business_time(now)
    for clock in clocks:
        for action in _escalations(clock, now, policy) + _followups(clock, now, policy):
            if action.key in clock.fired:
                continue
            (due if in_hours or action.priority == "urgent" else held).append(action)
    return due, held


def _unanswered(clock: TicketClock) -> bool:
    return clock.status in ("new", "open") and clock.unanswered_since is not None


def _escalations(clock: TicketClock, now: datetime, policy: SlaPolicy) -> list[SlaAction]:
    since = clock.unanswered_since
    if not _unanswered(clock) or since is None or not policy.tiers:
        return []
    waited = age(since, now, policy.calendar)
    actions = [
        _action(
            clock,
            kind="escalation",
            notify=tier.notify,
            episode=since,
            tier=number,
            seq=0,
            after=tier.after,
            waited=waited,
            reason=f"unanswered for {_hours(waited)}, past tier {number} ({_hours(tier.after)})",
        )
        for number, tier in enumerate(policy.tiers, start=1)
        if waited >= tier.after
    ]
    last = policy.tiers[-1].after
    if waited >= last + policy.remind_every:
        # Only the latest reminder: a ticket found days late gets one, not a backlog.
        seq = int((waited - last) / policy.remind_every)
        after = last + seq * policy.remind_every
        reason = f"still unanswered {_hours(waited)} after the last tier: reminder {seq}"
        actions.append(
            _action(
                clock,
                kind="reminder",
                notify="owner",
                episode=since,
                tier=0,
                seq=seq,
                after=after,
                waited=waited,
                reason=reason,
            )
        )
    return actions


def _followups(clock: TicketClock, now: datetime, policy: SlaPolicy) -> list[SlaAction]:
    if (
        clock.status != "resolved"
        or clock.resolved_at is None
        or clock.priority not in _FOLLOWUP_PRIORITIES
    ):
        return []
    since = now - clock.resolved_at  # wall time: "three days later" is a calendar notion
    if since < policy.followup_after:
        return []
    reason = f"{clock.priority} ticket resolved {_hours(since)} ago: check the fix held"
    return [
        _action(
            clock,
            kind="followup",
            notify="owner",
            episode=clock.resolved_at,
            tier=0,
            seq=0,
            after=policy.followup_after,
            waited=since,
            reason=reason,
        )
    ]


def _action(
    clock: TicketClock,
    *,
    kind: str,
    notify: str,
    episode: datetime,
    tier: int,
    seq: int,
    after: timedelta,
    waited: timedelta,
    reason: str,
) -> SlaAction:
    return SlaAction(
        kind=kind,
        ticket_id=clock.ticket_id,
        number=clock.number,
        priority=clock.priority,
        notify=notify,
        episode=episode,
        tier=tier,
        seq=seq,
        after=after,
        age=waited,
        reason=reason,
    )


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 10 else f"{hours:.0f} h"


def oldest_first(clocks: Sequence[TicketClock]) -> list[TicketClock]:
    return sorted(clocks, key=lambda c: (c.unanswered_since is None, c.unanswered_since))
