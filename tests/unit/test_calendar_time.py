"""Tests for maild.calendar_time: clock windows, weekdays, business calendars and send times."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from maild.calendar_time import (
    BusinessCalendar,
    ClockWindow,
    local_send_time,
    parse_clock_window,
    parse_weekdays,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
EVERY_DAY = frozenset(range(7))
H = timedelta(hours=1)

# Mainland China's 2026 National Day as an example of holidays with make-up workdays: the dates
# illustrate the mechanism and are not an authority on the official 2026 schedule.
NATIONAL_DAY = frozenset(date(2026, 10, d) for d in range(1, 8))
MAKE_UP_DAYS = frozenset({date(2026, 9, 27), date(2026, 10, 10)})
CHINA = BusinessCalendar(SHANGHAI, holidays=NATIONAL_DAY, extra_workdays=MAKE_UP_DAYS)


def at(tz: ZoneInfo, wall: str) -> datetime:
    """The wall-clock time `wall` ("2026-11-20 17:30") in `tz`; its first reading if repeated."""
    return datetime.fromisoformat(wall).replace(tzinfo=tz)


def later(moment: datetime, delta: timedelta) -> datetime:
    """`delta` of real time after `moment` (adding to a ZoneInfo datetime adds wall-clock time)."""
    return moment.astimezone(UTC) + delta


# -- clock windows ---------------------------------------------------------------------------


def test_parse_plain_window() -> None:
    """A daytime window keeps its minutes and prints back as written."""
    window = parse_clock_window("09:00-18:00")
    assert (window.start_minute, window.end_minute, window.wraps) == (540, 1080, False)
    assert str(window) == "09:00-18:00"
    assert window.duration == 9 * H


def test_window_boundaries_start_inclusive_end_exclusive() -> None:
    """The start minute is inside a window and the end minute is not."""
    window = parse_clock_window("09:00-18:00")
    assert window.contains(time(9, 0))
    assert window.contains(time(17, 59, 59, 999999))
    assert not window.contains(time(18, 0))
    assert not window.contains(time(8, 59, 59, 999999))


def test_window_wrapping_past_midnight() -> None:
    """A window whose end is before its start covers the evening and the early morning."""
    window = parse_clock_window("18:00-09:00")
    assert window.wraps
    assert window.duration == 15 * H
    assert window.contains(time(18, 0))
    assert window.contains(time(23, 59))
    assert window.contains(time(0, 0))
    assert window.contains(time(8, 59, 59))
    assert not window.contains(time(9, 0))
    assert not window.contains(time(12, 0))
    assert not window.contains(time(17, 59, 59))


def test_all_day_window() -> None:
    """00:00-24:00 contains every time of day."""
    window = parse_clock_window("00:00-24:00")
    assert not window.wraps
    assert window.duration == 24 * H
    assert window.contains(time(0, 0))
    assert window.contains(time(23, 59, 59, 999999))


def test_window_ending_at_midnight_written_as_00_00() -> None:
    """An end of 00:00 means "until midnight", the same window as one ending at 24:00."""
    assert parse_clock_window("18:00-00:00") == parse_clock_window("18:00-24:00")
    window = parse_clock_window("18:00-00:00")
    assert window.contains(time(23, 59)) and not window.contains(time(0, 0))


def test_window_accepts_full_width_and_single_digit_hours() -> None:
    """Full-width digits from a Chinese input method and one-digit hours parse normally."""
    assert parse_clock_window("０９：００－１８：００") == ClockWindow(540, 1080)
    assert parse_clock_window(" 9:00 - 18:30 ") == ClockWindow(540, 1110)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("25:00-18:00", "start must be"),
        ("09:60-18:00", "start must be"),
        ("24:00-09:00", "start must be"),
        ("09:00-24:01", "end must be"),
        ("09:00-25:00", "end must be"),
        ("9-18", "not HH:MM-HH:MM"),
        ("0900-1800", "not HH:MM-HH:MM"),
        ("09:00", "not HH:MM-HH:MM"),
        ("", "not HH:MM-HH:MM"),
        ("09:00-09:00", "starts where it ends"),
        ("00:00-00:00", "starts where it ends"),
    ],
)
def test_bad_windows_are_rejected(text: str, message: str) -> None:
    """Malformed, out-of-range and empty-or-ambiguous windows raise ValueError saying why."""
    with pytest.raises(ValueError, match=message):
        parse_clock_window(text)


def test_window_constructor_validates() -> None:
    """A ClockWindow built directly is checked like a parsed one."""
    with pytest.raises(ValueError, match="start"):
        ClockWindow(1440, 60)
    with pytest.raises(ValueError, match="end"):
        ClockWindow(0, 1441)


# -- weekdays --------------------------------------------------------------------------------


def test_parse_weekdays_short_full_and_any_case() -> None:
    """Short and full day names in any case map to date.weekday() numbers."""
    assert parse_weekdays(["mon", "TUE", "Wednesday", "thu", "FRIDAY"]) == frozenset(range(5))
    assert parse_weekdays(["sat", "Sunday", "sun"]) == frozenset({5, 6})


def test_parse_weekdays_single_string_is_one_name() -> None:
    """A bare string is one day name, not a sequence of letters."""
    assert parse_weekdays("sat") == frozenset({5})


@pytest.mark.parametrize("bad", ["fry", "tues", "周一", "", "mon,tue"])
def test_parse_weekdays_names_the_unknown_one(bad: str) -> None:
    """An unknown day name raises ValueError quoting that name."""
    with pytest.raises(ValueError, match=f"unknown weekday {bad!r}"):
        parse_weekdays(["mon", bad])


def test_parse_weekdays_rejects_empty_list() -> None:
    """An empty list of days is an error rather than a condition that never matches."""
    with pytest.raises(ValueError, match="no weekdays"):
        parse_weekdays([])


# -- workdays and business time ------------------------------------------------------------


def test_calendar_defaults_are_weekdays_nine_to_six() -> None:
    """A calendar with only a time zone works 09:00-18:00, Monday to Friday."""
    calendar = BusinessCalendar(SHANGHAI)
    assert str(calendar.hours) == "09:00-18:00"
    assert calendar.days == frozenset(range(5))


def test_calendar_rejects_bad_day_numbers() -> None:
    """Day numbers outside 0..6 are rejected when the calendar is built."""
    with pytest.raises(ValueError, match="0 \\(Monday\\) to 6"):
        BusinessCalendar(SHANGHAI, days=frozenset({7}))


def test_national_day_holidays_and_make_up_workdays() -> None:
    """Holidays are days off even on weekdays; make-up weekend days are worked."""
    assert not CHINA.is_workday(date(2026, 10, 1))  # Thursday, holiday
    assert not CHINA.is_workday(date(2026, 10, 7))  # Wednesday, holiday
    assert CHINA.is_workday(date(2026, 9, 27))  # Sunday, make-up workday
    assert CHINA.is_workday(date(2026, 10, 10))  # Saturday, make-up workday
    assert not CHINA.is_workday(date(2026, 10, 11))  # ordinary Sunday
    assert CHINA.is_workday(date(2026, 10, 8))  # ordinary Thursday


def test_holiday_overrides_extra_workday() -> None:
    """A date listed both as holiday and as extra workday is a day off."""
    day = date(2026, 9, 27)
    calendar = BusinessCalendar(
        SHANGHAI, holidays=frozenset({day}), extra_workdays=frozenset({day})
    )
    assert not calendar.is_workday(day)


def test_is_business_time_converts_to_calendar_zone() -> None:
    """An instant in another zone is judged by the calendar's local clock."""
    assert CHINA.is_business_time(datetime(2026, 11, 20, 1, 30, tzinfo=UTC))  # 09:30 Shanghai
    assert not CHINA.is_business_time(datetime(2026, 11, 20, 10, 0, tzinfo=UTC))  # 18:00
    assert not CHINA.is_business_time(at(SHANGHAI, "2026-11-21 10:00"))  # Saturday
    assert CHINA.is_business_time(at(SHANGHAI, "2026-10-10 10:00"))  # make-up Saturday
    assert not CHINA.is_business_time(at(SHANGHAI, "2026-10-02 10:00"))  # holiday Friday


