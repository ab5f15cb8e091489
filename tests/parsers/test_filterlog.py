"""Golden tests: every real sample line and one constructed line per shape."""

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from events import parsers
from events.parsers import ParsedEvent, ParseFailure, filterlog, parse_message

LOGS = Path(__file__).resolve().parent.parent / "data" / "logs"

FIELDS = (
    "occurred_at",
    "action",
    "direction",
    "interface",
    "ip_version",
    "protocol",
    "src_ip",
    "dst_ip",
    "src_port",
    "dst_port",
    "tcp_flags",
    "length",
    "rule",
    "hostname",
    "time_inferred",
)


def fields(result: ParsedEvent) -> dict:
    return {name: getattr(result, name) for name in FIELDS}


def assert_event(result, expected: dict, extra: dict) -> None:
    assert isinstance(result, ParsedEvent), result
    assert fields(result) == expected
    assert {key: result.extra.get(key, "<missing>") for key in extra} == extra


# Real lines (tests/data/logs) ---------------------------------------------

CHICAGO = ZoneInfo("America/Chicago")
DENVER = ZoneInfo("America/Denver")
BSD_RECEIVED = datetime(2021, 7, 4, 16, 11, 0, tzinfo=UTC)
OPN_RECEIVED = datetime(2022, 1, 1, 9, 30, 0, tzinfo=UTC)

SYN_OPTIONS = ["mss", "sackOK", "TS", "nop", "wscale"]


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def tcp_853(when, dst, src_port, ip_id, seq, hostname="", inferred=True):
    """The blocked DNS-over-TLS SYN that fills the pfSense samples."""
    expected = {
        "occurred_at": when,
        "action": "block",
        "direction": "in",
        "interface": "igb1.12",
        "ip_version": 4,
        "protocol": "tcp",
        "src_ip": "10.170.12.50",
        "dst_ip": dst,
        "src_port": src_port,
        "dst_port": 853,
        "tcp_flags": "S",
        "length": 60,
        "rule": "1535324496",
        "hostname": hostname,
        "time_inferred": inferred,
    }
    extra = {
        "rule_number": 146,
        "tracker": "1535324496",
        "reason": "match",
        "ttl": 63,
        "ip_id": ip_id,
        "ip_flags": "DF",
        "tcp_seq": str(seq),
        "tcp_ack": None,
        "tcp_window": 64240,
        "tcp_options": SYN_OPTIONS,
    }
    return expected, extra


def udp(when, iface, src, dst, ports, length, rule, rule_number, hostname=""):
    expected = {
        "occurred_at": when,
        "action": "pass",
        "direction": "in",
        "interface": iface,
        "ip_version": 4,
        "protocol": "udp",
        "src_ip": src,
        "dst_ip": dst,
        "src_port": ports[0],
        "dst_port": ports[1],
        "tcp_flags": "",
        "length": length,
        "rule": rule,
        "hostname": hostname,
        "time_inferred": hostname == "",
    }
    return expected, {"rule_number": rule_number, "data_length": length - 20}


def dhcpv6_block(when, hostname):
    expected = {
        "occurred_at": when,
        "action": "block",
        "direction": "in",
        "interface": "igb1.27",
        "ip_version": 6,
        "protocol": "udp",
        "src_ip": "fe80::208:9bff:fef3:652b",
        "dst_ip": "ff02::1:2",
        "src_port": 546,
        "dst_port": 547,
        "tcp_flags": "",
        "length": 72,
        "rule": "1000000105",
        "hostname": hostname,
        "time_inferred": True,
    }
    extra = {
        "traffic_class": "0x00",
        "flow_label": "0xf6279",
        "hop_limit": 1,
        "proto_name": "UDP",
        "payload_length": 32,
        "data_length": 32,
    }
    return expected, extra


def at_bsd(hour, minute, second, day=4):
    # Jul 3 19:10 in Chicago (CDT, UTC-5) is Jul 4 00:10 UTC.
    return utc(2021, 7, day, hour, minute, second)


def at_5424(second, micro):
    return utc(2021, 7, 4, 0, 10, second, micro)


PF_HOST = "pfSense.example.com"
ONE = "1.1.1.1"
ONE_ZERO = "1.0.0.1"

