"""Realistic synthetic events for demonstrations and benchmarks.

What a home or small-office firewall logs: internet scanners hitting a few
public addresses with the port mix real sensors see (23/tcp far ahead,
then 22, 80, 443, 445, 3389, 8080, 5555, 37215, 52869, 6881/udp and a long
tail), from sources spread over many countries at addresses the loaded
registry data places there; a daily rhythm; a burst on one UDP port on one
day; 23/tcp from a few countries dropping sharply for a few days; and
ordinary outbound traffic that is passed.

Rows are built as tuples in the writer's column order and inserted with
the cursor's ``executemany`` in large batches, one transaction each (on
MySQL/MariaDB the driver turns a batch into multi-row INSERT statements).
"""

import ipaddress
import logging
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from django.db import connection, transaction

from events.fields import V4_MAPPED_PREFIX, pack_ip
from events.ingest.writer import EVENT_COLUMNS, insert_sql
from events.models import Device, DeviceAddress, Event
from events.rollup import hours_of_rows, mark_hours
from geo import index as geo_index

logger = logging.getLogger(__name__)

# (port, protocol, weight) of inbound scans; the weights follow the shape
# public sensor reports show, with telnet far ahead.
SCAN_PORTS = [
    (23, "tcp", 30),
    (22, "tcp", 12),
    (80, "tcp", 7),
    (443, "tcp", 5),
    (445, "tcp", 6),
    (3389, "tcp", 5),
    (8080, "tcp", 5),
    (5555, "tcp", 3),
    (37215, "tcp", 3),
    (52869, "tcp", 2),
    (6881, "udp", 3),
    (2323, "tcp", 2),
    (1433, "tcp", 2),
    (3306, "tcp", 1),
    (5060, "udp", 2),
    (123, "udp", 1),
    (53, "udp", 1),
    (1900, "udp", 1),
    (81, "tcp", 1),
    (8443, "tcp", 1),
]
# Share of scans going to a random high port instead of the list above.
TAIL_SHARE = 0.12
# Scanning countries and weights; only those with loaded ranges are used.
SCAN_COUNTRIES = {
    "CN": 18,
    "US": 16,
    "RU": 7,
    "BR": 6,
    "IN": 6,
    "NL": 4,
    "DE": 4,
    "KR": 4,
    "VN": 4,
    "TW": 3,
    "GB": 3,
    "HK": 2,
    "SG": 2,
    "FR": 2,
    "JP": 2,
    "ID": 2,
    "TR": 1.5,
    "IR": 1.5,
    "UA": 1.5,
    "BG": 1,
    "RO": 1,
    "TH": 1,
    "AR": 1,
    "MX": 1,
    "EG": 1,
    "ZA": 1,
    "PL": 1,
    "IT": 1,
    "CA": 1,
    "AU": 1,
    "SE": 0.5,
    "PK": 0.5,
    "BD": 0.5,
    "CO": 0.5,
    "MA": 0.5,
}
# Weight of every other country with loaded ranges: a long tail.
OTHER_COUNTRY_WEIGHT = 0.2
# Countries whose telnet scans drop for a few days (the "what happened on
# the 27th?" question), and the share that is left.
DROP_COUNTRIES = {"CN", "BR", "IN", "ZA"}
DROP_SHARE = 0.08
BURST_PORT = (1900, "udp")
# Relative traffic per hour of the day (UTC), a soft daily rhythm.
HOUR_WEIGHTS = [
    6,
    5,
    5,
    4,
    4,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    10,
    10,
    9,
    9,
    9,
    10,
    11,
    11,
    10,
    9,
    8,
    7,
]
OUTBOUND_PORTS = [
    (443, "tcp", 60),
    (80, "tcp", 10),
    (53, "udp", 20),
    (123, "udp", 5),
    (993, "tcp", 5),
]
DEVICE_SHAPES = [
    ("pfsense-home", "pfsense", "igb0", "igb1", "203.0.113.", "192.168.1."),
    ("opnsense-office", "opnsense", "vtnet0", "vtnet1", "198.51.100.", "10.10.0."),
    ("pfsense-lab", "pfsense", "em0", "em1", "192.0.2.", "172.16.5."),
    ("opnsense-branch", "opnsense", "igc0", "igc1", "203.0.113.1", "10.20.0."),
]
BLOCK_RULES = ["1000000103", "1000000104", "1000002620"]
PASS_RULES = ["1000000862", "1000001570"]
SCAN_SHARE = 0.85
BURST_SHARE = 0.03