def test_naive_instants_are_rejected() -> None:
    """Naive datetimes raise ValueError instead of being guessed into a zone."""
    naive = datetime(2026, 11, 20, 10, 0)
    aware = at(SHANGHAI, "2026-11-20 10:00")
    with pytest.raises(ValueError, match="no time zone"):
        CHINA.is_business_time(naive)
    with pytest.raises(ValueError, match="no time zone"):
        CHINA.business_time_between(aware, naive)
    with pytest.raises(ValueError, match="no time zone"):
        CHINA.add_business_time(naive, H)


def test_shanghai_friday_afternoon_high_priority_due_monday() -> None:
    """A message at Friday 17:30 with a 4-hour business target is due Monday 12:30."""
    friday = at(SHANGHAI, "2026-11-20 17:30")
    due = CHINA.add_business_time(friday, 4 * H)
    assert due == at(SHANGHAI, "2026-11-23 12:30")
    assert due.tzinfo is UTC
    assert CHINA.business_time_between(friday, due) == 4 * H


def test_between_is_zero_when_end_not_after_start() -> None:
    """Business time between an instant and an earlier or equal one is zero."""
    moment = at(SHANGHAI, "2026-11-20 10:00")
    assert CHINA.business_time_between(moment, moment) == timedelta(0)
    assert CHINA.business_time_between(moment, moment - H) == timedelta(0)