PFSENSE_BSD = [
    tcp_853(at_bsd(0, 10, 30), ONE, 49724, 12617, 1891286705),
    tcp_853(at_bsd(0, 10, 30), ONE, 49696, 32554, 3995901112),
    udp(
        at_bsd(0, 10, 30),
        "igb1.27",
        "10.170.27.27",
        "216.229.4.66",
        (123, 123),
        76,
        "1520797901",
        176,
    ),
    tcp_853(at_bsd(0, 10, 31), ONE, 49726, 47260, 2457553480),
    tcp_853(at_bsd(0, 10, 31), ONE_ZERO, 56584, 23391, 1118373581),
    tcp_853(at_bsd(0, 10, 31), ONE_ZERO, 56542, 547, 3798927693),
    dhcpv6_block(at_bsd(0, 10, 31), ""),
    tcp_853(at_bsd(0, 10, 32), ONE, 49726, 47261, 2457553480),
    tcp_853(at_bsd(0, 10, 32), ONE, 49708, 1896, 1224947595),
    tcp_853(at_bsd(0, 10, 32), ONE_ZERO, 56578, 40620, 3864182524),
    tcp_853(at_bsd(0, 10, 32), ONE, 49728, 25977, 796254558),
    tcp_853(at_bsd(0, 10, 32), ONE, 49724, 12618, 1891286705),
    tcp_853(at_bsd(0, 10, 33), ONE, 49710, 11515, 3494229132),
    tcp_853(at_bsd(0, 10, 33), ONE, 49672, 48979, 1436983722),
    udp(
        at_bsd(0, 10, 33),
        "igb1.27",
        "10.170.27.41",
        "10.170.27.255",
        (137, 137),
        78,
        "1520797901",
        176,
    ),
    tcp_853(at_bsd(0, 10, 33), ONE, 49728, 25978, 796254558),
    (
        {
            "occurred_at": at_bsd(0, 10, 33),
            "action": "pass",
            "direction": "in",
            "interface": "igb1.12",
            "ip_version": 4,
            "protocol": "igmp",
            "src_ip": "10.170.12.17",
            "dst_ip": "239.255.255.250",
            "src_port": None,
            "dst_port": None,
            "tcp_flags": "",
            "length": 32,
            "rule": "1557957510",
            "hostname": "",
            "time_inferred": True,
        },
        {"datalength": 8, "tos": "0xc0", "ttl": 1, "trailing": "<missing>"},
    ),
    (
        {
            "occurred_at": at_bsd(16, 10, 45),
            "action": "pass",
            "direction": "in",
            "interface": "igb1.10",
            "ip_version": 4,
            "protocol": "icmp",
            "src_ip": "10.100.10.30",
            "dst_ip": "142.250.114.105",
            "src_port": None,
            "dst_port": None,
            "tcp_flags": "",
            "length": 84,
            "rule": "1520797901",
            "hostname": "",
            "time_inferred": True,
        },
        {
            "icmp_type": "request",
            "icmp": ["37728", "164"],
            "icmp_id": 37728,
            "icmp_seq": 1,
        },
    ),
    (
        {
            "occurred_at": at_bsd(16, 10, 54),
            "action": "pass",
            "direction": "in",
            "interface": "igb1.15",
            "ip_version": 4,
            "protocol": "icmp",
            "src_ip": "10.100.15.13",
            "dst_ip": "10.100.15.1",
            "src_port": None,
            "dst_port": None,
            "tcp_flags": "",
            "length": 84,
            "rule": "1557957510",
            "hostname": "",
            "time_inferred": True,
        },
        {"icmp_type": "request", "icmp_id": 0, "icmp_seq": 0},
    ),
]


def tcp_5424(second, micro, dst, src_port, ip_id, seq):
    return tcp_853(
        at_5424(second, micro), dst, src_port, ip_id, seq, PF_HOST, inferred=False
    )


def udp_5424(second, micro, src, dst, src_port, ip_id):
    expected, extra = udp(
        at_5424(second, micro),
        "igb1.27",
        src,
        dst,
        (src_port, 53),
        69,
        "1534283903",
        115,
        PF_HOST,
    )
    return expected, extra | {"ip_id": ip_id}


DNS_TCP = (
    {
        "occurred_at": at_5424(14, 578380),
        "action": "pass",
        "direction": "in",
        "interface": "igb1.12",
        "ip_version": 4,
        "protocol": "tcp",
        "src_ip": "10.170.12.21",
        "dst_ip": "127.0.0.1",
        "src_port": 62132,
        "dst_port": 53,
        "tcp_flags": "S",
        "length": 64,
        "rule": "1534283903",
        "hostname": PF_HOST,
        "time_inferred": False,
    },
    {
        "rule_number": 118,
        "tcp_window": 32768,
        "tcp_options": ["mss", "nop", "wscale", "sackOK", "nop", "nop", "nop"]
        + ["nop", "TS"],
    },
)
SSDP = udp(
    at_5424(15, 590370),
    "igb1.40",
    "10.170.40.57",
    "239.255.255.250",
    (58037, 1900),
    200,
    "1520797915",
    183,
    PF_HOST,
)

PFSENSE_RFC5424 = [
    tcp_5424(14, 578288, ONE, 49652, 32989, 1818117648),
    tcp_5424(14, 578309, ONE, 49616, 28831, 3664924520),
    udp_5424(14, 578333, "10.170.27.50", "10.170.27.1", 52797, 29559),
    tcp_5424(14, 578227, ONE, 49636, 39730, 2795136451),
    tcp_5424(14, 578265, ONE, 49668, 18713, 1623026256),
    DNS_TCP,
    tcp_5424(15, 590254, ONE_ZERO, 56520, 51373, 2661102197),
    tcp_5424(15, 590217, ONE, 49668, 18714, 1623026256),
    udp_5424(15, 590279, "10.170.27.9", "10.170.27.1", 26641, 3666),
    udp_5424(15, 590303, "10.170.27.9", "192.168.1.1", 26641, 51896),
    tcp_5424(15, 590325, ONE_ZERO, 56542, 543, 3798927693),
    tcp_5424(15, 590347, ONE, 49656, 46364, 1642052952),
    SSDP,
]

