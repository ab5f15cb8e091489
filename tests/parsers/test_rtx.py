"""Golden tests: every YAMAHA RTX shape of FORMATS.md 5, with full records."""

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from events.parsers import ParsedEvent, ParseFailure, parse_message

LOGS = Path(__file__).resolve().parent.parent / "data" / "logs"
TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")
# 21:30:45 in Tokyo, a few seconds after the sample lines were logged.
RECEIVED = datetime(2024, 6, 30, 12, 30, 45, tzinfo=UTC)
RELAY = "192.168.1.254"
RTX = "yamaha-rtx"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def record(result) -> dict:
    """The whole event as a dict: every contract field and ``extra``."""
    assert isinstance(result, ParsedEvent), result
    return {name: getattr(result, name) for name in ParsedEvent.__slots__}


def event(**fields) -> dict:
    """A blocked inbound IPv4 TCP filter hit on PP[01], overridden."""
    base = {
        "occurred_at": RECEIVED,
        "action": "block",
        "direction": "in",
        "interface": "PP[01]",
        "ip_version": 4,
        "protocol": "tcp",
        "src_ip": "198.51.100.57",
        "dst_ip": "203.0.113.10",
        "src_port": 44812,
        "dst_port": 3389,
        "tcp_flags": "",
        "length": None,
        "rule": "1012",
        "hostname": "",
        "time_inferred": True,
        "extra": {"pri": 133, "kind": "filter"},
    }
    return base | fields


def inspect(started: datetime, seconds: int, pri: int = 133, **fields) -> dict:
    """A permitted outbound session; ``started`` is the embedded time."""
    extra = {"pri": pri, "kind": "inspect", "session_seconds": seconds}
    return event(occurred_at=started, action="pass", direction="out", extra=extra) | (
        fields
    )


def tokyo(*args) -> datetime:
    return datetime(*args, tzinfo=TOKYO).astimezone(UTC)


V6_SRC = "2001:db8:bad::1"
V6_DST = "2001:db8:100::10"

# One expectation per line of yamaha-rtx.log, parsed as a yamaha-rtx device.
SAMPLE = [
    event(),
    event(
        action="pass",
        interface="LAN2",
        protocol="udp",
        src_ip="192.0.2.53",
        dst_ip="192.168.100.1",
        src_port=53,
        dst_port=10707,
        rule="80",
        extra={"pri": 133, "kind": "filter", "note": "DNS response"},
    ),
    event(
        direction="out",
        protocol="icmp",
        src_ip="192.168.100.20",
        dst_ip="203.0.113.177",
        src_port=None,
        dst_port=None,
        rule="200099",
    ),
    event(
        interface="TUNNEL[1]",
        protocol="udp",
        src_ip="10.8.0.1",
        dst_ip="10.8.0.2",
        src_port=67,
        dst_port=68,
        rule="300",
    ),
    event(src_ip="198.51.100.23", src_port=51234, dst_port=23, rule="default"),
    event(
        interface="LAN2",
        ip_version=6,
        src_ip=V6_SRC,
        dst_ip=V6_DST,
        src_port=51234,
        dst_port=22,
        rule="11",
        extra={"pri": 13, "kind": "filter"},
    ),
    event(
        interface="LAN2",
        ip_version=6,
        protocol="udp",
        src_ip=V6_SRC,
        dst_ip=V6_DST,
        src_port=5353,
        dst_port=5353,
        rule="11",
        extra={"pri": 13, "kind": "filter"},
    ),
    event(
        interface="LAN2",
        ip_version=6,
        protocol="icmpv6",
        src_ip=V6_SRC,
        dst_ip=V6_DST,
        src_port=None,
        dst_port=None,
        rule="11",
        extra={"pri": 13, "kind": "filter"},
    ),
    inspect(
        tokyo(2024, 6, 30, 21, 29, 40),
        65,
        pri=189,
        interface="LAN2",
        src_ip="192.168.100.2",
        dst_ip="203.0.113.5",
        src_port=52802,
        dst_port=443,
        rule="101098",
    ),
    inspect(
        tokyo(2024, 6, 30, 21, 30, 5),
        40,
        pri=13,
        protocol="udp",
        src_ip="192.168.100.2",
        dst_ip="198.51.100.53",
        src_port=10395,
        dst_port=53,
        rule="101098",
    ),
    inspect(
        tokyo(2024, 6, 30, 20, 15, 0),
        4545,
        ip_version=6,
        src_ip="2001:db8:10:2::41",
        dst_ip="2001:db8:4004:81a::200e",
        src_port=56609,
        dst_port=443,
        rule="200102",
    ),
    inspect(
        tokyo(2024, 6, 30, 21, 30, 10),
        30,
        direction="in",
        interface="LAN2",
        protocol="udp",
        src_ip="192.168.100.5",
        dst_ip=RELAY,
        src_port=123,
        dst_port=123,
        rule="31",
        hostname=RELAY,
    ),
    event(
        occurred_at=tokyo(2024, 6, 30, 21, 30, 41),
        src_port=44813,
        dst_port=445,
        hostname=RELAY,
    ),
    event(
        occurred_at=tokyo(2024, 6, 30, 21, 30, 42),
        interface="LAN2",
        protocol="udp",
        src_ip="198.51.100.60",
        dst_ip="192.168.100.1",
        src_port=8999,
        dst_port=6881,
        rule="default",
        hostname=RELAY,
    ),
    ParseFailure("yamaha-rtx: not a filter line ([IKE] message)"),
    ParseFailure("yamaha-rtx: not a filter line ([IKE2] message)"),
    ParseFailure("yamaha-rtx: not a filter line ([DHCPD] message)"),
    ParseFailure("yamaha-rtx: MAC filter line (Ethernet addresses, no IP packet)"),
    ParseFailure("yamaha-rtx: not a filter line ([NAT] message)"),
    ParseFailure(
        "yamaha-rtx: not a filter or [INSPECT] line "
        "('PP[01] PPP/IPCP up  (Local: 198.51.100.)"
    ),
    ParseFailure("yamaha-rtx: repeat notice (same message repeated)"),
]

