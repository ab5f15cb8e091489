"""Time buckets: the truncations a report may use, and their local starts.

Buckets follow the current time zone (``FWSIEM_TIME_ZONE``). The database
truncates; Python enumerates every bucket of a window so that empty ones
show as zero.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connections
from django.db.models import (
    DateTimeField,
    F,
    Func,
    Value,
)
from django.db.models.functions import TruncDay, TruncHour, TruncMonth, TruncWeek
from django.utils import timezone

from dashboards.spec import Bucket

TRUNCATIONS = {
    Bucket.HOUR: TruncHour,
    Bucket.DAY: TruncDay,
    Bucket.WEEK: TruncWeek,
    Bucket.MONTH: TruncMonth,
}

BUCKET_LENGTH = {
    Bucket.HOUR: timedelta(hours=1),
    Bucket.DAY: timedelta(days=1),
    Bucket.WEEK: timedelta(weeks=1),
    Bucket.MONTH: timedelta(days=31),
}


@dataclass(frozen=True)
class Window:
    """The half-open time range ``[start, end)`` a run covers (aware)."""

    start: datetime
    end: datetime


# strftime formats that cut SQLite's "YYYY-MM-DD HH:MM:SS" text to a bucket.
SQLITE_FORMATS = {
    Bucket.HOUR: "%Y-%m-%d %H:00:00",
    Bucket.DAY: "%Y-%m-%d 00:00:00",
    Bucket.WEEK: "%Y-%m-%d 00:00:00",
    Bucket.MONTH: "%Y-%m-01 00:00:00",
}


def sqlite_local_truncation(
    bucket: str, offset: timedelta, field: str = "occurred_at"
) -> Func:
    """Cut the time ``field`` to local ``bucket`` starts with SQLite built-ins.

    The result is local wall-clock text; ``offset`` (the zone's UTC offset)
    is passed as a parameter. Weeks start on Monday, as TruncWeek's do.
    """
    modifiers = [Value(f"{offset.total_seconds():+.0f} seconds")]
    if bucket == Bucket.WEEK:
        modifiers += [Value("weekday 0"), Value("-6 days")]
    return Func(
        Value(SQLITE_FORMATS[bucket]),
        F(field),
        *modifiers,
        function="strftime",
        output_field=DateTimeField(),
    )


def window_offsets(window: Window) -> set[timedelta]:
    """Return every UTC offset the current time zone has within ``window``.

    Samples the offset at both ends and once a day between them: zones
    change their offset at most a few times a year and keep each for
    months, so a daily sample finds every offset a window spans.
    """
    offsets = {timezone.localtime(window.end).utcoffset()}
    moment = window.start
    while moment < window.end:
        offsets.add(timezone.localtime(moment).utcoffset())
        moment += timedelta(days=1)
    return offsets


def needs_fixed_offset() -> bool:
    """Tell if the database cannot convert to the current zone by name."""
    connection = connections["default"]
    if connection.vendor != "mysql":
        return False
    if timezone.get_current_timezone_name() in ("UTC", connection.timezone_name):
        return False
    return not connection.features.has_zoneinfo_database


def bucket_starts(bucket: str, window: Window) -> list[datetime]:
    """Every bucket start from the window's start to its end, local time.

    Matches the database's truncation in the current time zone, so that
    buckets with no events still appear (as zero) on a chart.
    """
    zone = timezone.get_current_timezone()
    moment = _truncate(bucket, window.start.astimezone(zone))
    starts = []
    while moment < window.end:
        starts.append(moment)
        moment = next_bucket(bucket, moment)
    return starts


def _truncate(bucket: str, moment: datetime) -> datetime:
    if bucket == Bucket.HOUR:
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0, fold=0)
    if bucket == Bucket.WEEK:
        day -= timedelta(days=day.weekday())
    elif bucket == Bucket.MONTH:
        day = day.replace(day=1)
    return normalize(day)


def next_bucket(bucket: str, moment: datetime) -> datetime:
    """Return the start of the bucket after the one starting at ``moment``."""
    zone = moment.tzinfo
    if bucket == Bucket.HOUR:
        # Where a clock change is half an hour (Lord Howe Island), an hour
        # later can still fall in the same local hour; the next one starts
        # at most half an hour after that.
        following = moment.astimezone(UTC) + timedelta(hours=1)
        while (start := _truncate(bucket, following.astimezone(zone))) <= moment:
            following += timedelta(minutes=30)
        return start
    if bucket == Bucket.DAY:
        return normalize(moment + timedelta(days=1))
    if bucket == Bucket.WEEK:
        return normalize(moment + timedelta(weeks=1))
    year, month = (
        (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    )
    return normalize(moment.replace(year=year, month=month, day=1))


def normalize(moment: datetime) -> datetime:
    """Resolve a wall-clock time that a DST change skipped to a real one."""
    return moment.astimezone(UTC).astimezone(moment.tzinfo)
