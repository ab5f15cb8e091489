"""Template tags of the event changelist: a date hierarchy without scans.

Django's own date hierarchy lists the years, months or days that have
events with ``SELECT DISTINCT`` over the filtered rows, a full scan of a
large table on every page view. This one offers every period between the
oldest and the newest event (two index lookups) whether or not the
filtered set has events in it.
"""

import calendar
import datetime
import logging

from django import template
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from events.models import Event

logger = logging.getLogger(__name__)
register = template.Library()


def event_time_span() -> tuple[datetime.datetime, datetime.datetime] | None:
    """Return the oldest and newest event time in the local zone, or None.

    Two queries, each answered by the end of the time index (one MIN and
    one MAX in a query would defeat SQLite's optimisation).
    """
    times = Event.objects.values_list("occurred_at", flat=True)
    oldest = times.order_by("occurred_at").first()
    newest = times.order_by("-occurred_at").first()
    if oldest is None or newest is None:
        return None
    return timezone.localtime(oldest), timezone.localtime(newest)


def hierarchy(cl) -> dict:
    """Return the context of ``admin/date_hierarchy.html`` for ``cl``."""
    field = cl.date_hierarchy
    year_field, month_field, day_field = (
        f"{field}__year",
        f"{field}__month",
        f"{field}__day",
    )

    def link(filters: dict) -> str:
        return cl.get_query_string(filters, [f"{field}__"])

    def number(name: str) -> int | None:
        value = cl.params.get(name)
        if isinstance(value, list):
            value = value[-1] if value else None
        return int(value) if value and str(value).isdigit() else None

    year, month, day = number(year_field), number(month_field), number(day_field)

    if year and month and day:
        moment = datetime.date(year, month, day)
        return {
            "show": True,
            "back": {
                "link": link({year_field: year, month_field: month}),
                "title": capfirst(formats.date_format(moment, "YEAR_MONTH_FORMAT")),
            },
            "choices": [
                {"title": capfirst(formats.date_format(moment, "MONTH_DAY_FORMAT"))}
            ],
        }

    span = event_time_span()
    if span is None:
        return {"show": False}
    oldest, newest = span

    if year and month:
        days = range(1, calendar.monthrange(year, month)[1] + 1)
        dates = [datetime.date(year, month, d) for d in days]
        dates = [d for d in dates if oldest.date() <= d <= newest.date()]
        return {
            "show": True,
            "back": {"link": link({year_field: year}), "title": str(year)},
            "choices": [
                {
                    "link": link(
                        {year_field: year, month_field: month, day_field: d.day}
                    ),
                    "title": capfirst(formats.date_format(d, "MONTH_DAY_FORMAT")),
                }
                for d in dates
            ],
        }

    if year:
        months = [
            datetime.date(year, m, 1)
            for m in range(1, 13)
            if (oldest.year, oldest.month) <= (year, m) <= (newest.year, newest.month)
        ]
        return {
            "show": True,
            "back": {"link": link({}), "title": _("All dates")},
            "choices": [
                {
                    "link": link({year_field: year, month_field: m.month}),
                    "title": capfirst(formats.date_format(m, "YEAR_MONTH_FORMAT")),
                }
                for m in months
            ],
        }

    return {
        "show": True,
        "back": None,
        "choices": [
            {"link": link({year_field: y}), "title": str(y)}
            for y in range(oldest.year, newest.year + 1)
        ],
    }


@register.tag(name="event_date_hierarchy")
def event_date_hierarchy_tag(parser, token):
    return InclusionAdminNode(
        parser,
        token,
        func=hierarchy,
        template_name="date_hierarchy.html",
        takes_context=False,
    )