def test_between_skips_weekends_and_counts_partial_days() -> None:
    """Only the hours inside workday windows count, including partial first and last days."""
    start = at(SHANGHAI, "2026-11-20 17:00")  # Friday
    assert CHINA.business_time_between(start, at(SHANGHAI, "2026-11-23 10:00")) == 2 * H
    assert CHINA.business_time_between(start, at(SHANGHAI, "2026-11-22 23:00")) == H


def test_add_ending_at_closing_time_is_due_at_closing_time() -> None:
    """An amount used up exactly at the end of a window is due then, not at the next opening."""
    due = CHINA.add_business_time(at(SHANGHAI, "2026-11-20 17:00"), H)
    assert due == at(SHANGHAI, "2026-11-20 18:00")


def test_add_from_outside_hours_starts_at_next_opening() -> None:
    """Business time added on a weekend starts counting when the next workday opens."""
    due = CHINA.add_business_time(at(SHANGHAI, "2026-11-21 15:00"), 30 * timedelta(minutes=1))
    assert due == at(SHANGHAI, "2026-11-23 09:30")


def test_add_zero_and_negative_amounts() -> None:
    """Adding zero returns the start itself; a negative amount is an error."""
    saturday = at(SHANGHAI, "2026-11-21 15:00")
    assert CHINA.add_business_time(saturday, timedelta(0)) == saturday
    with pytest.raises(ValueError, match="negative"):
        CHINA.add_business_time(saturday, -H)


def test_72_business_hours_across_national_day() -> None:
    """A low-priority target skips the National Day week and counts the make-up Saturday."""
    start = at(SHANGHAI, "2026-09-30 17:00")  # Wednesday, 1 hour left that day
    due = CHINA.add_business_time(start, 72 * H)
    # 1 h + 9 h each on 10-08, 10-09, 10-10 (make-up Saturday), 10-12 … 10-15 = 64 h, then 8 h.
    assert due == at(SHANGHAI, "2026-10-16 17:00")
    assert CHINA.business_time_between(start, due) == 72 * H
    assert CHINA.business_time_between(start, at(SHANGHAI, "2026-10-08 09:00")) == H


def test_long_spans_finish() -> None:
    """Years of business time are added and measured day by day without stalling."""
    start = at(SHANGHAI, "2026-01-05 09:00")
    due = CHINA.add_business_time(start, 9 * H * 260 * 5)
    assert CHINA.business_time_between(start, due) == 9 * H * 260 * 5
    assert date(2030, 12, 1) < due.date() < date(2031, 1, 31)


def test_calendar_without_workdays_cannot_add() -> None:
    """With no workdays at all, adding business time raises instead of looping forever."""
    idle = BusinessCalendar(SHANGHAI, days=frozenset())
    start = at(SHANGHAI, "2026-11-20 10:00")
    with pytest.raises(ValueError, match="no workdays left"):
        idle.add_business_time(start, H)
    assert idle.business_time_between(start, later(start, 1000 * H)) == timedelta(0)
    assert not idle.is_business_time(start)