OPN_HOST = "firewall.opnsense.net"
OPNSENSE_MIXED = [
    (
        {
            "occurred_at": utc(2022, 1, 1, 9, 21, 38),
            "action": "block",
            "direction": "in",
            "interface": "igb1.12",
            "ip_version": 4,
            "protocol": "tcp",
            "src_ip": "10.170.12.50",
            "dst_ip": "175.16.199.1",
            "src_port": 49724,
            "dst_port": 853,
            "tcp_flags": "S",
            "length": 60,
            "rule": "1535324496",
            "hostname": OPN_HOST,
            "time_inferred": True,
        },
        {"pri": 134, "app": "filterlog", "pid": "97530", "tcp_seq": "1891286705"},
    ),
    dhcpv6_block(utc(2022, 1, 1, 5, 2, 55), OPN_HOST),
    ParseFailure("not a filter log message (app 'dhcpd')", OPN_HOST),
    ParseFailure("not a filter log message (app 'unbound')", OPN_HOST),
    (
        {
            "occurred_at": utc(2022, 6, 9, 20, 44, 11),
            "action": "pass",
            "direction": "out",
            "interface": "ixl1_vlan70",
            "ip_version": 4,
            "protocol": "tcp",
            "src_ip": "192.168.1.1",
            "dst_ip": "10.10.10.10",
            "src_port": 40370,
            "dst_port": 80,
            "tcp_flags": "S",
            "length": 60,
            "rule": "fae559338f65e11c53669fc3642c93c2",
            "hostname": "OPNsense.example.com",
            "time_inferred": False,
        },
        {
            "sd": '[meta sequenceId="1"]',
            "pid": "76404",
            "tracker": "fae559338f65e11c53669fc3642c93c2",
            "tcp_window": 65535,
        },
    ),
    (
        {
            "occurred_at": utc(2022, 1, 1, 9, 21, 39),
            "action": "pass",
            "direction": "in",
            "interface": "igb0",
            "ip_version": 6,
            "protocol": "icmpv6",
            "src_ip": "fe80::208:9bff:fef3:652b",
            "dst_ip": "ff02::1:2",
            "src_port": None,
            "dst_port": None,
            "tcp_flags": "",
            "length": 56,
            # Not a 32-hex label, not 0: kept as the rule id, as FORMATS.md 1
            # says for any non-empty column 4.
            "rule": "1535324496a",
            "hostname": OPN_HOST,
            "time_inferred": True,
        },
        {"proto_name": "ipv6-icmp", "datalength": 16, "hop_limit": 255},
    ),
]

REAL_FILES = [
    ("pfsense-bsd.log", CHICAGO, BSD_RECEIVED, PFSENSE_BSD),
    ("pfsense-rfc5424.log", CHICAGO, BSD_RECEIVED, PFSENSE_RFC5424),
    ("opnsense-mixed.log", DENVER, OPN_RECEIVED, OPNSENSE_MIXED),
]


def real_cases():
    for name, tz, received_at, expectations in REAL_FILES:
        lines = (LOGS / name).read_bytes().splitlines(keepends=True)
        pairs = zip(lines, expectations, strict=True)
        for number, (raw, expected) in enumerate(pairs, 1):
            yield pytest.param(raw, tz, received_at, expected, id=f"{name}:{number}")


@pytest.mark.parametrize(("raw", "tz", "received_at", "expected"), list(real_cases()))
def test_real_line(raw, tz, received_at, expected):
    result = parse_message(raw, received_at=received_at, tz=tz)

    if isinstance(expected, ParseFailure):
        assert result == expected
    else:
        assert_event(result, *expected)


# Constructed lines, one per shape of FORMATS.md 3 and 4 ---------------------

STAMP = "Jun 30 12:34:56"
WHEN = utc(2024, 6, 30, 12, 34, 56)
RECEIVED = utc(2024, 6, 30, 12, 35, 0)
SRC4 = "198.51.100.10"
DST4 = "203.0.113.7"
V4 = "4,0x0,,51,45821,0,none"
HDR = "5,,,1000000103,igb0,match,block,in"


def v4(number: int, name: str, length: int, rest: str, ip: str = V4) -> str:
    return f"{HDR},{ip},{number},{name},{length},{SRC4},{DST4},{rest}"


def v6(name: str, number: int, payload: int, rest: str, src="2001:db8::10") -> str:
    return f"{HDR},6,0x00,0x00000,64,{name},{number},{payload},{src},2001:db8::7,{rest}"


def ev(**overrides) -> dict:
    """The expected fields of a constructed blocked IPv4 line, overridden."""
    base = {
        "occurred_at": WHEN,
        "action": "block",
        "direction": "in",
        "interface": "igb0",
        "ip_version": 4,
        "protocol": "",
        "src_ip": SRC4,
        "dst_ip": DST4,
        "src_port": None,
        "dst_port": None,
        "tcp_flags": "",
        "length": None,
        "rule": "1000000103",
        "hostname": "",
        "time_inferred": True,
    }
    return base | overrides


def ev6(**overrides) -> dict:
    return ev(ip_version=6, src_ip="2001:db8::10", dst_ip="2001:db8::7") | overrides


TCP_SYN = v4(6, "tcp", 44, "48212,23,0,S,3392616478,,1024,,mss")
UDP_DNS = v4(17, "udp", 61, "53124,53,41")

