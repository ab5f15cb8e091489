"""Golden tests: every netfilter LOG shape of FORMATS.md 6, full records."""

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from events.parsers import ParsedEvent, ParseFailure, netfilter, parse_message

LOGS = Path(__file__).resolve().parent.parent / "data" / "logs"
TOKYO = ZoneInfo("Asia/Tokyo")
RECEIVED = datetime(2024, 6, 30, 3, 40, 0, tzinfo=UTC)
MAC4 = "52:54:00:12:34:56:00:1b:21:aa:bb:cc:08:00"
MAC6 = "52:54:00:12:34:56:00:1b:21:aa:bb:cc:86:dd"
SYN = {"tcp_window": 1024, "tcp_reserved": "0x00", "tcp_urgent": 0}


def at(second: int, minute: int = 35) -> datetime:
    """A BSD stamp of the sample file: Jun 30 12:mm:ss in Tokyo."""
    return datetime(2024, 6, 30, 3, minute, second, tzinfo=UTC)


def record(result) -> dict:
    """The whole event as a dict: every contract field and ``extra``."""
    assert isinstance(result, ParsedEvent), result
    return {name: getattr(result, name) for name in ParsedEvent.__slots__}


def event(more: dict, **fields) -> dict:
    """A blocked inbound IPv4 TCP SYN on eth0 from the relay "gw".

    ``more`` is added to the envelope's extra; an ``extra`` in ``fields``
    replaces the whole dict.
    """
    base = {
        "occurred_at": RECEIVED,
        "action": "block",
        "direction": "in",
        "interface": "eth0",
        "ip_version": 4,
        "protocol": "tcp",
        "src_ip": "198.51.100.23",
        "dst_ip": "203.0.113.10",
        "src_port": 51234,
        "dst_port": 22,
        "tcp_flags": "S",
        "length": 60,
        "rule": "DROP-IN",
        "hostname": "gw",
        "time_inferred": True,
        "extra": {"pri": 4, "app": "kernel"} | more,
    }
    return base | fields


def ip4(ttl: int, ident: int, tos="0x00", prec="0x00", flags=None, mac=MAC4) -> dict:
    extra = {"tos": tos, "prec": prec, "ttl": ttl, "ip_id": ident}
    if flags:
        extra["ip_flags"] = flags
    if mac:
        extra["mac"] = mac
    return extra


def ip6(hops: int, flow: int = 0, mac=MAC6) -> dict:
    extra = {"traffic_class": 0, "hop_limit": hops, "flow_label": flow}
    if mac:
        extra["mac"] = mac
    return extra


def scan(second, src, sport, dport, ttl, ident, rule, length=40, **fields):
    """A SYN scan packet, the bulk of any inbound block log."""
    scanned = event(
        ip4(ttl, ident) | SYN,
        occurred_at=at(second),
        src_ip=src,
        src_port=sport,
        dst_port=dport,
        length=length,
        rule=rule,
    )
    return scanned | fields


V6_SRC = "2001:db8:bad::1"
V6_DST = "2001:db8:100::10"
INNER4 = (
    "SRC=203.0.113.10 DST=192.0.2.80 LEN=1500 TOS=0x00 PREC=0x00 TTL=63 ID=0 DF "
    "PROTO=TCP SPT=443 DPT=51234 WINDOW=501 RES=0x00 ACK PSH URGP=0"
)
INNER6 = (
    "SRC=2001:0db8:0100:0000:0000:0000:0000:0010 "
    "DST=2001:0db8:0bad:0000:0000:0000:0000:0001 LEN=1500 TC=0 HOPLIMIT=63 "
    "FLOWLBL=0 PROTO=TCP SPT=443 DPT=51234 WINDOW=501 RES=0x00 ACK URGP=0"
)