def test_calendar_with_only_extra_workdays_runs_out() -> None:
    """Extra workdays alone give a finite amount of business time, then an error."""
    only = BusinessCalendar(SHANGHAI, days=frozenset(), extra_workdays=MAKE_UP_DAYS)
    start = at(SHANGHAI, "2026-09-01 00:00")
    assert only.add_business_time(start, 10 * H) == at(SHANGHAI, "2026-10-10 10:00")
    assert only.business_time_between(start, at(SHANGHAI, "2027-01-01 00:00")) == 18 * H
    with pytest.raises(ValueError, match="no workdays left"):
        only.add_business_time(start, 18 * H + timedelta(microseconds=1))


# -- night shifts: a window wrapping midnight belongs to the day it starts on ---------------

NIGHT = BusinessCalendar(SHANGHAI, hours=parse_clock_window("22:00-06:00"))


def test_night_shift_belongs_to_the_day_it_starts() -> None:
    """Friday's night shift runs into Saturday; Sunday's is not worked, so Monday 02:00 is off."""
    assert NIGHT.is_business_time(at(SHANGHAI, "2026-11-20 23:00"))  # Friday night
    assert NIGHT.is_business_time(at(SHANGHAI, "2026-11-21 05:59"))  # Saturday, Friday's shift
    assert not NIGHT.is_business_time(at(SHANGHAI, "2026-11-21 06:00"))
    assert not NIGHT.is_business_time(at(SHANGHAI, "2026-11-21 23:00"))  # Saturday night
    assert not NIGHT.is_business_time(at(SHANGHAI, "2026-11-23 02:00"))  # Sunday's shift
    assert NIGHT.is_business_time(at(SHANGHAI, "2026-11-23 22:00"))  # Monday night


def test_night_shift_between_and_add_over_a_weekend() -> None:
    """From Friday evening to Monday morning only Friday's 8-hour shift counts."""
    friday = at(SHANGHAI, "2026-11-20 21:00")
    assert NIGHT.business_time_between(friday, at(SHANGHAI, "2026-11-23 07:00")) == 8 * H
    assert NIGHT.add_business_time(friday, 9 * H) == at(SHANGHAI, "2026-11-23 23:00")


def test_night_shift_starting_on_a_holiday_is_off() -> None:
    """The shift starting on the eve of a holiday is worked; the one starting on it is not."""
    calendar = BusinessCalendar(
        SHANGHAI, hours=parse_clock_window("22:00-06:00"), holidays=NATIONAL_DAY
    )
    assert calendar.is_business_time(at(SHANGHAI, "2026-10-01 03:00"))  # Sept 30's shift
    assert not calendar.is_business_time(at(SHANGHAI, "2026-10-01 23:00"))


# -- daylight saving time ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "spring", "autumn"),
    [
        (BERLIN, date(2026, 3, 28), date(2026, 10, 24)),
        (NEW_YORK, date(2026, 3, 7), date(2026, 10, 31)),
    ],
)
def test_night_shift_over_dst_change_counts_real_hours(
    tz: ZoneInfo, spring: date, autumn: date
) -> None:
    """A 22:00-06:00 shift lasts 7 real hours on the spring-forward night, 9 on the fall-back."""
    calendar = BusinessCalendar(tz, hours=parse_clock_window("22:00-06:00"), days=EVERY_DAY)

    def shift(d: date) -> timedelta:
        start = datetime.combine(d, time(21, 0), tzinfo=tz)
        return calendar.business_time_between(start, later(start, 12 * H))

    assert shift(spring) == 7 * H
    assert shift(autumn) == 9 * H
    assert shift(spring - timedelta(days=7)) == 8 * H


