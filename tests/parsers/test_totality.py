"""parse_message never raises, and never stores a cut address or port.

Seeds are every sample line under tests/data/logs and the constructed
lines of the pf family, YAMAHA RTX and netfilter golden tests.
"""

import ipaddress
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.parsers import ParsedEvent, ParseFailure, parse_message
from tests.parsers import test_netfilter, test_rtx
from tests.parsers.test_filterlog import CONSTRUCTED, STAMP

LOGS = Path(__file__).resolve().parent.parent / "data" / "logs"
RECEIVED = datetime(2024, 6, 30, 12, 35, 0, tzinfo=UTC)
TOKYO = ZoneInfo("Asia/Tokyo")

REAL_LINES = [
    line
    for path in sorted(LOGS.glob("*.log"))
    for line in path.read_bytes().splitlines()
]
CONSTRUCTED_LINES = [
    f"<134>{STAMP} filterlog[4242]: {param.values[0]}".encode() for param in CONSTRUCTED
]
# RTX lines get the "<133>" a router sends; netfilter lines carry a relay's.
WORD_LINES = [param.values[0].encode() for param in test_netfilter.CONSTRUCTED] + [
    (line if line.startswith("<") else f"<133>{line}").encode()
    for line in [param.values[0] for param in test_rtx.CONSTRUCTED]
]
GOLDEN = REAL_LINES + CONSTRUCTED_LINES + WORD_LINES
FORMATS = ["pfsense", "opnsense", "yamaha-rtx", "netfilter"]

# Lines whose last port is followed by something that must be there: pf
# family TCP, netfilter TCP and UDP, RTX [INSPECT] (its session time).
# An RTX filter line ends in its destination port, so a cut there cannot
# be told from a shorter port; UDP datagrams are never cut in transit.
TCP_LINES = [
    line
    for line in GOLDEN
    if (
        b",6,tcp," in line
        or b",TCP,6," in line
        or b",tcp,6," in line
        or b" PROTO=TCP SPT=" in line
        or b" PROTO=UDP SPT=" in line
        or b"[INSPECT]" in line
    )
    and isinstance(parse_message(line, received_at=RECEIVED, tz=TOKYO), ParsedEvent)
]

FAST = settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def parse(raw: bytes, log_format: str = "auto"):
    return parse_message(raw, received_at=RECEIVED, tz=TOKYO, log_format=log_format)


def check_total(raw: bytes, log_format: str = "auto"):
    result = parse(raw, log_format)

    assert isinstance(result, ParsedEvent | ParseFailure)
    if isinstance(result, ParsedEvent):
        assert ipaddress.ip_address(result.src_ip).version == result.ip_version
        assert ipaddress.ip_address(result.dst_ip).version == result.ip_version
        assert result.occurred_at.utcoffset().total_seconds() == 0
    else:
        assert not result.reason.startswith("internal parser error"), result
    return result


@FAST
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_never_raise(raw):
    check_total(raw)


@FAST
@given(st.binary(max_size=512), st.sampled_from(FORMATS))
def test_arbitrary_bytes_with_explicit_format_never_raise(raw, log_format):
    check_total(raw, log_format)


@FAST
@given(
    st.sampled_from([b"", b"<134>", b"<13>1 ", b"<134>Jun 30 12:34:56 "]),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.sampled_from(["auto", *FORMATS]),
)
def test_arbitrary_text_after_header_start_never_raises(prefix, text, log_format):
    check_total(prefix + text.encode("utf-8", "surrogatepass"), log_format)


@FAST
@given(st.sampled_from(GOLDEN), st.data())
def test_golden_lines_with_deleted_columns_never_raise(line, data):
    cols = line.split(b",")
    drop = data.draw(st.sets(st.integers(0, len(cols) - 1), max_size=4))

    check_total(b",".join(col for i, col in enumerate(cols) if i not in drop))


@FAST
@given(st.sampled_from(GOLDEN), st.data())
def test_golden_lines_with_replaced_column_never_raise(line, data):
    cols = line.split(b",")
    index = data.draw(st.integers(0, len(cols) - 1))
    cols[index] = data.draw(st.binary(max_size=40))

    check_total(b",".join(cols))


@FAST
@given(st.sampled_from(GOLDEN), st.data(), st.sampled_from(["auto", *FORMATS]))
def test_golden_lines_with_deleted_words_never_raise(line, data, log_format):
    words = line.split(b" ")
    drop = data.draw(st.sets(st.integers(0, len(words) - 1), max_size=4))

    kept = b" ".join(word for i, word in enumerate(words) if i not in drop)
    check_total(kept, log_format)


@FAST
@given(st.sampled_from(GOLDEN), st.data(), st.sampled_from(["auto", *FORMATS]))
def test_golden_lines_with_replaced_word_never_raise(line, data, log_format):
    words = line.split(b" ")
    index = data.draw(st.integers(0, len(words) - 1))
    words[index] = data.draw(
        st.one_of(
            st.binary(max_size=40),
            st.sampled_from([b"[", b"]", b"(", b")", b"=", b">", b"IN=", b"PROTO="]),
        )
    )

    check_total(b" ".join(words), log_format)


@pytest.mark.parametrize("line", GOLDEN, ids=range(len(GOLDEN)))
def test_every_prefix_of_golden_line_never_raises(line):
    for end in range(len(line)):
        check_total(line[:end])
        check_total(line[:end], "yamaha-rtx")
        check_total(line[:end], "netfilter")


@pytest.mark.parametrize("line", TCP_LINES, ids=range(len(TCP_LINES)))
def test_prefix_of_tcp_line_never_stores_cut_address_or_port(line):
    full = parse(line)
    assert isinstance(full, ParsedEvent)

    for end in range(len(line)):
        cut = parse(line[:end])
        if isinstance(cut, ParsedEvent):
            assert (cut.src_ip, cut.dst_ip) == (full.src_ip, full.dst_ip)
            assert (cut.src_port, cut.dst_port) == (full.src_port, full.dst_port)