# One expectation per line of netfilter.log, parsed with "auto".
SAMPLE = [
    event(
        ip4(52, 54321, flags="DF")
        | {"tcp_window": 64240, "tcp_reserved": "0x00", "tcp_urgent": 0},
        occurred_at=at(56, 34),
    ),
    event(
        {"uptime": 126140.629122, "udp_length": 112} | ip4(113, 10251),
        occurred_at=at(57, 34),
        protocol="udp",
        src_ip="198.51.100.60",
        src_port=8999,
        dst_port=6881,
        tcp_flags="",
        length=132,
        rule="[UFW BLOCK]",
    ),
    event(
        ip4(64, 3035, flags="DF", mac=None)
        | {"udp_length": 41, "uid": 101, "gid": 103},
        occurred_at=at(58, 34),
        action="",
        direction="out",
        protocol="udp",
        src_ip="203.0.113.10",
        dst_ip="192.0.2.53",
        src_port=40512,
        dst_port=53,
        tcp_flags="",
        length=61,
        rule="[UFW AUDIT]",
    ),
    event(
        ip4(49, 0, flags="DF")
        | {
            "tcp_seq": 2735613442,
            "tcp_ack": 1901125362,
            "tcp_window": 501,
            "tcp_reserved": "0x00",
            "tcp_urgent": 0,
            "tcp_options_hex": "0101080A5C8A2B1D00B2F4C6",
        },
        occurred_at=at(59, 34),
        action="pass",
        src_ip="192.0.2.77",
        src_port=443,
        dst_port=38022,
        tcp_flags="PA",
        length=52,
        rule="[UFW ALLOW]",
    ),
    event(
        ip4(241, 4242, tos="0x08", prec="0x20") | SYN,
        occurred_at=at(0),
        src_ip="198.51.100.99",
        src_port=50123,
        tcp_flags="SEC",
        length=44,
        rule="[UFW LIMIT BLOCK]",
    ),
    event(
        ip4(57, 61000, flags="DF")
        | {"icmp_type": 8, "icmp_code": 0, "icmp_id": 4321, "icmp_seq": 1},
        occurred_at=at(1),
        action="reject",
        interface="ens3",
        protocol="icmp",
        src_ip="198.51.100.8",
        src_port=None,
        dst_port=None,
        tcp_flags="",
        length=84,
        rule="FINAL_REJECT",
    ),
    event(
        ip6(57, flow=654321)
        | {"tcp_window": 64800, "tcp_reserved": "0x00", "tcp_urgent": 0},
        occurred_at=at(2),
        action="reject",
        interface="ens3",
        ip_version=6,
        src_ip=V6_SRC,
        dst_ip=V6_DST,
        dst_port=3389,
        length=80,
        rule="filter_IN_public_REJECT",
    ),
    event(
        ip4(250, 54000) | {"tcp_window": 0, "tcp_reserved": "0x00", "tcp_urgent": 0},
        occurred_at=at(3),
        interface="ens3",
        src_ip="10.0.0.5",
        src_port=80,
        dst_port=61000,
        tcp_flags="RA",
        length=40,
        rule="rpfilter_DROP",
    ),
    scan(4, "198.51.100.41", 47000, 8080, 245, 31337, "Shorewall:net2fw:DROP"),
    event(
        ip4(118, 1234, flags="DF")
        | {
            "out_interface": "eth1",
            "tcp_window": 8192,
            "tcp_reserved": "0x00",
            "tcp_urgent": 0,
        },
        occurred_at=at(5),
        direction="",
        src_ip="198.51.100.42",
        dst_ip="192.168.1.20",
        src_port=55000,
        dst_port=445,
        length=52,
        rule="[WAN_IN-2000-D]",
        hostname="edge",
    ),
    scan(
        6,
        "198.51.100.43",
        41000,
        23,
        238,
        54321,
        "[WAN_LOCAL-default-D]",
        interface="eth8",
        hostname="udm",
        extra={"pri": 12, "app": "kernel"}
        | ip4(238, 54321)
        | {"tcp_window": 65535, "tcp_reserved": "0x00", "tcp_urgent": 0},
    ),
    event(
        ip4(63, 777, flags="DF")
        | {
            "out_interface": "eth0",
            "tcp_window": 64240,
            "tcp_reserved": "0x00",
            "tcp_urgent": 0,
        },
        occurred_at=at(7),
        action="pass",
        direction="",
        interface="eth1",
        src_ip="192.168.1.20",
        dst_ip="192.0.2.80",
        src_port=50000,
        dst_port=443,
        rule="[RULE_IN-2001-A]",
        hostname="vyos",
    ),
    event(
        ip4(64, 4040, flags="DF", mac=None)
        | {"tcp_window": 64240, "tcp_reserved": "0x00", "tcp_urgent": 0}
        | {"mark": "0x1", "pri": 6},
        occurred_at=at(8),
        action="pass",
        direction="out",
        src_ip="203.0.113.10",
        dst_ip="192.0.2.80",
        src_port=50001,
        dst_port=443,
        rule="nft-accept-out",
    ),
    event(
        ip4(63, 9000, flags="MF") | {"out_interface": "eth0", "udp_length": 1480},
        occurred_at=at(9),
        action="reject",
        direction="",
        interface="eth1",
        protocol="udp",
        src_ip="192.168.1.30",
        dst_ip="198.51.100.7",
        src_port=40000,
        dst_port=4500,
        tcp_flags="",
        length=1500,
        rule="FWD-REJECT",
    ),
    event(
        ip4(52, 9001) | {"frag_offset": 1480},
        occurred_at=at(10),
        protocol="udp",
        src_ip="198.51.100.7",
        src_port=None,
        dst_port=None,
        tcp_flags="",
        length=68,
    ),
    event(
        ip4(254, 0, prec="0xC0")
        | {"icmp_type": 3, "icmp_code": 4, "icmp_mtu": 1400, "icmp_inner": INNER4},
        occurred_at=at(11),
        protocol="icmp",
        src_ip="198.51.100.1",
        src_port=None,
        dst_port=None,
        tcp_flags="",
        length=576,
    ),
    event(
        ip6(64)
        | {"icmp_type": 2, "icmp_code": 0, "icmp_mtu": 1280, "icmp_inner": INNER6},
        occurred_at=at(12),
        ip_version=6,
        protocol="icmpv6",
        src_ip="2001:db8::fe",
        dst_ip=V6_DST,
        src_port=None,
        dst_port=None,
        tcp_flags="",
        length=1280,
        rule="DROP-IN6",
    ),
    event(
        ip6(57) | {"frag_offset": 1448, "frag_id": "0a1b2c3d"},
        occurred_at=at(13),
        ip_version=6,
        protocol="udp",
        src_ip=V6_SRC,
        dst_ip=V6_DST,
        src_port=None,
        dst_port=None,
        tcp_flags="",
        length=1000,
        rule="DROP-IN6",
    ),
    event(
        ip4(
            1,
            0,
            prec="0xC0",
            flags="DF",
            mac="01:00:5e:00:00:01:00:1b:21:aa:bb:cc:08:00",
        )
        | {"ip_options": "94040000", "pri": 6},
        occurred_at=at(14),
        protocol="igmp",
        src_ip="192.168.1.1",
        dst_ip="224.0.0.1",
        src_port=None,
        dst_port=None,
        tcp_flags="",
        length=36,
        rule="igmp-drop",
    ),
    event(
        ip4(60, 1) | {"pri": 6},
        occurred_at=at(15),
        action="pass",
        protocol="gre",
        src_ip="198.51.100.5",
        src_port=None,
        dst_port=None,
        tcp_flags="",
        length=100,
        rule="gre-accept",
    ),
    event(
        ip4(60, 2) | {"spi": "0xc0ffee01", "pri": 6},
        occurred_at=at(16),
        action="",
        protocol="esp",
        src_ip="198.51.100.5",
        src_port=None,
        dst_port=None,
        tcp_flags="",
        length=140,
        rule="esp-in",
    ),
    event(
        ip4(240, 999) | SYN | {"phys_in": "tap101i0", "pri": 6},
        occurred_at=at(17),
        interface="vmbr0",
        src_ip="198.51.100.44",
        dst_ip="192.168.1.101",
        src_port=40404,
        dst_port=3306,
        length=40,
        rule="policy DROP",
        hostname="pve",
    ),
    scan(
        18,
        "198.51.100.61",
        48000,
        5555,
        239,
        54321,
        "[UFW BLOCK]",
        length=44,
        occurred_at=datetime(2024, 6, 30, 3, 35, 18, 123456, tzinfo=UTC),
        time_inferred=False,
    ),
    scan(
        19,
        "198.51.100.62",
        48001,
        37215,
        239,
        54322,
        "[UFW BLOCK]",
        length=44,
        time_inferred=False,
    ),
    scan(
        20,
        "198.51.100.63",
        48002,
        52869,
        241,
        10,
        "",
        action="",
        occurred_at=datetime(2024, 6, 30, 3, 35, 20, 500000, tzinfo=UTC),
        time_inferred=False,
        hostname="gw01",
        extra={"pri": 4, "app": "kernel", "uptime": 4263.11879} | ip4(241, 10) | SYN,
    ),
    scan(21, "198.51.100.64", 48003, 8443, 241, 11, "DROP"),
    ParseFailure("netfilter: ARP packet (no IP header)", "gw"),
    ParseFailure("netfilter: no IN= key (second half of a split record?)", "udm"),
    ParseFailure("netfilter: line ends before WINDOW= (cut short)", "gw"),
    ParseFailure(
        "netfilter: not a packet log line ('usb 1-1: new high-speed USB device numb)",
        "gw",
    ),
]


