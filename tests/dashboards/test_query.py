from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import override_settings

from dashboards.buckets import Window, bucket_starts
from dashboards.dimensions import OTHER
from dashboards.query import run_report
from dashboards.spec import parse_spec
from events.models import Device

pytestmark = pytest.mark.django_db


def spec(**definition):
    return parse_spec({"range_last": 7, "chart": "table", **definition})


def table(result) -> list[tuple]:
    return [(row.labels, row.value) for row in result.rows]


def test_top_ports_fold_the_rest_into_other_and_keep_every_event(add_events, now):
    add_events(5)
    add_events(3, dst_port=6881, protocol="udp")
    add_events(2, dst_port=None, protocol="icmp")
    add_events(1, dst_port=None, protocol="tcp")
    add_events(1, dst_port=22)

    result = run_report(spec(dimensions=["dst_port"], top_n=2), now)

    assert table(result) == [(("23/tcp",), 5), (("6881/udp",), 3), (("other",), 4)]
    assert result.rows[-1].key is OTHER


def test_other_counts_distinct_sources_not_a_sum_of_groups(add_events, now):
    add_events(1, src_ip="198.51.100.1", dst_port=23)
    add_events(1, src_ip="198.51.100.1", dst_port=22)
    add_events(1, src_ip="198.51.100.1", dst_port=21)
    add_events(1, src_ip="198.51.100.2", dst_port=21)

    result = run_report(
        spec(dimensions=["dst_port"], metric="distinct_sources", top_n=1), now
    )

    # Ports 22 and 23 share one source: "other" holds one address, not two.
    assert table(result) == [(("21/tcp",), 2), (("other",), 1)]


def test_time_window_and_filters_select_the_events(add_events, gateway, now):
    other_device = Device.objects.create(name="rtx")
    add_events(4)
    add_events(1, occurred_at=now - timedelta(days=8))
    add_events(1, occurred_at=now)
    add_events(2, action="pass")
    add_events(1, direction="out")
    add_events(1, dst_port=1500)
    add_events(1, dst_port=2500)
    add_events(1, src_country="RU")
    add_events(1, src_ip="192.0.2.9")
    add_events(1, dst_ip="198.18.0.1")
    add_events(1, device=other_device)

    result = run_report(
        spec(
            actions=["block", "reject"],
            directions=["in"],
            protocols=["tcp"],
            ports="23, 1000-2000",
            countries=["RU"],
            country_mode="exclude",
            devices=[gateway.pk],
            src_networks="198.51.100.0/24, 2001:db8::/32",
            dst_networks="203.0.113.0/24",
        ),
        now,
    )

    assert table(result) == [((), 5)]


def test_stacked_days_fill_empty_days_with_zero(add_events, now):
    add_events(2, occurred_at=datetime(2026, 11, 28, 3, tzinfo=UTC))
    add_events(1, occurred_at=datetime(2026, 11, 28, 23, tzinfo=UTC), src_country="RU")
    add_events(4, occurred_at=datetime(2026, 12, 2, 9, tzinfo=UTC))

    result = run_report(
        spec(range_last=7, bucket="day", dimensions=["src_country"], chart="stacked"),
        now,
    )

    assert [b.day for b in result.buckets] == [26, 27, 28, 29, 30, 1, 2, 3]
    assert [(s.label, s.values) for s in result.series] == [
        ("CN", [0, 0, 2, 0, 0, 0, 4, 0]),
        ("RU", [0, 0, 1, 0, 0, 0, 0, 0]),
    ]


@override_settings(TIME_ZONE="Asia/Tokyo")
def test_day_buckets_follow_the_configured_time_zone(add_events, now):
    # 16:00 UTC on the 1st is 01:00 on the 2nd in Tokyo.
    add_events(1, occurred_at=datetime(2026, 12, 1, 16, tzinfo=UTC))
    add_events(1, occurred_at=datetime(2026, 12, 1, 14, tzinfo=UTC))

    result = run_report(spec(range_last=3, bucket="day", chart="line"), now)

    days = {row.bucket.strftime("%m-%d"): row.value for row in result.rows}
    assert days == {"12-01": 1, "12-02": 1}


def test_top_keys_over_time_are_ranked_over_the_whole_range(add_events, now):
    add_events(3, occurred_at=datetime(2026, 12, 1, 1, tzinfo=UTC), dst_port=6881)
    add_events(1, occurred_at=datetime(2026, 12, 1, 2, tzinfo=UTC), dst_port=23)
    add_events(1, occurred_at=datetime(2026, 12, 1, 2, tzinfo=UTC), dst_port=22)

    result = run_report(
        spec(
            range_last=3, bucket="hour", dimensions=["dst_port"], top_n=1, chart="line"
        ),
        now,
    )

    assert [s.label for s in result.series] == ["6881/tcp", "other"]
    hours = {b.hour: i for i, b in enumerate(result.buckets) if b.day == 1}
    assert result.series[0].values[hours[1]] == 3
    assert result.series[1].values[hours[2]] == 2


