"""Reports read from hourly counts give exactly what the events give."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from dashboards.query import run_report
from dashboards.spec import parse_spec
from events.models import Device, Event, HourlyCount, RollupHour
from events.rollup import floor_hour, mark_all, mark_hours, roll_up
from tests.factories import insert_events

pytestmark = pytest.mark.django_db

NO_SETTLE = timedelta(0)
GATEWAY = "the gateway's id"

# Minutes from NOW (2026-12-03 12:00 UTC) back to each event time, with
# the hours at both ends of a two-day window and of the uneven window.
OFFSETS = [
    2 * 24 * 60 + 1,  # just before the two-day window: left out
    2 * 24 * 60,  # its first instant
    2 * 24 * 60 - 10,  # 12:10: before the uneven window's start
    2 * 24 * 60 - 30,  # 12:30: inside the uneven window's first hour
    2 * 24 * 60 - 59,
    36 * 60 + 15,
    24 * 60 + 30,  # 2026-12-02 11:30
    24 * 60 - 15,  # 12:15, in the hour of NOW - 1 day
    22 * 60,
    13 * 60 + 1,
    6 * 60,
    45,  # 11:15: inside the uneven window's last hour
    15,  # 11:45: after the uneven window's end
    0,  # NOW itself: the window's end is left out
]
PORTS = [(23, "tcp"), (22, "tcp"), (445, "tcp"), (1500, "tcp"), (53, "udp")]
COUNTRIES = ["CN", "RU", "US", "NL", ""]


@pytest.fixture
def rtx(db) -> Device:
    return Device.objects.create(name="rtx")


@pytest.fixture
def spread(gateway, rtx, now, countries):
    """Insert events of varied columns over the hours of two days."""
    from geo.models import CountryGroup

    group = CountryGroup.objects.create(name="Eastern")
    group.countries.set(["CN", "RU"])
    events = []
    for index, minutes in enumerate(OFFSETS * 3):
        moment = now - timedelta(minutes=minutes, seconds=index % 7)
        port, protocol = PORTS[index % len(PORTS)]
        if index % 11 == 4:
            port, protocol = None, "icmp"
        for copy in range(1 + index % 3):
            events.append(
                Event(
                    occurred_at=moment,
                    received_at=moment,
                    device=gateway if (index + copy) % 4 else rtx,
                    action=["block", "block", "pass", "reject"][index % 4],
                    direction=["in", "in", "out", ""][(index + copy) % 4],
                    interface="igb0" if index % 5 else "pppoe0",
                    ip_version=4,
                    protocol=protocol,
                    src_ip=f"198.51.100.{index % 9}",
                    dst_ip=f"203.0.113.{copy}",
                    src_port=40000 + index,
                    dst_port=port,
                    rule="" if index % 6 else "12",
                    src_country=COUNTRIES[(index + copy) % len(COUNTRIES)],
                )
            )
    Event.objects.bulk_create(events)
    return events


def spec(**definition):
    return parse_spec({"range_last": 2, "chart": "table", **definition})


def cells(result) -> tuple:
    """Everything a table, a chart or an export shows of a result."""
    rows = [(r.bucket, r.key, r.labels, r.value, r.link) for r in result.rows]
    series = [(s.key, s.label, s.values) for s in result.series]
    return rows, result.buckets, series, result.notes


def forget_rollup() -> None:
    HourlyCount.objects.all().delete()
    RollupHour.objects.all().delete()


def roll_up_everything() -> None:
    mark_all()
    roll_up(settle=NO_SETTLE)
    assert not RollupHour.objects.exclude(marked_at=None).exists()


def run_capturing(definition, now) -> tuple:
    """Run a report; return its result and if it read the hourly counts."""
    with CaptureQueriesContext(connection) as queries:
        result = run_report(definition, now)
    table = HourlyCount._meta.db_table
    return result, any(table in query["sql"] for query in queries)


def raw_and_rolled(definition, now) -> tuple:
    """Run a report without any roll-up, then with every hour rolled up."""
    forget_rollup()
    raw, read_hourly = run_capturing(definition, now)
    assert not read_hourly
    roll_up_everything()
    rolled, read_hourly = run_capturing(definition, now)
    return raw, rolled, read_hourly


UNEVEN = {
    "range_last": None,
    "range_from": datetime(2026, 12, 1, 12, 20, tzinfo=UTC),
    "range_to": datetime(2026, 12, 3, 11, 40, tzinfo=UTC),
}

REPORTS = {
    "top ports blocked inbound": dict(
        dimensions=["dst_port"], actions=["block"], directions=["in"], top_n=5
    ),
    "by source country": dict(dimensions=["src_country"], top_n=10),
    "days by country, port and protocol filter": dict(
        bucket="day",
        chart="stacked",
        dimensions=["src_country"],
        ports="23, 1000-2000",
        protocols=["tcp"],
    ),
    "hour buckets": dict(bucket="hour", chart="line"),
    "hour buckets by port, top 2": dict(
        bucket="hour", chart="line", dimensions=["dst_port"], top_n=2
    ),
    "week buckets by protocol": dict(
        range_last=14, bucket="week", chart="line", dimensions=["protocol"]
    ),
    "two dimensions": dict(dimensions=["src_country", "device"], top_n=50),
    "port and country": dict(dimensions=["dst_port", "src_country"], top_n=7),
    "top 2 and other": dict(dimensions=["dst_port"], top_n=2),
    "country group": dict(dimensions=["src_country_group"]),
    "included countries": dict(dimensions=["dst_port"], countries=["CN", "RU"]),
    "excluded countries": dict(
        dimensions=["action"], countries=["CN", "US"], country_mode="exclude"
    ),
    "device filter": dict(dimensions=["protocol"], devices=GATEWAY),
    "action and direction": dict(dimensions=["action", "direction"]),
    "interface and rule": dict(dimensions=["interface", "rule"], actions=["pass"]),
    "total": dict(),
    "total of a port range": dict(ports="1000-2000, 22"),
    "last 30 hours": dict(range_last=30, range_unit="hours", dimensions=["device"]),
    "uneven window": dict(UNEVEN, dimensions=["dst_port"], top_n=3),
    "uneven window, hours": dict(UNEVEN, bucket="hour", chart="line"),
    "uneven window, days by country": dict(
        UNEVEN, bucket="day", chart="line", dimensions=["src_country"], top_n=2
    ),
}


@pytest.mark.parametrize("definition", REPORTS.values(), ids=REPORTS.keys())
def test_hourly_counts_give_the_same_report_as_the_events(
    spread, gateway, now, definition
):
    """A countable report reads the roll-up and shows the same as raw."""
    if definition.get("devices") == GATEWAY:
        definition = {**definition, "devices": [gateway.pk]}
    raw, rolled, read_hourly = raw_and_rolled(spec(**definition), now)

    assert read_hourly
    assert cells(rolled) == cells(raw)
    assert sum(row.value for row in raw.rows) > 0


def test_both_window_edges_are_counted_from_the_events(spread, now):
    """Events in the partial hours at an uneven window's ends still count."""
    definition = spec(**UNEVEN)
    start, end = UNEVEN["range_from"], UNEVEN["range_to"]
    inside = sum(start <= event.occurred_at < end for event in spread)
    roll_up_everything()

    result, read_hourly = run_capturing(definition, now)

    assert read_hourly
    assert [row.value for row in result.rows] == [inside]


