"""The city's clock: the one definition of China's time zone, and "today" and "now" as the
service hall reads them.

`system_now` is the one function that reads the machine's clock: the app and the command line
take it as their default clock, and everything else receives `now` as a parameter, so tests
inject the time and a server on UTC never shows yesterday's date."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def local_today(now: datetime) -> date:
    """Beijing's date at the instant `now` (an aware datetime)."""
    return now.astimezone(CHINA).date()


def local_time(moment: datetime) -> str:
    """A timestamp as people in the hall read it: Beijing time, to the minute."""
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def local_midnight(day: date) -> datetime:
    """00:00 Beijing time on `day`, as an aware datetime."""
    return datetime.combine(day, datetime.min.time(), tzinfo=CHINA)


def system_now() -> datetime:
    """The machine's clock, as an aware UTC datetime."""
    return datetime.now(UTC)
