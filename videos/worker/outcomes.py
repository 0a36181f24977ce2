"""How a step ends when it does not simply move on: the task fails (hold released,
author told), or it is tried again later after a backoff."""

from __future__ import annotations

import math
import random
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from videos import audit, billing, webhooks
from videos.gateways.base import MAX_RETRY_AFTER_S
from videos.lib.vault import redact
from videos.models import Task, TaskState, WebhookEvent
from videos.timeline import clean_text, record
from videos.worker.leases import release

#: The longest wait between two tries, seconds.
MAX_BACKOFF_S = 300.0


def fail(task: Task, token: str, message: str, *, data: Any = None) -> bool:
    """End the task as failed with ``message`` shown to the member (and ``data``, a
    gateway's answer, on the timeline); release its hold and tell its author. False
    when the lease was lost (another worker decides)."""
    message = redact(clean_text(message))
    with transaction.atomic():
        if not release(task, token, state=TaskState.FAILED, last_error=message[:2000]):
            return False
        record(task.generation_id, "failed", message, state=TaskState.FAILED, data=data)
        billing.release(task.generation)
        generation = task.generation
        audit.notify(
            generation.author,
            generation.team,
            _("Your video %(video)s failed: %(why)s") % {"video": audit.describe(generation), "why": message[:150]},
            generation=generation,
        )
        webhooks.generation_event(generation, WebhookEvent.GENERATION_FAILED)
    return True


def backoff(attempts: int, base_s: float, retry_after: float | None = None) -> float:
    """Seconds before retrying after ``attempts`` consecutive failures: exponential from
    ``base_s`` with ±20% jitter, at most MAX_BACKOFF_S, never less than ``retry_after``
    (itself taken at most MAX_RETRY_AFTER_S, and ignored when not finite)."""
    delay = min(MAX_BACKOFF_S, base_s * (2 ** max(0, attempts - 1)))
    delay *= random.uniform(0.8, 1.2)
    if retry_after is not None and math.isfinite(retry_after):
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER_S))
    return delay
