"""Calendar time for rules and the SLA clock: clock windows, weekdays and business calendars.

This module owns the meaning of "business time": parsing `"HH:MM-HH:MM"` windows and weekday
names, deciding whether a day is a workday (weekdays, public holidays, make-up workdays) and
whether an instant is inside business hours, measuring the business time elapsed between two
instants and finding when a given amount of business time has elapsed (SLA due times). It also
picks the send time that time-based rules look at (`local_send_time`).

It is pure: callers pass every instant in, nothing here reads the clock or any file.

Two decisions shape everything below:

- A window that wraps past midnight (a night shift, `22:00-06:00`) belongs to the day it
  *starts* on: Friday's 22:00-06:00 shift runs into Saturday morning when Friday is a workday,
  and Monday 00:00-06:00 is not business time, because Sunday's shift is not worked.
- Business time is real elapsed time. Each workday's window is turned into two UTC instants and
  all arithmetic is done on those, so a shift containing a DST change counts the hours that
  actually passed, not the hours the wall clock shows. A window edge that falls on a wall time
  the clock skips or repeats is "the first instant at which the local clock reads that time or
  later": the moment the clock jumps, or the first of the two repeated readings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "BusinessCalendar",
    "ClockWindow",
    "local_send_time",
    "parse_clock_window",
    "parse_weekdays",
]

_MINUTES_PER_DAY = 24 * 60
_ONE_DAY = timedelta(days=1)
_MICROSECOND = timedelta(microseconds=1)

# Hours may be written with one digit ("9:00"); minutes always take two, so "9-18" or "9:0" are
# rejected rather than guessed at.
_WINDOW = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_NUMBERS = {name: n for n, name in enumerate(_WEEKDAYS)} | {
    name[:3]: n for n, name in enumerate(_WEEKDAYS)
}


@dataclass(frozen=True)
class ClockWindow:
    """A daily span of wall-clock time, [start, end), in minutes after midnight.

    `end_minute` may be 1440 (24:00) so that a window can reach the end of the day; when it is
    not after `start_minute` the window wraps past midnight into the next day.
    """

    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        if not 0 <= self.start_minute < _MINUTES_PER_DAY:
            raise ValueError(f"window start must be 00:00-23:59, not minute {self.start_minute}")
        if not 0 <= self.end_minute <= _MINUTES_PER_DAY:
            raise ValueError(f"window end must be 00:00-24:00, not minute {self.end_minute}")
        # Equal ends could mean "never" or "always"; neither is worth guessing, and the
        # all-day window has an unambiguous spelling.
        if self.start_minute == self.end_minute:
            raise ValueError(
                f"window {self} starts where it ends; write 00:00-24:00 for the whole day"
            )

    @property
    def wraps(self) -> bool:
        """True when the window runs past midnight into the next day (e.g. 22:00-06:00)."""
        return self.end_minute <= self.start_minute

    @property
    def duration(self) -> timedelta:
        """The window's length on a day without a DST change."""
        return timedelta(
            minutes=(self.end_minute - self.start_minute) % _MINUTES_PER_DAY or _MINUTES_PER_DAY
        )

    def contains(self, t: time) -> bool:
        """Whether the wall-clock time `t` is inside the window (start inclusive, end exclusive).

        Any tzinfo on `t` is ignored: a window is about what the clock on the wall shows.
        """
        # Window edges are whole minutes, so dropping seconds cannot move `t` across an edge.
        minute = t.hour * 60 + t.minute
        if self.wraps:
            return minute >= self.start_minute or minute < self.end_minute
        return self.start_minute <= minute < self.end_minute

    def __str__(self) -> str:
        return f"{_hhmm(self.start_minute)}-{_hhmm(self.end_minute)}"


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_clock_window(text: str) -> ClockWindow:
    """Parse `"HH:MM-HH:MM"` (e.g. `"09:00-18:00"`, `"22:00-06:00"`, `"00:00-24:00"`).

    Full-width digits and punctuation (`０９：００－１８：００`) are accepted as typed by a
    Chinese input method. Raises ValueError saying what is wrong.
    """
    normalised = unicodedata.normalize("NFKC", text).strip()
    match = _WINDOW.fullmatch(normalised)
    if match is None:
        raise ValueError(f"clock window {text!r} is not HH:MM-HH:MM (e.g. 09:00-18:00)")
    start_h, start_m, end_h, end_m = (int(g) for g in match.groups())
    if start_h > 23 or start_m > 59:
        raise ValueError(f"clock window {text!r}: start must be 00:00-23:59")
    if end_m > 59 or end_h > 24 or (end_h == 24 and end_m != 0):
        raise ValueError(f"clock window {text!r}: end must be 00:00-24:00")
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    # "18:00-00:00" means "until midnight"; storing it as 24:00 keeps it a non-wrapping window.
    # "00:00-00:00" stays ambiguous (never or always?) and is rejected below.
    if end == 0 and start != 0:
        end = _MINUTES_PER_DAY
    try:
        return ClockWindow(start, end)
    except ValueError as exc:
        raise ValueError(f"clock window {text!r}: {exc}") from None


