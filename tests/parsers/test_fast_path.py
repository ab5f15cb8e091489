"""The one-pass reading of IPv4 TCP, UDP and ICMP echo lines agrees with the
column walk."""

from copy import deepcopy
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.parsers import filterlog
from events.parsers.syslog import parse_envelope
from events.parsers.types import ParseError
from tests.parsers.test_totality import GOLDEN

RECEIVED = datetime(2024, 6, 30, 12, 35, 0, tzinfo=UTC)
TOKYO = ZoneInfo("Asia/Tokyo")

TCP = (
    "146,,,1000000103,igb0,match,block,in,4,0x0,,63,12617,0,DF,6,tcp,60,"
    "198.51.100.50,203.0.113.1,49724,853,0,S,1891286705,,64240,,mss;nop"
)
UDP = (
    "5,,,1000000103,igb0,match,pass,out,4,0x0,,64,1,0,none,17,udp,76,"
    "192.0.2.1,192.0.2.2,123,123,56"
)

ICMP = (
    "176,,,1520797901,igb1.10,match,pass,in,4,0x0,,64,62096,0,DF,1,icmp,84,"
    "198.51.100.30,203.0.113.105,request,37728,164"
)


def both_ways(msg: str):
    """Return (fast result, walk result); each an event, None or an error."""
    envelope = parse_envelope(
        f"<134>Jul  3 19:10:30 filterlog[1]: {msg}", RECEIVED, TOKYO
    )
    results = []
    for reader in ("fast", "walk"):
        copy = deepcopy(envelope)
        try:
            cols = filterlog._split(copy)
            if reader == "fast":
                fits = len(cols) in (
                    filterlog._FAST_TCP_COLUMNS,
                    filterlog._FAST_UDP_COLUMNS,
                )
                results.append(filterlog._fast_ipv4(copy, cols) if fits else None)
            else:
                results.append(filterlog._walk(copy, cols))
        except ParseError as error:
            results.append(str(error))
    return tuple(results)


def check_agrees(msg: str) -> None:
    fast, walk = both_ways(msg)
    if fast is not None:
        assert fast == walk


@pytest.mark.parametrize("line", GOLDEN)
def test_every_golden_line_reads_the_same_both_ways(line):
    text = line.decode("utf-8", "replace")
    envelope = parse_envelope(text, RECEIVED, TOKYO)
    if envelope.app == "filterlog" or envelope.msg[:1].isdigit():
        check_agrees(envelope.msg)


def test_the_common_shapes_take_the_fast_path():
    for msg in (TCP, UDP, ICMP):
        fast, walk = both_ways(msg)
        assert fast is not None
        assert fast == walk


# Values that are valid, odd or invalid for a numeric or address column.
ODD = st.sampled_from(
    [
        "",
        "0",
        "00",
        "07",
        "65535",
        "65536",
        "99999999",
        "-1",
        "x",
        "1.5",
        "٣",
        "256.1.1.1",
        "1.2.3",
        "01.2.3.4",
        "10.0.0.1",
        "FS",
        "SZ",
        "0x10",
        "(null)",
        "request",
        "reply",
        "unreach",
        "datalength=8",
    ]
)


@settings(
    max_examples=600,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(base=st.sampled_from([TCP, UDP, ICMP]), data=st.data())
def test_any_column_changed_reads_the_same_both_ways(base, data):
    cols = base.split(",")
    for _ in range(data.draw(st.integers(1, 3))):
        index = data.draw(st.integers(0, len(cols) - 1))
        cols[index] = data.draw(ODD)

    check_agrees(",".join(cols))