SHOW_LOG = [
    event(
        occurred_at=tokyo(2024, 6, 30, 21, 29, 40),
        extra={"pri": None, "kind": "filter"},
    ),
    inspect(
        tokyo(2024, 6, 30, 21, 28, 3),
        98,
        pri=None,
        src_ip="192.168.100.2",
        dst_ip="203.0.113.5",
        src_port=52802,
        dst_port=443,
        rule="101098",
    ),
    event(
        occurred_at=tokyo(2024, 6, 30, 21, 29, 42),
        interface="LAN2",
        ip_version=6,
        src_ip=V6_SRC,
        dst_ip=V6_DST,
        src_port=51234,
        dst_port=22,
        rule="11",
        extra={"pri": None, "kind": "filter"},
    ),
    ParseFailure("yamaha-rtx: wrapped fragment of a filter line (no destination)"),
    ParseFailure("yamaha-rtx: not a filter or [INSPECT] line ('198.51.100.9:53')"),
    ParseFailure("yamaha-rtx: not a filter line ([DHCPD] message)"),
]


def lines(name: str) -> list[bytes]:
    return (LOGS / name).read_bytes().splitlines()


def cases(name: str, expectations: list) -> list:
    pairs = zip(lines(name), expectations, strict=True)
    return [
        pytest.param(raw, expected, id=f"{name}:{number}")
        for number, (raw, expected) in enumerate(pairs, 1)
    ]


def parse(raw: bytes, log_format: str = RTX, **options):
    options = {"received_at": RECEIVED, "tz": TOKYO} | options
    return parse_message(raw, log_format=log_format, **options)


def assert_result(result, expected) -> None:
    if isinstance(expected, ParseFailure):
        assert result == expected
    else:
        assert record(result) == expected


@pytest.mark.parametrize(("raw", "expected"), cases("yamaha-rtx.log", SAMPLE))
def test_sample_line(raw, expected):
    assert_result(parse(raw), expected)


@pytest.mark.parametrize(("raw", "expected"), cases("yamaha-rtx.log", SAMPLE))
def test_sample_line_sniffed_by_auto(raw, expected):
    result = parse(raw, "auto")

    if isinstance(expected, ParseFailure) and "MAC filter" not in expected.reason:
        # Only the MAC filter line looks like RTX; the rest are some other
        # sender's non-filter lines as far as sniffing can tell.
        assert result == ParseFailure("not a filter log message (no syslog tag)")
    else:
        assert_result(result, expected)


@pytest.mark.parametrize(("raw", "expected"), cases("yamaha-rtx-showlog.log", SHOW_LOG))
def test_show_log_export_line(raw, expected):
    assert_result(parse(raw), expected)


