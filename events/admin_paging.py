"""Paging the event changelist without counting the matching rows.

``COUNT(*)`` over a filtered set of millions of events costs as much as
reading them all. The paginator here reads the requested page plus one
row: the extra row tells whether a next page exists, and the count it
reports is what has been seen so far, never a total.
"""

import logging
from functools import cached_property

from django.contrib.admin.views.main import PAGE_VAR
from django.core.paginator import Paginator

logger = logging.getLogger(__name__)


class PeekPaginator(Paginator):
    """A paginator that knows the rows up to the end of one page, plus one.

    ``count`` is ``rows before the page + rows on it (+ 1 if more follow)``;
    the admin uses it only to decide whether to offer page links. The page
    asked for in the constructor is read in one query; any other page is
    read by the ordinary slicing.
    """

    def __init__(self, object_list, per_page: int, page_number: int = 1, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.page_number = max(page_number, 1)

    @cached_property
    def rows(self) -> list:
        start = (self.page_number - 1) * self.per_page
        return list(self.object_list[start : start + self.per_page + 1])

    @cached_property
    def count(self) -> int:
        seen = (self.page_number - 1) * self.per_page + len(self.rows)
        return seen if self.rows else 0

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
