"""The service-policy sections of maild.toml: `[sla]` (business calendar, response targets)
and `[tickets]` (numbering and threading windows)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
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
    """Response targets per priority and the business calendar (also used by rules)."""

    targets: Mapping[str, timedelta]
    calendar: BusinessCalendar


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
    target_table = table.table("targets")
    if target_table is not None:
        for priority, default in DEFAULT_TARGETS.items():
            targets[priority] = target_table.duration(priority, default, timedelta(minutes=1))
        target_table.reject_unknown()
    table.reject_unknown()
    return SlaSettings(targets=targets, calendar=calendar)


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


def _dates(table: TableReader, key: str) -> frozenset[date]:
    days = set()
    for text in table.string_list(key, ()):
        try:
            days.add(date.fromisoformat(text))
        except ValueError:
            raise table.fault(key, f"{text!r} is not a date like 2026-10-01") from None
    return frozenset(days)
