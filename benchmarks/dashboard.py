"""Print how long the default "Port scans" dashboard takes to compute.

Times the configured database as it is (it seeds nothing: seeding ten
million events takes minutes). To measure on ten million events on
MariaDB, as the figures in the README were::

    export FWSIEM_DATABASE_URL=mysql://root@127.0.0.1:3306/fwsiem_bench
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py refresh_geo --registry afrinic \\
        --registry lacnic --source tests/data/rir --countries
    .venv/bin/python manage.py seeddemo --events 10000000 --days 30 \\
        --defer-indexes
    .venv/bin/python benchmarks/dashboard.py

For each panel it prints the query time of ``run_report`` (first run and
the median of ``--runs`` more), the number of SQL statements, the rows the
result holds and the events in the panel's window; then the server time of
the whole dashboard page through Django's test client (logged in as a
temporary superuser, removed at the end); then the state of the hourly
roll-up the event-count panels read (``events.rollup``): hours current,
rows per grain, and the time to count one hour again.

``seeddemo`` counts the hours it wrote before it ends; after writing
events some other way, run ``manage.py rollup`` first, or the panels read
the events table for those hours.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
TARGET_SECONDS = 1.0


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fwsiem.settings")
    import django

    django.setup()


def timed(function, runs: int) -> tuple[float, float, object]:
    """Return the first run's seconds, the median of the others, a result."""
    began = time.perf_counter()
    result = function()
    first = time.perf_counter() - began
    seconds = []
    for _ in range(runs):
        began = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - began)
    return first, statistics.median(seconds) if seconds else first, result


def panel_figures(dashboard, now, runs: int) -> list[tuple]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dashboards.query import filtered_events, resolve_window, run_report

    rows = []
    for panel in dashboard.panels.select_related("report"):
        spec = panel.report.to_spec()
        with CaptureQueriesContext(connection) as queries:
            run_report(spec, now)
        statements = len(queries)
        first, median, result = timed(lambda spec=spec: run_report(spec, now), runs)
        window, _notes = resolve_window(spec, now)
        events = filtered_events(spec, window).count()
        rows.append(
            (panel.report.name, first, median, statements, len(result.rows), events)
        )
    return rows


def page_figures(dashboard, runs: int) -> tuple[float, float]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    user_model = get_user_model()
    user = user_model.objects.create_superuser("benchmark-dashboard", "", None)
    try:
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)

        def fetch():
            response = client.get(dashboard.get_absolute_url())
            if response.status_code != 200:
                raise SystemExit(f"dashboard page answered {response.status_code}")
            return response

        first, median, _response = timed(fetch, runs)
    finally:
        user.delete()
    return first, median


def rollup_figures(now) -> list[str]:
    """Describe the hourly roll-up the panels read, and time one hour of it.

    Recounting the newest hour with events (marked first, then rolled as
    the scheduled job does) gives the cost the job pays per hour.
    """
    from datetime import timedelta

    from django.db.models import Count, Q

    from events.models import Event, HourlyCount, RollupHour
    from events.rollup import GRAINS, floor_hour, grain_columns, mark_hours, roll_hour

    hours = RollupHour.objects.aggregate(
        current=Count("hour", filter=Q(marked_at=None, rolled_at__isnull=False)),
        marked=Count("hour", filter=Q(marked_at__isnull=False)),
    )
    lines = [
        f"roll-up: {hours['current']:,} hours current, {hours['marked']:,} "
        f"marked to be counted again"
    ]
    week = now - timedelta(days=7)
    events = Event.objects.filter(occurred_at__gte=week).count()
    for grain in GRAINS:
        rows = HourlyCount.objects.filter(grain=grain, hour__gte=week).count()
        ratio = events / rows if rows else float("inf")
        columns = ", ".join(grain_columns(grain))
        lines.append(
            f"  grain {grain} ({columns}): {rows:,} rows for the last 7 days "
            f"({ratio:,.0f} events per row)"
        )

    newest = Event.objects.filter(occurred_at__lt=now).order_by("-occurred_at")
    hour = floor_hour(newest.values_list("occurred_at", flat=True).first() or now)
    in_hour = Event.objects.filter(
        occurred_at__gte=hour, occurred_at__lt=hour + timedelta(hours=1)
    ).count()
    mark_hours([hour])
    began = time.perf_counter()
    rows = roll_hour(hour)
    seconds = time.perf_counter() - began
    lines.append(
        f"  counting one hour again ({hour:%Y-%m-%d %H}:00 UTC, {in_hour:,} "
        f"events, {rows} rows at all grains): {seconds:.3f} s"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=3, help="timed runs after the first"
    )
    parser.add_argument(
        "--now",
        choices=["clock", "latest"],
        default="clock",
        help="end the windows at the clock or at the newest event",
    )
    parser.add_argument(
        "--time-limit",
        type=int,
        default=600,
        help="report time limit in seconds for this run (the setting's "
        "default would stop slow panels before they can be measured)",
    )
    options = parser.parse_args()
    setup_django()

    from django.conf import settings
    from django.db import connection
    from django.db.models import Max
    from django.utils import timezone

    from dashboards.models import Dashboard
    from events.models import Event

    settings.REPORT_TIME_LIMIT = options.time_limit

    dashboard = Dashboard.objects.filter(owner=None).order_by("pk").first()
    if dashboard is None:
        raise SystemExit("No default dashboard: run manage.py migrate first.")
    total = Event.objects.count()
    if not total:
        raise SystemExit("No events: seed them first (see this script's docstring).")
    now = timezone.now()
    if options.now == "latest":
        now = Event.objects.aggregate(m=Max("occurred_at"))["m"]

    server = connection.vendor
    if server == "mysql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT VERSION()")
            server = f"MySQL/MariaDB {cursor.fetchone()[0]}"
    print(f"database: {server}, {total:,} events; windows end {now:%Y-%m-%d %H:%M} UTC")
    if connection.vendor == "mysql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT @@innodb_buffer_pool_size")
            pool = cursor.fetchone()[0] / 2**20
        print(f"InnoDB buffer pool: {pool:,.0f} MiB")
    print(f"report time limit {options.time_limit} s; runs: 1 + {options.runs}")
    print()
    header = ("panel", "first s", "median s", "SQL", "rows", "events in window")
    print("{:42} {:>8} {:>9} {:>4} {:>5} {:>17}".format(*header))
    panels = panel_figures(dashboard, now, options.runs)
    for name, first, median, statements, rows, events in panels:
        print(
            f"{name[:42]:42} {first:8.3f} {median:9.3f} {statements:4d} "
            f"{rows:5d} {events:17,}"
        )
    panel_sum = sum(median for _n, _f, median, *_rest in panels)
    print(f"{'sum of panel medians':42} {'':8} {panel_sum:9.3f}")
    print()

    first, median = page_figures(dashboard, options.runs)
    verdict = "meets" if median <= TARGET_SECONDS else "misses"
    print(
        f"whole dashboard page, server time: first {first:.3f} s, "
        f"median {median:.3f} s ({verdict} the {TARGET_SECONDS:.0f} s target)"
    )

    print()
    for line in rollup_figures(now):
        print(line)


if __name__ == "__main__":
    main()