def test_all_day_window_on_berlin_dst_days() -> None:
    """A 00:00-24:00 day in Berlin lasts 23 hours on 2026-03-29 and 25 hours on 2026-10-25."""
    calendar = BusinessCalendar(BERLIN, hours=parse_clock_window("00:00-24:00"), days=EVERY_DAY)

    def day_length(d: date) -> timedelta:
        midnight = datetime.combine(d, time(0), tzinfo=BERLIN)
        # Adding a day to a ZoneInfo datetime moves the wall clock: next local midnight.
        return calendar.business_time_between(midnight, midnight + timedelta(days=1))

    assert day_length(date(2026, 3, 29)) == 23 * H
    assert day_length(date(2026, 10, 25)) == 25 * H
    assert day_length(date(2026, 10, 26)) == 24 * H


def test_add_across_new_york_spring_forward_uses_real_time() -> None:
    """24 business hours on a 24/7 calendar end 24 real hours later, 25 wall-clock hours later."""
    calendar = BusinessCalendar(NEW_YORK, hours=parse_clock_window("00:00-24:00"), days=EVERY_DAY)
    start = at(NEW_YORK, "2026-03-07 12:00")
    due = calendar.add_business_time(start, 24 * H)
    assert due == at(NEW_YORK, "2026-03-08 13:00")
    assert due.astimezone(UTC) - start.astimezone(UTC) == 24 * H


def test_office_hours_unchanged_by_a_weekend_dst_change() -> None:
    """A 09:00-18:00 calendar counts 9 hours on the Friday and Monday around a DST weekend."""
    calendar = BusinessCalendar(BERLIN)
    friday = at(BERLIN, "2026-03-27 12:00")
    assert calendar.business_time_between(friday, at(BERLIN, "2026-03-30 12:00")) == 9 * H


def test_window_edge_in_a_skipped_hour_opens_when_the_clock_jumps() -> None:
    """A window opening at 02:30 on the spring-forward day opens at 03:00, when the clock jumps."""
    calendar = BusinessCalendar(BERLIN, hours=parse_clock_window("02:30-06:00"), days=EVERY_DAY)
    assert not calendar.is_business_time(at(BERLIN, "2026-03-29 01:59:59"))
    assert calendar.is_business_time(at(BERLIN, "2026-03-29 03:00"))
    midnight = at(BERLIN, "2026-03-29 00:00")
    assert calendar.business_time_between(midnight, later(midnight, 12 * H)) == 3 * H


def test_window_edge_in_a_repeated_hour_uses_its_first_reading() -> None:
    """A window opening at 02:30 on the fall-back day opens at the first 02:30 (summer time)."""
    calendar = BusinessCalendar(BERLIN, hours=parse_clock_window("02:30-06:00"), days=EVERY_DAY)
    first_0230 = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert calendar.is_business_time(first_0230)
    assert not calendar.is_business_time(first_0230 - timedelta(microseconds=1))
    midnight = at(BERLIN, "2026-10-25 00:00")
    assert calendar.business_time_between(midnight, later(midnight, 12 * H)) == 4.5 * H


# -- properties ----------------------------------------------------------------------------

ZONES = [SHANGHAI, BERLIN, NEW_YORK, ZoneInfo("America/Santiago"), ZoneInfo("Australia/Lord_Howe")]
WINDOWS = ["09:00-18:00", "22:00-06:00", "00:00-24:00", "02:30-03:30", "08:30-12:00", "18:00-09:00"]

calendars = st.builds(
    BusinessCalendar,
    timezone=st.sampled_from(ZONES),
    hours=st.sampled_from(WINDOWS).map(parse_clock_window),
    days=st.frozensets(st.integers(0, 6), min_size=1),
    holidays=st.just(NATIONAL_DAY),
    extra_workdays=st.just(MAKE_UP_DAYS),
)
instants = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2028, 12, 31),
    timezones=st.sampled_from(ZONES),
)
amounts = st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(hours=300))


@settings(deadline=None, max_examples=300)
@given(calendar=calendars, start=instants, amount=amounts)
def test_add_then_between_round_trips(
    calendar: BusinessCalendar, start: datetime, amount: timedelta
) -> None:
    """between(start, add(start, d)) == d, and add returns the earliest such instant."""
    due = calendar.add_business_time(start, amount)
    assert calendar.business_time_between(start, due) == amount
    assert calendar.business_time_between(start, later(due, -timedelta(microseconds=1))) < amount


