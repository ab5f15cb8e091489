"""Write realistic synthetic events for a demonstration or a benchmark.

Load registry data first (``refresh_geo``) so that sources get addresses
and countries the registries agree on; without it, sources are random
public IPv4 addresses with no country. ``--if-empty`` makes the command do
nothing when events exist (``make demo`` uses it, so a second run does not
double the data). ``--defer-indexes`` (MySQL/MariaDB, empty table only)
drops the event table's secondary indexes for the load and builds them
again at the end, which is several times faster for millions of rows.
"""

import time
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.translation import gettext as _

from events.demo import seed_events
from events.models import Event
from events.rollup import roll_up
from fwsiem.progress import progress_bar


class Command(BaseCommand):
    help = _("Write synthetic firewall events (scans, bursts, outbound traffic).")

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--events",
            type=int,
            default=300_000,
            help=_("Number of events to write (default: 300000)."),
        )
        parser.add_argument(
            "--days",
            type=int,
            default=30,
            help=_("Days, up to now, the events are spread over (default: 30)."),
        )
        parser.add_argument(
            "--devices",
            type=int,
            default=3,
            help=_("Number of demo devices (default: 3)."),
        )
        parser.add_argument("--seed", type=int, default=5, help=_("Random seed."))
        parser.add_argument(
            "--batch-size",
            type=int,
            default=20_000,
            help=_("Events written per batch (default: 20000)."),
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help=_("Do nothing when the database already holds events."),
        )
        parser.add_argument(
            "--defer-indexes",
            action="store_true",
            help=_("Build the event indexes after the load (empty MySQL table)."),
        )

    def handle(self, *args, **options) -> str:
        total, days = options["events"], options["days"]
        if total < 1 or days < 1 or options["devices"] < 1:
            raise CommandError(_("--events, --days and --devices must be positive."))

        has_events = Event.objects.exists()
        if options["if_empty"] and has_events:
            return _("Events exist already; nothing seeded.")
        deferred = []
        if options["defer_indexes"]:
            if has_events or connection.vendor != "mysql":
                raise CommandError(
                    _("--defer-indexes needs an empty event table on MySQL/MariaDB.")
                )
            deferred = drop_indexes()

        bar = progress_bar(
            self.stderr,
            options["verbosity"],
            total=total,
            unit=" " + _("events"),
            unit_scale=True,
        )
        summary = seed_events(
            total,
            days,
            options["devices"],
            seed=options["seed"],
            batch_size=options["batch_size"],
            progress=bar.update,
        )
        bar.close()

        index_seconds = 0.0
        if deferred:
            started = time.monotonic()
            self.stderr.write(_("Building the event indexes..."))
            add_indexes(deferred)
            index_seconds = time.monotonic() - started

        counted = roll_up(settle=timedelta(0))

        rate = summary.events / summary.seconds if summary.seconds else 0
        return _(
            "Seeded %(events)d events over %(days)d days on %(devices)d devices: "
            "%(scans)d scans, %(burst)d in the burst, %(outbound)d outbound; "
            "%(sources)d sources in %(countries)d countries; %(seconds).1f s "
            "(%(rate).0f events/s, %(method)s)%(indexes)s; %(hours)d hours "
            "counted for reports in %(rollup).1f s."
        ) % {
            "hours": counted.hours,
            "rollup": counted.seconds,
            "events": summary.events,
            "days": days,
            "devices": options["devices"],
            "scans": summary.scans,
            "burst": summary.burst,
            "outbound": summary.outbound,
            "sources": summary.sources,
            "countries": summary.countries,
            "seconds": summary.seconds,
            "rate": rate,
            "method": summary.method,
            "indexes": _(", indexes built in %.1f s") % index_seconds
            if deferred
            else "",
        }


def drop_indexes() -> list:
    """Drop the event table's declared indexes; return them for later."""
    indexes = list(Event._meta.indexes)
    with connection.schema_editor() as editor:
        for index in indexes:
            editor.remove_index(Event, index)
    return indexes


def add_indexes(indexes: list) -> None:
    with connection.schema_editor() as editor:
        for index in indexes:
            editor.add_index(Event, index)
