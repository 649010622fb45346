"""The SLA clock (pure, frozen clock): escalation tiers, reminders, follow-ups, holding pages
for business hours, and business-time ages across nights, weekends, holidays and DST."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from maild.calendar_time import BusinessCalendar
from maild.config_policy import DEFAULT_TARGETS, DEFAULT_TIERS
from maild.sla import (
    SlaPolicy,
    TicketClock,
    actions_due,
    age,
    is_overdue,
    needs_attention,
)

T0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # Tuesday 09:00 in Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICY = SlaPolicy(
    targets=DEFAULT_TARGETS,
    tiers=DEFAULT_TIERS,
    remind_every=timedelta(hours=24),
    followup_after=timedelta(days=3),
    calendar=None,
)
CLOCK = TicketClock(
    ticket_id=1,
    number="CS20261124-0001",
    status="open",
    priority="normal",
    unanswered_since=T0,
    resolved_at=None,
)


def due_at(clock: TicketClock, later: timedelta, policy: SlaPolicy = POLICY) -> list[str]:
    due, _held = actions_due([clock], T0 + later, policy)
    return [f"{a.kind}{a.tier or a.seq}:{a.notify}" for a in due]


def test_23h59_is_not_escalated_and_24h01_is() -> None:
    assert due_at(CLOCK, timedelta(hours=23, minutes=59)) == []
    assert due_at(CLOCK, timedelta(hours=24, minutes=1)) == ["escalation1:owner"]


def test_each_tier_fires_once_per_episode() -> None:
    due, _ = actions_due([CLOCK], T0 + timedelta(hours=49), POLICY)
    assert [(a.tier, a.notify) for a in due] == [(1, "owner"), (2, "supervisors")]
    fired = replace(CLOCK, fired=frozenset(a.key for a in due))
    assert due_at(fired, timedelta(hours=50)) == []
    # A new episode (a customer message after an agent reply) starts the tiers over.
    later = replace(fired, unanswered_since=T0 + timedelta(hours=60))
    assert due_at(later, timedelta(hours=60 + 25)) == ["escalation1:owner"]


def test_reminders_follow_the_last_tier_one_at_a_time() -> None:
    fired = frozenset(a.key for a in actions_due([CLOCK], T0 + timedelta(hours=48), POLICY)[0])
    clock = replace(CLOCK, fired=fired)
    assert due_at(clock, timedelta(hours=71)) == []
    assert due_at(clock, timedelta(hours=72, minutes=1)) == ["reminder1:owner"]
    # Found days late: only the latest reminder, not a backlog.
    assert due_at(clock, timedelta(hours=48 + 24 * 5 + 1)) == ["reminder5:owner"]


@pytest.mark.parametrize("status", ["waiting", "resolved", "closed"])
def test_only_new_and_open_tickets_can_be_unanswered(status: str) -> None:
    clock = replace(CLOCK, status=status)
    assert due_at(clock, timedelta(hours=100)) == []
    assert not needs_attention(clock, T0 + timedelta(hours=100), POLICY)


def test_an_answered_ticket_has_no_clock() -> None:
    assert due_at(replace(CLOCK, unanswered_since=None), timedelta(hours=100)) == []


def test_overdue_is_per_priority_and_attention_includes_the_24h_rule() -> None:
    urgent = replace(CLOCK, priority="urgent")
    low = replace(CLOCK, priority="low")
    at = T0 + timedelta(hours=2)
    assert is_overdue(urgent, at, POLICY) and not is_overdue(CLOCK, at, POLICY)
    thirty = T0 + timedelta(hours=30)
    assert not is_overdue(low, thirty, POLICY)  # low's target is 72 h
    assert needs_attention(low, thirty, POLICY)  # but 30 h unanswered is past the hard rule


def test_high_tickets_resolved_three_days_ago_get_one_followup() -> None:
    resolved = replace(CLOCK, status="resolved", priority="high", resolved_at=T0)
    assert due_at(resolved, timedelta(days=2, hours=23)) == []
    assert due_at(resolved, timedelta(days=3, minutes=1)) == ["followup0:owner"]
    due, _ = actions_due([resolved], T0 + timedelta(days=3, minutes=1), POLICY)
    assert due_at(replace(resolved, fired=frozenset({due[0].key})), timedelta(days=4)) == []
    assert due_at(replace(resolved, priority="normal"), timedelta(days=4)) == []


BUSINESS = BusinessCalendar(
    timezone=SHANGHAI,
    holidays=frozenset(date(2026, 10, day) for day in range(1, 8)),  # National Day
    extra_workdays=frozenset({date(2026, 10, 10)}),
)
BUSINESS_POLICY = replace(POLICY, calendar=BUSINESS)


def shanghai(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_business_age_skips_nights_weekends_and_holidays() -> None:
    # Friday 17:00 → Monday 10:00: 1 h on Friday + 1 h on Monday.
    assert age(shanghai(2026, 11, 27, 17), shanghai(2026, 11, 30, 10), BUSINESS) == timedelta(
        hours=2
    )
    # Wednesday 30 Sep 17:00 → Saturday 10 Oct 10:00 (a make-up workday) over the holidays:
    # 1 h on 30 Sep, 9 h each on Thu 8 and Fri 9 Oct, 1 h on Sat 10 Oct.
    assert age(shanghai(2026, 9, 30, 17), shanghai(2026, 10, 10, 10), BUSINESS) == timedelta(
        hours=20
    )


def test_business_clock_escalates_after_24_business_hours() -> None:
    start = shanghai(2026, 11, 24, 9)  # Tuesday 09:00
    clock = replace(CLOCK, unanswered_since=start)
    # Tue, Wed 9 h each = 18 h by Wednesday 18:00; 24 h lands on Thursday 15:00.
    before, _ = actions_due([clock], shanghai(2026, 11, 26, 14, 59), BUSINESS_POLICY)
    after, _ = actions_due([clock], shanghai(2026, 11, 26, 15, 1), BUSINESS_POLICY)
    assert before == [] and [a.tier for a in after] == [1]


def test_business_clock_holds_pages_until_hours_begin_except_urgent() -> None:
    start = shanghai(2026, 11, 24, 9)
    normal = replace(CLOCK, unanswered_since=start, priority="high")
    urgent = replace(CLOCK, ticket_id=2, number="CS2", unanswered_since=start, priority="urgent")
    night = shanghai(2026, 11, 27, 3)  # Friday 03:00: both are past 24 business hours
    due, held = actions_due([normal, urgent], night, BUSINESS_POLICY)
    assert [a.number for a in due] == ["CS2"]
    assert [a.number for a in held] == ["CS20261124-0001"]
    due, held = actions_due([normal], shanghai(2026, 11, 27, 9, 1), BUSINESS_POLICY)
    assert [a.tier for a in due] == [1] and held == []


def test_business_age_across_a_dst_change() -> None:
    """In New York, 2026-11-01 ends DST: an overnight gap is still not counted, and a working
    day is still 9 hours on the Monday after."""
    new_york = ZoneInfo("America/New_York")
    calendar = BusinessCalendar(timezone=new_york)
    friday = datetime(2026, 10, 30, 17, tzinfo=new_york)
    monday = datetime(2026, 11, 2, 18, tzinfo=new_york)
    assert age(friday, monday, calendar) == timedelta(hours=10)
    clock = replace(CLOCK, unanswered_since=friday)
    policy = replace(POLICY, calendar=calendar)
    assert actions_due([clock], monday, policy)[0] == []
    # 24 business hours from Friday 17:00: 1 + 9 (Mon) + 9 (Tue) + 5 → Wednesday 14:00 EST.
    wednesday = datetime(2026, 11, 4, 14, 1, tzinfo=new_york)
    assert [a.tier for a in actions_due([clock], wednesday, policy)[0]] == [1]