@settings(deadline=None, max_examples=200)
@given(calendar=calendars, a=instants, b=instants, c=instants)
def test_between_is_additive(
    calendar: BusinessCalendar, a: datetime, b: datetime, c: datetime
) -> None:
    """Business time over [a, c] is the sum over [a, b] and [b, c] for a <= b <= c."""
    a, b, c = sorted([a, b, c], key=lambda m: m.astimezone(UTC))
    total = calendar.business_time_between(a, c)
    assert total == calendar.business_time_between(a, b) + calendar.business_time_between(b, c)
    assert total <= c.astimezone(UTC) - a.astimezone(UTC)


@settings(deadline=None, max_examples=300)
@given(calendar=calendars, moment=instants)
def test_is_business_time_agrees_with_between(calendar: BusinessCalendar, moment: datetime) -> None:
    """An instant is business time exactly when the microsecond starting there counts."""
    tick = calendar.business_time_between(moment, later(moment, timedelta(microseconds=1)))
    assert calendar.is_business_time(moment) == (tick == timedelta(microseconds=1))


@settings(deadline=None, max_examples=200)
@given(calendar=calendars, moment=instants)
def test_is_business_time_matches_wall_clock_away_from_dst(
    calendar: BusinessCalendar, moment: datetime
) -> None:
    """Outside DST changes, business time is a workday's window read on the local wall clock."""
    tz = calendar.timezone
    local = moment.astimezone(tz)
    offsets = {(later(moment, step)).astimezone(tz).utcoffset() for step in (-2 * H, 0 * H, 2 * H)}
    assume(len(offsets) == 1)
    window = calendar.hours
    day = local.date()
    if window.wraps and local.hour * 60 + local.minute < window.end_minute:
        day -= timedelta(days=1)
    expected = window.contains(local.time()) and calendar.is_workday(day)
    assert calendar.is_business_time(moment) == expected


# -- send time -----------------------------------------------------------------------------

ARRIVAL = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def test_send_time_uses_date_header_in_zone() -> None:
    """A plausible Date header is the send time, converted to the configured zone."""
    header = datetime(2026, 11, 20, 1, 55, tzinfo=UTC)
    moment, why = local_send_time(header, ARRIVAL, SHANGHAI)
    assert moment == header and moment.tzinfo is SHANGHAI and moment.hour == 9
    assert why == "Date header"


def test_send_time_without_date_header_uses_arrival() -> None:
    """With no Date header the arrival time is used, and the reason says so."""
    moment, why = local_send_time(None, ARRIVAL, SHANGHAI)
    assert moment == ARRIVAL and moment.tzinfo is SHANGHAI
    assert why == "arrival time (no Date header)"


@pytest.mark.parametrize(
    ("ahead", "reason"),
    [
        (timedelta(days=3), "arrival time (Date header 3 days after arrival)"),
        (timedelta(hours=30), "arrival time (Date header 30 hours after arrival)"),
        (timedelta(days=1, microseconds=1), "arrival time (Date header 24 hours after arrival)"),
    ],
)
def test_send_time_ignores_date_header_more_than_a_day_ahead(ahead: timedelta, reason: str) -> None:
    """A Date header more than a day after arrival is a wrong clock: arrival time is used."""
    moment, why = local_send_time(ARRIVAL + ahead, ARRIVAL, SHANGHAI)
    assert moment == ARRIVAL
    assert why == reason


@pytest.mark.parametrize("offset", [timedelta(days=1), timedelta(hours=-1), timedelta(days=-9)])
def test_send_time_keeps_date_header_up_to_a_day_ahead_or_any_time_before(
    offset: timedelta,
) -> None:
    """A Date header exactly a day ahead, or before arrival (queued mail), is kept."""
    moment, why = local_send_time(ARRIVAL + offset, ARRIVAL, SHANGHAI)
    assert moment == ARRIVAL + offset and why == "Date header"


def test_send_time_rejects_naive_times() -> None:
    """Naive Date header or arrival times raise ValueError."""
    with pytest.raises(ValueError, match="arrival"):
        local_send_time(None, datetime(2026, 11, 20, 2, 0), SHANGHAI)
    with pytest.raises(ValueError, match="Date header"):
        local_send_time(datetime(2026, 11, 20, 2, 0), ARRIVAL, SHANGHAI)
