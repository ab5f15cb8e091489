"""Fill the country columns of events stored before geo data existed.

Walks the events in primary-key order, in batches, and sets
``src_country``/``dst_country`` from the active snapshots wherever they are
empty (``--all`` recomputes every event, e.g. after a registry transfer).
"""

import time
from datetime import datetime
from datetime import time as clock

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from events.models import Event
from events.rollup import floor_hour, mark_hours
from fwsiem.progress import progress_bar
from geo import index


class Command(BaseCommand):
    help = _("Fill the source and destination countries of stored events.")

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--since",
            help=_(
                "Only events that occurred from this date or time on "
                "(YYYY-MM-DD or ISO 8601, current time zone)."
            ),
        )
        parser.add_argument(
            "--all",
            action="store_true",
            help=_("Recompute events that already have countries."),
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=2000,
            help=_("Events read and updated per batch (default: 2000)."),
        )

    def handle(self, *args, since, batch_size, **options) -> str:
        if batch_size < 1:
            raise CommandError(_("--batch-size must be at least 1"))
        events = Event.objects.all()
        if since:
            events = events.filter(occurred_at__gte=_moment(since))
        if not options["all"]:
            events = events.filter(src_country="") | events.filter(dst_country="")

        started = time.monotonic()
        lookup = index.current_index().lookup
        examined = updated = unknown = 0
        with progress_bar(
            self.stderr,
            options["verbosity"],
            total=events.count(),
            unit=_("events"),
        ) as progress:
            for batch in _batches(events, batch_size):
                changed = []
                for event in batch:
                    src = lookup(event.src_ip)
                    dst = lookup(event.dst_ip)
                    unknown += not src
                    unknown += not dst
                    if (src, dst) != (event.src_country, event.dst_country):
                        event.src_country, event.dst_country = src, dst
                        changed.append(event)
                # Reports count by source country from the hourly counts:
                # the hours changed here are counted again.
                with transaction.atomic():
                    Event.objects.bulk_update(changed, ["src_country", "dst_country"])
                    mark_hours({floor_hour(event.occurred_at) for event in changed})
                examined += len(batch)
                updated += len(changed)
                progress.update(len(batch))

        return _(
            "enrich: %(examined)d events examined, %(updated)d updated, "
            "%(unknown)d addresses without a country, %(seconds).1f s"
        ) % {
            "examined": examined,
            "updated": updated,
            "unknown": unknown,
            "seconds": time.monotonic() - started,
        }


def _moment(text: str) -> datetime:
    moment = parse_datetime(text)
    if moment is None:
        day = parse_date(text)
        if day is None:
            raise CommandError(
                _("--since: not a date or time: %(value)r") % {"value": text[:40]}
            )
        moment = datetime.combine(day, clock.min)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _batches(events, size: int):
    """Yield lists of events by primary key, so no offset scan grows."""
    last = 0
    fields = ("pk", "occurred_at", "src_ip", "dst_ip", "src_country", "dst_country")
    while True:
        batch = list(events.filter(pk__gt=last).order_by("pk").only(*fields)[:size])
        if not batch:
            return
        yield batch
        last = batch[-1].pk
