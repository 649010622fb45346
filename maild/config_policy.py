"""The service-policy sections of maild.toml: `[sla]` (business calendar, response targets)
and `[tickets]` (numbering and threading windows)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from maild.calendar_time import BusinessCalendar, parse_clock_window, parse_weekdays
from maild.tomlreader import TableReader

DEFAULT_TARGETS = {
    "urgent": timedelta(hours=1),
    "high": timedelta(hours=4),
    "normal": timedelta(hours=24),
    "low": timedelta(hours=72),
}


@dataclass(frozen=True)
class SlaSettings:
    """Response targets per priority and the business calendar (also used by rules).

    `clock` "business" measures ages and targets in business time on `calendar`; "24x7"
    (the default) in wall-clock time."""

    targets: Mapping[str, timedelta]
    calendar: BusinessCalendar
    clock: str = "24x7"
    remind_every: timedelta = timedelta(hours=24)
    followup_after: timedelta = timedelta(days=3)


@dataclass(frozen=True)
class EscalationTier:
    after: timedelta
    notify: str  # owner | supervisors


DEFAULT_TIERS = (
    EscalationTier(timedelta(hours=24), "owner"),
    EscalationTier(timedelta(hours=48), "supervisors"),
)


@dataclass(frozen=True)
class DigestSettings:
    at: time = time(8, 0)  # local time, in the configured timezone
    send_empty: bool = False


@dataclass(frozen=True)
class NotificationSettings:
    language: str = "en"  # of escalations, reminders, follow-ups and the digest
    base_url: str | None = None  # the web pages' address, for links (once they exist)


@dataclass(frozen=True)
class TicketSettings:
    number_prefix: str = "CS"
    subject_window: timedelta = timedelta(days=30)
    reopen_after: timedelta = timedelta(days=14)


def read_sla(top: TableReader, timezone: ZoneInfo) -> SlaSettings:
    table = top.table("sla")
    targets = dict(DEFAULT_TARGETS)
    calendar = BusinessCalendar(timezone=timezone)
    if table is None:
        return SlaSettings(targets=targets, calendar=calendar)
    hours_text = table.string("business_hours")
    try:
        hours = parse_clock_window(hours_text) if hours_text else calendar.hours
    except ValueError as exc:
        raise table.fault("business_hours", str(exc)) from None
    day_names = table.string_list("business_days", ())
    try:
        days = parse_weekdays(day_names) if day_names else calendar.days
    except ValueError as exc:
        raise table.fault("business_days", str(exc)) from None
    calendar = BusinessCalendar(
        timezone=timezone,
        hours=hours,
        days=days,
        holidays=_dates(table, "holidays"),
        extra_workdays=_dates(table, "extra_workdays"),
    )
    clock = table.string("clock", "24x7") or "24x7"
    if clock not in ("24x7", "business"):
        raise table.fault("clock", f'must be "24x7" or "business", not {clock!r}')
    remind_every = table.duration("remind_every", timedelta(hours=24), timedelta(minutes=5))
    followup_after = table.duration("followup_after", timedelta(days=3), timedelta(hours=1))
    target_table = table.table("targets")
    if target_table is not None:
        for priority, default in DEFAULT_TARGETS.items():
            targets[priority] = target_table.duration(priority, default, timedelta(minutes=1))
        target_table.reject_unknown()
    table.reject_unknown()
    return SlaSettings(
        targets=targets,
        calendar=calendar,
        clock=clock,
        remind_every=remind_every,
        followup_after=followup_after,
    )


def read_tickets(top: TableReader) -> TicketSettings:
    table = top.table("tickets")
    if table is None:
        return TicketSettings()
    prefix = table.string("number_prefix", "CS") or "CS"
    if not re.fullmatch(r"[A-Z]{1,10}", prefix):
        raise table.fault("number_prefix", "use 1 to 10 capital letters, such as CS")
    settings = TicketSettings(
        number_prefix=prefix,
        subject_window=timedelta(days=table.integer("subject_window_days", 30, 0, 3650)),
        reopen_after=timedelta(days=table.integer("reopen_days", 14, 0, 3650)),
    )
    table.reject_unknown()
    return settings


def read_escalation(top: TableReader) -> tuple[EscalationTier, ...]:
    """`[[escalation]]` tiers (after, notify), in increasing `after`; default 24h owner, 48h
    supervisors."""
    tables = top.tables("escalation")
    if not tables:
        return DEFAULT_TIERS
    tiers: list[EscalationTier] = []
    for table in tables:
        after = table.duration("after", timedelta(hours=24), timedelta(minutes=1))
        if not table.has("after"):
            raise table.fault("after", 'is required, e.g. after = "24h"')
        notify = table.string("notify", "owner") or "owner"
        if notify not in ("owner", "supervisors"):
            raise table.fault("notify", f'must be "owner" or "supervisors", not {notify!r}')
        if tiers and after <= tiers[-1].after:
            raise table.fault("after", "tiers must come in increasing order of `after`")
        table.reject_unknown()
        tiers.append(EscalationTier(after, notify))
    return tuple(tiers)


def read_digest(top: TableReader) -> DigestSettings:
    table = top.table("digest")
    if table is None:
        return DigestSettings()
    at_text = table.string("at", "08:00") or "08:00"
    try:
        at = time.fromisoformat(at_text)
    except ValueError:
        raise table.fault("at", f"{at_text!r} is not a time like 08:00") from None
    settings = DigestSettings(at=at, send_empty=table.boolean("send_empty", False))
    table.reject_unknown()
    return settings


def read_notifications(top: TableReader) -> NotificationSettings:
    table = top.table("notifications")
    if table is None:
        return NotificationSettings()
    language = table.string("language", "en") or "en"
    if language not in ("en", "zh"):
        raise table.fault("language", f"must be en or zh, not {language!r}")
    base_url = table.string("base_url")
    if base_url is not None and not re.match(r"^https?://\S+$", base_url):
        raise table.fault("base_url", f"{base_url!r} is not an http(s) address")
    settings = NotificationSettings(language=language, base_url=base_url)
    table.reject_unknown()
    return settings


def _dates(table: TableReader, key: str) -> frozenset[date]:
    days = set()
    for text in table.string_list(key, ()):
        try:
            days.add(date.fromisoformat(text))
        except ValueError:
            raise table.fault(key, f"{text!r} is not a date like 2026-10-01") from None
    return frozenset(days)