def sample_cases() -> list:
    lines = (LOGS / "netfilter.log").read_bytes().splitlines()
    pairs = zip(lines, SAMPLE, strict=True)
    return [
        pytest.param(raw, expected, id=f"netfilter.log:{number}")
        for number, (raw, expected) in enumerate(pairs, 1)
    ]


def parse(raw: bytes, log_format: str = "auto"):
    return parse_message(raw, received_at=RECEIVED, tz=TOKYO, log_format=log_format)


def assert_result(result, expected) -> None:
    if isinstance(expected, ParseFailure):
        assert result == expected
    else:
        assert record(result) == expected


@pytest.mark.parametrize(("raw", "expected"), sample_cases())
@pytest.mark.parametrize("log_format", ["auto", "netfilter"])
def test_sample_line(raw, expected, log_format):
    assert_result(parse(raw, log_format), expected)


@pytest.mark.parametrize(("raw", "expected"), sample_cases())
def test_token_reader_gives_the_same_record_as_the_common_layout(
    raw, expected, monkeypatch
):
    monkeypatch.setattr(netfilter, "_COMMON_RE", re.compile(r"(?!)"))

    assert_result(parse(raw), expected)


def test_common_layout_takes_most_sample_lines():
    lines = (LOGS / "netfilter.log").read_text().splitlines()
    bodies = [line[line.find("IN=") :] for line in lines if "IN=" in line]

    taken = [body for body in bodies if netfilter._COMMON_RE.fullmatch(body)]

    # Otherwise the equivalence test above would compare one reader to itself.
    assert len(taken) >= 15


