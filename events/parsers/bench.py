"""Measure parse_message per shape family, for the benchmark command.

Each family is one representative message parsed ``iterations`` times in
batches of 1000, the families taking turns batch by batch; the figure
reported is the median of the per-batch averages, in microseconds per
message, so a slow batch (a GC pause, other work on the machine) does not
move it. Time is the thread's CPU time, so that other processes on a
busy machine are not counted as parsing; every sample is parsed in a
warm-up round before any is measured. Nothing is printed here.
"""

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from events.parsers import ParsedEvent, parse_message

BATCH = 1000

# Real pfSense and OPNsense lines bundled for the tests (see its README).
SAMPLE_LOGS = Path(__file__).resolve().parents[2] / "tests" / "data" / "logs"
PF_LOGS = ("pfsense-bsd.log", "pfsense-rfc5424.log", "opnsense-mixed.log")
# The zone of every sample's sender.
_TZ = ZoneInfo("America/Chicago")

_CSV_TCP = (
    "146,,,1535324496,igb1.12,match,block,in,4,0x0,,63,12617,0,DF,6,tcp,60,"
    "198.51.100.50,203.0.113.1,49724,853,0,S,1891286705,,64240,,"
    "mss;sackOK;TS;nop;wscale"
)

SAMPLES: list[tuple[str, bytes]] = [
    (
        "rfc3164 pfSense TCP",
        f"<134>Jul  3 19:10:30 filterlog[72237]: {_CSV_TCP}".encode(),
    ),
    (
        "rfc3164 pfSense UDP",
        b"<134>Jul  3 19:10:30 filterlog[72237]: 176,,,1520797901,igb1.27,match,"
        b"pass,in,4,0xb8,,64,58355,0,none,17,udp,76,198.51.100.27,203.0.113.66,"
        b"123,123,56",
    ),
    (
        "rfc5424 pfSense TCP",
        b"<134>1 2021-07-03T19:10:14.578288-05:00 pfSense.example.com filterlog "
        + f"72237 - - {_CSV_TCP}".encode(),
    ),
    (
        "opnsense rfc5424 with SD",
        b"<134>1 2022-06-09T14:44:11-06:00 OPNsense.example.com filterlog 76404 - "
        b'[meta sequenceId="1"] 124,,,fae559338f65e11c53669fc3642c93c2,'
        b"ixl1_vlan70,match,pass,out,4,0x0,,63,5687,0,DF,6,tcp,60,192.0.2.1,"
        b"198.51.100.10,40370,80,0,S,3364871769,,65535,,mss;sackOK;TS;nop;wscale",
    ),
    (
        "IPv6 UDP",
        b"<134>Jul  3 19:10:31 filterlog[72237]: 6,,,1000000105,igb1.27,match,"
        b"block,in,6,0x00,0xf6279,1,UDP,17,32,2001:db8::208:9bff:fef3:652b,"
        b"ff02::1:2,546,547,32",
    ),
    (
        "ICMP",
        b"<134>Jul  4 11:10:45 filterlog[72237]: 176,,,1520797901,igb1.10,match,"
        b"pass,in,4,0x0,,64,62096,0,DF,1,icmp,84,198.51.100.30,203.0.113.105,"
        b"request,37728,164",
    ),
    (
        "YAMAHA RTX filter, bare PRI",
        b"<133>PP[01] Rejected at IN(1012) filter: TCP 185.156.73.57:44812 > "
        b"203.0.113.10:3389",
    ),
    (
        "YAMAHA RTX [INSPECT] IPv6",
        b"<133>[INSPECT] PP[01][out][101098] TCP 2001:db8:10:2::41.56609 > "
        b"2001:db8:4004:81a::200e.443 (2021/07/03 19:09:58)",
    ),
    (
        "netfilter ufw TCP, BSD relay",
        b"<4>Jul  3 19:10:30 gw kernel: [UFW BLOCK] IN=eth0 OUT= "
        b"MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=198.51.100.23 "
        b"DST=203.0.113.10 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=54321 DF PROTO=TCP "
        b"SPT=51234 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 ",
    ),
    (
        "netfilter IPv6 UDP, RFC 5424 relay",
        b"<6>1 2021-07-03T19:10:30.123456-05:00 gw kernel - - - DROP-IN: IN=eth0 "
        b"OUT= MAC=33:33:00:00:00:fb:52:54:00:65:43:21:86:dd "
        b"SRC=2001:0db8:0000:0000:0000:0000:0000:0010 "
        b"DST=ff02:0000:0000:0000:0000:0000:0000:00fb LEN=72 TC=0 HOPLIMIT=255 "
        b"FLOWLBL=0 PROTO=UDP SPT=5353 DPT=5353 LEN=32 ",
    ),
    (
        "non-filter (failure path)",
        b"<190>Jul  3 22:06:16 fw.example.net dhcpd[40152]: DHCPDISCOVER from "
        b"4c:55:41:a0:fa:99 via em0",
    ),
]


def run(
    iterations: int = 20000, clock: Callable[[], int] = time.thread_time_ns
) -> list[tuple[str, float]]:
    """Return (family name, median microseconds per message) per sample.

    ``iterations`` is rounded up to whole batches of 1000. Takes about
    ``iterations`` x 11 x 10 microseconds of wall time. ``clock`` gives
    nanoseconds: this thread's CPU time by default, steady on a machine
    shared with other work; ``time.perf_counter_ns`` gives wall time.
    """
    received_at = datetime(2021, 7, 4, 0, 10, 31, tzinfo=UTC)
    batches = max(1, -(-iterations // BATCH))
    medians = _median_batch_means(
        [(raw, received_at) for _name, raw in SAMPLES], batches, clock
    )
    return [
        (name, round(micros, 2))
        for (name, _raw), micros in zip(SAMPLES, medians, strict=True)
    ]


def run_real_lines(
    rounds: int = 5, clock: Callable[[], int] = time.thread_time_ns
) -> list[float]:
    """Return the microseconds per message of each real pfSense/OPNsense line.

    The lines are those of ``PF_LOGS`` that parse to an event; each figure
    is the median of ``rounds`` batch means, the lines taking turns as in
    ``run``. Each line counts as received a second after the time it says,
    as from a live sender (the files span several years). Sorted, fastest
    first.
    """
    lines = []
    for name in PF_LOGS:
        for raw in (SAMPLE_LOGS / name).read_bytes().splitlines():
            result = parse_message(raw, received_at=datetime.now(UTC), tz=_TZ)
            if isinstance(result, ParsedEvent):
                lines.append((raw, result.occurred_at + timedelta(seconds=1)))
    return sorted(_median_batch_means(lines, rounds, clock))


def _median_batch_means(
    messages: list[tuple[bytes, datetime]], batches: int, clock: Callable[[], int]
) -> list[float]:
    """Return each (raw, received_at)'s median microseconds per message.

    Each message is parsed BATCH times to warm up, then ``batches`` times
    BATCH times, timed per batch. Round robin: every message's batches are
    spread over the whole run, so that a burst of other work on the machine
    moves a few batches of each rather than every batch of one.
    """
    for raw, received_at in messages:
        for _ in range(BATCH):
            parse_message(raw, received_at=received_at, tz=_TZ)

    means: list[list[float]] = [[] for _ in messages]
    for _ in range(batches):
        for (raw, received_at), batch_means in zip(messages, means, strict=True):
            start = clock()
            for _ in range(BATCH):
                parse_message(raw, received_at=received_at, tz=_TZ)
            batch_means.append((clock() - start) / BATCH / 1000)
    return [statistics.median(batch_means) for batch_means in means]
