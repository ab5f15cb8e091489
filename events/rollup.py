"""Hourly event counts, so reports need not count millions of events.

``HourlyCount`` holds, per UTC hour, the number of events for each
combination of device, action, direction, interface, protocol and rule,
with or without the destination port and the source country (four
grains): every column a report may group or filter by except the
addresses. Reports read it for the hours it is current for and the event
table for the rest (``current_hours``), so a result is the same either
way, only faster.

How an hour stays current:

- Whoever writes events marks their hours in the same transaction
  (``mark_hours``, called by the listener's batch writer, ``ingestfile``,
  re-parse, ``enrich`` and ``seeddemo``).
- ``roll_up`` counts each hour whose mark has settled (no write for
  ``ROLLUP_SETTLE_SECONDS``) again and clears the mark, but only if nobody
  marked it meanwhile; a scheduled job runs it every few minutes.
- Hours never counted are read from the events. Events written or
  deleted behind fwsiem's back in an hour already counted are missed by
  reports until ``manage.py rollup --rebuild``.
"""

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import DatabaseError, connection, transaction

from events.models import Event, HourlyCount, RollupHour

logger = logging.getLogger(__name__)

HOUR = timedelta(hours=1)

# Most separate time ranges a report reads from HourlyCount (each is one
# condition in its queries, and so is each gap between them).
MAX_RANGES = 100

# The columns every hourly row is keyed by, named as on Event.
BASE_COLUMNS = ("device", "action", "direction", "interface", "protocol", "rule")

# Grains are bit sets of the two columns that multiply the rows: scanners
# try many ports from many countries, so an hour holds few events per
# (port, country) pair but many per port or per country.
PORT = 1
COUNTRY = 2
GRAINS = (0, PORT, COUNTRY, PORT | COUNTRY)


def grain_columns(grain: int) -> tuple[str, ...]:
    """Return the Event fields the rows of ``grain`` are keyed by."""
    columns = BASE_COLUMNS
    if grain & PORT:
        columns += ("dst_port",)
    if grain & COUNTRY:
        columns += ("src_country",)
    return columns


def grain_for(*, port: bool, country: bool) -> int:
    """Return the smallest grain that keeps the columns a report needs."""
    return (PORT if port else 0) | (COUNTRY if country else 0)


def floor_hour(moment: datetime) -> datetime:
    """Return the start of the UTC hour holding ``moment`` (aware)."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def next_hour(hour: datetime) -> datetime | None:
    """Return the hour after ``hour``; None after the last one a date holds.

    A device whose clock is wildly wrong can send events dated in the year
    9999, and its hour has no successor.
    """
    try:
        return hour + HOUR
    except OverflowError:
        return None


def hours_of_rows(rows: Iterable[tuple]) -> set[datetime]:
    """Return the UTC hours of event rows whose first value is occurred_at.

    The writers pass occurred_at as the database text of a UTC time
    ("2026-12-03 22:07:19.123456"), whose first 13 characters name the
    hour; an aware datetime is accepted too.
    """
    texts = set()
    moments = set()
    for row in rows:
        value = row[0]
        if isinstance(value, str):
            texts.add(value[:13])
        else:
            moments.add(floor_hour(value))
    for text in texts:
        moments.add(datetime.strptime(text, "%Y-%m-%d %H").replace(tzinfo=UTC))
    return moments


def mark_hours(hours: Iterable[datetime]) -> None:
    """Mark ``hours`` to be counted again, inside the writing transaction.

    Marks are written in hour order, so two writers lock them in the same
    order and cannot deadlock on them. One upsert in SQL of our own: the
    listener's writer runs it for every batch.
    """
    hours = sorted(hours)
    if not hours:
        return
    adapt = connection.ops.adapt_datetimefield_value
    now = adapt(datetime.now(UTC))
    statement = _mark_statement(connection.vendor)
    with connection.cursor() as cursor:
        cursor.executemany(statement, [(adapt(hour), now) for hour in hours])


@cache
def _mark_statement(vendor: str) -> str:
    """Return the upsert of marks in ``vendor``'s SQL, built once."""
    quote = connection.ops.quote_name
    table = quote(RollupHour._meta.db_table)
    hour = quote(RollupHour._meta.get_field("hour").column)
    marked = quote(RollupHour._meta.get_field("marked_at").column)
    insert = f"INSERT INTO {table} ({hour}, {marked}) VALUES (%s, %s)"
    if vendor == "mysql":
        return f"{insert} ON DUPLICATE KEY UPDATE {marked} = VALUES({marked})"
    return f"{insert} ON CONFLICT ({hour}) DO UPDATE SET {marked} = excluded.{marked}"