# Constructed lines for the remaining shapes --------------------------------


CONSTRUCTED = [
    pytest.param(
        "<133>LAN3 Rejected at OUT(5) filter: ESP 192.168.100.9 > 198.51.100.1",
        event(
            direction="out",
            interface="LAN3",
            protocol="esp",
            src_ip="192.168.100.9",
            dst_ip="198.51.100.1",
            src_port=None,
            dst_port=None,
            rule="5",
        ),
        id="lan3-esp-out",
    ),
    pytest.param(
        "<133>PP[02] Rejected at IN(1020) filter: 47 198.51.100.57 > 203.0.113.10",
        event(
            interface="PP[02]",
            protocol="gre",
            src_port=None,
            dst_port=None,
            rule="1020",
        ),
        id="numeric-protocol",
    ),
    pytest.param(
        "<133>PP[01] Restricted at IN(1030) filter: TCP 198.51.100.57:44812 > "
        "203.0.113.10:3389",
        event(
            action="",
            rule="1030",
            extra={"pri": 133, "kind": "filter", "verb": "Restricted"},
        ),
        id="unknown-verb-keeps-no-action",
    ),
    pytest.param(
        "<133>LAN2 Passed at IN(80) filter: UDP 192.0.2.53:53 > 192.168.100.1:10707"
        " (DNS response, truncated)",
        event(
            action="pass",
            interface="LAN2",
            protocol="udp",
            src_ip="192.0.2.53",
            dst_ip="192.168.100.1",
            src_port=53,
            dst_port=10707,
            rule="80",
            extra={"pri": 133, "kind": "filter", "note": "DNS response, truncated"},
        ),
        id="note-with-spaces",
    ),
    pytest.param(
        "<133>Jun 30 21:30:41 192.168.1.254 TUNNEL[1] Rejected at IN(300) filter: "
        "UDP 10.8.0.1:67 > 10.8.0.2:68 (bootp)",
        event(
            occurred_at=tokyo(2024, 6, 30, 21, 30, 41),
            interface="TUNNEL[1]",
            protocol="udp",
            src_ip="10.8.0.1",
            dst_ip="10.8.0.2",
            src_port=67,
            dst_port=68,
            rule="300",
            hostname=RELAY,
            extra={"pri": 133, "kind": "filter", "note": "bootp"},
        ),
        id="relay-header-tunnel-and-note",
    ),
    pytest.param(
        "<133>Jun 30 21:30:41 LAN2 Rejected at IN(11) filter: TCP "
        "198.51.100.57:44812 > 203.0.113.10:3389",
        event(
            occurred_at=tokyo(2024, 6, 30, 21, 30, 41),
            interface="LAN2",
            rule="11",
        ),
        id="relay-header-without-hostname",
    ),
    pytest.param(
        "<133>Jun 30 21:30:41 PP[01] Rejected at IN(1012) filter: TCP "
        "198.51.100.57:44812 > 203.0.113.10:3389",
        event(occurred_at=tokyo(2024, 6, 30, 21, 30, 41)),
        id="relay-header-without-hostname-pp",
    ),
    pytest.param(
        "<133>2024-06-30T21:30:41.5+09:00 192.168.1.254 [INSPECT] PP[01][out][101098]"
        " TCP 192.168.100.2:52802 > 203.0.113.5:443 (2024/06/30 21:29:40)",
        inspect(
            tokyo(2024, 6, 30, 21, 29, 40),
            61,
            src_ip="192.168.100.2",
            dst_ip="203.0.113.5",
            src_port=52802,
            dst_port=443,
            rule="101098",
            hostname=RELAY,
        ),
        id="relay-rfc3339-header-inspect-embedded-time-wins",
    ),
    pytest.param(
        "<133>[INSPECT] LAN1[in][36] TCP [2001:db8::5]:22 > [2001:db8::6]:50000 "
        "(2024/06/30 21:00:00)",
        inspect(
            tokyo(2024, 6, 30, 21, 0, 0),
            1845,
            direction="in",
            interface="LAN1",
            ip_version=6,
            src_ip="2001:db8::5",
            dst_ip="2001:db8::6",
            src_port=22,
            dst_port=50000,
            rule="36",
        ),
        id="inspect-bracketed-ipv6",
    ),
    pytest.param(
        "<133>[INSPECT] PP[01][out][101098] TCP ::ffff:192.0.2.1.80 > "
        "2001:db8::6.50000 (2024/06/30 21:00:00)",
        inspect(
            tokyo(2024, 6, 30, 21, 0, 0),
            1845,
            ip_version=6,
            src_ip="::ffff:192.0.2.1",
            dst_ip="2001:db8::6",
            src_port=80,
            dst_port=50000,
            rule="101098",
        ),
        id="inspect-ipv4-mapped-with-port",
    ),
    pytest.param(
        "<133>LAN2 Rejected at IN(11) filter: ICMP ::ffff:192.0.2.1 > 2001:DB8::6",
        event(
            interface="LAN2",
            ip_version=6,
            protocol="icmp",
            src_ip="::ffff:192.0.2.1",
            dst_ip="2001:db8::6",
            src_port=None,
            dst_port=None,
            rule="11",
        ),
        id="bare-ipv6-with-ipv4-tail-and-upper-case",
    ),
    pytest.param(
        "<133>  PP[01] Rejected at IN(1012) filter: TCP 198.51.100.57:44812 > "
        "203.0.113.10:3389",
        event(),
        id="spaces-after-pri",
    ),
    pytest.param(
        "PP[01] Rejected at IN(1012) filter: TCP 198.51.100.57:44812 > "
        "203.0.113.10:3389",
        event(extra={"pri": None, "kind": "filter"}),
        id="no-pri",
    ),
]


