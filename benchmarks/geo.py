"""Print fwsiem's geo figures: registry load, index build, lookup time.

Run with ``make bench-geo`` (or ``.venv/bin/python benchmarks/geo.py``).
It never touches your data: it migrates a scratch database beside the
configured one (``var/benchmark-geo.sqlite3``, or ``<name>_geobench`` on the
same MySQL/MariaDB server) and loads the real AFRINIC and LACNIC files of
``tests/data/rir`` into it. Figures printed:

* load: seconds and ranges per second for each registry file;
* index build from the database, in seconds;
* lookup microseconds per address over 100 000 random addresses, as the
  median of per-batch means (batches of 1 000, timed with perf_counter_ns,
  loop overhead included and printed), median of three runs:
  - fwsiem's index over the two real files, text and packed input;
  - fwsiem's index and the PyPI package ip-to-country side by side, both
    over the ranges ip-to-country ships (all five registries), same
    addresses. ip-to-country scans its IPv6 list linearly, so its IPv6
    figure is taken over 1 000 addresses only.
"""

import importlib.resources
import os
import pickle
import random
import socket
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

SAMPLE = 100_000
BATCH = 1_000
RUNS = 3
V4_MAPPED_PREFIX = b"\x00" * 10 + b"\xff\xff"


def scratch_url(url: str) -> str:
    """Return the URL of a scratch database beside ``url``."""
    if not url or url.startswith("sqlite"):
        return f"sqlite:///{BASE_DIR / 'var' / 'benchmark-geo.sqlite3'}"
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "_geobench"))


