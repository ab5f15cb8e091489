"""Paging the event changelist without counting the matching rows.

``COUNT(*)`` over a filtered set of millions of events costs as much as
reading them all. The paginator here reads the requested page plus one
row: the extra row tells whether a next page exists, and the count it
reports is what has been seen so far, never a total.
"""

import logging
from datetime import datetime, timedelta
from functools import cached_property

from django.contrib.admin.views.main import (
    ERROR_FLAG,
    IS_FACETS_VAR,
    IS_POPUP_VAR,
    PAGE_VAR,
    TO_FIELD_VAR,
)
from django.core.paginator import Paginator

logger = logging.getLogger(__name__)

# Time windows, before the newest event, in which a page is looked for
# first; None is the whole table.
TIME_WINDOWS = [
    timedelta(hours=1),
    timedelta(days=1),
    timedelta(days=7),
    timedelta(days=30),
    None,
]


class PeekPaginator(Paginator):
    """A paginator that knows the rows up to the end of one page, plus one.

    ``count`` is ``rows before the page + rows on it (+ 1 if more follow)``;
    the admin uses it only to decide whether to offer page links. The page
    asked for in the constructor is read in one query; any other page is
    read by the ordinary slicing.
    """

    def __init__(
        self,
        object_list,
        per_page: int,
        page_number: int = 1,
        newest: datetime | None = None,
        **kwargs,
    ):
        super().__init__(object_list, per_page, **kwargs)
        self.page_number = max(page_number, 1)
        self.newest = newest

    @cached_property
    def rows(self) -> list:
        """Read the page (and one row more), newest time windows first.

        With ``newest`` set (the list is in newest-first order), the page
        is looked for among the events of the last hour before ``newest``,
        then the last day, week, month, and only then everywhere. A window
        that already holds the whole page gives the same rows as the full
        query, since every event outside it is older. This matters when a
        search matches a large share of the table: MySQL/MariaDB then reads
        every match through the address index and sorts them (seconds at
        millions of matches), while inside a window the time index finds
        the newest ones at once. Costs one query per window tried.
        """
        start = (self.page_number - 1) * self.per_page
        stop = start + self.per_page + 1
        windows = TIME_WINDOWS if self.newest is not None else [None]
        for window in windows:
            queryset = self.object_list
            if window is not None:
                queryset = queryset.filter(occurred_at__gte=self.newest - window)
            rows = list(queryset[start:stop])
            if len(rows) == stop - start:
                break
        return rows

    @cached_property
    def count(self) -> int:
        # Past the end, the rows before the page are still counted: with a
        # count of 0 the admin would list the whole queryset unpaginated.
        return (self.page_number - 1) * self.per_page + len(self.rows)

    def page(self, number):
        number = self.validate_number(number)
        if number == self.page_number:
            return self._get_page(self.rows[: self.per_page], number, self)
        return super().page(number)

    @property
    def has_more(self) -> bool:
        """Tell whether rows follow the page read (without counting them)."""
        return len(self.rows) > self.per_page


def requested_page(request) -> int:
    """Return the 1-based page number asked for in the changelist URL."""
    try:
        return int(request.GET.get(PAGE_VAR, 1))
    except ValueError:
        return 1


def narrowed(request) -> bool:
    """Tell whether the changelist URL searches or filters the events."""
    ignored = {PAGE_VAR, ERROR_FLAG, IS_POPUP_VAR, TO_FIELD_VAR, IS_FACETS_VAR}
    return any(key not in ignored and value for key, value in request.GET.items())


def newest_event_time() -> datetime | None:
    """Return the time of the newest event (one lookup at the index end)."""
    from events.models import Event

    times = Event.objects.order_by("-occurred_at").values_list("occurred_at", flat=True)
    return times.first()
