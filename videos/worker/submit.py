"""The submit step: send a pending task to its gateway, exactly once.

The attempt is recorded (``submitting``) *before* the request goes out, so a crash
from then on reads as "maybe sent" and is never resent behind the member's back.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from videos import webhooks
from videos.gateways import Gateway, GatewayError
from videos.gateways.base import GatewayStatus, GenerationInput
from videos.models import Task, TaskState, WebhookEvent
from videos.timeline import clean_text, record, scrub
from videos.worker.adapters import STATE_FOR_STATUS, StepError, adapter_for, generation_input
from videos.worker.leases import release, reschedule
from videos.worker.outcomes import backoff, fail

MAX_SUBMIT_ATTEMPTS = 8
EXTERNAL_ID_CHARS = Task._meta.get_field("external_id").max_length
STATUS_WORD_CHARS = Task._meta.get_field("status_word").max_length


def step_submit(task: Task, token: str) -> None:
    """Send a pending task to its gateway, once.

    Connection failures (nothing reached the gateway) go back to pending with
    backoff; an outcome we cannot know (timeout after sending, 5xx, reset) goes to
    ``needs_attention`` and is never resent automatically; a 4xx fails the task.
    """
    prepared = _prepare(task, token)
    if prepared is None:
        return
    gateway, choices = prepared
    try:
        submission = gateway.submit(choices)
        if len(submission.external_id) > EXTERNAL_ID_CHARS:
            # Accepted, but under an id no gateway really uses and no column holds: it
            # cannot be followed, and sending again could pay twice.
            raise GatewayError(
                _("the task id in its answer is %(n)d characters long") % {"n": len(submission.external_id)},
                permanent=False,
                maybe_created=True,
                raw=submission.raw,
            )
    except GatewayError as exc:
        _submit_failed(task, token, exc)
        return
    if submission.status == GatewayStatus.FAILED:
        fail(task, token, _("The gateway refused the task."), data=submission.raw)
        return
    state = STATE_FOR_STATUS.get(submission.status, TaskState.PROCESSING)
    if reschedule(
        task,
        token,
        gateway.poll_interval(0),
        state=state,
        external_id=submission.external_id,
        status_word=clean_text(submission.status_word)[:STATUS_WORD_CHARS],
        progress=submission.progress,
        attempts=0,
        last_error="",
        last_raw=scrub(submission.raw),
    ):
        record(
            task.generation_id,
            "submitted",
            _("The gateway accepted the task as %(id)s (%(word)s).")
            % {"id": submission.external_id, "word": submission.status_word or _("no status")},
            state=state,
            data=submission.raw,
        )


def _prepare(task: Task, token: str) -> tuple[Gateway, GenerationInput] | None:
    """Record the attempt (``submitting``) before anything is sent, so a crash from here
    on reads as "maybe sent"; then the adapter and the rebuilt request. None when the
    task was not ours to send, or failed here (a deleted key, an option refused)."""
    now = timezone.now()
    if (
        Task.objects.filter(pk=task.pk, lease_token=token, state=TaskState.PENDING).update(
            state=TaskState.SUBMITTING, submitted_at=now, updated_at=now
        )
        != 1
    ):
        return None
    task.state = TaskState.SUBMITTING
    try:
        gateway = adapter_for(task.generation)
        choices = generation_input(task.generation)
        problems = gateway.validate_choices(choices)
        if problems:
            raise StepError(" ".join(problems.values()))
    except StepError as exc:
        fail(task, token, str(exc))
        return None
    return gateway, choices


def _submit_failed(task: Task, token: str, exc: GatewayError) -> None:
    """A submit that raised: fail (4xx), needs attention (maybe created), or retry later."""
    if exc.permanent:
        fail(task, token, exc.message, data=exc.raw)
        return
    if exc.maybe_created:
        message = _(
            "The gateway may have created this task but its answer was lost (%(why)s). "
            "It was not sent again, so you are not charged twice: resubmit it or abandon it."
        ) % {"why": exc.message}
        _needs_attention(task, token, message, data=exc.raw)
        return
    attempts = task.attempts + 1
    if attempts >= MAX_SUBMIT_ATTEMPTS:
        fail(
            task,
            token,
            _("The gateway could not be reached after %(n)d tries: %(why)s") % {"n": attempts, "why": exc.message},
        )
        return
    delay = backoff(attempts, 5.0, exc.retry_after)
    if reschedule(task, token, delay, state=TaskState.PENDING, attempts=attempts, last_error=exc.message):
        record(
            task.generation_id,
            "retry",
            _("Not sent: %(why)s. Trying again in %(delay).0f s.") % {"why": exc.message, "delay": delay},
            state=TaskState.PENDING,
        )


def step_stale_submit(task: Task, token: str) -> None:
    """A worker died while sending: we cannot know whether the gateway has the task, so
    it needs the member's attention (resubmit or abandon), never an automatic resend."""
    message = _(
        "The worker stopped while sending this task, so the gateway may or may not have it. "
        "It was not sent again: resubmit it or abandon it."
    )
    _needs_attention(task, token, message)


def _needs_attention(task: Task, token: str, message: str, *, data=None) -> None:
    """Move the task to ``needs_attention`` with ``message``, on the timeline and as a
    ``generation.needs_attention`` webhook, if we still hold its lease."""
    with transaction.atomic():
        if release(task, token, state=TaskState.NEEDS_ATTENTION, last_error=message):
            record(task.generation_id, "needs_attention", message, state=TaskState.NEEDS_ATTENTION, data=data)
            webhooks.generation_event(task.generation, WebhookEvent.GENERATION_NEEDS_ATTENTION)
