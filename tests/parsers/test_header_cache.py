"""A header read once is read the same way from the cache."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.parsers import syslog
from events.parsers.syslog import parse_envelope

RECEIVED = datetime(2024, 6, 30, 12, 35, 0, tzinfo=UTC)
TOKYO = ZoneInfo("Asia/Tokyo")

HEADERS = st.sampled_from(
    [
        "<134>Jun 30 21:35:00 filterlog[72237]: ",
        "<134>Jun 30 21:35:00 fw.example.net filterlog[1]: ",
        "<13>Jun  3 01:02:03 host app: ",
        "Jun 30 21:35:00 2024 host app[]: ",
        "<134>Jun 30 21:35:00 fw user.info filterlog: ",
        "<134>Jun 30 21:35:00 2001:db8::1 filterlog[5]: ",
        "<134>Jun 30 21:35:00 a: b: ",
        "<191>Dec 31 23:59:59 [x] y: ",
    ]
)
TAILS = st.text(alphabet=" :\ufeff[]ab1,", max_size=12)


@settings(
    max_examples=500,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(header=HEADERS, tail=TAILS, other=TAILS)
def test_a_cached_header_reads_like_a_fresh_one(header, tail, other):
    syslog._HEADER_CACHE.clear()
    parse_envelope(header + other, RECEIVED, TOKYO)

    cached = parse_envelope(header + tail, RECEIVED, TOKYO)
    syslog._HEADER_CACHE.clear()
    syslog._STAMP_CACHE.clear()
    fresh = parse_envelope(header + tail, RECEIVED, TOKYO)

    assert cached == fresh


def test_the_common_header_is_read_from_the_cache():
    syslog._HEADER_CACHE.clear()
    header = "<134>Jun 30 21:35:00 filterlog[72237]: "

    parse_envelope(header + "1,2", RECEIVED, TOKYO)

    assert header in syslog._HEADER_CACHE


def test_a_cached_header_is_not_used_for_another_zone_or_half_a_year_later():
    header = "<134>Jun 30 21:35:00 filterlog[72237]: "
    syslog._HEADER_CACHE.clear()
    parse_envelope(header + "x", RECEIVED, TOKYO)

    other_zone = parse_envelope(header + "x", RECEIVED, ZoneInfo("UTC"))
    later = parse_envelope(header + "x", RECEIVED + timedelta(days=200), TOKYO)

    assert other_zone.occurred_at == datetime(2024, 6, 30, 21, 35, tzinfo=UTC)
    assert later.occurred_at.year == 2025
