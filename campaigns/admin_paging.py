"""Changelist paging for tables with millions of rows (recipients, delivery attempts).

Django's paginator runs COUNT(*) over the whole filtered table on every page. Here the
database stops counting after COUNT_LIMIT matching rows, so a page never counts more.
Past that limit the changelist shows COUNT_LIMIT as the total and offers pages up to that
row only; a filter or a search reaches older rows.
"""

from functools import cached_property

from django.core.paginator import Paginator

COUNT_LIMIT = 10_000


class CappedCountPaginator(Paginator):
    # NOTE: a total of exactly COUNT_LIMIT means "at least that many"; the page does not
    # say so, because Django's changelist template prints the count as it is.
    @cached_property
    def count(self) -> int:
        # SELECT COUNT(*) FROM (SELECT ... LIMIT n): the database stops reading at n rows.
        return self.object_list[:COUNT_LIMIT].count()  # type: ignore[index, union-attr, attr-defined]
