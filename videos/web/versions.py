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
    "billing",
    "estimate_usd",
    "cost_usd",
    "approval",
    "review",
)


def version_of(values) -> str:
    """A short hash (12 hex digits) of ``values``, a tuple of ``VERSION_FIELDS`` (plus the
    timeline's length for a detail page)."""
    text = "\x1f".join("" if v is None else str(v) for v in values)
    return hashlib.blake2s(text.encode(), digest_size=6).hexdigest()


def fields_of(generation: Generation) -> tuple:
    """``VERSION_FIELDS`` read from a generation with its task loaded."""
    task = generation.task
    return (
        task.state,
        task.progress,
        task.status_word,
        task.last_error,
        generation.billing,
        generation.estimate_usd,
        generation.cost_usd,
        generation.approval,
        generation.review,
    )


def version(generation: Generation, events: int | None = None) -> str:
    """The version of ``generation``'s card or tile; of its detail page with ``events``
    (the number of timeline lines it shows)."""
    values = fields_of(generation)
    return version_of(values if events is None else (*values, events))
