"""The version of a card, tile or generation page: a short hash of what it shows that
changes while its task runs. The page holds it (in the poller's hidden inputs); the
refresh (``videos.web.live``) recomputes it from one query and sends only what differs."""

from __future__ import annotations

import hashlib

from videos.models import Generation

#: The fields a card, tile or detail shows that change while it runs; their hash is its version.
VERSION_FIELDS = (
    "task__state",
    "task__progress",
    "task__status_word",
    "task__last_error",
    "billing",  # held → charged/released carries the estimate's and the cost's change
    "approval",
    "review",
)


#: What a History tile leaves out: it shows no error text (and History loads tasks without it).
TILE_SKIPS = frozenset({"task__last_error"})


def version_of(values, kind: str = "card", events: int | None = None) -> str:
    """A short hash (12 hex digits) of ``values``, a tuple of ``VERSION_FIELDS``, as the
    fragment ``kind`` ("card", "tile" or "detail") shows them; a detail page adds
    ``events``, the number of its timeline lines."""
    if kind == "tile":
        values = tuple(v for name, v in zip(VERSION_FIELDS, values, strict=True) if name not in TILE_SKIPS)
    if events is not None:
        values = (*values, events)
    text = "\x1f".join("" if v is None else str(v) for v in values)
    return hashlib.blake2s(text.encode(), digest_size=6).hexdigest()


def fields_of(generation: Generation, kind: str = "card") -> tuple:
    """``VERSION_FIELDS`` read from a generation with its task loaded (for a tile, the
    skipped ones as None, never read: they may be deferred)."""
    task = generation.task
    return (
        task.state,
        task.progress,
        task.status_word,
        None if kind == "tile" else task.last_error,
        generation.billing,
        generation.approval,
        generation.review,
    )


def version(generation: Generation, kind: str = "card", events: int | None = None) -> str:
    """The version of ``generation``'s fragment ``kind``: its studio card, its History tile,
    or its detail page with ``events`` timeline lines."""
    return version_of(fields_of(generation, kind), kind, events)