# Constructed lines for the remaining shapes --------------------------------

HEAD = "<4>Jun 30 12:35:30 gw kernel: "
TCP = (
    f"IN=eth0 OUT= MAC={MAC4} SRC=198.51.100.23 DST=203.0.113.10 LEN=60 TOS=0x00 "
    "PREC=0x00 TTL=52 ID=54321 DF PROTO=TCP SPT=51234 DPT=22 WINDOW=64240 "
    "RES=0x00 SYN URGP=0 "
)
TCP_EXTRA = ip4(52, 54321, flags="DF") | {
    "tcp_window": 64240,
    "tcp_reserved": "0x00",
    "tcp_urgent": 0,
}


def tcp_event(**fields) -> dict:
    return event(TCP_EXTRA, occurred_at=at(30), **fields)


CONSTRUCTED = [
    pytest.param(f"{HEAD}{TCP}", tcp_event(rule="", action=""), id="no-prefix"),
    pytest.param(
        f"{HEAD}[ 5.123456] DROP {TCP}",
        tcp_event(rule="DROP", extra=tcp_event()["extra"] | {"uptime": 5.123456}),
        id="uptime-with-padding",
    ),
    pytest.param(
        f"{HEAD}[UFW AUDIT INVALID] {TCP}",
        tcp_event(rule="[UFW AUDIT INVALID]", action=""),
        id="ufw-audit-invalid-no-action",
    ),
    pytest.param(
        f"{HEAD}OUT-LOG: {TCP}",
        tcp_event(rule="OUT-LOG", action=""),
        id="no-verdict-word",
    ),
    pytest.param(
        f"{HEAD}iptables denied: {TCP}",
        tcp_event(rule="iptables denied", action="block"),
        id="denied",
    ),
    pytest.param(
        f"{HEAD}[WAN_IN-10-R]{TCP}",
        tcp_event(rule="[WAN_IN-10-R]", action="reject"),
        id="edgeos-reject-letter",
    ),
    pytest.param(
        f"{HEAD}[WAN_IN-10-X]{TCP}",
        tcp_event(rule="[WAN_IN-10-X]", action=""),
        id="edgeos-unknown-letter",
    ),
    pytest.param(
        f"{HEAD}{'nft very long prefix ' * 5}drop: {TCP}",
        tcp_event(
            rule=("nft very long prefix " * 5)[:64],
            extra=tcp_event()["extra"]
            | {"prefix": "nft very long prefix " * 5 + "drop"},
        ),
        id="prefix-longer-than-the-rule-column",
    ),
    pytest.param(
        f"{HEAD}LOG {TCP.replace('SYN', 'AE CWR ECE URG ACK PSH RST SYN FIN')}",
        tcp_event(
            rule="LOG",
            action="",
            tcp_flags="FSRPAUEC",
            extra=TCP_EXTRA | {"pri": 4, "app": "kernel", "tcp_ae": True},
        ),
        id="every-tcp-flag-in-pf-order",
    ),
    pytest.param(
        f"{HEAD}DROP: {TCP}UID=0 GID=0 MARK=0xff ",
        tcp_event(
            rule="DROP",
            extra=tcp_event()["extra"] | {"uid": 0, "gid": 0, "mark": "0xff"},
        ),
        id="uid-gid-mark",
    ),
    pytest.param(
        f"{HEAD}DROP: {TCP.replace(f'MAC={MAC4}', 'PHYSIN=eth0 PHYSOUT=eth1')}",
        tcp_event(
            rule="DROP",
            extra={k: v for k, v in tcp_event()["extra"].items() if k != "mac"}
            | {"phys_in": "eth0", "phys_out": "eth1"},
        ),
        id="bridge-ports",
    ),
    pytest.param(
        f"{HEAD}DROP: "
        + TCP.replace(
            f"MAC={MAC4}",
            "MACSRC=00:1b:21:aa:bb:cc MACDST=52:54:00:12:34:56 "
            "VPROTO=8100 VID=30 MACPROTO=0800",
        ),
        tcp_event(
            rule="DROP",
            extra={k: v for k, v in tcp_event()["extra"].items() if k != "mac"}
            | {
                "fields": {
                    "MACSRC": "00:1b:21:aa:bb:cc",
                    "MACDST": "52:54:00:12:34:56",
                    "VPROTO": "8100",
                    "VID": "30",
                    "MACPROTO": "0800",
                }
            },
        ),
        id="macdecode-and-vlan-kept-in-fields",
    ),
    pytest.param(
        f"{HEAD}DROP: "
        + TCP.replace("SPT=51234 DPT=22 ", "INCOMPLETE [12 bytes] ").replace(
            "WINDOW=64240 RES=0x00 SYN URGP=0 ", ""
        ),
        tcp_event(
            rule="DROP",
            src_port=None,
            dst_port=None,
            tcp_flags="",
            extra=ip4(52, 54321, flags="DF")
            | {"pri": 4, "app": "kernel", "incomplete": True},
        ),
        id="incomplete-tcp-header",
    ),
    pytest.param(
        f"{HEAD}DROP: {TCP.replace('PROTO=TCP', 'PROTO=UDPLITE')}".replace(
            "WINDOW=64240 RES=0x00 SYN URGP=0 ", "LEN=40 "
        ),
        tcp_event(
            rule="DROP",
            protocol="udplite",
            tcp_flags="",
            extra=ip4(52, 54321, flags="DF")
            | {"pri": 4, "app": "kernel", "udp_length": 40},
        ),
        id="udplite",
    ),
    pytest.param(
        f"{HEAD}DROP: {TCP.replace('PROTO=TCP', 'PROTO=132')}".replace(
            "WINDOW=64240 RES=0x00 SYN URGP=0 ", ""
        ),
        tcp_event(
            rule="DROP",
            protocol="sctp",
            tcp_flags="",
            extra=ip4(52, 54321, flags="DF") | {"pri": 4, "app": "kernel"},
        ),
        id="sctp-by-number-ports-last",
    ),
    pytest.param(
        f"{HEAD}DROP: {TCP.replace('PROTO=TCP', 'PROTO=89')}".replace(
            "SPT=51234 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 ", ""
        ),
        tcp_event(
            rule="DROP",
            protocol="89",
            src_port=None,
            dst_port=None,
            tcp_flags="",
            extra=ip4(52, 54321, flags="DF") | {"pri": 4, "app": "kernel"},
        ),
        id="unnamed-protocol-number",
    ),
    pytest.param(
        f"{HEAD}DROP: {TCP.replace(' DF ', ' CE DF OPT (07270400) ')}",
        tcp_event(
            rule="DROP",
            extra=TCP_EXTRA
            | {
                "pri": 4,
                "app": "kernel",
                "ip_flags": "CE DF",
                "ip_options": "07270400",
            },
        ),
        id="ip-flags-and-options",
    ),
    pytest.param(
        f"{HEAD}DROP: IN=eth0 OUT= SRC=2001:0db8:0bad:0000:0000:0000:0000:0001 "
        "DST=2001:0db8:0100:0000:0000:0000:0000:0010 LEN=104 TC=0 HOPLIMIT=64 "
        "FLOWLBL=0 OPT ( FRAG:0 INCOMPLETE ID:0000beef ) PROTO=ICMPv6 TYPE=128 "
        "CODE=0 ID=7 SEQ=2 ",
        tcp_event(
            rule="DROP",
            ip_version=6,
            protocol="icmpv6",
            src_ip=V6_SRC,
            dst_ip=V6_DST,
            src_port=None,
            dst_port=None,
            tcp_flags="",
            length=104,
            extra=ip6(64, mac=None)
            | {"pri": 4, "app": "kernel", "frag_offset": 0, "frag_id": "0000beef"}
            | {"ip_flags": "MF", "icmp_type": 128, "icmp_code": 0}
            | {"icmp_id": 7, "icmp_seq": 2},
        ),
        id="ipv6-first-fragment-with-options-echo",
    ),
    pytest.param(
        f"{HEAD}DROP: IN=eth0 OUT= SRC=2001:0db8:0000:0000:0000:0000:0000:00fe "
        "DST=2001:0db8:0100:0000:0000:0000:0000:0010 LEN=1280 TC=0 HOPLIMIT=64 "
        "FLOWLBL=0 PROTO=ICMPv6 TYPE=4 CODE=0 POINTER=00000028 [SRC=2001:0db8:0100:"
        "0000:0000:0000:0000:0010 DST=2001:0db8:0bad:0000:0000:0000:0000:0001 "
        "LEN=1232 TC=0 HOPLIMIT=64 FLOWLBL=0 PROTO=UDP INCOMPLETE [4 bytes] ] ",
        tcp_event(
            rule="DROP",
            ip_version=6,
            protocol="icmpv6",
            src_ip="2001:db8::fe",
            dst_ip=V6_DST,
            src_port=None,
            dst_port=None,
            tcp_flags="",
            length=1280,
            extra=ip6(64, mac=None)
            | {"pri": 4, "app": "kernel", "icmp_type": 4, "icmp_code": 0}
            | {
                "icmp_pointer": "00000028",
                "icmp_inner": "SRC=2001:0db8:0100:0000:0000:0000:0000:0010 "
                "DST=2001:0db8:0bad:0000:0000:0000:0000:0001 LEN=1232 TC=0 "
                "HOPLIMIT=64 FLOWLBL=0 PROTO=UDP INCOMPLETE [4 bytes]",
            },
        ),
        id="icmpv6-parameter-problem-nested-brackets",
    ),
    pytest.param(
        f"{HEAD}DROP: IN=eth0 OUT= SRC=198.51.100.1 DST=203.0.113.10 LEN=56 "
        "TOS=0x00 PREC=0x00 TTL=254 ID=1 PROTO=ICMP TYPE=5 CODE=1 "
        "GATEWAY=198.51.100.254 [SRC=203.0.113.10 DST=192.0.2.80 LEN=28 TOS=0x00 "
        "PREC=0x00 TTL=1 ID=3 PROTO=UDP SPT=33434 DPT=33435 LEN=8 ] ",
        tcp_event(
            rule="DROP",
            protocol="icmp",
            src_ip="198.51.100.1",
            src_port=None,
            dst_port=None,
            tcp_flags="",
            length=56,
            extra=ip4(254, 1, mac=None)
            | {"pri": 4, "app": "kernel", "icmp_type": 5, "icmp_code": 1}
            | {
                "icmp_gateway": "198.51.100.254",
                "icmp_inner": "SRC=203.0.113.10 DST=192.0.2.80 LEN=28 TOS=0x00 "
                "PREC=0x00 TTL=1 ID=3 PROTO=UDP SPT=33434 DPT=33435 LEN=8",
            },
        ),
        id="icmp-redirect-gateway",
    ),
    pytest.param(
        f"{HEAD}DROP-PPP: {TCP.replace(f'MAC={MAC4}', 'MAC=')}".replace(
            "IN=eth0", "IN=ppp0"
        ),
        tcp_event(
            rule="DROP-PPP",
            interface="ppp0",
            extra=ip4(52, 54321, flags="DF", mac=None)
            | {"pri": 4, "app": "kernel"}
            | SYN
            | {"tcp_window": 64240},
        ),
        id="empty-mac-on-ppp",
    ),
    pytest.param(
        f"{HEAD}DROP: {TCP.replace('PROTO=TCP', 'PROTO=AH SPI=0x1f00')}".replace(
            "SPT=51234 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 ", ""
        ),
        tcp_event(
            rule="DROP",
            protocol="ah",
            src_port=None,
            dst_port=None,
            tcp_flags="",
            extra=ip4(52, 54321, flags="DF")
            | {"pri": 4, "app": "kernel"}
            | {"spi": "0x1f00"},
        ),
        id="ah-with-spi",
    ),
    pytest.param(
        f"{HEAD}DROP: {TCP.replace('PROTO=TCP', 'PROTO=SCTP')}".replace(
            "WINDOW=64240 RES=0x00 SYN URGP=0 ", ""
        ),
        tcp_event(
            rule="DROP",
            protocol="sctp",
            tcp_flags="",
            extra=ip4(52, 54321, flags="DF") | {"pri": 4, "app": "kernel"},
        ),
        id="sctp-by-name",
    ),
    pytest.param(
        f"{HEAD}DROP: IN=eth0 OUT= SRC=198.51.100.1 DST=203.0.113.10 LEN=56 "
        "TOS=0x00 PREC=0x00 TTL=254 ID=1 PROTO=ICMP TYPE=12 CODE=0 PARAMETER=20 "
        "[SRC=203.0.113.10 DST=192.0.2.80 LEN=28 TOS=0x00 PREC=0x00 TTL=1 ID=3 "
        "PROTO=ICMP TYPE=8 CODE=0 ID=9 SEQ=1 ] ",
        tcp_event(
            rule="DROP",
            protocol="icmp",
            src_ip="198.51.100.1",
            src_port=None,
            dst_port=None,
            tcp_flags="",
            length=56,
            extra=ip4(254, 1, mac=None)
            | {"pri": 4, "app": "kernel", "icmp_type": 12, "icmp_code": 0}
            | {
                "icmp_parameter": 20,
                "icmp_inner": "SRC=203.0.113.10 DST=192.0.2.80 LEN=28 TOS=0x00 "
                "PREC=0x00 TTL=1 ID=3 PROTO=ICMP TYPE=8 CODE=0 ID=9 SEQ=1",
            },
        ),
        id="icmp-parameter-problem-inner-echo-ids-not-taken",
    ),
    pytest.param(
        f"{HEAD}遮断 DROP: {TCP}",
        tcp_event(rule="遮断 DROP"),
        id="prefix-in-japanese",
    ),
    pytest.param(
        f"<4>1 2024-06-30T12:35:30+09:00 gw kernel - - - DROP: {TCP}",
        tcp_event(rule="DROP", time_inferred=False),
        id="rfc5424-relay",
    ),
]