def test_two_dimensions_and_labels(add_events, countries, gateway, now):
    add_events(3, src_country="CN")
    add_events(2, src_country="RU", src_ip="2001:db8:aa:1::1")
    add_events(1, src_country="")

    result = run_report(spec(dimensions=["src_country", "device"], top_n=5), now)
    by_network = run_report(spec(dimensions=["src_network"]), now)

    assert table(result) == [
        (("China (CN)", "gw"), 3),
        (("Russian Federation (RU)", "gw"), 2),
        (("(unknown)", "gw"), 1),
    ]
    assert table(by_network) == [(("198.51.100.0/24",), 4), (("2001:db8:aa::/48",), 2)]


def test_country_groups_dimension(add_events, countries, now):
    from geo.models import CountryGroup

    group = CountryGroup.objects.create(name="Eastern")
    group.countries.set(["CN", "RU"])
    add_events(2, src_country="CN")
    add_events(1, src_country="RU")
    add_events(4, src_country="US")

    result = run_report(spec(dimensions=["src_country_group"]), now)

    assert table(result) == [(("(no group)",), 4), (("Eastern",), 3)]
    assert parse_qs(urlsplit(result.rows[1].link).query)["src_country__in"] == ["CN,RU"]


@override_settings(REPORT_MAX_DAYS=10, REPORT_MAX_TOP_N=2, REPORT_MAX_BUCKETS=48)
def test_caps_shorten_the_run_and_say_so(add_events, now):
    add_events(1, dst_port=1)
    add_events(1, dst_port=2)
    add_events(1, dst_port=3)

    wide = run_report(spec(range_last=365, dimensions=["dst_port"], top_n=100), now)
    hourly = run_report(spec(range_last=7, bucket="hour", chart="line"), now)

    assert wide.window.start == now - timedelta(days=10)
    assert len(wide.rows) == 3  # two ports and "other"
    assert any("10 days" in note for note in wide.notes)
    assert any("top 2" in note for note in wide.notes)
    assert len(hourly.buckets) <= 49
    assert any("48 buckets" in note for note in hourly.notes)


def test_buckets_cover_a_daylight_saving_change():
    with override_settings(TIME_ZONE="Europe/Berlin"):
        from django.utils import timezone

        start = datetime(2026, 3, 28, 12, tzinfo=UTC)
        end = datetime(2026, 3, 30, 12, tzinfo=UTC)
        with timezone.override("Europe/Berlin"):
            days = bucket_starts("day", Window(start, end))
            hours = bucket_starts("hour", Window(start, end))

    assert [d.strftime("%d %H:%M %z") for d in days] == [
        "28 00:00 +0100",
        "29 00:00 +0100",
        "30 00:00 +0200",
    ]
    local = [h.strftime("%d %H") for h in hours]
    assert len(hours) == len(set(hours)) == 48
    assert "29 01" in local and "29 03" in local and "29 02" not in local


@pytest.mark.parametrize("bucket", ["none", "hour", "day"])
def test_one_pass_and_database_ranking_agree(add_events, now, monkeypatch, bucket):
    for hour, port, count in [(1, 23, 5), (2, 23, 1), (2, 22, 3), (3, 445, 2)]:
        moment = datetime(2026, 12, 2, hour, tzinfo=UTC)
        add_events(count, occurred_at=moment, dst_port=port)
    add_events(2, occurred_at=datetime(2026, 12, 2, 3, tzinfo=UTC), dst_port=None)
    chart = "table" if bucket == "none" else "line"
    definition = spec(bucket=bucket, dimensions=["dst_port"], top_n=2, chart=chart)

    one_pass = run_report(definition, now)
    monkeypatch.setattr("dashboards.query.SINGLE_PASS_MAX_GROUPS", 1)
    three_queries = run_report(definition, now)

    def cells(result):
        return [(row.bucket, row.labels, row.value) for row in result.rows]

    assert cells(one_pass) == cells(three_queries)
    assert sum(row.value for row in one_pass.rows) == 13


@override_settings(TIME_ZONE="Australia/Lord_Howe")
def test_hour_buckets_pass_a_half_hour_clock_change():
    """Where the clock goes back half an hour, the next hour still comes."""
    window = Window(
        datetime(2026, 4, 4, 12, tzinfo=UTC), datetime(2026, 4, 4, 17, tzinfo=UTC)
    )

    starts = [
        start.astimezone(UTC).strftime("%H:%M")
        for start in bucket_starts("hour", window)
    ]

    # 01:00 local lasts 90 minutes: it holds the repeated half hour.
    assert starts == ["12:00", "13:00", "14:00", "15:30", "16:30"]