def test_a_marked_hour_is_read_from_the_events(spread, add_events, now):
    """Events written after the roll-up, with their mark, are in the report."""
    roll_up_everything()
    moment = now - timedelta(hours=24, minutes=20)
    assert RollupHour.objects.get(hour=floor_hour(moment)).rolled_at is not None
    add_events(4, occurred_at=moment, received_at=moment, dst_port=8080)
    mark_hours([floor_hour(moment)])
    definition = spec(dimensions=["dst_port"], top_n=50)

    marked, read_hourly = run_capturing(definition, now)
    forget_rollup()
    raw = run_report(definition, now)

    assert read_hourly
    assert (("8080/tcp",), 4) in [(row.labels, row.value) for row in marked.rows]
    assert cells(marked) == cells(raw)


UNCOUNTABLE = {
    "distinct sources": dict(dimensions=["dst_port"], metric="distinct_sources"),
    "distinct ports": dict(dimensions=["src_country"], metric="distinct_ports"),
    "source address": dict(dimensions=["src_ip"]),
    "source network": dict(dimensions=["src_network"]),
    "destination address": dict(dimensions=["dst_ip"], bucket="day", chart="line"),
    "source CIDR filter": dict(dimensions=["dst_port"], src_networks="198.51.100.0/29"),
    "destination CIDR filter": dict(dst_networks="203.0.113.1/32"),
}