@dataclass
class SeedSummary:
    """What a seeding run wrote."""

    events: int = 0
    scans: int = 0
    outbound: int = 0
    burst: int = 0
    countries: int = 0
    sources: int = 0
    seconds: float = 0.0
    method: str = ""


@dataclass
class DeviceShape:
    pk: int
    name: str
    wan: str
    lan: str
    public: list[bytes]
    inside: list[bytes]


@dataclass
class Sources:
    """A weighted pool of scanning addresses with their countries."""

    addresses: list[bytes]
    countries: list[str]
    cum_weights: list[float]

    def pick(self, rng: random.Random, count: int) -> list[int]:
        indexes = range(len(self.addresses))
        return rng.choices(indexes, cum_weights=self.cum_weights, k=count)


def registry_ranges() -> dict[str, list[tuple[int, int]]]:
    """Return ``{country: [(first, last), ...]}`` as 128-bit integers.

    Reads the active registry ranges through ``geo.index.active_ranges``
    when the geo app provides it; empty when no registry data is loaded.
    """
    try:
        from geo.index import active_ranges
    except ImportError:
        return {}

    ranges: dict[str, list[tuple[int, int]]] = {}
    for code, first, last in active_ranges():
        ranges.setdefault(code, []).append(
            (int.from_bytes(pack_ip(first)), int.from_bytes(pack_ip(last)))
        )
    return ranges


def build_sources(
    rng: random.Random, size: int, ranges: dict[str, list[tuple[int, int]]]
) -> Sources:
    """Draw ``size`` scanner addresses; a few send most (Zipf weights).

    With registry ranges, each address is drawn from a range of its
    country (ranges weighted by size, IPv6 for about 3 in 100). Without,
    addresses are random public IPv4 and the country is unknown.
    """
    codes = sorted(ranges)
    weights = [SCAN_COUNTRIES.get(code, OTHER_COUNTRY_WEIGHT) for code in codes]
    pools = {code: RangePool(ranges[code]) for code in codes}
    picked = rng.choices(codes, weights=weights, k=size) if codes else [""] * size
    addresses = [
        pools[code].address(rng) if code else random_public_v4(rng) for code in picked
    ]
    shares = [1 / (rank + 10) ** 1.1 for rank in range(size)]
    return Sources(addresses, picked, list(accumulate(shares)))


class RangePool:
    """The IPv4 and IPv6 ranges of one country, ready for weighted draws."""

    def __init__(self, ranges: list[tuple[int, int]]) -> None:
        self.v4 = [r for r in ranges if r[0] >> 32 == 0xFFFF]
        self.v6 = [r for r in ranges if r[0] >> 32 != 0xFFFF]
        self.v4_weights = list(accumulate(min(b - a + 1, 2**24) for a, b in self.v4))
        self.v6_weights = list(accumulate(1 for _range in self.v6))

    def address(self, rng: random.Random) -> bytes:
        use_v6 = self.v6 and (not self.v4 or rng.random() < 0.03)
        pool, weights = (
            (self.v6, self.v6_weights) if use_v6 else (self.v4, self.v4_weights)
        )
        first, last = rng.choices(pool, cum_weights=weights)[0]
        if last - first > 2**64:
            last = first + 2**64
        return rng.randint(first, last).to_bytes(16)


def random_public_v4(rng: random.Random) -> bytes:
    while True:
        first = rng.randint(1, 223)
        if first not in (10, 100, 127, 169, 172, 192):
            break
    return pack_ip(
        f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    )


