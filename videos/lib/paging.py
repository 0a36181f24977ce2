"""Keyset pagination: pages of a list ordered by ``(field, pk)``, with opaque cursors.

A page deep in the list costs what the first one costs: instead of ``OFFSET n`` (which
reads and throws away n rows), a page starts after the last row the reader saw,
``WHERE (field, pk) < (seen_field, seen_pk)``, which an index on ``(…, field, id)``
serves as a range. The cursor naming that row is signed (``django.core.signing``), so
a URL with it can be shared but not forged; a tampered, truncated or stale-format
cursor is simply ignored (the first page), never an error.

Knows nothing of what is listed: any queryset, any field whose values are totally
ordered together with the primary key (a timestamp, usually). There are no page
numbers: each page has a ``newer`` and an ``older`` cursor (``None`` at that end).
The total is ``approximate_count``: exact up to a cap, "more than" past it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

SALT = "studio.paging"
#: The most rows ``approximate_count`` counts (one index range of this many entries at most).
COUNT_CAP = 10_000

NEWER, OLDER = "n", "o"


@dataclass(frozen=True)
class KeysetPage:
    """One page: its rows in list order and the cursors either side (``None`` at an end).

    ``newer`` points at the rows with higher ``(field, pk)`` than any here, ``older`` at
    those with lower ones; ``newest_first`` is the list's order. ``is_first`` is True
    when no (valid) cursor was given, i.e. this is the start of the list.
    """

    object_list: list
    newer: str | None
    older: str | None
    newest_first: bool
    is_first: bool

    @property
    def previous(self) -> str | None:
        """The cursor toward the list's start (newer when newest first)."""
        return self.newer if self.newest_first else self.older

    @property
    def next(self) -> str | None:
        """The cursor toward the list's end (older when newest first)."""
        return self.older if self.newest_first else self.newer

    @property
    def has_other_pages(self) -> bool:
        return bool(self.newer or self.older)


def make_cursor(direction: str, value, pk: int, *, salt: str = SALT) -> str:
    """A signed cursor: the rows ``direction`` (``NEWER``/``OLDER``) of ``(value, pk)``.

    ``value`` is stored as its ISO text when it has ``isoformat`` (dates, datetimes),
    otherwise as is (it must be JSON-serialisable)."""
    text = value.isoformat() if hasattr(value, "isoformat") else value
    return signing.Signer(salt=salt).sign_object([direction, text, pk], compress=False)


def read_cursor(cursor, field, *, salt: str = SALT) -> tuple[str, object, int] | None:
    """``(direction, value, pk)`` from a cursor made by ``make_cursor`` for ``field`` (a
    model field, whose ``to_python`` parses the value), or None for anything else:
    missing, tampered, malformed, of the wrong shape or types."""
    if not cursor or not isinstance(cursor, str) or len(cursor) > 500:
        return None
    try:
        direction, text, pk = signing.Signer(salt=salt).unsign_object(cursor)
        value = field.to_python(text)
    except (signing.BadSignature, ValueError, TypeError, ValidationError, UnicodeError):
        return None
    if direction not in (NEWER, OLDER) or value is None or type(pk) is not int or not -(2**63) <= pk < 2**63:
        return None
    return direction, value, pk


def keyset_page(
    queryset: QuerySet,
    cursor: str | None,
    *,
    size: int,
    field: str = "created_at",
    newest_first: bool = True,
    salt: str = SALT,
) -> KeysetPage:
    """The page of ``queryset`` (any order it had is replaced by ``(field, pk)``) that
    ``cursor`` points at, or the first one (newest rows when ``newest_first``) for a
    missing or invalid cursor. One query of at most ``size + 1`` rows (the extra row
    tells whether more lie beyond), whatever the depth.

    ``size`` is the rows per page (≥ 1). Raises ``FieldDoesNotExist`` for an unknown
    ``field``."""
    model_field = queryset.model._meta.get_field(field)
    parsed = read_cursor(cursor, model_field, salt=salt)
    direction = parsed[0] if parsed else (OLDER if newest_first else NEWER)
    qs = queryset
    if parsed:
        _, value, pk = parsed
        # (field, pk) < (value, pk) as a range on field the index serves, ties broken by pk.
        if direction == OLDER:
            qs = qs.filter(Q(**{f"{field}__lte": value}) & (Q(**{f"{field}__lt": value}) | Q(pk__lt=pk)))
        else:
            qs = qs.filter(Q(**{f"{field}__gte": value}) & (Q(**{f"{field}__gt": value}) | Q(pk__gt=pk)))
    ordering = (f"-{field}", "-pk") if direction == OLDER else (field, "pk")
    rows = list(qs.order_by(*ordering)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    # Rows came in the direction of travel; the page shows them in the list's order.
    if (direction == OLDER) != newest_first:
        rows.reverse()
    if not rows:
        return KeysetPage([], None, None, newest_first, parsed is None)
    newest, oldest = (rows[0], rows[-1]) if newest_first else (rows[-1], rows[0])
    # Beyond the side we travelled to lie rows when the extra row came back; behind us
    # (the side the cursor came from) lie the rows the cursor's page showed.
    if direction == OLDER:
        has_older, has_newer = more, parsed is not None
    else:
        has_newer, has_older = more, parsed is not None
    return KeysetPage(
        object_list=rows,
        newer=make_cursor(NEWER, getattr(newest, field), newest.pk, salt=salt) if has_newer else None,
        older=make_cursor(OLDER, getattr(oldest, field), oldest.pk, salt=salt) if has_older else None,
        newest_first=newest_first,
        is_first=parsed is None,
    )


def approximate_count(queryset: QuerySet, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """``(n, exact)``: how many rows ``queryset`` has, counting at most ``cap + 1`` of them
    (``SELECT COUNT(*) FROM (… LIMIT cap + 1)``), so the cost is bounded whatever the
    table's size. ``exact`` is False when there are more than ``cap`` (then ``n == cap``)."""
    n = queryset.order_by().values("pk")[: cap + 1].count()
    return (cap, False) if n > cap else (n, True)