@pytest.mark.parametrize(("line", "expected"), CONSTRUCTED)
def test_constructed_line(line, expected):
    assert record(parse(line.encode())) == expected


FAILURES = [
    pytest.param(
        TCP.replace("SRC=198.51.100.23", "SRC=198.51.100.256"),
        "netfilter: invalid source address '198.51.100.256'",
        id="bad-source",
    ),
    pytest.param(
        TCP.replace("DST=203.0.113.10", "DST=2001:db8::1"),
        "netfilter: invalid destination address '2001:db8::1'",
        id="mixed-versions",
    ),
    pytest.param(
        TCP.replace("DPT=22", "DPT=65536"),
        "netfilter: invalid DPT= value '65536'",
        id="port-out-of-range",
    ),
    pytest.param(
        TCP.replace("DPT=22 ", ""),
        "netfilter: DPT= missing",
        id="no-destination-port",
    ),
    pytest.param(
        TCP.replace("LEN=60", "LEN=sixty"),
        "netfilter: invalid LEN= value 'sixty'",
        id="length-not-a-number",
    ),
    pytest.param(
        TCP.replace("PROTO=TCP", "PROTO=QUIC"),
        "netfilter: unknown protocol 'QUIC'",
        id="unknown-protocol-name",
    ),
    pytest.param(
        TCP.split(" PROTO=")[0],
        "netfilter: no PROTO= (line cut short or IP header truncated)",
        id="cut-before-protocol",
    ),
    pytest.param(
        TCP.replace("SRC=198.51.100.23 DST=203.0.113.10 ", ""),
        "netfilter: no SRC= or DST= before PROTO=",
        id="no-addresses",
    ),
    pytest.param(
        "IN=eth0 OUT= MAC= TRUNCATED",
        "netfilter: no IP header (no SRC=)",
        id="truncated-ip-header",
    ),
    pytest.param(
        TCP.replace("PROTO=TCP", "PROTO=ICMP TYPE=3 CODE=1 [SRC=192.0.2.1"),
        "netfilter: quoted packet without closing bracket",
        id="unclosed-quoted-packet",
    ),
    pytest.param(
        "PHYSIN=eth0 PHYSOUT=eth1 SRC=198.51.100.23 DST=203.0.113.10 PROTO=TCP",
        "netfilter: no IN= key (second half of a split record?)",
        id="bridge-ports-without-in",
    ),
    pytest.param(
        TCP + "x" * 4096,
        f"netfilter: line too long ({len(TCP) + 4096} characters)",
        id="too-long",
    ),
    pytest.param(
        TCP.replace("eth0", "ethé"),
        "netfilter: non-ASCII text after IN=",
        id="non-ascii",
    ),
]