@pytest.mark.parametrize(("line", "expected"), CONSTRUCTED)
def test_constructed_line(line, expected):
    assert record(parse(line.encode())) == expected


FILTER = "PP[01] Rejected at IN(1012) filter: TCP 198.51.100.57:44812 > "
INSPECT = "[INSPECT] PP[01][out][101098] TCP 192.168.100.2:52802 > 203.0.113.5:443"

FAILURES = [
    pytest.param(
        f"{FILTER}203.0.113.10:65536",
        "yamaha-rtx: invalid destination port in '203.0.113.10:65536'",
        id="port-out-of-range",
    ),
    pytest.param(
        f"{FILTER}203.0.113.10:",
        "yamaha-rtx: invalid destination port in '203.0.113.10:'",
        id="empty-port",
    ),
    pytest.param(
        f"{FILTER}203.0.113.256:80",
        "yamaha-rtx: invalid destination address '203.0.113.256:80'",
        id="octet-over-255",
    ),
    pytest.param(
        FILTER.replace("TCP", "TCP/IP") + "203.0.113.10:80",
        "yamaha-rtx: invalid protocol 'TCP/IP'",
        id="protocol-not-a-word",
    ),
    pytest.param(
        f"{FILTER}2001:db8::1.80",
        "yamaha-rtx: source and destination of different IP versions",
        id="mixed-versions",
    ),
    pytest.param(
        f"{FILTER}2001:db8:::1.80",
        "yamaha-rtx: invalid destination address '2001:db8:::1.80'",
        id="bad-ipv6",
    ),
    pytest.param(
        f"{FILTER}[2001:db8::1]80",
        "yamaha-rtx: invalid destination address '[2001:db8::1]80'",
        id="bad-bracketed-ipv6",
    ),
    pytest.param(
        FILTER.replace("IN(1012)", "IN(10 12)") + "203.0.113.10:80",
        "yamaha-rtx: not a filter or [INSPECT] line "
        "('PP[01] Rejected at IN(10 12) filter: TC)",
        id="filter-number-with-space",
    ),
    pytest.param(
        FILTER.replace("IN(1012)", "SIDE(1012)") + "203.0.113.10:80",
        "yamaha-rtx: invalid filter reference 'SIDE(1012)'",
        id="unknown-direction",
    ),
    pytest.param(
        FILTER.replace("IN(1012)", "IN(1012") + "203.0.113.10:80",
        "yamaha-rtx: invalid filter reference 'IN(1012'",
        id="unclosed-filter-reference",
    ),
    pytest.param(
        f"{FILTER}203.0.113.10:80 DNS response",
        "yamaha-rtx: unexpected text after destination 'DNS response'",
        id="note-without-parentheses",
    ),
    pytest.param(
        "Rejected at IN(1012) filter: TCP 198.51.100.57:44812 > 203.0.113.10:80",
        "yamaha-rtx: filter line without an interface",
        id="no-interface",
    ),
    pytest.param(
        f"{INSPECT} (2024/06/30 25:00:00)",
        "yamaha-rtx: invalid time '2024/06/30 25:00'",
        id="inspect-hour-25",
    ),
    pytest.param(
        f"{INSPECT} (2024/02/30 12:00:00)",
        "yamaha-rtx: invalid time '2024/02/30 12:00'",
        id="inspect-february-30",
    ),
    pytest.param(
        f"{INSPECT} (2024/06/30 12:00:61)",
        "yamaha-rtx: invalid time '2024/06/30 12:00:61'",
        id="inspect-second-61",
    ),
    pytest.param(
        f"{INSPECT} (0001/01/01 00:00:00)",
        "yamaha-rtx: invalid time '0001/01/01 00:00'",
        id="inspect-before-year-1-in-utc",
    ),
    pytest.param(
        f"{INSPECT} (2024-06-30 12:00:00)",
        "yamaha-rtx: invalid time '2024-06-30 12:00'",
        id="inspect-dashed-date",
    ),
    pytest.param(
        f"{INSPECT} (2024/06/30",
        "yamaha-rtx: wrapped fragment of an [INSPECT] line (no session time)",
        id="inspect-wrapped",
    ),
    pytest.param(
        f"{INSPECT} (2024/06/30 12:00:00) extra",
        "yamaha-rtx: malformed [INSPECT] line",
        id="inspect-trailing-text",
    ),
    pytest.param(
        INSPECT.replace("[out]", "[sideways]") + " (2024/06/30 12:00:00)",
        "yamaha-rtx: invalid [INSPECT] interface 'PP[01][sideways][101098]'",
        id="inspect-bad-direction",
    ),
    pytest.param(
        INSPECT.replace("PP[01][out][101098]", "[out][101098]")
        + " (2024/06/30 12:00:00)",
        "yamaha-rtx: invalid [INSPECT] interface '[out][101098]'",
        id="inspect-no-interface",
    ),
    pytest.param(
        "2024/06/30 21:29:40: 2024/06/30 21:29:40  -307second",
        "yamaha-rtx: not a filter or [INSPECT] line "
        "('2024/06/30 21:29:40  -307second')",
        id="ntpdate-result",
    ),
    pytest.param(
        "2024/13/30 21:29:40: " + FILTER + "203.0.113.10:80",
        "yamaha-rtx: invalid time '2024/13/30 21:29'",
        id="export-month-13",
    ),
    pytest.param(
        "IP Tunnel[1] Up",
        "yamaha-rtx: not a filter or [INSPECT] line ('IP Tunnel[1] Up')",
        id="tunnel-state",
    ),
    pytest.param(
        "[L2TP] TUNNEL[1] connected from 198.51.100.9",
        "yamaha-rtx: not a filter line ([L2TP] message)",
        id="l2tp",
    ),
    pytest.param(
        "[MMI] Executed by SSH(admin): show log",
        "yamaha-rtx: not a filter line ([MMI] message)",
        id="admin-audit",
    ),
    pytest.param(
        "[IKE1] SA:3/IKE established",
        "yamaha-rtx: not a filter line ([IKE1] message)",
        id="ike1",
    ),
    pytest.param(
        "[SWCTL] lan1:6(XX): lan1:2 link up (100-fdx)",
        "yamaha-rtx: not a filter line ([SWCTL] message)",
        id="switch-control",
    ),
    pytest.param(
        "PPPOE[01] PPPoE Connect",
        "yamaha-rtx: not a filter or [INSPECT] line ('PPPOE[01] PPPoE Connect')",
        id="pppoe-connect",
    ),
    pytest.param(
        "PPPOE[01] Disconnected, cause [PPP: Authentication failed]",
        "yamaha-rtx: not a filter or [INSPECT] line "
        "('PPPOE[01] Disconnected, cause [PPP: Aut)",
        id="pppoe-disconnected",
    ),
    pytest.param(
        "PP[01] Local  PP IP address 203.0.113.1",
        "yamaha-rtx: not a filter or [INSPECT] line "
        "('PP[01] Local  PP IP address 203.0.113.1)",
        id="pp-local-address",
    ),
    pytest.param(
        'Configuration saved in "CONFIG0" by TELNET',
        "yamaha-rtx: not a filter or [INSPECT] line "
        '(\'Configuration saved in "CONFIG0" by TEL)',
        id="configuration-saved",
    ),
    pytest.param(
        "   c0 21 01 01 00 0e 01 04 05 d4 05 06 1a 2b",
        "yamaha-rtx: not a filter or [INSPECT] line "
        "('c0 21 01 01 00 0e 01 04 05 d4 05 06 1a )",
        id="hex-dump-continuation",
    ),
    pytest.param(
        "[ weird ] text",
        "yamaha-rtx: not a filter or [INSPECT] line ('[ weird ] text')",
        id="odd-bracket",
    ),
    pytest.param(
        f"{FILTER}203.0.113.10:80 ({'x' * 1000})",
        "yamaha-rtx: not a filter or [INSPECT] line "
        "('PP[01] Rejected at IN(1012) filter: TCP)",
        id="too-long",
    ),
    pytest.param(
        f"{FILTER}203.0.113.10:80 (応答)",
        "yamaha-rtx: not a filter or [INSPECT] line "
        "('PP[01] Rejected at IN(1012) filter: TCP)",
        id="non-ascii",
    ),
]