CONSTRUCTED = [
    pytest.param(
        TCP_SYN,
        ev(protocol="tcp", src_port=48212, dst_port=23, tcp_flags="S", length=44),
        {"tcp_seq": "3392616478", "tcp_options": ["mss"], "tcp_data_length": 0},
        id="v4-tcp-syn",
    ),
    pytest.param(
        v4(6, "tcp", 1500, "443,51000,1448,PA,1:1449,1,502,,nop;nop;TS"),
        ev(protocol="tcp", src_port=443, dst_port=51000, tcp_flags="PA", length=1500),
        {"tcp_seq": "1:1449", "tcp_ack": 1, "tcp_window": 502, "tcp_urgent": None},
        id="v4-tcp-payload-seq-range",
    ),
    pytest.param(
        v4(6, "tcp", 40, "443,51000,0,A,,1,501,,"),
        ev(protocol="tcp", src_port=443, dst_port=51000, tcp_flags="A", length=40),
        {"tcp_seq": None, "tcp_options": [], "trailing": "<missing>"},
        id="v4-tcp-no-options-ends-in-two-commas",
    ),
    pytest.param(
        v4(6, "tcp", 60, "50000,443,0,SEC,100,,65535,,mss;sackOK;TS;nop;wscale"),
        ev(protocol="tcp", src_port=50000, dst_port=443, tcp_flags="SEC", length=60),
        {"tcp_window": 65535},
        id="v4-tcp-syn-ece-cwr",
    ),
    pytest.param(
        v4(6, "tcp", 41, "50000,443,1,PAU,7:8,9,512,1,"),
        ev(protocol="tcp", src_port=50000, dst_port=443, tcp_flags="PAU", length=41),
        {"tcp_urgent": 1, "tcp_ack": 9},
        id="v4-tcp-urgent",
    ),
    pytest.param(
        v4(6, "tcp", 40, "0,65535,0,FSRPAUEC,1,2,0,3,"),
        ev(protocol="tcp", src_port=0, dst_port=65535, tcp_flags="FSRPAUEC", length=40),
        {},
        id="v4-tcp-all-flags-port-bounds",
    ),
    pytest.param(
        UDP_DNS,
        ev(protocol="udp", src_port=53124, dst_port=53, length=61),
        {"data_length": 41, "ttl": 51, "ip_id": 45821, "ecn": "", "tos": "0x0"},
        id="v4-udp",
    ),
    pytest.param(
        "12,3,userrules/opt1,1770001234,igb1.12,match,pass,out,"
        f"4,0x3,CE,64,1,0,DF,17,udp,61,{SRC4},{DST4},53124,53,41",
        ev(
            action="pass",
            direction="out",
            interface="igb1.12",
            protocol="udp",
            src_port=53124,
            dst_port=53,
            length=61,
            rule="1770001234",
        ),
        {"sub_rule": 3, "anchor": "userrules/opt1", "rule_number": 12, "ecn": "CE"},
        id="v4-udp-anchor-sub-rule-ecn",
    ),
    pytest.param(
        v4(132, "sctp", 68, "5000,5001,36"),
        ev(protocol="sctp", src_port=5000, dst_port=5001, length=68),
        {"data_length": 36},
        id="v4-sctp",
    ),
    pytest.param(
        v4(1, "icmp", 84, "request,23891,364"),
        ev(protocol="icmp", length=84),
        {"icmp_type": "request", "icmp_id": 23891, "icmp_seq": 3},
        id="v4-icmp-echo-request-glued-length",
    ),
    pytest.param(
        v4(1, "icmp", 84, "reply,23891,1264"),
        ev(protocol="icmp", length=84),
        {"icmp_type": "reply", "icmp_id": 23891, "icmp_seq": 12},
        id="v4-icmp-echo-reply",
    ),
    pytest.param(
        v4(1, "icmp", 56, "unreachport,192.0.2.9,UDP,3343436"),
        ev(protocol="icmp", length=56),
        {"icmp_type": "unreachport", "icmp": ["192.0.2.9", "UDP", "3343436"]},
        id="v4-icmp-unreachport",
    ),
    pytest.param(
        v4(1, "icmp", 56, "unreach,host 192.0.2.9 unreachable - admin prohibited36"),
        ev(protocol="icmp", length=56),
        {"icmp_type": "unreach", "icmp_id": "<missing>"},
        id="v4-icmp-unreach-free-text",
    ),
    pytest.param(
        v4(1, "icmp", 56, "paramprob, parameter problem - octet 2036"),
        ev(protocol="icmp", length=56),
        {"icmp": [" parameter problem - octet 2036"]},
        id="v4-icmp-paramprob-leading-space",
    ),
    pytest.param(
        v4(1, "icmp", 36, "routeradv30:00,1,8"),
        ev(protocol="icmp", length=36),
        {"icmp_type": "routeradv30:00", "icmp": ["1", "8"]},
        id="v4-icmp-routeradv-glued",
    ),
    pytest.param(
        v4(1, "icmp", 84, "datalength=64"),
        ev(protocol="icmp", length=84),
        {"datalength": 64, "icmp_type": "<missing>"},
        id="v4-icmp-opnsense-short",
    ),
    pytest.param(
        v4(1, "icmp", 84, "datalength=64,echoreq,0,4660,1,"),
        ev(protocol="icmp", length=84),
        {
            "datalength": 64,
            "icmp_type": "echoreq",
            "icmp_code": "0",
            "icmp_id": 4660,
            "icmp_seq": 1,
            "icmp_mtu": None,
        },
        id="v4-icmp-opnsense-2026-echo",
    ),
    pytest.param(
        v4(1, "icmp", 576, "datalength=556,unreach,needfrag,,,1400"),
        ev(protocol="icmp", length=576),
        {"icmp_code": "needfrag", "icmp_mtu": 1400, "icmp_id": None},
        id="v4-icmp-opnsense-2026-needfrag",
    ),
    pytest.param(
        v4(1, "icmp", 28, "datalength=8,truncated-icmp=4,,,,"),
        ev(protocol="icmp", length=28),
        {"icmp_type": "truncated-icmp=4", "icmp_code": ""},
        id="v4-icmp-opnsense-2026-truncated",
    ),
    pytest.param(
        v4(2, "igmp", 32, "datalength=12 "),
        ev(protocol="igmp", length=32),
        {"datalength": 12},
        id="v4-igmp-datalength-trailing-space",
    ),
    pytest.param(
        v4(47, "gre", 120, "datalength=100"),
        ev(protocol="gre", length=120),
        {"datalength": 100},
        id="v4-gre",
    ),
    pytest.param(
        v4(50, "esp", 140, "datalength=120 "),
        ev(protocol="esp", length=140),
        {"datalength": 120},
        id="v4-esp",
    ),
    pytest.param(
        v4(51, "ah", 140, "datalength=120"),
        ev(protocol="ah", length=140),
        {"datalength": 120},
        id="v4-ah",
    ),
    pytest.param(
        v4(103, "pim", 54, "datalength=34"),
        ev(protocol="pim", length=54),
        {"datalength": 34},
        id="v4-pim",
    ),
    pytest.param(
        v4(89, "OSPF", 64, "datalength=44"),
        ev(protocol="ospf", length=64),
        {"proto_name": "OSPF"},
        id="v4-ospf-name-lowercased",
    ),
    pytest.param(
        v4(112, "carp", 56, "advertise,255,1,2,0,1"),
        ev(protocol="carp", length=56),
        {
            "carp_type": "advertise",
            "carp_ttl": 255,
            "carp_vhid": 1,
            "carp_version": 2,
            "carp_advskew": 0,
            "carp_advbase": 1,
        },
        id="v4-carp",
    ),
    pytest.param(
        v4(4, "ipencap", 60, "IPV4-IN-IPV4,"),
        ev(protocol="ipencap", length=60),
        {"tunnel": "IPV4-IN-IPV4", "trailing": "<missing>"},
        id="v4-ipv4-in-ipv4",
    ),
    pytest.param(
        v4(41, "ipv6", 100, "IPV6-IN-IPV4,"),
        ev(protocol="ipv6", length=100),
        {"tunnel": "IPV6-IN-IPV4"},
        id="v4-ipv6-in-ipv4",
    ),
    pytest.param(
        v4(17, "udp", 1500, "53,5353,2000", ip="4,0x0,,64,7,0,+"),
        ev(protocol="udp", src_port=53, dst_port=5353, length=1500),
        {"frag_offset": 0, "ip_flags": "+", "data_length": 2000},
        id="v4-first-fragment",
    ),
    pytest.param(
        v4(17, "udp", 548, "", ip="4,0x0,,64,7,1480,none"),
        ev(protocol="udp", length=548),
        {"frag_offset": 1480, "data_length": "<missing>", "trailing": "<missing>"},
        id="v4-non-first-fragment",
    ),
    pytest.param(
        f"{HDR},4,error='truncated-ip 1400 bytes missing!',0x0,,64,7,0,DF,"
        f"17,udp,1500,{SRC4},{DST4},53,5353,1480",
        ev(protocol="udp", src_port=53, dst_port=5353, length=1500),
        {"error": "error='truncated-ip 1400 bytes missing!'", "ttl": 64},
        id="v4-error-column",
    ),
    pytest.param(
        "7,,,0,em0,unkn(%u),unkn(%u),unkn(%u),"
        f"4,0x0,,64,7,0,DF,17,udp,61,{SRC4},{DST4},53124,53,41",
        ev(
            action="",
            direction="",
            interface="em0",
            protocol="udp",
            src_port=53124,
            dst_port=53,
            length=61,
            rule="7",
        ),
        {"action": "unkn(%u)", "reason": "unkn(%u)", "tracker": "0"},
        id="v4-unkn-action-reason-direction",
    ),
    pytest.param(
        "7,,,1000000001,em0,synproxy,synproxy-drop,in,"
        f"4,0x0,,64,7,0,DF,6,tcp,40,{SRC4},{DST4},1,2,0,S,1,,0,,",
        ev(
            interface="em0",
            protocol="tcp",
            src_port=1,
            dst_port=2,
            tcp_flags="S",
            length=40,
            rule="1000000001",
        ),
        {"action": "synproxy-drop", "reason": "synproxy"},
        id="v4-synproxy-drop-is-block",
    ),
    *[
        pytest.param(
            f"7,,,(null),em0,match,{action},in/out,"
            f"4,0x0,,64,7,0,DF,17,udp,61,{SRC4},{DST4},53124,53,41",
            ev(
                action="",
                direction="",
                interface="em0",
                protocol="udp",
                src_port=53124,
                dst_port=53,
                length=61,
                rule="7",
            ),
            {"action": action, "direction": "in/out", "tracker": "(null)"},
            id=f"v4-{action}-in-out-null-label",
        )
        for action in ("scrub", "nat", "binat", "rdr")
    ],
    pytest.param(
        f"7,,,,em0,match,pass,out,4,0x0,,64,7,0,DF,17,udp,61,{SRC4},{DST4},53124,53,41",
        ev(
            action="pass",
            direction="out",
            interface="em0",
            protocol="udp",
            src_port=53124,
            dst_port=53,
            length=61,
            rule="7",
        ),
        {"tracker": None},
        id="v4-empty-tracker-uses-rule-number",
    ),
    pytest.param(
        "96,,,02f4bab031b57d1e30553ce08e0ec131,vlan0.100,match,block,in,"
        f"4,0x0,,64,7,0,DF,17,udp,61,{SRC4},{DST4},53124,53,41",
        ev(
            interface="vlan0.100",
            protocol="udp",
            src_port=53124,
            dst_port=53,
            length=61,
            rule="02f4bab031b57d1e30553ce08e0ec131",
        ),
        {"tracker": "02f4bab031b57d1e30553ce08e0ec131", "rule_number": 96},
        id="v4-opnsense-label",
    ),
    pytest.param(
        UDP_DNS + ",,extra,cols",
        ev(protocol="udp", src_port=53124, dst_port=53, length=61),
        {"trailing": ["", "extra", "cols"]},
        id="v4-extra-trailing-columns-kept",
    ),
    pytest.param(
        v4(6, "tcp", 44, "1,2,0,S,1,,0,,mss;[bad opt],>"),
        ev(protocol="tcp", src_port=1, dst_port=2, tcp_flags="S", length=44),
        {"tcp_options": ["mss", "[bad opt]"], "trailing": [">"]},
        id="v4-tcp-bad-opt-marker",
    ),
    # IPv6
    pytest.param(
        v6("TCP", 6, 40, "50000,443,0,S,1,,65535,,mss;nop;wscale;sackOK;TS"),
        ev6(protocol="tcp", src_port=50000, dst_port=443, tcp_flags="S", length=80),
        {"proto_name": "TCP", "hop_limit": 64, "payload_length": 40},
        id="v6-tcp-pfsense",
    ),
    pytest.param(
        v6("udp", 17, 41, "53124,53,41"),
        ev6(protocol="udp", src_port=53124, dst_port=53, length=81),
        {"proto_name": "udp", "data_length": 41},
        id="v6-udp-opnsense-lowercase",
    ),
    pytest.param(
        v6("ICMPv6", 58, 32, "", src="FE80::1"),
        ev6(protocol="icmpv6", length=72, src_ip="fe80::1"),
        {"trailing": "<missing>", "icmp_type": "<missing>"},
        id="v6-icmpv6-pfsense-trailing-comma",
    ),
    pytest.param(
        v6("ipv6-icmp", 58, 32, "datalength=32"),
        ev6(protocol="icmpv6", length=72),
        {"datalength": 32},
        id="v6-icmpv6-opnsense-short",
    ),
    pytest.param(
        v6("ipv6-icmp", 58, 24, "datalength=24,neighbrsol,0,,,"),
        ev6(protocol="icmpv6", length=64),
        {"icmp_type": "neighbrsol", "icmp_code": "0", "icmp_id": None},
        id="v6-icmpv6-opnsense-2026",
    ),
    pytest.param(
        v6("ipv6-icmp", 58, 1280, "datalength=1280,toobig,0,,,1280"),
        ev6(protocol="icmpv6", length=1320),
        {"icmp_type": "toobig", "icmp_mtu": 1280},
        id="v6-icmpv6-opnsense-2026-toobig",
    ),
    pytest.param(
        v6("SCTP", 132, 48, "5000,5001,36,0x1234,junk"),
        ev6(protocol="sctp", src_port=5000, dst_port=5001, length=88),
        {"data_length": 36, "trailing": ["0x1234", "junk"]},
        id="v6-sctp-with-junk",
    ),
    pytest.param(
        v6("VRRP", 112, 36, ""),
        ev6(protocol="carp", length=76),
        {"carp_type": "<missing>"},
        id="v6-vrrp-pfsense-nothing",
    ),
    pytest.param(
        v6("carp", 112, 36, "advertise,255,3,2,100,1"),
        ev6(protocol="carp", length=76),
        {"carp_vhid": 3, "carp_advskew": 100},
        id="v6-carp-opnsense",
    ),
    pytest.param(
        v6("PIM", 103, 334, ""),
        ev6(protocol="pim", length=374),
        {"trailing": "<missing>"},
        id="v6-pim-trailing-comma",
    ),
    pytest.param(
        v6("Options", 0, 36, "HBH,RTALERT,0x0000,PADN,", src="fe80::1"),
        ev6(protocol="hopopt", length=76, src_ip="fe80::1"),
        {"ipv6_headers": ["HBH", "RTALERT", "0x0000", "PADN"]},
        id="v6-hop-by-hop-mld",
    ),
    pytest.param(
        v6("DSTOPT", 60, 40, "DSTOPT,PADN,HOMEADDR, 2001:DB8:0::5,"),
        ev6(protocol="dstopt", length=80),
        {"home_address": "2001:db8::5"},
        id="v6-destination-options-homeaddr",
    ),
    pytest.param(
        v6("Fragment", 44, 1456, "FRAG6, 0x0000abcd:0|1448,,51000,53,1448"),
        ev6(protocol="ipv6-frag", length=1496),
        {
            "frag_id": "0x0000abcd",
            "frag_offset": 0,
            "frag_length": 1448,
            "ipv6_headers": ["FRAG6", " 0x0000abcd:0|1448", "", "51000", "53", "1448"],
        },
        id="v6-first-fragment",
    ),
    pytest.param(
        v6("Fragment", 44, 560, "FRAG6, 0x0000abcd:1448|552,"),
        ev6(protocol="ipv6-frag", length=600),
        {"frag_offset": 1448, "frag_length": 552},
        id="v6-non-first-fragment",
    ),
    pytest.param(
        v6("Routing", 43, 64, "2,0,1,"),
        ev6(protocol="routing", length=104),
        {"ipv6_headers": ["2", "0", "1"]},
        id="v6-routing-header",
    ),
    pytest.param(
        v6("Mobility", 135, 24, "MOBILITY,"),
        ev6(protocol="mobility", length=64),
        {"ipv6_last_header": "MOBILITY"},
        id="v6-mobility",
    ),
    pytest.param(
        v6("IPv6", 41, 80, "IPV6-IN-IPV6,"),
        ev6(protocol="ipv6", length=120),
        {"tunnel": "IPV6-IN-IPV6"},
        id="v6-ipv6-in-ipv6",
    ),
    pytest.param(
        f"{HDR},6,error='truncated-ip6 - 20 bytes missing!',0x00,0x00000,64,UDP,17,"
        "60,2001:db8::10,2001:db8::7,53,5353,60",
        ev6(protocol="udp", src_port=53, dst_port=5353, length=100),
        {"error": "error='truncated-ip6 - 20 bytes missing!'"},
        id="v6-error-column",
    ),
    pytest.param(
        v6("UDP", 17, 41, "53124,53,41", src="2001:DB8:0:0:0:0:0:10"),
        ev6(protocol="udp", src_port=53124, dst_port=53, length=81),
        {},
        id="v6-address-made-canonical",
    ),
]