@pytest.mark.parametrize(("line", "reason"), FAILURES)
def test_constructed_failure(line, reason):
    assert parse(f"{HEAD}{line}".encode()) == ParseFailure(reason, "gw")


@pytest.mark.parametrize(
    ("prefix", "action"),
    [
        ("[UFW BLOCK] ", "block"),
        ("[UFW LIMIT BLOCK] ", "block"),
        ("[UFW ALLOW] ", "pass"),
        ("[UFW AUDIT] ", ""),
        ("FINAL_REJECT: ", "reject"),
        ("filter_IN_public_REJECT: ", "reject"),
        ("filter_IN_public_DROP: ", "block"),
        ("rpfilter_DROP: ", "block"),
        ("Shorewall:net2fw:DROP:", "block"),
        ("Shorewall:loc2net:ACCEPT:", "pass"),
        ("Shorewall:net2all:REJECT:", "reject"),
        ("[WAN_IN-2000-D]", "block"),
        ("[WAN_IN-2000-A]", "pass"),
        ("[LAN_LOCAL-default-A]", "pass"),
        ("policy DROP: ", "block"),
        ("deny-in ", "block"),
        ("pass-out ", "pass"),
        ("nft log ", ""),
    ],
)
def test_action_comes_from_the_prefix(prefix, action):
    result = parse(f"{HEAD}{prefix}{TCP}".encode())

    assert result.action == action


def test_audit_lines_are_never_counted_as_blocks():
    raw = f"{HEAD}[UFW AUDIT] {TCP}".encode()

    result = parse(raw)

    assert result.action == ""
    assert result.rule == "[UFW AUDIT]"


def test_explicit_format_is_not_overridden_by_sniffing():
    raw = f"{HEAD}DROP: {TCP}".encode()

    assert isinstance(parse(raw, "netfilter"), ParsedEvent)
    assert isinstance(parse(raw, "yamaha-rtx"), ParseFailure)
    assert parse(raw, "pfsense") == ParseFailure(
        "not a filterlog message (app 'kernel')", "gw"
    )


def test_line_without_kernel_tag_is_sniffed_by_content():
    raw = f"<4>Jun 30 12:35:30 gw ulogd[7]: DROP: {TCP}".encode()

    assert parse(raw).rule == "DROP"


def test_extra_is_json_safe():
    raw = f"{HEAD}[1.5] DROP: {TCP}UID=0 GID=0 MARK=0xff ".encode()

    result = parse(raw)

    assert json.loads(json.dumps(result.extra)) == result.extra
