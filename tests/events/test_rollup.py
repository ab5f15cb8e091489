"""Hourly roll-up: marks, counts, the conditional clear and who marks."""

import re
import threading
import time
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import override_settings

from events import rollup
from events.models import Device, Event, HourlyCount, RollupHour, UnparsedMessage
from events.reparse import reparse
from events.rollup import (
    HOUR,
    MAX_RANGES,
    complement,
    current_hours,
    floor_hour,
    hours_of_rows,
    mark_all,
    mark_hours,
    roll_hour,
    roll_up,
)
from events.tasks import ROLLUP_SCHEDULE, ensure_schedules, roll_up_settled_hours
from tests.events.test_reparse import (  # noqa: F401 (a fixture)
    FORMAT,
    fix_the_parser,
    ingest,
    narrow_format,
)
from tests.events.test_writer import make_writer, parsed_items, pfsense_lines
from tests.factories import insert_events

H10 = datetime(2026, 12, 2, 10, tzinfo=UTC)
H11 = H10 + HOUR
H12 = H11 + HOUR
NO_SETTLE = timedelta(0)


@pytest.fixture
def add_events(device):
    """Insert ``count`` copies of one event at ``at``, behind the writers."""

    def add(count: int, at: datetime, **fields) -> None:
        fields = {"device": device, "occurred_at": at, "received_at": at, **fields}
        insert_events(count, **fields)

    return add


# The columns HourlyCount rows are keyed by, named as on Event.
KEYS = [
    field.attname
    for field in HourlyCount._meta.concrete_fields
    if field.name not in ("id", "grain", "hour", "events")
]


def finest(hour: datetime):
    """The HourlyCount rows of ``hour`` that keep every key column.

    With grains (``rollup.grain_for``) that is the port-and-country grain;
    without, every row.
    """
    rows = HourlyCount.objects.filter(hour=hour)
    grain_for = getattr(rollup, "grain_for", None)
    if grain_for is not None:
        rows = rows.filter(grain=grain_for(port=True, country=True))
    return rows


def counted(hour: datetime) -> Counter:
    """The finest counts of ``hour`` as {key column values: events}."""
    rows = finest(hour).values_list(*KEYS, "events")
    return Counter({tuple(row[:-1]): row[-1] for row in rows})


def counted_in_python(hour: datetime) -> Counter:
    """The events of ``hour`` grouped by the key columns, in Python."""
    rows = Event.objects.values_list("occurred_at", *KEYS)
    return Counter(tuple(row[1:]) for row in rows if floor_hour(row[0]) == hour)


def snapshot() -> list[tuple]:
    """Every HourlyCount row but its id, in a stable order."""
    names = [f.attname for f in HourlyCount._meta.concrete_fields if f.name != "id"]
    return sorted(HourlyCount.objects.values_list(*names), key=repr)


def total() -> int:
    """The events the finest counts hold, over all hours."""
    hours = set(HourlyCount.objects.values_list("hour", flat=True))
    return sum(sum(counted(hour).values()) for hour in hours)


def mark_of(hour: datetime) -> RollupHour:
    return RollupHour.objects.get(hour=hour)


@contextmanager
def marked_again_while_counting(hour: datetime):
    """Mark ``hour`` as a writer would, once roll_hour has read the mark.

    The mark is written when the roll-up's GROUP BY over the events is
    sent, i.e. between reading the mark and clearing it.
    """
    fired = []

    def hook(execute, sql, params, many, context):
        if not fired and "GROUP BY" in sql and Event._meta.db_table in sql:
            fired.append(sql)
            mark_hours([hour])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(hook):
        yield fired


def test_hours_of_rows_reads_database_text_and_aware_datetimes():
    """Text rows give their first 13 characters; datetimes their UTC hour."""
    tokyo = ZoneInfo("Asia/Tokyo")
    rows = [
        ("2026-12-03 22:07:19.123456", "x"),
        ("2026-12-03 22:59:59", "x"),
        ("2026-12-04 00:00:00", "x"),
        (datetime(2026, 12, 4, 9, 30, tzinfo=tokyo), "x"),  # 00:30 UTC
        (datetime(2026, 12, 3, 23, 59, 59, 999999, tzinfo=UTC), "x"),
    ]

    assert hours_of_rows(rows) == {
        datetime(2026, 12, 3, 22, tzinfo=UTC),
        datetime(2026, 12, 3, 23, tzinfo=UTC),
        datetime(2026, 12, 4, 0, tzinfo=UTC),
    }
    assert hours_of_rows([]) == set()