def parse_weekdays(names: Sequence[str]) -> frozenset[int]:
    """Day names (`mon` … `sun` or `monday` … `sunday`, any case) → `date.weekday()` numbers.

    A single string is taken as one name. Raises ValueError naming the first unknown name, or
    when no day is given (a rule limited to no days could never match).
    """
    if isinstance(names, str):
        names = [names]
    if not names:
        raise ValueError("no weekdays given (use mon, tue, wed, thu, fri, sat, sun)")
    days: set[int] = set()
    for name in names:
        number = _WEEKDAY_NUMBERS.get(name.strip().casefold())
        if number is None:
            raise ValueError(
                f"unknown weekday {name!r} (use mon, tue, wed, thu, fri, sat, sun or full names)"
            )
        days.add(number)
    return frozenset(days)


def _require_aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} {moment.isoformat()} has no time zone")


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours in a time zone: which days are worked and which hours of them.

    Holidays are never workdays; extra workdays (weekend days worked in exchange for a holiday,
    as in mainland China) always are, unless also listed as holidays; any other day is one when
    its weekday is in `days`, which holds `date.weekday()` numbers (Monday is 0).
    """

    timezone: ZoneInfo
    hours: ClockWindow = ClockWindow(9 * 60, 18 * 60)
    days: frozenset[int] = frozenset(range(5))
    holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        bad = sorted(d for d in self.days if d not in range(7))
        if bad:
            raise ValueError(f"business days must be 0 (Monday) to 6 (Sunday), not {bad}")

    def is_workday(self, d: date) -> bool:
        """Whether `d` is worked: holidays first, then extra workdays, then the weekday."""
        if d in self.holidays:
            return False
        return d in self.extra_workdays or d.weekday() in self.days

    def is_business_time(self, moment: datetime) -> bool:
        """Whether the aware instant `moment` is inside the business hours of some workday."""
        _require_aware(moment, "moment")
        instant = moment.astimezone(UTC)
        day = moment.astimezone(self.timezone).date()
        # The previous day's window may wrap into today; around a DST change at midnight the
        # next day's window may even begin while the local date still reads today.
        for d in (day - _ONE_DAY, day, day + _ONE_DAY):
            if self.is_workday(d):
                lo, hi = self._window(d)
                if lo <= instant < hi:
                    return True
        return False

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Business time elapsed from `start` to `end` (aware instants); zero if end <= start."""
        _require_aware(start, "start")
        _require_aware(end, "end")
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end <= start:
            return timedelta(0)
        total = timedelta(0)
        # Windows come in time order, so the first one opening at or after `end` ends the sum.
        for lo, hi in self._windows_from(start):
            if lo >= end:
                break
            total += max(timedelta(0), min(hi, end) - max(lo, start))
        return total

    def add_business_time(self, start: datetime, amount: timedelta) -> datetime:
        """The earliest instant by which `amount` of business time has elapsed after `start`.

        The inverse of `business_time_between`. The result is in UTC: aware datetimes sharing a
        ZoneInfo subtract and compare by wall clock, which is wrong across DST changes, so a due
        time is best kept in UTC and converted only for display.
        Raises ValueError for a negative amount, or when the calendar runs out of workdays.
        """
        _require_aware(start, "start")
        if amount < timedelta(0):
            raise ValueError(f"cannot add a negative business time ({amount})")
        instant = start.astimezone(UTC)
        if amount == timedelta(0):
            return instant
        remaining = amount
        for lo, hi in self._windows_from(instant):
            begin = max(lo, instant)
            available = hi - begin
            if available <= timedelta(0):
                continue
            # `<=`, not `<`: an amount used up exactly at closing time is due at closing time,
            # not at the next opening.
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise ValueError(
            f"the calendar has no workdays left to fit {amount} of business time after "
            f"{start.isoformat()}"
        )

    # -- windows as UTC instants -------------------------------------------------------------

    def _windows_from(self, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Every workday window, as UTC instants, from the one that may contain `instant` on.

        Endless while any weekday is worked; with only extra workdays it stops after the last.
        """
        day = instant.astimezone(self.timezone).date() - _ONE_DAY
        last: date | None = None
        if not self.days:
            # Only extra workdays are worked: a finite set, so the search must stop after it.
            last = max(self.extra_workdays - self.holidays, default=day - _ONE_DAY)
        # Otherwise the loop is endless, but holidays are finite, so the next workday is at most
        # len(holidays) + 7 days away and the callers' stopping conditions are always reached.
        while last is None or day <= last:
            if self.is_workday(day):
                yield self._window(day)
            day += _ONE_DAY

    def _window(self, d: date) -> tuple[datetime, datetime]:
        """Day `d`'s business window as a pair of UTC instants (possibly empty on a DST day)."""
        end_day = d + _ONE_DAY if self.hours.wraps else d
        lo = self._first_instant_at(d, self.hours.start_minute)
        hi = self._first_instant_at(end_day, self.hours.end_minute)
        return lo, max(lo, hi)

    def _first_instant_at(self, d: date, minute: int) -> datetime:
        """The first UTC instant at which the local clock reads day `d`, `minute`, or later."""
        wall = datetime.combine(d, time()) + timedelta(minutes=minute)
        # fold=0 is the first of two repeated readings, which is what we want in a fold.
        candidate = wall.replace(tzinfo=self.timezone).astimezone(UTC)
        if candidate.astimezone(self.timezone).replace(tzinfo=None) == wall:
            return candidate
        # `wall` was skipped by a forward jump: find the jump. fold=1 resolves the skipped time
        # with the later offset (an instant before the jump); fold=0 with the earlier offset (an
        # instant after it). Bisect between them on whole microseconds.
        before = wall.replace(tzinfo=self.timezone, fold=1).astimezone(UTC)
        after = candidate
        while after - before > _MICROSECOND:
            middle = before + (after - before) // 2
            if middle.astimezone(self.timezone).replace(tzinfo=None) >= wall:
                after = middle
            else:
                before = middle
        return after


def local_send_time(
    date_header: datetime | None, arrival: datetime, tz: ZoneInfo
) -> tuple[datetime, str]:
    """The send time time-based rules look at, in `tz`, and a few words saying where it is from.

    The Date header is trusted unless it is missing or more than a day after the arrival (the
    sender's clock is wrong); then the arrival time is used. A Date header long *before* the
    arrival is kept: mail is legitimately held in queues for days.
    """
    _require_aware(arrival, "arrival")
    if date_header is None:
        return arrival.astimezone(tz), "arrival time (no Date header)"
    _require_aware(date_header, "Date header")
    ahead = date_header - arrival
    if ahead > _ONE_DAY:
        return arrival.astimezone(tz), f"arrival time (Date header {_span(ahead)} after arrival)"
    return date_header.astimezone(tz), "Date header"


def _span(delta: timedelta) -> str:
    """A rough size for a span over a day: whole days from two days up, else whole hours."""
    if delta >= 2 * _ONE_DAY:
        return f"{delta.days} days"
    return f"{int(delta.total_seconds() // 3600)} hours"