@pytest.mark.parametrize("definition", UNCOUNTABLE.values(), ids=UNCOUNTABLE.keys())
def test_reports_the_counts_cannot_answer_never_read_them(spread, now, definition):
    """Distinct counts, addresses and CIDR filters read the events only."""
    raw, rolled, read_hourly = raw_and_rolled(spec(**definition), now)

    assert not read_hourly
    assert cells(rolled) == cells(raw)
    assert sum(row.value for row in raw.rows) > 0


@override_settings(TIME_ZONE="Asia/Kolkata")
def test_half_hour_zone_day_buckets_read_the_events(spread, now):
    """Local days start at :30 UTC in India: hourly counts cannot cut them."""
    definition = spec(bucket="day", chart="stacked", dimensions=["src_country"])

    raw, rolled, read_hourly = raw_and_rolled(definition, now)

    assert not read_hourly
    assert cells(rolled) == cells(raw)
    assert [b.strftime("%d %H:%M") for b in raw.buckets] == [
        "01 00:00",
        "02 00:00",
        "03 00:00",
    ]


@override_settings(TIME_ZONE="Asia/Kolkata")
def test_half_hour_zone_totals_still_use_the_counts(spread, now):
    """Without buckets the zone does not matter: whole UTC hours add up."""
    raw, rolled, read_hourly = raw_and_rolled(spec(dimensions=["dst_port"]), now)

    assert read_hourly
    assert cells(rolled) == cells(raw)


@override_settings(TIME_ZONE="Asia/Tokyo")
def test_whole_hour_zone_day_buckets_use_the_counts(spread, now):
    """Tokyo's days start on a whole UTC hour (15:00): the counts serve."""
    definition = spec(bucket="day", chart="stacked", dimensions=["dst_port"])

    raw, rolled, read_hourly = raw_and_rolled(definition, now)

    assert read_hourly
    assert cells(rolled) == cells(raw)


@override_settings(TIME_ZONE="America/New_York")
def test_day_buckets_across_a_daylight_saving_change(gateway):
    """Days of 25 hours (1 November 2026 in New York) add up the same."""
    start = datetime(2026, 10, 31, 5, tzinfo=UTC)
    moments = [start + timedelta(minutes=40 * n) for n in range(100)]
    Event.objects.bulk_create(
        Event(
            occurred_at=moment,
            received_at=moment,
            device=gateway,
            action="block",
            ip_version=4,
            protocol="tcp",
            src_ip="198.51.100.1",
            dst_ip="203.0.113.1",
            dst_port=23 if n % 3 else 22,
        )
        for n, moment in enumerate(moments)
    )
    definition = spec(
        range_last=None,
        range_from=datetime(2026, 10, 31, 4, tzinfo=UTC),
        range_to=datetime(2026, 11, 3, 5, tzinfo=UTC),
        bucket="day",
        chart="line",
        dimensions=["dst_port"],
    )

    raw, rolled, read_hourly = raw_and_rolled(definition, None)

    assert read_hourly
    assert cells(rolled) == cells(raw)
    assert sum(row.value for row in rolled.rows) == 100


def day_values(result) -> list[tuple[str, int]]:
    return [(row.bucket.strftime("%m-%d"), row.value) for row in result.rows]


def one_event(gateway, moment: datetime) -> None:
    insert_events(device=gateway, occurred_at=moment, received_at=moment)


@override_settings(TIME_ZONE="Europe/Berlin")
def test_summer_days_of_a_window_that_starts_and_ends_in_winter(gateway):
    """Day buckets use the offset of each day, not the one at both ends.

    22:30 UTC on 10 June is 00:30 on the 11th in Berlin (UTC+2), though
    the window's ends are in winter (UTC+1). Without zone tables MariaDB
    may be an hour off, but must then say so.
    """
    one_event(gateway, datetime(2026, 6, 10, 22, 30, tzinfo=UTC))
    definition = spec(
        range_last=None,
        range_from=datetime(2026, 1, 10, tzinfo=UTC),
        range_to=datetime(2026, 12, 10, tzinfo=UTC),
        bucket="day",
        chart="line",
    )

    raw, rolled, _read_hourly = raw_and_rolled(definition, None)

    assert cells(rolled) == cells(raw)
    said = any("time zone tables" in note for note in raw.notes)
    assert day_values(raw) == [("06-11", 1)] or said