@pytest.mark.django_db
def test_marking_twice_keeps_one_row_and_moves_its_mark():
    """mark_hours upserts: one row per hour, marked_at updated."""
    mark_hours([H10])
    first = mark_of(H10).marked_at
    mark_hours([H11, H10])

    assert RollupHour.objects.count() == 2
    assert mark_of(H10).marked_at > first
    assert mark_of(H10).rolled_at is None


@pytest.mark.django_db
def test_marking_a_rolled_hour_keeps_when_it_was_rolled(add_events):
    """A new mark sets marked_at only; rolled_at stays as it was."""
    add_events(1, H10)
    mark_hours([H10])
    roll_hour(H10)
    rolled_at = mark_of(H10).rolled_at

    mark_hours([H10])

    assert mark_of(H10).marked_at is not None
    assert mark_of(H10).rolled_at == rolled_at


@pytest.mark.django_db
def test_roll_hour_counts_the_events_of_its_hour_and_clears_the_mark(
    add_events, device
):
    """Counts equal a GROUP BY of the hour's events; the mark is cleared."""
    other = Device.objects.create(name="rtx")
    add_events(3, H10)
    add_events(1, H10 + timedelta(minutes=59, seconds=59.999999))
    add_events(2, H10 + timedelta(minutes=5), dst_port=None, protocol="icmp")
    add_events(2, H10 + timedelta(minutes=7), device=other, src_country="")
    add_events(1, H10 + timedelta(minutes=8), action="pass", direction="out")
    add_events(1, H10 + timedelta(minutes=9), interface="pppoe0", rule="12")
    add_events(4, H10 - timedelta(microseconds=1))  # the hour before
    add_events(5, H11)  # the hour after
    mark_hours([H10])

    rows = roll_hour(H10)

    assert counted(H10) == counted_in_python(H10)
    assert sum(counted(H10).values()) == 10
    assert len(counted(H10)) == 5
    assert rows == HourlyCount.objects.filter(hour=H10).count()
    assert not HourlyCount.objects.exclude(hour=H10).exists()
    mark = mark_of(H10)
    assert mark.marked_at is None
    assert mark.rolled_at is not None


@pytest.mark.django_db
def test_rolling_again_replaces_the_counts(add_events):
    """New events and a new mark give the new totals, not a sum of runs."""
    add_events(3, H10 + timedelta(minutes=1))
    mark_hours([H10])
    roll_hour(H10)
    add_events(2, H10 + timedelta(minutes=2))
    add_events(1, H10 + timedelta(minutes=2), dst_port=22)
    mark_hours([H10])

    roll_hour(H10)
    roll_hour(H10)  # no mark left: changes nothing

    assert counted(H10) == counted_in_python(H10)
    assert sum(counted(H10).values()) == 6


@pytest.mark.django_db
def test_roll_hour_of_an_unmarked_hour_writes_nothing(add_events):
    """An hour without a mark is not counted (its row count is 0)."""
    add_events(2, H10)

    assert roll_hour(H10) == 0
    assert not HourlyCount.objects.exists()
    assert not RollupHour.objects.exists()


@pytest.mark.django_db
def test_a_mark_written_during_the_count_leaves_the_hour_as_it_was(add_events):
    """Marked again between reading and clearing: None, counts unchanged."""
    add_events(2, H10)
    mark_hours([H10])
    roll_hour(H10)
    before = snapshot()
    add_events(3, H10, dst_port=445)
    mark_hours([H10])
    marked = mark_of(H10)

    with marked_again_while_counting(H10) as fired:
        rows = roll_hour(H10)

    assert fired
    assert rows is None
    assert snapshot() == before
    after = mark_of(H10)
    assert after.marked_at is not None
    assert after.rolled_at == marked.rolled_at
    # A later run, with nobody writing, counts the hour.
    assert roll_hour(H10)
    assert counted(H10) == counted_in_python(H10)