def prepare_database(url: str) -> None:
    """Create the scratch database empty and migrate it."""
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        import MySQLdb

        parts = urlsplit(url)
        server = MySQLdb.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=parts.username or "root",
            password=parts.password or "",
        )
        name = parts.path.lstrip("/")
        cursor = server.cursor()
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        server.close()

    os.environ["FWSIEM_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fwsiem.settings")
    os.environ.setdefault("FWSIEM_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def per_address(function: Callable, values: Sequence) -> float:
    """Return the median over batches of microseconds per call."""
    means = []
    for start in range(0, len(values), BATCH):
        batch = values[start : start + BATCH]
        began = time.perf_counter_ns()
        for value in batch:
            function(value)
        means.append((time.perf_counter_ns() - began) / len(batch) / 1000)
    return statistics.median(means)


def figure(function: Callable, values: Sequence) -> float:
    return statistics.median(per_address(function, values) for _ in range(RUNS))


def random_v4(rng: random.Random, count: int) -> list[str]:
    return [socket.inet_ntoa(rng.getrandbits(32).to_bytes(4)) for _ in range(count)]


def v6_inside(rng: random.Random, ranges: list, count: int) -> list[str]:
    """Return addresses drawn inside random IPv6 ranges (first, last)."""
    found = []
    for _ in range(count):
        first, last = rng.choice(ranges)
        number = rng.randint(first, last)
        found.append(socket.inet_ntop(socket.AF_INET6, number.to_bytes(16)))
    return found


def packed(addresses: list[str]) -> list[bytes]:
    from events.fields import pack_ip

    return [pack_ip(address) for address in addresses]


def noop(value):
    return value


def load_real_files() -> None:
    from geo import index
    from geo.refresh import refresh_registries

    source = str(BASE_DIR / "tests" / "data" / "rir")
    for result in refresh_registries(["afrinic", "lacnic"], source=source):
        snapshot = result.snapshot
        rate = snapshot.range_count / snapshot.load_seconds
        print(
            f"load {result.registry:<8} {snapshot.record_count:>6} records, "
            f"{snapshot.range_count:>6} ranges stored in {snapshot.load_seconds:.2f} s"
            f" ({rate:,.0f} ranges/s); whole refresh {result.seconds:.2f} s"
        )

    began = time.perf_counter()
    built = index.current_index()
    print(
        f"index build from the database: {time.perf_counter() - began:.2f} s "
        f"({built.range_count} ranges, {built.segment_count} segments)"
    )


def real_file_lookups(rng: random.Random) -> None:
    from geo import index

    built = index.current_index()
    addresses = random_v4(rng, SAMPLE)
    inside = [row for row in index.active_ranges() if ":" in row[1]]
    v6_ranges = [
        (
            int.from_bytes(socket.inet_pton(socket.AF_INET6, first)),
            int.from_bytes(socket.inet_pton(socket.AF_INET6, last)),
        )
        for _code, first, last in inside
    ]
    v6 = v6_inside(rng, v6_ranges, SAMPLE)
    rows = [
        ("loop overhead alone", noop, addresses),
        ("geo.index.lookup(text) IPv4", index.lookup, addresses),
        ("geo.index.lookup(bytes) IPv4", index.lookup, packed(addresses)),
        ("lookup_packed IPv4", built.lookup_packed, packed(addresses)),
        ("geo.index.lookup(text) IPv6", index.lookup, v6),
        ("lookup_packed IPv6", built.lookup_packed, packed(v6)),
    ]
    print("\nfwsiem index over the real AFRINIC + LACNIC files (µs per address)")
    for label, function, values in rows:
        print(f"  {label:<30} {figure(function, values):6.3f}")


def reference_lookups(rng: random.Random) -> None:
    from ip_to_country import IpToCountry

    from geo.index import CountryIndex, SourceRange

    reference = IpToCountry()
    data = importlib.resources.files("ip_to_country.data")
    v4_rows = pickle.loads((data / "ipv4_ranges.pkl").read_bytes())
    v6_rows = pickle.loads((data / "ipv6_ranges.pkl").read_bytes())
    day = date(2000, 1, 1)
    ranges = [SourceRange(4, int(a), int(b), c, day, "-") for a, b, c in v4_rows]
    v6_ranges = [
        (int(net.network_address), int(net.broadcast_address)) for net, _c in v6_rows
    ]
    ranges += [
        SourceRange(6, first, last, code, day, "-")
        for (first, last), (_net, code) in zip(v6_ranges, v6_rows, strict=True)
    ]
    began = time.perf_counter()
    ours = CountryIndex.build(ranges, ())
    build = time.perf_counter() - began

    addresses = random_v4(rng, SAMPLE)
    v6 = v6_inside(rng, v6_ranges, SAMPLE)
    mismatches = sum(
        ours.lookup(a) != ((reference.ip_to_country(a) or {}).get("country_code") or "")
        for a in addresses[:10_000]
    )
    print(
        f"\nsame ranges, side by side: ip-to-country's {len(v4_rows)} IPv4 and "
        f"{len(v6_rows)} IPv6 ranges (fwsiem index built in {build:.2f} s, "
        f"{ours.overlap_count} overlaps; answers differ on {mismatches} of "
        "10 000 IPv4 addresses)"
    )
    print(f"  {'µs per address':<28} {'fwsiem':>8} {'ip-to-country':>14}")
    theirs = reference.ip_to_country
    print(
        f"  {'IPv4 text, 100 000':<28} {figure(ours.lookup, addresses):8.3f} "
        f"{figure(theirs, addresses):14.3f}"
    )
    print(
        f"  {'IPv4 packed, 100 000':<28} "
        f"{figure(ours.lookup_packed, packed(addresses)):8.3f} {'-':>14}"
    )
    print(
        f"  {'IPv6 packed, 100 000':<28} "
        f"{figure(ours.lookup_packed, packed(v6)):8.3f} {'-':>14}"
    )
    print(
        f"  {'IPv6 text (ours 100 000)':<28} {figure(ours.lookup, v6):8.3f} "
        f"{per_address(theirs, v6[:BATCH]):14.3f}"
    )


def main() -> None:
    url = scratch_url(os.environ.get("FWSIEM_DATABASE_URL", ""))
    prepare_database(url)
    print(f"database: {url.split('://')[0]}, Python {sys.version.split()[0]}")

    load_real_files()
    rng = random.Random(2026)
    real_file_lookups(rng)
    reference_lookups(rng)


if __name__ == "__main__":
    main()