@pytest.mark.parametrize(("line", "reason"), FAILURES)
def test_constructed_failure(line, reason):
    assert parse(f"<133>{line}".encode()) == ParseFailure(reason)


# Time zones, sniffing and the format choice ---------------------------------


def test_inspect_time_is_read_in_the_device_zone_across_dst():
    line = f"<133>{INSPECT} (2024/03/10 03:30:00)".encode()
    received = utc(2024, 3, 10, 7, 31, 0)

    result = parse(line, tz=NEW_YORK, received_at=received)

    # 03:30 EDT (UTC-4): the clocks had jumped from 02:00 EST that night.
    assert result.occurred_at == utc(2024, 3, 10, 7, 30, 0)
    assert result.extra["session_seconds"] == 60


def test_inspect_time_in_a_dst_gap_resolves_like_bsd_stamps():
    line = f"<133>{INSPECT} (2024/03/10 02:30:00)".encode()

    result = parse(line, tz=NEW_YORK, received_at=utc(2024, 3, 10, 8, 0, 0))

    # 02:30 does not exist that night; fold=0 reads it with the EST offset.
    assert result.occurred_at == utc(2024, 3, 10, 7, 30, 0)


def test_same_minute_in_two_zones_is_not_mixed_up():
    line = f"<133>{INSPECT} (2024/06/30 21:29:40)".encode()

    in_tokyo = parse(line, tz=TOKYO)
    in_utc = parse(line, tz=UTC)
    again_in_tokyo = parse(line, tz=TOKYO)

    assert (
        in_tokyo.occurred_at
        == again_in_tokyo.occurred_at
        == tokyo(2024, 6, 30, 21, 29, 40)
    )
    assert in_utc.occurred_at == utc(2024, 6, 30, 21, 29, 40)