@pytest.mark.skipif(
    connection.vendor != "mysql", reason="SQLite runs one write transaction at a time"
)
@pytest.mark.django_db(transaction=True)
def test_a_writer_committing_during_the_count_makes_roll_hour_retry(add_events, device):
    """Two connections: a writer's mark held until its commit wins the race.

    The writer marks the hour and inserts an event in one transaction
    while the roll-up is counting; the roll-up's conditional clear waits
    for the writer's lock, then finds the mark changed and gives up.
    """
    add_events(2, H10)
    mark_hours([H10])
    written = threading.Event()
    failures = []

    def writer():
        try:
            with transaction.atomic():
                mark_hours([H10])
                add_events(1, H10 + timedelta(minutes=30), dst_port=3389)
                written.set()
                time.sleep(0.3)
        except Exception as error:  # reported by the main thread
            failures.append(error)
            written.set()
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    started = []

    def hook(execute, sql, params, many, context):
        if not started and "GROUP BY" in sql and Event._meta.db_table in sql:
            started.append(True)
            thread.start()
            assert written.wait(10)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(hook):
        rows = roll_hour(H10)
    thread.join(10)

    assert not failures
    assert rows is None
    assert not HourlyCount.objects.exists()
    assert mark_of(H10).marked_at is not None
    assert roll_hour(H10)
    assert sum(counted(H10).values()) == 3


@pytest.mark.django_db
def test_roll_up_leaves_marks_that_have_not_settled(add_events):
    """Only hours marked at least ``settle`` ago are counted."""
    add_events(1, H10)
    add_events(1, H11)
    mark_hours([H10, H11])
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    RollupHour.objects.filter(hour=H10).update(marked_at=long_ago)

    result = roll_up(settle=timedelta(minutes=2))

    assert (result.hours, result.retried, result.left) == (1, 0, 0)
    assert result.rows == HourlyCount.objects.count() > 0
    assert mark_of(H10).marked_at is None
    assert mark_of(H11).marked_at is not None


@pytest.mark.django_db
@override_settings(ROLLUP_SETTLE_SECONDS=300)
def test_roll_up_settles_for_the_configured_seconds_by_default(add_events):
    """Without ``settle``, ROLLUP_SETTLE_SECONDS decides what is due."""
    add_events(1, H10)
    add_events(1, H11)
    mark_hours([H10, H11])
    now = datetime.now(UTC)
    RollupHour.objects.filter(hour=H10).update(marked_at=now - timedelta(minutes=6))
    RollupHour.objects.filter(hour=H11).update(marked_at=now - timedelta(minutes=4))

    assert roll_up().hours == 1
    assert mark_of(H11).marked_at is not None


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now


@pytest.mark.django_db
def test_roll_up_stops_starting_hours_after_its_seconds(add_events, monkeypatch):
    """Past ``seconds``, the remaining due hours are left and counted."""
    for hour in (H10, H11, H12):
        add_events(1, hour)
    mark_hours([H10, H11, H12])
    clock = Clock()
    monkeypatch.setattr(rollup, "time", clock)

    def ten_seconds_per_hour(count: int) -> None:
        clock.now += 10 * count

    result = roll_up(settle=NO_SETTLE, seconds=5, progress=ten_seconds_per_hour)

    assert (result.hours, result.left, result.seconds) == (1, 2, 10)
    # Newest first: the latest hour was counted.
    assert list(RollupHour.objects.filter(marked_at=None).values_list("hour")) == [
        (H12,)
    ]


@pytest.mark.django_db
def test_mark_all_marks_hours_with_events_and_forgets_emptied_ones(add_events):
    """Hours with events get marks; counts of emptied hours are dropped."""
    add_events(2, H10)
    add_events(1, H12 + timedelta(minutes=59))
    add_events(3, H11)
    mark_hours([H10, H11, H12])
    roll_up(settle=NO_SETTLE)
    Event.objects.filter(occurred_at__gte=H11, occurred_at__lt=H12).delete()
    assert HourlyCount.objects.filter(hour=H11).exists()

    marked = mark_all()

    assert marked == 2
    assert set(RollupHour.objects.values_list("hour", flat=True)) == {H10, H12}
    assert not RollupHour.objects.filter(marked_at=None).exists()
    assert not HourlyCount.objects.filter(hour=H11).exists()
    assert HourlyCount.objects.filter(hour=H10).exists()
    roll_up(settle=NO_SETTLE)
    assert sum(counted(H12).values()) == 1


def rolled(*hours: datetime) -> None:
    for hour in hours:
        RollupHour.objects.create(hour=hour, rolled_at=hour + 2 * HOUR)


