"""Print how fast the event changelist answers with millions of events.

Run with ``.venv/bin/python benchmarks/admin.py`` and a MySQL/MariaDB
``FWSIEM_DATABASE_URL`` (SQLite works too, for smaller numbers). It never
touches your data: it creates a scratch database beside the configured one
(``<name>_bench`` on the same server, or ``var/benchmark-admin.sqlite3``),
migrates it, loads the bundled registry files when the geo app can, seeds
``--events`` events with ``seeddemo`` and then times, through Django's
test client logged in as a superuser, the median server time of:

* the changelist's first page;
* a filtered page: one device, action block, last 24 hours;
* a CIDR search (the /16 of the busiest scanning source, both sides),
  and one for the /24 of a quiet source;
* a port search (``23/tcp``).

The scratch database is dropped at the end unless ``--keep`` is given;
``--reuse`` times an existing scratch database again without seeding.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
REGISTRY_FILES = BASE_DIR / "tests" / "data" / "rir"


def scratch_url(url: str) -> str:
    """Return the URL of a scratch database beside ``url``."""
    if not url or url.startswith("sqlite"):
        return f"sqlite:///{BASE_DIR / 'var' / 'benchmark-admin.sqlite3'}"
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "_bench"))


def server_command(url: str, statement: str) -> None:
    """Run one statement on the MySQL/MariaDB server of ``url``."""
    import MySQLdb

    parts = urlsplit(url)
    server = MySQLdb.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=parts.username or "root",
        password=parts.password or "",
    )
    server.cursor().execute(statement)
    server.close()


def create_database(url: str) -> None:
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    name = urlsplit(url).path.lstrip("/")
    server_command(url, f"DROP DATABASE IF EXISTS `{name}`")
    server_command(url, f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")


def drop_database(url: str) -> None:
    if url.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{url.removeprefix('sqlite:///')}{suffix}").unlink(missing_ok=True)
        return
    server_command(url, f"DROP DATABASE IF EXISTS `{urlsplit(url).path.lstrip('/')}`")


def seed(events: int, days: int, devices: int) -> None:
    from django.core.management import call_command, get_commands
    from django.db import connection

    call_command("migrate", verbosity=0)
    if "refresh_geo" in get_commands() and REGISTRY_FILES.is_dir():
        started = time.monotonic()
        call_command("refresh_geo", source=str(REGISTRY_FILES), verbosity=0)
        print(f"registry data loaded in {time.monotonic() - started:.1f} s")
    else:
        print("registry data not loaded: sources carry no country")

    call_command(
        "seeddemo",
        events=events,
        days=days,
        devices=devices,
        batch_size=100_000,
        defer_indexes=connection.vendor == "mysql",
    )
    if connection.vendor == "mysql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE TABLE events_event")
            cursor.fetchall()


def sample_blocks() -> tuple[tuple[str, int], tuple[str, int]]:
    """Return the /16 of the busiest and the /24 of a quiet IPv4 source.

    Sources are counted among the newest 20 000 blocked events; each block
    comes with the number of events from it.
    """
    import ipaddress
    from collections import Counter

    from events.models import Event

    recent = Event.objects.filter(action="block", ip_version=4).order_by("-occurred_at")
    ranked = Counter(recent.values_list("src_ip", flat=True)[:20_000]).most_common()
    blocks = []
    for address, prefix in ((ranked[0][0], 16), (ranked[-1][0], 24)):
        network = str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
        blocks.append((network, Event.objects.in_network("src_ip", network).count()))
    return blocks[0], blocks[1]


def time_page(client, path: str, params: dict, runs: int) -> tuple[float, int, int]:
    """Return (median ms, queries, status) of ``runs`` GETs after a warm-up."""
    from django.db import connection

    url = f"{path}?{urlencode(params)}" if params else path
    queries = []

    def count(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append(((time.perf_counter() - started) * 1000, sql))

    with connection.execute_wrapper(count):
        response = client.get(url)
    if os.environ.get("BENCH_SHOW_QUERIES"):
        for milliseconds, sql in queries:
            print(f"      {milliseconds:7.1f} ms {sql}")
    timings = []
    for _run in range(runs):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), len(queries), response.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--devices", type=int, default=3)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--reuse", action="store_true", help="do not seed again")
    options = parser.parse_args()

    url = scratch_url(os.environ.get("FWSIEM_DATABASE_URL", ""))
    if not options.reuse:
        create_database(url)
    os.environ["FWSIEM_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fwsiem.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment

    from events.models import Device, Event

    try:
        if not options.reuse:
            started = time.monotonic()
            seed(options.events, options.days, options.devices)
            print(f"seeded in {time.monotonic() - started:.0f} s")

        setup_test_environment()
        users = get_user_model()
        user = users.objects.filter(username="bench").first()
        if user is None:
            user = users.objects.create_superuser("bench", "", "bench-pass-123")
        client = Client()
        client.force_login(user)

        device = Device.objects.order_by("pk").first()
        (block, block_rows), (quiet, quiet_rows) = sample_blocks()
        total = Event.objects.count()
        print(f"events: {total:,} in {url.split('@')[-1]}")
        path = "/admin/events/event/"
        pages = [
            ("changelist, first page", {}),
            (
                f"device {device.name} + block + last 24 h",
                {"device": device.pk, "action__exact": "block", "since": "24h"},
            ),
            (f"CIDR search {block} ({block_rows:,} rows from it)", {"q": block}),
            (f"CIDR search {quiet} ({quiet_rows:,} rows from it)", {"q": quiet}),
            ("port search 23/tcp", {"q": "23/tcp"}),
        ]
        print(f"median of {options.runs} runs after one warm-up, server time:")
        for label, params in pages:
            median, queries, status = time_page(client, path, params, options.runs)
            print(f"  {median:7.1f} ms  {queries:2d} queries  HTTP {status}  {label}")
    finally:
        if not options.keep:
            from django.db import connection

            connection.close()
            drop_database(url)
            print("scratch database dropped")
        else:
            print(f"scratch database kept: {url.split('@')[-1]}")


if __name__ == "__main__":
    main()