def ensure_devices(count: int) -> list[DeviceShape]:
    """Create (or reuse) ``count`` demo devices with their addresses."""
    shapes = []
    for number in range(count):
        base = DEVICE_SHAPES[number % len(DEVICE_SHAPES)]
        name, log_format, wan, lan, public, inside = base
        if number >= len(DEVICE_SHAPES):
            name = f"{name}-{number // len(DEVICE_SHAPES) + 1}"
        networks = [
            str(ipaddress.ip_network(f"{prefix}7/24", strict=False))
            for prefix in (public, inside)
        ]
        device, _created = Device.objects.get_or_create(
            name=name,
            defaults={
                "log_format": log_format,
                "internal_networks": "\n".join([*networks, "2001:db8:10::/48"]),
            },
        )
        DeviceAddress.objects.get_or_create(
            address=f"127.0.{number // 250}.{number % 250 + 10}",
            defaults={"device": device},
        )
        shapes.append(
            DeviceShape(
                pk=device.pk,
                name=name,
                wan=wan,
                lan=lan,
                public=[pack_ip(f"{public}{host}") for host in (7, 8, 20)],
                inside=[pack_ip(f"{inside}{host}") for host in range(10, 40)],
            )
        )
    return shapes


class DaySchedule:
    """How many events of each kind one day gets, and when."""

    def __init__(self, days: int, total: int, end: datetime) -> None:
        self.days = days
        self.end = end.replace(minute=0, second=0, microsecond=0)
        self.start = self.end - timedelta(days=days)
        self.burst_day = days // 3
        drop_from = days * 2 // 3
        self.drop_days = set(range(drop_from, min(drop_from + 3, days)))
        self.per_day = self._split(total)

    def _split(self, total: int) -> list[int]:
        shares = [1.0 + 0.15 * ((day * 7919) % 5 - 2) / 2 for day in range(self.days)]
        counts = [int(total * share / sum(shares)) for share in shares]
        counts[-1] += total - sum(counts)
        return counts