@pytest.mark.django_db
def test_current_hours_joins_neighbours_and_skips_what_is_not_current():
    """Rolled, unmarked whole hours inside the window, adjacent ones joined."""
    base = datetime(2026, 12, 2, 0, tzinfo=UTC)
    at = [base + n * HOUR for n in range(10)]
    rolled(at[0], at[1], at[2], at[3], at[5], at[7], at[8], at[9])
    RollupHour.objects.create(hour=at[4])  # neither marked nor rolled
    RollupHour.objects.create(hour=at[6], marked_at=at[9], rolled_at=at[6])
    RollupHour.objects.filter(hour=at[8]).update(marked_at=at[9])

    window = (at[0] + timedelta(minutes=30), at[9] + timedelta(minutes=30))
    assert current_hours(*window) == [
        (at[1], at[4]),
        (at[5], at[6]),
        (at[7], at[8]),
    ]
    assert current_hours(at[1], at[3]) == [(at[1], at[3])]
    assert current_hours(at[1], at[3] - timedelta(microseconds=1)) == [(at[1], at[2])]
    assert current_hours(at[1] + timedelta(seconds=1), at[2]) == []


def test_complement_gives_the_parts_outside_the_ranges():
    """The gaps before, between and after ordered ranges; none if covered."""
    t = [datetime(2026, 12, 2, n, tzinfo=UTC) for n in range(8)]
    start, end = t[0] + timedelta(minutes=20), t[7] + timedelta(minutes=5)

    assert complement(start, end, []) == [(start, end)]
    assert complement(start, end, [(t[1], t[3]), (t[4], t[5])]) == [
        (start, t[1]),
        (t[3], t[4]),
        (t[5], end),
    ]
    assert complement(t[1], t[5], [(t[1], t[3]), (t[3], t[5])]) == []


@pytest.mark.django_db
def test_rollup_command_counts_marked_hours_and_says_so(add_events):
    """Without --rebuild only marked hours are counted."""
    add_events(2, H10)
    add_events(1, H11, dst_port=22)
    add_events(1, H11)
    mark_hours([H11])
    out = StringIO()

    call_command("rollup", stdout=out, stderr=StringIO())

    rows = HourlyCount.objects.count()
    assert re.fullmatch(
        rf"Counted 1 hours into {rows} rows in \d+\.\d s\.\n", out.getvalue()
    )
    assert len(counted(H11)) == 2
    assert not HourlyCount.objects.filter(hour=H10).exists()


@pytest.mark.django_db
def test_rollup_rebuild_marks_every_hour_with_events_first(add_events):
    """--rebuild marks hours written behind fwsiem's back and counts them."""
    add_events(2, H10)
    add_events(1, H11, dst_port=22)
    out = StringIO()

    call_command("rollup", "--rebuild", stdout=out, stderr=StringIO())

    rows = HourlyCount.objects.count()
    assert out.getvalue().startswith(
        f"Marked 2 hours with events. Counted 2 hours into {rows} rows in "
    )
    assert total() == 3


@pytest.mark.django_db
def test_rollup_command_names_hours_marked_again_meanwhile(add_events):
    """An hour marked during its count is reported as left for the next run."""
    add_events(2, H10)
    mark_hours([H10])
    out = StringIO()

    with marked_again_while_counting(H10):
        call_command("rollup", stdout=out, stderr=StringIO())

    assert "Counted 0 hours into 0 rows" in out.getvalue()
    assert "1 hours got new events meanwhile" in out.getvalue()


@pytest.mark.django_db
def test_scheduled_job_counts_settled_hours_and_sums_up(add_events):
    """The job's summary line names hours, rows, retries and what is left."""
    add_events(2, H10)
    mark_hours([H10])
    RollupHour.objects.update(marked_at=datetime.now(UTC) - timedelta(hours=1))

    summary = roll_up_settled_hours()

    rows = HourlyCount.objects.count()
    assert summary.startswith(
        f"1 hours, {rows} rows, 0 marked again meanwhile, 0 failed, 0 left, "
    )
    assert sum(counted(H10).values()) == 2


@pytest.mark.django_db
def test_the_schedule_exists_once_after_ensuring_it_twice():
    """ensure_schedules is idempotent and schedules the roll-up job."""
    from django_q.models import Schedule

    ensure_schedules()
    ensure_schedules()

    schedule = Schedule.objects.get(name=ROLLUP_SCHEDULE)
    assert schedule.func == "events.tasks.roll_up_settled_hours"
    assert (schedule.schedule_type, schedule.minutes) == (Schedule.MINUTES, 5)


def event_hours() -> set[datetime]:
    return {floor_hour(t) for t in Event.objects.values_list("occurred_at", flat=True)}


def marked_hours() -> set[datetime]:
    marks = RollupHour.objects.exclude(marked_at=None)
    return set(marks.values_list("hour", flat=True))


