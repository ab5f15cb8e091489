"""Count events per hour for reports now, instead of waiting for the job.

The scheduler counts settled hours every few minutes; this command counts
every marked hour at once (after an import, say) and prints a summary.
``--rebuild`` first marks every hour that holds events and forgets the
counts of hours that hold none: for events written or deleted by hand.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from events.models import RollupHour
from events.rollup import mark_all, roll_up
from fwsiem.progress import progress_bar


class Command(BaseCommand):
    help = _("Count events per hour for reports (the scheduler does this too).")

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help=_(
                "Count every hour that holds events again, not only marked "
                "ones, and drop the counts of hours left without events."
            ),
        )

    def handle(self, *args, **options) -> str:
        marked = None
        if options["rebuild"]:
            marked = mark_all()

        due = RollupHour.objects.filter(marked_at__isnull=False).count()
        bar = progress_bar(
            self.stderr,
            options["verbosity"],
            total=due,
            unit=" " + _("hours"),
        )
        result = roll_up(settle=timedelta(0), progress=bar.update)
        bar.close()

        summary = _(
            "Counted %(hours)d hours into %(rows)d rows in %(seconds).1f s."
        ) % {"hours": result.hours, "rows": result.rows, "seconds": result.seconds}
        if marked is not None:
            summary = (
                _("Marked %(marked)d hours with events. ") % {"marked": marked}
                + summary
            )
        if result.failed:
            summary += " " + _(
                "%(count)d hours failed (see the log) and stay marked for the next run."
            ) % {"count": result.failed}
        if result.retried:
            summary += " " + _(
                "%(count)d hours got new events meanwhile and stay marked "
                "for the next run."
            ) % {"count": result.retried}
        return summary