@dataclass
class RollupResult:
    """What one ``roll_up`` run did, in hours and rows.

    ``retried`` hours were marked again while being counted, ``failed``
    ones refused by the database, ``left`` ones not reached in time; all
    three stay marked for the next run.
    """

    hours: int = 0
    rows: int = 0
    retried: int = 0
    failed: int = 0
    left: int = 0
    seconds: float = 0.0


def roll_up(
    *,
    settle: timedelta | None = None,
    seconds: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> RollupResult:
    """Count again every hour marked at least ``settle`` ago, newest first.

    ``settle`` defaults to ROLLUP_SETTLE_SECONDS, so the hour being written
    now is left to the event table until its writes stop. Stops starting
    new hours after ``seconds`` (no limit by default); ``result.left`` says
    how many were due but not done. Calls ``progress(1)`` per hour.
    """
    began = time.monotonic()
    if settle is None:
        settle = timedelta(seconds=settings.ROLLUP_SETTLE_SECONDS)
    cutoff = datetime.now(UTC) - settle
    due = list(
        RollupHour.objects.filter(marked_at__lte=cutoff)
        .order_by("-hour")
        .values_list("hour", flat=True)
    )

    result = RollupResult()
    for position, hour in enumerate(due):
        if seconds is not None and time.monotonic() - began > seconds:
            result.left = len(due) - position
            break
        try:
            rows = roll_hour(hour)
        except DatabaseError:
            # One hour the database refuses must not stop the others; it
            # stays marked and is tried again by the next run.
            logger.exception("roll-up of hour %s failed", hour)
            result.failed += 1
            rows = 0
        else:
            if rows is None:
                result.retried += 1
            else:
                result.hours += 1
                result.rows += rows
        if progress:
            progress(1)
    result.seconds = time.monotonic() - began
    logger.info(
        "roll-up hours=%d rows=%d retried=%d failed=%d left=%d seconds=%.1f",
        result.hours,
        result.rows,
        result.retried,
        result.failed,
        result.left,
        result.seconds,
    )
    return result


def roll_hour(hour: datetime) -> int | None:
    """Replace the counts of one hour at every grain; return their rows.

    Returns None, and changes nothing, when the hour was marked again while
    it was being counted (a writer added events): it stays marked and is
    counted by a later run. The mark is read before the events, so a write
    that lands in between always changes it.
    """
    with transaction.atomic():
        marked_at = (
            RollupHour.objects.filter(hour=hour)
            .values_list("marked_at", flat=True)
            .first()
        )
        if marked_at is None:
            return 0

        HourlyCount.objects.filter(grain__in=GRAINS, hour=hour).delete()
        rows = 0
        with connection.cursor() as cursor:
            for grain in GRAINS:
                cursor.execute(*_count_statement(grain, hour))
                rows += cursor.rowcount
        cleared = RollupHour.objects.filter(hour=hour, marked_at=marked_at).update(
            marked_at=None, rolled_at=datetime.now(UTC)
        )
        if not cleared:
            transaction.set_rollback(True)
            return None
    return rows


def _count_statement(grain: int, hour: datetime) -> tuple[str, list]:
    """Return the INSERT ... SELECT that counts one hour at one grain.

    The database groups and inserts in one statement, so no event row
    travels to Python. Columns the grain drops get NULL or "". On
    MySQL/MariaDB under READ COMMITTED the SELECT reads a snapshot and
    locks no event rows.
    """
    quote = connection.ops.quote_name
    kept = grain_columns(grain)
    targets = ["grain", "hour", *BASE_COLUMNS, "dst_port", "src_country", "events"]
    values = ["%s", "%s"]
    for name in (*BASE_COLUMNS, "dst_port", "src_country"):
        if name in kept:
            values.append(quote(Event._meta.get_field(name).column))
        else:
            values.append("NULL" if name == "dst_port" else "''")
    values.append("COUNT(*)")
    keys = ", ".join(quote(Event._meta.get_field(name).column) for name in kept)
    time_column = quote(Event._meta.get_field("occurred_at").column)
    adapt = connection.ops.adapt_datetimefield_value
    params = [grain, adapt(hour), adapt(hour)]
    within = f"{time_column} >= %s"
    following = next_hour(hour)
    if following is not None:
        within += f" AND {time_column} < %s"
        params.append(adapt(following))
    sql = (
        f"INSERT INTO {quote(HourlyCount._meta.db_table)} "
        f"({', '.join(quote(HourlyCount._meta.get_field(n).column) for n in targets)}) "
        f"SELECT {', '.join(values)} FROM {quote(Event._meta.db_table)} "
        f"WHERE {within} GROUP BY {keys}"
    )
    return sql, params


def hours_with_events() -> Iterable[datetime]:
    """Yield each UTC hour that holds events, oldest first.

    Seeks from one hour to the next event through the time index, so it
    issues one small query per hour with events, not a scan of the table.
    """
    moment = Event.objects.order_by("occurred_at").values_list("occurred_at", flat=True)
    following = moment.first()
    while following is not None:
        hour = floor_hour(following)
        yield hour
        after = next_hour(hour)
        if after is None:
            return
        following = moment.filter(occurred_at__gte=after).first()


def mark_all() -> int:
    """Mark every hour with events; drop counts of hours left without any.

    Returns the number of hours marked. For events written or removed
    without fwsiem's writers (SQL by hand, a restored backup).
    """
    began = datetime.now(UTC)
    marked = 0
    batch: list[datetime] = []
    for hour in hours_with_events():
        batch.append(hour)
        if len(batch) >= 1000:
            mark_hours(batch)
            marked += len(batch)
            batch = []
    mark_hours(batch)
    marked += len(batch)

    # Every hour with events was marked since ``began``; the rest hold none.
    with transaction.atomic():
        empty = RollupHour.objects.exclude(marked_at__gte=began)
        HourlyCount.objects.filter(hour__in=empty.values("hour")).delete()
        empty.delete()
    return marked


def current_hours(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Return the whole hours of [start, end) where HourlyCount is current.

    Adjacent hours are joined, so a window rolled up throughout gives one
    range. Everything outside these ranges is to be read from the events.

    Hours without events have no row and split the ranges; a quiet device
    over a long window could give thousands, more conditions than a query
    may hold. Only the MAX_RANGES longest are returned then: the short ones
    between them hold few events, which are read from the event table.
    """
    first = floor_hour(start)
    if first < start:
        first += HOUR
    hours = (
        RollupHour.objects.filter(
            hour__gte=first,
            hour__lte=end - HOUR,
            marked_at__isnull=True,
            rolled_at__isnull=False,
        )
        .order_by("hour")
        .values_list("hour", flat=True)
    )
    ranges: list[tuple[datetime, datetime]] = []
    for hour in hours:
        if ranges and ranges[-1][1] == hour:
            ranges[-1] = (ranges[-1][0], hour + HOUR)
        else:
            ranges.append((hour, hour + HOUR))
    if len(ranges) > MAX_RANGES:
        longest = sorted(ranges, key=lambda pair: pair[0] - pair[1])[:MAX_RANGES]
        ranges = sorted(longest)
    return ranges


def overdue_hours(start: datetime, end: datetime, *, late: timedelta) -> int:
    """Count the hours of [start, end) marked more than ``late`` ago.

    The scheduled job counts a marked hour within minutes; many overdue
    hours mean it is not running, and reports read the events instead.
    """
    return RollupHour.objects.filter(
        hour__gte=floor_hour(start),
        hour__lt=end,
        marked_at__lt=datetime.now(UTC) - late,
    ).count()


def complement(
    start: datetime, end: datetime, ranges: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """Return the parts of [start, end) outside the ordered ``ranges``."""
    gaps = []
    cursor = start
    for low, high in ranges:
        if low > cursor:
            gaps.append((cursor, low))
        cursor = max(cursor, high)
    if cursor < end:
        gaps.append((cursor, end))
    return gaps
