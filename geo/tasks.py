"""Scheduled jobs (django-q2): registry ranges daily, ISO names monthly.

``ensure_schedules`` creates the schedules after ``migrate`` and is safe to
run any number of times. Each job's timeout is below the cluster's
``retry`` (so a slow run is not handed out twice), ``catch_up`` is off in
``Q_CLUSTER`` (missed days after downtime give one run, not a storm), and
each registry is loaded under its own lock, so two workers never load the
same registry at once.
"""

import logging

from django.conf import settings

from fwsiem.schedules import ensure_schedule
from geo.countries import refresh_countries as load_countries
from geo.refresh import refresh_registries as load_registries
from geo.refresh import refresh_registry as load_registry

logger = logging.getLogger(__name__)

REGISTRIES_SCHEDULE = "geo: refresh registry ranges"
COUNTRIES_SCHEDULE = "geo: refresh ISO 3166 names"
# Below Q_CLUSTER["retry"] (3600 s) and below the registry lock's lifetime.
REGISTRIES_TIMEOUT = 1500
COUNTRIES_TIMEOUT = 300


def refresh_registries() -> str:
    """Refresh every configured registry (daily).

    Idempotent: a file already active is recognised by serial and MD5 and
    not loaded again. Writes Snapshot, IPRange, Registry and RefreshRun
    rows. Returns one summary line per registry (kept as the task result).
    """
    results = load_registries(settings.GEO_REGISTRIES)
    lines = [f"{r.registry}: {r.outcome} {r.message}" for r in results]
    return "\n".join(lines)


def refresh_countries() -> str:
    """Refresh the ISO 3166-1 names from pycountry (monthly).

    Idempotent upsert of Country rows in one transaction; an implausible
    list raises and leaves the table as it was.
    """
    result = load_countries()
    logger.info("countries refreshed total=%s created=%s", result.total, result.created)
    return f"{result.total} countries, {result.created} new"


def ensure_schedules(**kwargs) -> None:
    """Create or correct the geo schedules; never duplicates or reschedules.

    Also creates the five Registry rows, so the admin lists every registry
    before its first load. Connected to ``post_migrate``. The next run of
    an existing schedule is left alone, so migrating again does not move it.
    """
    from django_q.models import Schedule

    from geo.models import Registry

    for code in settings.GEO_REGISTRY_URLS:
        Registry.objects.get_or_create(code=code)

    ensure_schedule(
        REGISTRIES_SCHEDULE,
        "geo.tasks.refresh_registries",
        Schedule.DAILY,
        REGISTRIES_TIMEOUT,
    )
    ensure_schedule(
        COUNTRIES_SCHEDULE,
        "geo.tasks.refresh_countries",
        Schedule.MONTHLY,
        COUNTRIES_TIMEOUT,
    )


def refresh_registry(registry: str) -> str:
    """Refresh one registry now (the admin's "refresh now" action).

    Same lock and validation as the daily job; queued by the admin, run by
    the cluster. Returns the registry's summary line.
    """
    result = load_registry(registry)
    return f"{result.registry}: {result.outcome} {result.message}"