@pytest.mark.django_db
def test_the_listener_writer_marks_the_hours_it_writes(device, data_dir):
    """The batch writer marks each hour of its events, and only those."""
    items = parsed_items(pfsense_lines(data_dir), device.pk)
    make_writer().write(items)

    assert Event.objects.exists()
    assert marked_hours() == event_hours()
    roll_up(settle=NO_SETTLE)
    assert total() == Event.objects.count()


@pytest.mark.django_db
def test_a_batch_without_events_marks_nothing(device):
    """Unparsed lines alone leave the roll-up alone."""
    line = b"<134>Jul  3 19:10:31 dhcpd: DHCPACK on 10.0.0.5"
    items = parsed_items([line], device.pk)
    make_writer().write(items)

    assert UnparsedMessage.objects.exists()
    assert not RollupHour.objects.exists()


@pytest.mark.django_db
def test_ingestfile_marks_the_hours_it_writes(data_dir):
    """ingestfile goes through the writer, so its hours are marked too."""
    call_command(
        "ingestfile",
        str(data_dir / "logs" / "opnsense-mixed.log"),
        "--device",
        "opn",
        "--format",
        "opnsense",
        stdout=StringIO(),
        stderr=StringIO(),
    )

    assert Event.objects.exists()
    assert marked_hours() == event_hours()


@pytest.mark.django_db
@pytest.mark.usefixtures("narrow_format")
def test_reparse_marks_the_hours_of_the_events_it_moves(data_dir):
    """Events made from unparsed messages mark their hours again."""
    device = Device.objects.create(name="gw", log_format=FORMAT, time_zone="UTC")
    ingest(device, pfsense_lines(data_dir))
    roll_up(settle=NO_SETTLE)
    assert not marked_hours()
    kept = UnparsedMessage.objects.get()
    fix_the_parser()

    assert reparse([kept.pk]).moved == 1

    moved = Event.objects.get(ip_version=6)
    assert marked_hours() == {floor_hour(moved.occurred_at)}
    roll_up(settle=NO_SETTLE)
    assert total() == Event.objects.count()


@pytest.mark.django_db(transaction=True)
def test_seeddemo_leaves_every_hour_it_wrote_counted():
    """seeddemo marks what it writes (LOAD DATA on MariaDB) and counts it."""
    call_command("seeddemo", events=400, days=1, stdout=StringIO(), verbosity=0)

    assert not marked_hours()
    assert set(RollupHour.objects.values_list("hour", flat=True)) == event_hours()
    assert total() == 400


@pytest.mark.django_db
def test_an_event_in_the_last_hour_a_date_holds_is_counted(add_events):
    """A device clock in the year 9999 stops neither rebuild nor roll-up."""
    last = datetime(9999, 12, 31, 23, tzinfo=UTC)
    add_events(2, last + timedelta(minutes=30))
    add_events(1, H10)

    assert mark_all() == 2
    result = roll_up(settle=NO_SETTLE)

    assert (result.hours, result.failed) == (2, 0)
    assert sum(row.events for row in finest(last)) == 2
    assert sum(row.events for row in finest(H10)) == 1


@pytest.mark.django_db
def test_a_refused_hour_is_logged_and_the_others_still_counted(add_events, caplog):
    """One hour the database refuses stays marked; the run goes on."""
    add_events(1, H10)
    add_events(1, H11)
    mark_hours([H10, H11])

    def refuse_h11(execute, sql, params, many, context):
        if (
            "INSERT INTO" in sql
            and params
            and str(params[1]).startswith("2026-12-02 11")
        ):
            raise DatabaseError("refused for the test")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse_h11):
        result = roll_up(settle=NO_SETTLE)

    assert (result.hours, result.failed) == (1, 1)
    assert RollupHour.objects.get(hour=H11).marked_at is not None
    assert RollupHour.objects.get(hour=H10).marked_at is None
    assert "roll-up of hour 2026-12-02 11:00:00+00:00 failed" in caplog.text


@pytest.mark.django_db
def test_many_separate_hours_give_at_most_max_ranges_the_longest():
    """A quiet device's scattered hours do not grow a query without bound."""
    base = datetime(2025, 1, 1, tzinfo=UTC)
    hours = [base + 2 * n * HOUR for n in range(MAX_RANGES + 50)]
    long_run = [hours[-1] + n * HOUR for n in range(2, 6)]
    RollupHour.objects.bulk_create(
        RollupHour(hour=hour, rolled_at=hour + HOUR) for hour in hours + long_run
    )

    ranges = current_hours(base, long_run[-1] + HOUR)

    assert len(ranges) == MAX_RANGES
    assert ranges == sorted(ranges)
    assert (long_run[0], long_run[-1] + HOUR) in ranges