@pytest.mark.parametrize(("csv", "expected", "extra"), CONSTRUCTED)
def test_constructed_line(csv, expected, extra):
    raw = f"<134>{STAMP} filterlog[4242]: {csv}\n".encode()

    result = parse_message(raw, received_at=RECEIVED, tz=UTC)

    assert_event(result, expected, extra)


FAILURES = [
    pytest.param("[|pflog]", "filterlog: not a packet line ('[|pflog]')", id="pflog"),
    pytest.param(
        "[pflog: invalid header length!]",
        "filterlog: not a packet line ('[pflog: invalid header length!]')",
        id="pflog-bad-header",
    ),
    pytest.param(
        f"{HDR},4, IP(truncated-ip 3) ",
        "filterlog: no IP header at column 10 (' IP(truncated-ip 3)')",
        id="truncated-ip-capture",
    ),
    pytest.param(
        f"{HDR},4,bad-hlen=3),",
        "filterlog: no IP header at column 10 ('bad-hlen=3)')",
        id="bad-hlen",
    ),
    pytest.param(
        f"{HDR},6,truncated-ip6=20,",
        "filterlog: no IP header at column 10 ('truncated-ip6=20')",
        id="truncated-ip6",
    ),
    pytest.param(
        TCP_SYN.rsplit(",", 5)[0],
        "filterlog: truncated after column 24",
        id="tcp-truncated",
    ),
    pytest.param(
        UDP_DNS.rsplit(",", 3)[0],
        "filterlog: truncated after column 20",
        id="dst-without-separator",
    ),
    pytest.param(
        f"{HDR},{V4},17,udp,61,{SRC4},{DST4},53",
        "filterlog: truncated after column 21",
        id="udp-truncated",
    ),
    pytest.param(
        v4(112, "carp", 56, "advertise,255,1"),
        "filterlog: truncated after column 23",
        id="carp-truncated",
    ),
    pytest.param(
        v4(1, "icmp", 84, "datalength=64,echoreq,0"),
        "filterlog: truncated after column 23",
        id="icmp-2026-truncated",
    ),
    pytest.param(
        v6("Fragment", 44, 560, "FRAG6"),
        "filterlog: truncated after column 18",
        id="frag6-truncated",
    ),
    pytest.param(
        UDP_DNS.replace(SRC4, "10.170.12."),
        "filterlog: invalid source address '10.170.12.'",
        id="cut-source-address",
    ),
    pytest.param(
        UDP_DNS.replace(DST4, "203.0.113.256"),
        "filterlog: invalid destination address '203.0.113.256'",
        id="octet-over-255",
    ),
    pytest.param(
        UDP_DNS.replace(SRC4, "01.2.3.4"),
        "filterlog: invalid source address '01.2.3.4'",
        id="leading-zero-octet",
    ),
    pytest.param(
        UDP_DNS.replace(SRC4, "2001:db8::1"),
        "filterlog: invalid source address '2001:db8::1'",
        id="v6-address-in-v4-line",
    ),
    pytest.param(
        v6("UDP", 17, 41, "53124,53,41", src="fe80::1%em0"),
        "filterlog: invalid source address 'fe80::1%em0'",
        id="v6-zone-id",
    ),
    pytest.param(
        v6("UDP", 17, 41, "53124,53,41", src="2001:db8:::1"),
        "filterlog: invalid source address '2001:db8:::1'",
        id="v6-bad-address",
    ),
    pytest.param(
        v6("DSTOPT", 60, 40, "DSTOPT,HOMEADDR, 2001:db8::zz,"),
        "filterlog: invalid home address ' 2001:db8::zz'",
        id="v6-bad-home-address",
    ),
    pytest.param(
        v4(17, "udp", 61, "70000,53,41"),
        "filterlog: port out of range (70000, 53)",
        id="port-out-of-range",
    ),
    pytest.param(
        v4(6, "tcp", 44, "x,23,0,S,1,,1024,,mss"),
        "filterlog: source port is not a number ('x')",
        id="port-not-a-number",
    ),
    pytest.param(
        v4(6, "tcp", 44, "1,23,0,SW,1,,1024,,mss"),
        "filterlog: invalid TCP flags 'SW'",
        id="bad-tcp-flags",
    ),
    pytest.param(
        v4(6, "tcp", 44, "1,23,errormsg='tcp 20 [bad hdr length 4 - too short, < 20]'"),
        "filterlog: truncated after column 24",
        id="tcp-errormsg",
    ),
    pytest.param(
        UDP_DNS.replace(",51,", ",x,"),
        "filterlog: TTL is not a number ('x')",
        id="ttl-not-a-number",
    ),
    pytest.param(
        UDP_DNS.replace(",in,4,", ",in,5,"),
        "filterlog: unsupported IP version '5'",
        id="ip-version-5",
    ),
    pytest.param(
        f"{HDR},4",
        "filterlog: truncated after column 9",
        id="header-only",
    ),
    pytest.param(
        UDP_DNS.replace("igb0", "igb\u00e90"),
        "filterlog: non-ASCII text in line",
        id="non-ascii",
    ),
    pytest.param(
        UDP_DNS + ",x" * 3000,
        f"filterlog: line too long ({len(UDP_DNS) + 6000} characters)",
        id="too-long",
    ),
    pytest.param(
        "pf: 00:00:01.123 rule 5/0(match): block in on em0",
        "filterlog: not a packet line ('pf: 00:00:01.123 rule 5/0(match): block)",
        id="old-pf-text",
    ),
]