def test_negative_session_seconds_show_a_router_clock_ahead():
    line = f"<133>{INSPECT} (2024/06/30 21:35:45)".encode()

    assert parse(line).extra["session_seconds"] == -300


def test_explicit_format_is_not_overridden_by_sniffing():
    rtx_line = f"<133>{FILTER}203.0.113.10:80".encode()
    csv = (
        b"<134>Jun 30 12:34:56 filterlog[1]: 5,,,1000000103,igb0,match,block,in,4,"
        b"0x0,,51,45821,0,none,17,udp,61,198.51.100.10,203.0.113.7,53124,53,41"
    )

    assert isinstance(parse(rtx_line, "pfsense"), ParseFailure)
    assert isinstance(parse(rtx_line, "netfilter"), ParseFailure)
    assert parse(csv, RTX) == ParseFailure(
        "yamaha-rtx: not a filter or [INSPECT] line "
        "('5,,,1000000103,igb0,match,block,in,4,0x)"
    )
    assert isinstance(parse(csv, "auto"), ParsedEvent)


def test_relay_tag_and_pid_are_not_kept_as_app():
    line = (
        b"<133>Jun 30 21:30:41 192.168.1.254  PP[01] Rejected at IN(1012) filter: "
        b"TCP 198.51.100.57:44812 > 203.0.113.10:3389"
    )

    result = parse(line, "auto")

    assert (result.interface, result.hostname) == ("PP[01]", RELAY)
    assert "app" not in result.extra and "pid" not in result.extra


def test_extra_is_json_safe():
    result = parse(f"<133>{INSPECT} (2024/06/30 21:29:40)".encode())

    assert json.loads(json.dumps(result.extra)) == result.extra
