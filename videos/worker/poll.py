"""The poll step: ask the gateway how a task is doing, and act on the answer.

Fetching an answer touches no database (``fetch_poll``), so the sweep sends many
status queries at once in threads and applies each answer (``apply_poll``) in its
own thread. The gateway's own cadence (``Gateway.poll_interval``) decides when a
task is asked again; docs/gateways.md gives each dialect's.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from videos import billing
from videos.gateways import Gateway, GatewayError
from videos.gateways.base import GatewayStatus, PollResult
from videos.models import Task, TaskState
from videos.timeline import clean_text, record, scrub
from videos.worker.adapters import STATE_FOR_STATUS, StepError, adapter_for
from videos.worker.leases import lease_length, release, reschedule
from videos.worker.outcomes import backoff, fail
from videos.worker.queue import ARCHIVE, enqueue_on_commit
from videos.worker.submit import STATUS_WORD_CHARS


def step_poll(task: Task, token: str) -> None:
    """Ask the gateway how a task is doing and act on the answer (one task, inline)."""
    gateway = prepare_poll(task, token)
    if gateway is not None:
        apply_poll(task, token, gateway, fetch_poll(gateway, task))


def prepare_poll(task: Task, token: str) -> Gateway | None:
    """The adapter to poll ``task`` with, or None when the task was ended instead
    (older than its gateway's limit, or its key is gone). Its messages are written in the
    request's language (``Generation.speaking``): the sweep calls this outside ``run_step``."""
    with task.generation.speaking():
        return _prepare_poll(task, token)


def _prepare_poll(task: Task, token: str) -> Gateway | None:
    try:
        gateway = adapter_for(task.generation)
    except StepError as exc:
        fail(task, token, str(exc))
        return None
    limit = gateway.max_task_age()
    if timezone.now() - (task.submitted_at or task.generation.created_at) > limit:
        hours = limit.total_seconds() / 3600
        fail(
            task,
            token,
            _("The gateway did not finish it within %(hours)s hours, its time limit; it was not charged.")
            % {"hours": f"{hours:g}"},
        )
        return None
    return gateway


def fetch_poll(gateway: Gateway, task: Task) -> PollResult | Exception:
    """The gateway's answer for ``task``, or the exception it raised. Touches no database,
    so the sweep runs many of these at once in threads."""
    try:
        with task.generation.speaking():
            return gateway.poll(task.external_id)
    except Exception as exc:  # handed back to apply_poll, in the sweep's own thread
        return exc


def apply_poll(task: Task, token: str, gateway: Gateway, outcome: PollResult | Exception) -> None:
    """Act on one poll's outcome.

    Transient errors (timeouts, 5xx, 429, garbage) are retried with backoff,
    honouring ``Retry-After``; they never fail the task. A permanent error (4xx)
    fails it with the gateway's message. Success moves it to ``archiving`` and
    queues the archive. Any other exception (a bug) is raised again.
    """
    if not isinstance(outcome, (PollResult, GatewayError)):
        raise outcome
    age_s = (timezone.now() - (task.submitted_at or task.generation.created_at)).total_seconds()
    polls = task.polls + 1
    if isinstance(outcome, PollResult):
        apply_poll_result(task, token, gateway, outcome, age_s, polls=polls)
        return
    exc = outcome
    if exc.permanent:
        fail(task, token, exc.message, data=exc.raw)
        return
    attempts = task.attempts + 1
    delay = backoff(attempts, gateway.poll_interval(age_s), exc.retry_after)
    if reschedule(task, token, delay, attempts=attempts, polls=polls, last_error=exc.message):
        record(
            task.generation_id,
            "retry",
            _("Polling failed: %(why)s. Trying again in %(delay).0f s.") % {"why": exc.message, "delay": delay},
            data=exc.raw,
        )


def apply_poll_result(
    task: Task, token: str, gateway: Gateway, result: PollResult, age_s: float, *, polls: int
) -> None:
    """Move the task according to one status answer (``age_s``: seconds since it was
    sent; ``polls``: the new poll count). A finished video's reported duration
    (``PollResult.duration_s``, where the gateway gives one) is kept for the charge."""
    previous_word = task.status_word
    word = clean_text(result.status_word)
    common = {
        "status_word": word[:STATUS_WORD_CHARS],
        "last_raw": scrub(result.raw),
        "attempts": 0,
        "last_error": "",
        "polls": polls,
    }
    if result.status == GatewayStatus.SUCCEEDED:
        if reschedule(
            task,
            token,
            # Due again (the archive re-queued) if no worker holds it a lease from now.
            lease_length().total_seconds(),
            state=TaskState.ARCHIVING,
            progress=100,
            result_url=result.video_url[:2000],
            delivered_seconds=round(result.duration_s) if result.duration_s else None,
            **common,
        ):
            record(
                task.generation_id,
                "completed",
                _("The gateway finished the video; saving it."),
                state=TaskState.ARCHIVING,
                data=result.raw,
            )
            enqueue_on_commit(ARCHIVE, task.pk)
        return
    if result.status == GatewayStatus.FAILED:
        fail(task, token, result.error or _("The gateway reports the task failed."), data=result.raw)
        return
    if result.status == GatewayStatus.CANCELLED:
        _cancelled_there(task, token, result, {**common, "last_error": result.error})
        return
    state = STATE_FOR_STATUS[result.status]
    changed = state != task.state or word[:STATUS_WORD_CHARS] != previous_word
    progress = max(task.progress, result.progress)
    if reschedule(task, token, gateway.poll_interval(age_s), state=state, progress=progress, **common) and changed:
        record(
            task.generation_id,
            "status",
            _("The gateway reports %(word)s.") % {"word": word or _("no status")},
            state=state,
            data=result.raw,
        )


def _cancelled_there(task: Task, token: str, result: PollResult, fields: dict) -> None:
    """The gateway reports the task cancelled: end it so, with its hold released."""
    if release(task, token, state=TaskState.CANCELLED, **fields):
        message = result.error or _("The gateway cancelled the task.")
        record(task.generation_id, "cancelled", message, state=TaskState.CANCELLED, data=result.raw)
        billing.release(task.generation)