@pytest.mark.parametrize(("csv", "reason"), FAILURES)
def test_constructed_failure(csv, reason):
    raw = f"<134>{STAMP} filterlog[4242]: {csv}".encode()

    assert parse_message(raw, received_at=RECEIVED, tz=UTC) == ParseFailure(reason)


def test_bare_csv_without_header_is_sniffed():
    result = parse_message(UDP_DNS.encode(), received_at=RECEIVED, tz=UTC)

    assert_event(
        result,
        ev(
            occurred_at=RECEIVED,
            protocol="udp",
            src_port=53124,
            dst_port=53,
            length=61,
        ),
        {"pri": None, "app": "<missing>"},
    )


def test_csv_under_other_tag_is_sniffed():
    raw = f"<134>{STAMP} fw relay: {UDP_DNS}".encode()

    result = parse_message(raw, received_at=RECEIVED, tz=UTC)

    assert isinstance(result, ParsedEvent)
    assert (result.hostname, result.extra["app"]) == ("fw", "relay")


def test_old_pf_text_under_pf_tag_is_not_filter_log():
    raw = f"<134>{STAMP} pf: 00:00:01.123 rule 5/0(match): block in".encode()

    result = parse_message(raw, received_at=RECEIVED, tz=UTC)

    assert result == ParseFailure("not a filter log message (app 'pf')")


