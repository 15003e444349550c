from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from markets import calendar

NY = ZoneInfo("America/New_York")


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


def test_sessions_skip_thanksgiving_and_the_weekend() -> None:
    assert calendar.sessions(date(2026, 11, 23), date(2026, 11, 30)) == [
        date(2026, 11, 23),
        date(2026, 11, 24),
        date(2026, 11, 25),
        date(2026, 11, 27),
        date(2026, 11, 30),
    ]


def test_sessions_across_new_year() -> None:
    # 2026-12-25 Christmas (Fri), 2027-01-01 New Year's Day (Fri)
    assert calendar.sessions(date(2026, 12, 24), date(2027, 1, 5)) == [
        date(2026, 12, 24),
        date(2026, 12, 28),
        date(2026, 12, 29),
        date(2026, 12, 30),
        date(2026, 12, 31),
        date(2027, 1, 4),
        date(2027, 1, 5),
    ]


def test_sessions_empty_range() -> None:
    assert calendar.sessions(date(2026, 11, 28), date(2026, 11, 29)) == []


def test_thanksgiving_is_closed_all_day() -> None:
    assert not calendar.is_session(date(2026, 11, 26))
    assert not calendar.is_open(ny(2026, 11, 26, 12))


def test_early_close_day_after_thanksgiving() -> None:
    day = calendar.session(date(2026, 11, 27))
    assert day is not None
    assert day.close == ny(2026, 11, 27, 13).astimezone(UTC)
    assert calendar.is_open(ny(2026, 11, 27, 12, 59))
    assert not calendar.is_open(ny(2026, 11, 27, 13, 0))
    assert calendar.next_close(ny(2026, 11, 27, 10)) == datetime(2026, 11, 27, 18, tzinfo=UTC)


def test_pre_market_is_closed_and_opens_at_0930() -> None:
    at = ny(2026, 11, 25, 8)
    assert not calendar.is_open(at)
    assert calendar.next_open(at) == datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
    assert calendar.next_close(at) == datetime(2026, 11, 25, 21, tzinfo=UTC)


def test_regular_hours_bounds() -> None:
    assert calendar.is_open(ny(2026, 11, 25, 9, 30))
    assert calendar.is_open(ny(2026, 11, 25, 15, 59, 59))
    assert not calendar.is_open(ny(2026, 11, 25, 16))


def test_after_close_before_a_holiday_opens_after_it() -> None:
    assert calendar.next_open(ny(2026, 11, 25, 16, 30)) == ny(2026, 11, 27, 9, 30)


def test_while_open_next_open_is_tomorrow_and_next_close_is_today() -> None:
    at = ny(2026, 11, 24, 11)
    assert calendar.next_open(at) == ny(2026, 11, 25, 9, 30)
    assert calendar.next_close(at) == ny(2026, 11, 24, 16)


def test_weekend() -> None:
    saturday = ny(2026, 11, 28, 11)
    assert not calendar.is_open(saturday)
    assert calendar.next_open(saturday) == ny(2026, 11, 30, 9, 30)


def test_next_open_over_the_year_end() -> None:
    assert calendar.next_open(ny(2026, 12, 31, 17)) == datetime(2027, 1, 4, 14, 30, tzinfo=UTC)


def test_daylight_saving_moves_the_open_in_utc() -> None:
    # DST starts 2026-03-08: 09:30 New York is 13:30 UTC, not 14:30
    day = calendar.session(date(2026, 3, 9))
    assert day is not None
    assert day.open == datetime(2026, 3, 9, 13, 30, tzinfo=UTC)


def test_results_are_utc() -> None:
    assert calendar.next_open(ny(2026, 11, 25, 8)).tzinfo == UTC


@pytest.mark.parametrize(
    ("on_or_before", "expected"),
    [
        (date(2026, 11, 25), date(2026, 11, 25)),  # a session itself
        (date(2026, 11, 26), date(2026, 11, 25)),  # Thanksgiving
        (date(2026, 11, 29), date(2026, 11, 27)),  # Sunday after the early close
        (date(2027, 1, 3), date(2026, 12, 31)),  # across the year end
    ],
)
def test_last_session(on_or_before: date, expected: date) -> None:
    assert calendar.last_session(on_or_before) == expected


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        calendar.is_open(datetime(2026, 11, 25, 12))


def test_calendar_and_schedules_are_cached() -> None:
    calendar.sessions(date(2026, 1, 1), date(2026, 12, 31))
    before = calendar._year.cache_info()

    calendar.sessions(date(2026, 2, 1), date(2026, 3, 1))
    calendar.is_open(ny(2026, 6, 1, 10))

    after = calendar._year.cache_info()
    assert after.misses == before.misses
    assert calendar._calendar.cache_info().currsize == 1