@override_settings(TIME_ZONE="Australia/Lord_Howe")
def test_half_hour_season_inside_a_window_with_whole_hour_ends(gateway):
    """Winter days in Lord Howe start inside an hour: counts cannot cut them.

    Lord Howe is UTC+11 in summer and UTC+10:30 in winter, when its days
    start at 13:30 UTC; a window from summer to summer has whole-hour
    offsets at both ends only.
    """
    one_event(gateway, datetime(2026, 6, 10, 13, 10, tzinfo=UTC))  # 23:40
    one_event(gateway, datetime(2026, 6, 10, 13, 40, tzinfo=UTC))  # 00:10
    definition = spec(
        range_last=None,
        range_from=datetime(2026, 3, 1, tzinfo=UTC),
        range_to=datetime(2026, 11, 1, tzinfo=UTC),
        bucket="day",
        chart="line",
    )
    roll_up_everything()

    rolled = run_report(definition)

    said = any("time zone tables" in note for note in rolled.notes)
    assert day_values(rolled) == [("06-10", 1), ("06-11", 1)] or said


def test_enrich_reaches_reports_read_from_the_counts(make_source, add_events, now):
    """Countries filled in by ``enrich`` show in reports by country.

    ``enrich`` rewrites ``src_country`` of stored events; the hours it
    touches must be counted again, or reports keep the old countries.
    """
    from geo import index

    moment = now - timedelta(hours=3)
    # 1.0.16.5 is in Japan in the registry file below.
    add_events(
        3, occurred_at=moment, received_at=moment, src_ip="1.0.16.5", src_country=""
    )
    roll_up_everything()
    quiet = {"verbosity": 0, "stdout": StringIO(), "stderr": StringIO()}
    call_command("refresh_geo", source=str(make_source()), **quiet)
    index.forget()
    call_command("enrich", **quiet)
    definition = spec(dimensions=["src_country"])

    rolled = run_report(definition, now)
    forget_rollup()
    raw = run_report(definition, now)

    assert [(r.key, r.value) for r in raw.rows] == [((("JP",),), 3)]
    assert cells(rolled) == cells(raw)


@pytest.fixture
def make_source(tmp_path):
    """Return a function writing small registry files to a directory."""
    from geo import index
    from tests.geo.conftest import (
        APNIC_RECORDS,
        RIPE_RECORDS,
        delegated,
        write_registry,
    )

    def make():
        write_registry(tmp_path, "apnic", delegated("apnic", APNIC_RECORDS))
        write_registry(tmp_path, "ripencc", delegated("ripencc", RIPE_RECORDS))
        return tmp_path

    index.forget()
    yield make
    index.forget()


def test_hours_waiting_long_for_the_job_are_mentioned(spread, now):
    """A report says when marked hours wait far past their settling time."""
    roll_up_everything()
    definition = spec(dimensions=["dst_port"])
    hours = [floor_hour(now - timedelta(hours=n)) for n in (3, 4)]
    mark_hours(hours)

    fresh = run_report(definition, now)
    RollupHour.objects.filter(hour__in=hours).update(
        marked_at=datetime.now(UTC) - timedelta(hours=1)
    )
    overdue = run_report(definition, now)
    raw = run_report(spec(dimensions=["dst_port"], metric="distinct_sources"), now)

    assert not any("not counted" in note for note in fresh.notes)
    assert any(
        note.startswith("2 hours of this range are not counted")
        for note in overdue.notes
    )
    assert not any("not counted" in note for note in raw.notes)
    assert [row.value for row in overdue.rows] == [row.value for row in fresh.rows]


def test_a_report_over_thousands_of_scattered_hours_runs(add_events, now):
    """Counted hours split by empty ones still make a query SQLite accepts."""
    hours = [floor_hour(now) - (2 * n + 1) * timedelta(hours=1) for n in range(1500)]
    RollupHour.objects.bulk_create(
        RollupHour(hour=hour, rolled_at=hour + timedelta(hours=1)) for hour in hours
    )
    moment = hours[700] + timedelta(minutes=10)
    add_events(occurred_at=moment, received_at=moment)
    mark_hours([floor_hour(moment)])

    result = run_report(spec(dimensions=["dst_port"], range_last=130), now)

    assert [(row.labels, row.value) for row in result.rows] == [(("23/tcp",), 1)]