def seed_events(
    total: int,
    days: int,
    device_count: int,
    *,
    seed: int = 5,
    batch_size: int = 20_000,
    end: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> SeedSummary:
    """Write ``total`` synthetic events over the ``days`` before ``end``.

    ``end`` defaults to now, so the newest events are minutes old. Same
    ``seed``, same events. Calls ``progress(rows)`` after each batch. On
    MySQL/MariaDB batches go through ``LOAD DATA LOCAL INFILE`` when the
    server allows it (about twice the rate of multi-row INSERTs), else
    through ``executemany``; ``summary.method`` says which.
    """
    started = time.monotonic()
    rng = random.Random(seed)
    summary = SeedSummary()
    ranges = registry_ranges()
    sources = build_sources(rng, max(200, min(total // 40, 100_000)), ranges)
    summary.countries = len(set(sources.countries) - {""})
    summary.sources = len(sources.addresses)
    devices = ensure_devices(device_count)
    schedule = DaySchedule(days, total, end or datetime.now(UTC))
    writer = BatchLoader()

    batch: list[tuple] = []
    for day in range(days):
        for row in day_rows(rng, schedule, day, devices, sources, summary):
            batch.append(row)
            if len(batch) >= batch_size:
                writer.write(batch)
                if progress:
                    progress(len(batch))
                batch = []
    if batch:
        writer.write(batch)
        if progress:
            progress(len(batch))
    writer.close()

    summary.method = writer.method
    summary.events = summary.scans + summary.outbound + summary.burst
    summary.seconds = time.monotonic() - started
    return summary


class BatchLoader:
    """Insert row batches: LOAD DATA on MySQL/MariaDB if allowed, else SQL.

    ``LOAD DATA LOCAL`` needs the server's ``local_infile`` on and a client
    connection that allows it. Django's own connection does not (a server
    could otherwise ask the client for any local file), so a second
    connection is opened for the load only. The rows are this module's own
    values, free of tabs, newlines and backslashes, so the file needs no
    escaping; addresses travel as hex.
    """

    def __init__(self) -> None:
        self.sql = insert_sql(Event, EVENT_COLUMNS)
        self.method = "executemany"
        self.raw = None
        # A second connection cannot see (and would wait on) rows the
        # caller's open transaction wrote, such as the demo devices.
        if connection.vendor == "mysql" and not connection.in_atomic_block:
            self.raw = self._open_infile_connection()
            if self.raw is not None:
                self.method = "load data"

    def _open_infile_connection(self):
        import MySQLdb

        params = connection.get_connection_params()
        params["local_infile"] = 1
        params.pop("isolation_level", None)
        try:
            raw = MySQLdb.connect(**params)
            cursor = raw.cursor()
            cursor.execute("SELECT @@GLOBAL.local_infile")
            if cursor.fetchone()[0]:
                return raw
            raw.close()
        except MySQLdb.Error as error:
            logger.warning("load data unavailable error=%r", str(error)[:200])
        return None

    def write(self, batch: list[tuple]) -> None:
        hours = hours_of_rows(batch)
        if self.raw is None:
            with transaction.atomic(), connection.cursor() as cursor:
                mark_hours(hours)
                cursor.executemany(self.sql, batch)
            return

        # Marked before the load as well as after it: were the process to
        # stop between the load's commit and the second mark, the hours
        # would still not pass for counted.
        mark_hours(hours)
        with tempfile.NamedTemporaryFile("w", suffix=".tsv") as handle:
            handle.writelines(tsv_line(row) for row in batch)
            handle.flush()
            columns = ", ".join(
                f"@{name}" if name in ("src_ip", "dst_ip") else name
                for name in EVENT_COLUMNS
            )
            cursor = self.raw.cursor()
            cursor.execute(
                f"LOAD DATA LOCAL INFILE %s INTO TABLE {Event._meta.db_table} "
                f"({columns}) SET src_ip = UNHEX(@src_ip), dst_ip = UNHEX(@dst_ip)",
                [handle.name],
            )
            self.raw.commit()
        # Again after the load's own commit, in case the roll-up counted an
        # hour between the first mark and the commit.
        mark_hours(hours)

    def close(self) -> None:
        if self.raw is not None:
            self.raw.close()


def tsv_line(row: tuple) -> str:
    """Return ``row`` as one line of LOAD DATA's default text format."""
    return (
        "\t".join(
            "\\N"
            if value is None
            else value.hex()
            if isinstance(value, bytes)
            else str(int(value))
            if isinstance(value, bool)
            else str(value)
            for value in row
        )
        + "\n"
    )


def day_rows(
    rng: random.Random,
    schedule: DaySchedule,
    day: int,
    devices: list[DeviceShape],
    sources: Sources,
    summary: SeedSummary,
) -> Iterator[tuple]:
    """Yield one day's rows in time order.

    Rows are first drawn without time and device as ``(stamp or None,
    inbound, address, country, port, protocol, src_port, remote)``, then
    placed in time and completed for the device chosen. The country is the
    source's for inbound rows and the remote end's for outbound ones.
    """
    count = schedule.per_day[day]
    burst = int(count * BURST_SHARE) if day == schedule.burst_day else 0
    scans = int(count * SCAN_SHARE) - burst
    outbound = count - scans - burst

    drafts = scan_drafts(rng, scans, day in schedule.drop_days, sources)
    drafts += outbound_drafts(rng, outbound)
    drafts += burst_drafts(rng, burst, sources)
    summary.scans += scans
    summary.outbound += outbound
    summary.burst += burst

    device_weights = [1 / (number + 1) for number in range(len(devices))]
    hours = rng.choices(range(24), weights=HOUR_WEIGHTS, k=len(drafts))
    picks = rng.choices(devices, weights=device_weights, k=len(drafts))
    random_ = rng.random
    stamps = [
        hour * 3600 + int(random_() * 3600) if draft[0] is None else draft[0]
        for hour, draft in zip(hours, drafts, strict=True)
    ]
    texts = hour_texts(schedule.start + timedelta(days=day))
    for index in sorted(range(len(drafts)), key=stamps.__getitem__):
        stamp = stamps[index]
        moment = f"{texts[stamp // 3600]}:{stamp % 3600 // 60:02d}:{stamp % 60:02d}"
        yield complete(moment, picks[index], drafts[index], int(random_() * 30))


def hour_texts(day_start: datetime) -> list[str]:
    return [
        (day_start + timedelta(hours=hour)).strftime("%Y-%m-%d %H")
        for hour in range(24)
    ]


def complete(moment: str, device: DeviceShape, draft: tuple, inside: int) -> tuple:
    """Return the row of ``draft`` as logged by ``device`` at ``moment``."""
    _stamp, inbound, address, country, port, protocol, src_port, remote = draft
    is_tcp = protocol == "tcp"
    if inbound:
        is_v4 = address[:12] == V4_MAPPED_PREFIX
        return (
            moment,
            moment,
            device.pk,
            "block",
            "in",
            device.wan,
            4 if is_v4 else 6,
            protocol,
            address,
            device.public[port % 3] if is_v4 else V6_PUBLIC,
            src_port,
            port,
            "S" if is_tcp else "",
            (40 if is_v4 else 60) + (20 if is_tcp else 8),
            BLOCK_RULES[port % 3],
            country,
            "",
            "",
            False,
            "{}",
            "inbound",
        )
    return (
        moment,
        moment,
        device.pk,
        "pass",
        "out",
        device.lan,
        4,
        protocol,
        device.inside[inside],
        remote,
        src_port,
        port,
        "S" if is_tcp else "",
        60 if is_tcp else 76,
        PASS_RULES[port % 2],
        "",
        country,
        "",
        False,
        "{}",
        "outbound",
    )


def scan_drafts(rng, count, is_drop_day, sources) -> list[tuple]:
    weights = [weight for _p, _t, weight in SCAN_PORTS]
    ports = rng.choices(SCAN_PORTS, weights=weights, k=count)
    picked = sources.pick(rng, count)
    random_ = rng.random
    drafts = []
    for (port, protocol, _weight), source in zip(ports, picked, strict=True):
        country = sources.countries[source]
        if is_drop_day and port == 23 and country in DROP_COUNTRIES:
            if random_() > DROP_SHARE:
                port = 22
        if random_() < TAIL_SHARE:
            port = 1024 + int(random_() * 64512)
        src_port = 1024 + int(random_() * 64512)
        drafts.append(
            (
                None,
                True,
                sources.addresses[source],
                country,
                port,
                protocol,
                src_port,
                None,
            )
        )
    return drafts


def outbound_drafts(rng, count) -> list[tuple]:
    """Draw outbound connections; their country is the destination's."""
    weights = [weight for _p, _t, weight in OUTBOUND_PORTS]
    ports = rng.choices(OUTBOUND_PORTS, weights=weights, k=count)
    random_ = rng.random
    country_of = geo_index.current_index().lookup_packed
    drafts = []
    for port, protocol, _weight in ports:
        remote = random_public_v4(rng)
        drafts.append(
            (
                None,
                False,
                None,
                country_of(remote),
                port,
                protocol,
                32768 + int(random_() * 28231),
                remote,
            )
        )
    return drafts


def burst_drafts(rng, count, sources) -> list[tuple]:
    """A three-hour burst from a dozen sources on one UDP port."""
    if not count:
        return []
    senders = sources.pick(rng, 12)
    start = rng.randint(8, 18) * 3600
    port, protocol = BURST_PORT
    random_ = rng.random
    drafts = []
    for _number in range(count):
        source = senders[int(random_() * len(senders))]
        drafts.append(
            (
                start + int(random_() * 3 * 3600),
                True,
                sources.addresses[source],
                sources.countries[source],
                port,
                protocol,
                1024 + int(random_() * 64512),
                None,
            )
        )
    return drafts


V6_PUBLIC = pack_ip("2001:db8:10::7")