@pytest.mark.parametrize("log_format", ["pfsense", "opnsense"])
def test_explicit_format_parses_despite_other_tag(log_format):
    raw = f"<4>{STAMP} gw kernel: {UDP_DNS}".encode()

    result = parse_message(raw, received_at=RECEIVED, tz=UTC, log_format=log_format)

    assert isinstance(result, ParsedEvent)
    assert result.hostname == "gw"


@pytest.mark.parametrize("log_format", ["pfsense", "opnsense"])
def test_explicit_format_rejects_other_payload(log_format):
    raw = f"<190>{STAMP} fw dhcpd[4]: DHCPDISCOVER from x".encode()

    result = parse_message(raw, received_at=RECEIVED, tz=UTC, log_format=log_format)

    assert result == ParseFailure("not a filterlog message (app 'dhcpd')", "fw")


@pytest.mark.parametrize("log_format", ["pfsense", "opnsense"])
def test_explicit_format_rejects_untagged_text(log_format):
    raw = b"<134>GET / HTTP/1.0"

    result = parse_message(raw, received_at=RECEIVED, tz=UTC, log_format=log_format)

    assert result == ParseFailure("not a filterlog message (no syslog tag)")


def test_unknown_format_fails():
    raw = f"<134>{STAMP} filterlog[1]: {UDP_DNS}".encode()

    result = parse_message(raw, received_at=RECEIVED, tz=UTC, log_format="cisco")

    assert result == ParseFailure("unknown log format 'cisco'")


def test_binary_garbage_fails():
    raw = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"

    result = parse_message(raw, received_at=RECEIVED, tz=UTC)

    assert result == ParseFailure("not a filter log message (no syslog tag)")


def test_extra_is_json_safe():
    raw = f'<134>1 2024-06-30T12:34:56Z fw filterlog 1 - [m a="1"] {TCP_SYN}'

    result = parse_message(raw.encode(), received_at=RECEIVED, tz=UTC)

    assert json.loads(json.dumps(result.extra)) == result.extra


def test_parser_bug_becomes_failure(monkeypatch):
    def broken(envelope):
        raise KeyError("oops")

    monkeypatch.setitem(parsers._FORMATS, "pfsense", (filterlog.sniff, broken))
    raw = f"<134>{STAMP} fw filterlog[1]: {UDP_DNS}".encode()

    result = parse_message(raw, received_at=RECEIVED, tz=UTC, log_format="pfsense")

    assert result == ParseFailure("internal parser error: KeyError('oops')", "fw")


def test_registered_format_is_sniffed_and_named(monkeypatch):
    def sniff(envelope):
        return envelope.msg.startswith("HELLO")

    def parse(envelope):
        return ParsedEvent(envelope.occurred_at, rule=envelope.msg)

    monkeypatch.setattr(parsers, "_FORMATS", dict(parsers._FORMATS))
    monkeypatch.setattr(parsers, "_SNIFFERS", list(parsers._SNIFFERS))
    parsers.register_format("hello", sniff, parse)
    raw = f"<134>{STAMP} fw app: HELLO".encode()

    auto = parse_message(raw, received_at=RECEIVED, tz=UTC)
    named = parse_message(raw, received_at=RECEIVED, tz=UTC, log_format="hello")

    assert auto.rule == named.rule == "HELLO"


def test_a_tag_sends_its_messages_to_its_format_without_sniffing(monkeypatch):
    def parse(envelope):
        return ParsedEvent(envelope.occurred_at, rule=envelope.app)

    monkeypatch.setattr(parsers, "_FORMATS", dict(parsers._FORMATS))
    monkeypatch.setattr(parsers, "_SNIFFERS", list(parsers._SNIFFERS))
    monkeypatch.setattr(parsers, "_TAGGED", dict(parsers._TAGGED))
    parsers.register_format("tagged", lambda envelope: False, parse, ("mytag",))
    csv = "5,,,1000000103,igb0,match,pass,out,4,0x0,,64,1,0,none,17,udp,76"
    tagged = f"<134>{STAMP} fw mytag: {csv}".encode()
    untagged = f"<134>{STAMP} fw other: {csv}".encode()

    # The CSV alone would be sniffed as filterlog (and found cut short).
    assert parse_message(tagged, received_at=RECEIVED, tz=UTC).rule == "mytag"
    assert isinstance(
        parse_message(untagged, received_at=RECEIVED, tz=UTC), ParseFailure
    )
