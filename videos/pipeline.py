"""The generation pipeline: submit, poll, archive — every step a conditional update.

A task moves ``pending → submitting → queued/processing → archiving →
completed`` (or ``failed``, ``cancelled``, ``needs_attention``). Workers claim a
task by writing a fresh ``lease_token`` with an UPDATE that repeats the whole
"due and free" condition (shared/PITFALLS.md, "Claiming work"), and finish it with
an UPDATE guarded by that token, so two workers never act on one task and a
crashed worker's lease simply expires. The database is the source of truth; a
queued django-q2 message is only a nudge, and ``sweep_once`` finds whatever is
due.
"""

from __future__ import annotations

import logging
import math
import os
import random
import re
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from videos import audit, billing, circuit, http, media
from videos.gateways import Gateway, GatewayError
from videos.gateways.base import (
    MAX_RETRY_AFTER_S,
    GatewayStatus,
    GenerationInput,
    PollResult,
    ReferenceForm,
    ReferenceImageData,
)
from videos.models import ACTIVE_STATES, Approval, Asset, Event, Generation, ReferenceImage, Task, TaskState
from videos.references import NoPublicAddress, signed_url
from videos.vault import VaultError, redact

log = logging.getLogger(__name__)


def lease_length() -> timedelta:
    """How long a worker's claim on a task lasts (``STUDIO_LEASE_SECONDS``); a worker that
    dies mid-step loses the task to the next sweep after this long."""
    return timedelta(seconds=settings.STUDIO_LEASE_SECONDS)


#: How long after a task reaches ``archiving`` the sweep re-queues its archive
#: if no worker has claimed it (the queued nudge was lost).
ARCHIVE_RESCUE = timedelta(seconds=60)
#: A pending task's safety net: the sweep submits it if the queued nudge was lost.
SUBMIT_RESCUE = timedelta(seconds=15)
MAX_SUBMIT_ATTEMPTS = 8
MAX_ARCHIVE_ATTEMPTS = 6
MAX_BACKOFF_S = 300.0

SWEEP_STATES = (
    TaskState.PENDING,
    TaskState.SUBMITTING,
    TaskState.QUEUED,
    TaskState.PROCESSING,
    TaskState.ARCHIVING,
)

_STATE_FOR_STATUS = {
    GatewayStatus.QUEUED: TaskState.QUEUED,
    GatewayStatus.RUNNING: TaskState.PROCESSING,
}


# --- events ---------------------------------------------------------------------------


EXTERNAL_ID_CHARS = Task._meta.get_field("external_id").max_length
STATUS_WORD_CHARS = Task._meta.get_field("status_word").max_length
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def clean_text(value: str) -> str:
    """``value`` fit for a text column on every database: each lone surrogate (a
    ``\\ud800`` escape in a gateway's JSON, which no database encoding can store) and
    each NUL (``\\u0000``, which PostgreSQL's text and jsonb refuse) becomes U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", value)


def scrub(value: Any, *, limit: int = 2000) -> Any:
    """A copy of a request or answer fit for the event log and a JSON column: secrets
    redacted, data URIs and long strings shortened, lone surrogates replaced (see
    ``clean_text``), NaN and infinite floats (which are not JSON) turned into None.
    Dicts, lists and scalars keep their shape."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(key, str):
                key = clean_text(key)
            if str(key).lower() in {"authorization", "api_key", "apikey", "key", "token", "secret"}:
                out[key] = "[redacted]"
            else:
                out[key] = scrub(item, limit=limit)
        return out
    if isinstance(value, list):
        return [scrub(item, limit=limit) for item in value[:50]]
    if isinstance(value, str):
        if value.startswith("data:") and ";base64," in value:
            head = clean_text(value.split(",", 1)[0][:limit])
            return f"{head},… ({len(value)} characters)"
        value = redact(clean_text(value))
        return value if len(value) <= limit else value[:limit] + "…"
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def record(generation_id: int, kind: str, message: str = "", *, state: str = "", data: Any = None) -> Event:
    """Append one line to a generation's timeline (``message`` cleaned, ``data`` scrubbed)."""
    return Event.objects.create(
        generation_id=generation_id,
        kind=kind,
        state=state,
        message=redact(clean_text(message)),
        data=scrub(data) if data is not None else None,
    )


# --- creating ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NewReference:
    """A reference image as the compose form hands it over: an upload already verified
    as an image (``data``, ``content_type``, ``width``/``height`` in pixels), or a
    pasted public ``url``."""

    content_type: str = ""
    data: bytes = b""
    width: int | None = None
    height: int | None = None
    url: str = ""


def create_generation(
    *,
    team,
    author,
    key,
    choices: GenerationInput,
    references: Iterable[NewReference] = (),
    membership=None,
    parent: Generation | None = None,
) -> Generation:
    """Save a request, its reference images and its task; hold its estimate; queue the
    submit on commit.

    The team row is locked first and the budgets checked before anything is
    written, so a refused request leaves nothing behind. A request estimated above
    the team's approval threshold (or of unknown price while a threshold is set)
    waits in ``awaiting_approval`` and is not sent until an admin approves it.
    Raises billing.BudgetExceeded. ``choices.references`` is ignored: references
    are stored from ``references``.
    """
    from accounts.models import Membership, Team

    gateway_cls = key.gateway
    references = list(references)
    cost = billing.estimate(key.dialect, choices.model, choices.resolution, choices.duration, len(references))
    with transaction.atomic():
        team = Team.objects.select_for_update().get(pk=team.pk)
        if membership is None:
            membership = Membership.objects.filter(team=team, user=author).first()
        if cost.known:
            billing.check_budgets(team, membership, cost.amount)
        threshold = team.approval_threshold_usd
        needs_approval = threshold is not None and (not cost.known or cost.amount > threshold)
        generation = Generation.objects.create(
            team=team,
            author=author,
            key=key,
            dialect=key.dialect,
            model_name=choices.model,
            key_label=key.label,
            prompt=choices.prompt,
            options={
                "duration": choices.duration,
                "aspect_ratio": choices.aspect_ratio,
                "resolution": choices.resolution,
                "audio": choices.audio,
            },
            estimate_words=cost.words[:300],
            approval=Approval.WAITING if needs_approval else Approval.NOT_NEEDED,
            parent=parent,
        )
        for position, new in enumerate(references):
            ref = ReferenceImage(
                generation=generation,
                position=position,
                content_type=new.content_type,
                width=new.width,
                height=new.height,
                source_url=new.url,
            )
            if new.data:
                ref.image.save("reference", ContentFile(new.data), save=False)
            ref.save()
        if cost.known:
            billing.place_hold(generation, cost.amount)
        task = Task.objects.create(
            generation=generation,
            state=TaskState.AWAITING_APPROVAL if needs_approval else TaskState.PENDING,
            next_poll_at=None if needs_approval else timezone.now() + SUBMIT_RESCUE,
        )
        record(
            generation.pk,
            "created",
            f"Requested {choices.model} through {key.label} ({gateway_cls.label}); estimate: {cost.words}",
            state=task.state,
            data=generation.options,
        )
        audit.record_action(
            team,
            author,
            "generation.submitted",
            audit.describe(generation),
            uuid=str(generation.uuid),
            estimate=cost.words,
        )
        if needs_approval:
            record(generation.pk, "approval", "Waiting for an owner or admin to approve it before it is sent.")
        else:
            transaction.on_commit(lambda: enqueue("videos.tasks.submit_task", task.pk))
    return generation


def cancel(generation: Generation, actor) -> bool:
    """Stop a running generation: it is not sent (or no longer followed) and its hold is
    released. Any worker holding its lease loses it, so nothing writes over the cancel.

    None of the documented dialects has a cancel endpoint, so a task already at the
    gateway may still run there; the timeline says so. False when it was not running.
    """
    now = timezone.now()
    task = generation.task
    sent = bool(task.external_id)
    message = f"Cancelled by {actor.get_username()}." + (
        " The gateway documents no way to cancel, so it may still finish the video there."
        if sent
        else " It was not sent."
    )
    with transaction.atomic():
        changed = Task.objects.filter(pk=task.pk, state__in=ACTIVE_STATES).update(
            state=TaskState.CANCELLED,
            lease_token="",
            leased_until=None,
            next_poll_at=None,
            finished_at=now,
            updated_at=now,
            last_error=message,
        )
        if changed != 1:
            return False
        Generation.objects.filter(pk=generation.pk, approval=Approval.WAITING).update(approval=Approval.REJECTED)
        billing.release(generation)
        record(generation.pk, "cancelled", message, state=TaskState.CANCELLED)
        audit.record_action(
            generation.team, actor, "generation.cancelled", audit.describe(generation), uuid=str(generation.uuid)
        )
    return True


def delete_generation(generation: Generation, actor) -> None:
    """Delete a generation with its archived video, poster and reference images.

    A running task is cancelled first (its hold released). Files are removed after the
    rows are gone, once the transaction has committed.
    """
    if generation.task.is_active:
        cancel(generation, actor)
    files = [ref.image for ref in generation.reference_images.all() if ref.image]
    asset = Asset.objects.filter(generation=generation).first()
    if asset is not None:
        files += [f for f in (asset.file, asset.poster) if f]
    names = [(f.storage, f.name) for f in files]
    with transaction.atomic():
        audit.record_action(
            generation.team, actor, "generation.deleted", audit.describe(generation), uuid=str(generation.uuid)
        )
        generation.delete()
        transaction.on_commit(lambda: [storage.delete(name) for storage, name in names])


def _decide(generation: Generation, approver, approval: str) -> bool:
    """Settle a waiting request as ``approval`` (a conditional update); False when it was
    not waiting (someone else decided first)."""
    return (
        Generation.objects.filter(pk=generation.pk, approval=Approval.WAITING).update(
            approval=approval, approved_by=approver
        )
        == 1
    )


def approve(generation: Generation, approver) -> bool:
    """Let a waiting request go to its gateway. False when it was not waiting."""
    with transaction.atomic():
        if not _decide(generation, approver, Approval.APPROVED):
            return False
        Task.objects.filter(generation=generation, state=TaskState.AWAITING_APPROVAL).update(
            state=TaskState.PENDING, next_poll_at=timezone.now() + SUBMIT_RESCUE, updated_at=timezone.now()
        )
        record(generation.pk, "approval", f"Approved by {approver.get_username()}.", state=TaskState.PENDING)
        task_id = generation.task.pk
        transaction.on_commit(lambda: enqueue("videos.tasks.submit_task", task_id))
    return True


def reject(generation: Generation, approver) -> bool:
    """Refuse a waiting request: it is never sent and its hold is released."""
    with transaction.atomic():
        if not _decide(generation, approver, Approval.REJECTED):
            return False
        now = timezone.now()
        Task.objects.filter(generation=generation, state=TaskState.AWAITING_APPROVAL).update(
            state=TaskState.CANCELLED,
            last_error=f"Rejected by {approver.get_username()}; it was not sent.",
            finished_at=now,
            updated_at=now,
        )
        billing.release(generation)
        record(
            generation.pk,
            "approval",
            f"Rejected by {approver.get_username()}; not sent, not charged.",
            state=TaskState.CANCELLED,
        )
    return True


def resubmit(generation: Generation, actor) -> bool:
    """Send a task that needs attention once more, at the member's request.

    The first send's outcome is unknown (``step_submit``, ``step_stale_submit``): the
    gateway may have created, and may bill, that task, so this may bill twice; the
    timeline says so. The hold stays open and covers the new attempt. The task goes
    back to ``pending`` from scratch (no gateway id, no lease, no attempts) and its
    submit is queued on commit. False when it was not waiting for attention.
    """
    now = timezone.now()
    message = f"Resubmitted by {actor.get_username()}: the gateway may bill twice if it had created the first one."
    with transaction.atomic():
        changed = Task.objects.filter(pk=generation.task.pk, state=TaskState.NEEDS_ATTENTION).update(
            state=TaskState.PENDING,
            external_id="",
            status_word="",
            progress=0,
            result_url="",
            attempts=0,
            last_error="",
            last_raw=None,
            lease_token="",
            leased_until=None,
            next_poll_at=now + SUBMIT_RESCUE,
            finished_at=None,
            updated_at=now,
        )
        if changed != 1:
            return False
        record(generation.pk, "resubmitted", message, state=TaskState.PENDING)
        audit.record_action(
            generation.team, actor, "generation.resubmitted", audit.describe(generation), uuid=str(generation.uuid)
        )
        task_id = generation.task.pk
        transaction.on_commit(lambda: enqueue("videos.tasks.submit_task", task_id))
    return True


def abandon(generation: Generation, actor) -> bool:
    """Give up on a task that needs attention: it fails, is not sent again, and its hold
    is released. If the gateway had created it, it may still bill it; the timeline says
    so. False when it was not waiting for attention."""
    now = timezone.now()
    message = f"Abandoned by {actor.get_username()}; if the gateway had created it, it may still bill it."
    with transaction.atomic():
        changed = Task.objects.filter(pk=generation.task.pk, state=TaskState.NEEDS_ATTENTION).update(
            state=TaskState.FAILED,
            last_error=message,
            lease_token="",
            leased_until=None,
            next_poll_at=None,
            finished_at=now,
            updated_at=now,
        )
        if changed != 1:
            return False
        billing.release(generation)
        record(generation.pk, "abandoned", message, state=TaskState.FAILED)
        audit.record_action(
            generation.team, actor, "generation.abandoned", audit.describe(generation), uuid=str(generation.uuid)
        )
    return True


def enqueue(func: str, *args) -> None:
    """Queue a django-q2 task by dotted path (a nudge; the sweep is the safety net)."""
    from django_q.tasks import async_task

    try:
        async_task(func, *args, q_options={"group": func.rsplit(".", 1)[-1]})
    except Exception:  # the broker is down: the sweep will find the task anyway
        log.exception("could not queue %s%r; the sweep will pick it up", func, args)


# --- claiming ---------------------------------------------------------------------------


def _free(now) -> Q:
    return Q(leased_until__isnull=True) | Q(leased_until__lt=now)


def _due(now) -> Q:
    return Q(state__in=SWEEP_STATES, next_poll_at__lte=now) & _free(now)


def claim(task_id: int, states: Iterable[str], *, lease: timedelta | None = None) -> str | None:
    """Claim one task in one of ``states`` whose lease is free; return the lease token or None."""
    now = timezone.now()
    token = uuid.uuid4().hex
    changed = Task.objects.filter(_free(now), pk=task_id, state__in=list(states)).update(
        lease_token=token, leased_until=now + (lease or lease_length()), updated_at=now
    )
    return token if changed == 1 else None


def claim_due(limit: int) -> tuple[str, list[Task]]:
    """Claim up to ``limit`` due tasks, oldest due first; return the lease token and the
    tasks (with their generation and key loaded).

    Any number of workers may call this at once, on any machine; none gets a task another
    holds. On PostgreSQL the candidates are picked with ``SELECT … FOR UPDATE SKIP
    LOCKED``, so concurrent sweeps take different rows instead of queueing behind each
    other's locks. Everywhere (SQLite, whose writers are serialised by ``BEGIN
    IMMEDIATE``, included) the claiming UPDATE repeats the whole due condition, so a row
    another worker claimed after our SELECT is skipped, never claimed twice.
    """
    now = timezone.now()
    token = uuid.uuid4().hex
    due = Task.objects.filter(_due(now)).order_by("next_poll_at")
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:limit])
        if not ids:
            return token, []
        Task.objects.filter(_due(now), pk__in=ids).update(
            lease_token=token, leased_until=now + lease_length(), updated_at=now
        )
    tasks = list(
        Task.objects.filter(pk__in=ids, lease_token=token)
        .select_related("generation", "generation__key")
        .order_by("next_poll_at")
    )
    return token, tasks


def finish(task: Task, token: str, *, state: str | None = None, **fields) -> bool:
    """Write ``fields`` (and ``state``) and release the lease, only if we still hold it.
    Text fields are cleaned (``clean_text``): they may carry a gateway's words."""
    now = timezone.now()
    fields = {name: clean_text(value) if isinstance(value, str) else value for name, value in fields.items()}
    updates = {**fields, "leased_until": None, "lease_token": "", "updated_at": now}
    if state is not None:
        updates["state"] = state
        if state in (TaskState.COMPLETED, TaskState.FAILED, TaskState.CANCELLED, TaskState.NEEDS_ATTENTION):
            updates["finished_at"] = now
            updates["next_poll_at"] = None
    changed = Task.objects.filter(pk=task.pk, lease_token=token).update(**updates)
    if changed != 1:
        log.warning("task %s: lease %s lost before writing %s", task.pk, token[:8], state)
        return False
    old_state = task.state
    for name, value in updates.items():
        setattr(task, name, value)
    if state is not None and state != old_state:
        log.info("task %s: %s → %s", task.pk, old_state, state)
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


# --- the steps --------------------------------------------------------------------------


class StepError(Exception):
    """A problem on our side that ends the task with ``message`` (a deleted key, say)."""


def gateway_for(generation: Generation) -> Gateway:
    """The adapter for a generation's key. Raises StepError when the key is gone or unreadable."""
    key = generation.key
    if key is None:
        raise StepError("The gateway key used for this generation was deleted.")
    try:
        secret = key.reveal()
    except VaultError:
        raise StepError("The gateway key cannot be decrypted with the server's encryption keys; replace it.") from None
    return key.gateway(key.base_url, secret)


def generation_input(generation: Generation) -> GenerationInput:
    """Rebuild the member's choices, reference images included, from the stored request.

    Uploads are read back; for a model that fetches references by URL, an upload
    gets a fresh signed URL. Raises StepError when that needs STUDIO_PUBLIC_URL.
    """
    from videos.gateways import get_gateway_class

    try:
        spec = get_gateway_class(generation.dialect).spec(generation.model_name)
    except KeyError:
        raise StepError(f"The studio no longer knows the model {generation.model_name!r}.") from None
    references = []
    for ref in generation.reference_images.all():
        data, url = b"", ref.source_url
        if ref.image:
            with ref.image.open("rb") as fh:
                data = fh.read()
            if spec.reference_form == ReferenceForm.URL:
                try:
                    url = signed_url(ref)
                except NoPublicAddress as exc:
                    raise StepError(str(exc)) from None
        references.append(ReferenceImageData(content_type=ref.content_type, data=data, url=url))
    options = generation.options
    return GenerationInput(
        model=generation.model_name,
        prompt=generation.prompt,
        duration=options["duration"],
        aspect_ratio=options.get("aspect_ratio"),
        resolution=options.get("resolution"),
        audio=options.get("audio"),
        references=references,
    )


def fail(task: Task, token: str, message: str, *, data: Any = None) -> bool:
    """End the task as failed with ``message`` shown to the member; release its hold."""
    message = clean_text(message)
    with transaction.atomic():
        if finish(task, token, state=TaskState.FAILED, last_error=message[:2000]):
            record(task.generation_id, "failed", message, state=TaskState.FAILED, data=data)
            billing.release(task.generation)
            generation = task.generation
            audit.notify(
                generation.author,
                generation.team,
                f"Your video {audit.describe(generation)} failed: {message[:150]}",
                generation=generation,
            )
            return True
    return False


def step_submit(task: Task, token: str) -> None:
    """Send a pending task to its gateway, once.

    Connection failures (nothing reached the gateway) go back to pending with
    backoff; an outcome we cannot know (timeout after sending, 5xx, reset) goes to
    ``needs_attention`` and is never resent automatically; a 4xx fails the task.
    """
    now = timezone.now()
    # Record the attempt before sending: a crash from here on is "maybe sent".
    if (
        Task.objects.filter(pk=task.pk, lease_token=token, state=TaskState.PENDING).update(
            state=TaskState.SUBMITTING, submitted_at=now, updated_at=now
        )
        != 1
    ):
        return
    task.state = TaskState.SUBMITTING
    generation = task.generation
    try:
        gateway = gateway_for(generation)
        choices = generation_input(generation)
        problems = gateway.validate_choices(choices)
        if problems:
            raise StepError(" ".join(problems.values()))
    except StepError as exc:
        fail(task, token, str(exc))
        return
    try:
        submission = gateway.submit(choices)
        if len(submission.external_id) > EXTERNAL_ID_CHARS:
            # Accepted, but under an id no gateway really uses and no column holds: it
            # cannot be followed, and sending again could pay twice.
            raise GatewayError(
                f"the task id in its answer is {len(submission.external_id)} characters long",
                permanent=False,
                maybe_created=True,
                raw=submission.raw,
            )
    except GatewayError as exc:
        _submit_failed(task, token, gateway, exc)
        return
    if submission.status == GatewayStatus.FAILED:
        fail(task, token, "The gateway refused the task.", data=submission.raw)
        return
    state = _STATE_FOR_STATUS.get(submission.status, TaskState.PROCESSING)
    if finish(
        task,
        token,
        state=state,
        external_id=submission.external_id,
        status_word=clean_text(submission.status_word)[:STATUS_WORD_CHARS],
        progress=submission.progress,
        attempts=0,
        last_error="",
        last_raw=scrub(submission.raw),
        next_poll_at=timezone.now() + timedelta(seconds=gateway.poll_interval(0)),
    ):
        record(
            generation.pk,
            "submitted",
            f"The gateway accepted the task as {submission.external_id} ({submission.status_word or 'no status'}).",
            state=state,
            data=submission.raw,
        )


def _submit_failed(task: Task, token: str, gateway: Gateway, exc: GatewayError) -> None:
    if exc.permanent:
        fail(task, token, exc.message, data=exc.raw)
        return
    if exc.maybe_created:
        message = (
            f"The gateway may have created this task but its answer was lost ({exc.message}). "
            "It was not sent again, so you are not charged twice: resubmit it or abandon it."
        )
        if finish(task, token, state=TaskState.NEEDS_ATTENTION, last_error=message):
            record(task.generation_id, "needs_attention", message, state=TaskState.NEEDS_ATTENTION, data=exc.raw)
        return
    attempts = task.attempts + 1
    if attempts >= MAX_SUBMIT_ATTEMPTS:
        fail(task, token, f"The gateway could not be reached after {attempts} tries: {exc.message}")
        return
    delay = backoff(attempts, 5.0, exc.retry_after)
    if finish(
        task,
        token,
        state=TaskState.PENDING,
        attempts=attempts,
        last_error=exc.message,
        next_poll_at=timezone.now() + timedelta(seconds=delay),
    ):
        record(
            task.generation_id,
            "retry",
            f"Not sent: {exc.message}. Trying again in {delay:.0f} s.",
            state=TaskState.PENDING,
        )


def step_poll(task: Task, token: str) -> None:
    """Ask the gateway how a task is doing and act on the answer (one task, inline)."""
    gateway = prepare_poll(task, token)
    if gateway is not None:
        apply_poll(task, token, gateway, fetch_poll(gateway, task))


def prepare_poll(task: Task, token: str) -> Gateway | None:
    """The adapter to poll ``task`` with, or None when the task was ended instead
    (older than its gateway's limit, or its key is gone)."""
    try:
        gateway = gateway_for(task.generation)
    except StepError as exc:
        fail(task, token, str(exc))
        return None
    limit = gateway.max_task_age()
    if timezone.now() - (task.submitted_at or task.generation.created_at) > limit:
        hours = limit.total_seconds() / 3600
        fail(task, token, f"The gateway did not finish it within {hours:g} hours, its time limit; it was not charged.")
        return None
    return gateway


def fetch_poll(gateway: Gateway, task: Task) -> PollResult | Exception:
    """The gateway's answer for ``task``, or the exception it raised. Touches no database,
    so the sweep runs many of these at once in threads."""
    try:
        return gateway.poll(task.external_id)
    except Exception as exc:  # handed back to apply_poll, in the sweep's own thread
        return exc


def apply_poll(task: Task, token: str, gateway: Gateway, outcome: PollResult | Exception) -> None:
    """Act on one poll's outcome.

    Transient errors (timeouts, 5xx, 429, garbage) are retried with backoff,
    honouring ``Retry-After``; they never fail the task. A permanent error (4xx)
    fails it with the gateway's message. Success moves it to ``archiving`` and
    queues the archive.
    """
    if not isinstance(outcome, (PollResult, GatewayError)):
        raise outcome
    now = timezone.now()
    age_s = (now - (task.submitted_at or task.generation.created_at)).total_seconds()
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
    if finish(
        task,
        token,
        attempts=attempts,
        polls=polls,
        last_error=exc.message,
        next_poll_at=now + timedelta(seconds=delay),
    ):
        record(
            task.generation_id, "retry", f"Polling failed: {exc.message}. Trying again in {delay:.0f} s.", data=exc.raw
        )


def apply_poll_result(
    task: Task, token: str, gateway: Gateway, result: PollResult, age_s: float, *, polls: int
) -> None:
    """Move the task according to one status answer (``polls``: the new poll count)."""
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
        if finish(
            task,
            token,
            state=TaskState.ARCHIVING,
            progress=100,
            result_url=result.video_url[:2000],
            delivered_seconds=round(result.duration_s) if result.duration_s else None,
            next_poll_at=timezone.now() + ARCHIVE_RESCUE,
            **common,
        ):
            record(
                task.generation_id,
                "completed",
                "The gateway finished the video; saving it.",
                state=TaskState.ARCHIVING,
                data=result.raw,
            )
            transaction.on_commit(lambda: enqueue("videos.tasks.archive_task", task.pk))
        return
    if result.status == GatewayStatus.FAILED:
        fail(task, token, result.error or "The gateway reports the task failed.", data=result.raw)
        return
    if result.status == GatewayStatus.CANCELLED:
        if finish(
            task,
            token,
            state=TaskState.CANCELLED,
            last_error=result.error,
            **{k: v for k, v in common.items() if k != "last_error"},
        ):
            record(
                task.generation_id,
                "cancelled",
                result.error or "The gateway cancelled the task.",
                state=TaskState.CANCELLED,
                data=result.raw,
            )
            billing.release(task.generation)
        return
    state = _STATE_FOR_STATUS[result.status]
    changed = state != task.state or word[:40] != previous_word
    if (
        finish(
            task,
            token,
            state=state,
            progress=max(task.progress, result.progress),
            next_poll_at=timezone.now() + timedelta(seconds=gateway.poll_interval(age_s)),
            **common,
        )
        and changed
    ):
        record(
            task.generation_id,
            "status",
            f"The gateway reports {word or 'no status'}.",
            state=state,
            data=result.raw,
        )


class LeaseLost(Exception):
    """Another worker has taken over the task (our lease expired)."""


def lease_keeper(task: Task, token: str):
    """A download callback that renews the task's lease about every third of its length,
    so a long download keeps its claim while a dead worker's claim still expires fast.
    Raises LeaseLost when the lease was taken over (the download then stops)."""
    every = lease_length().total_seconds() / 3
    renewed = time.monotonic()

    def keep(_bytes_so_far: int) -> None:
        nonlocal renewed
        if time.monotonic() - renewed < every:
            return
        now = timezone.now()
        if Task.objects.filter(pk=task.pk, lease_token=token).update(leased_until=now + lease_length()) != 1:
            raise LeaseLost(task.pk)
        renewed = time.monotonic()

    return keep


def step_archive(task: Task, token: str) -> None:
    """Download the finished video, verify and probe it, store it with a poster.

    The file goes to storage first; the Asset row and the ``completed`` state are
    written together only if we still hold the lease, so an interrupted archive is
    redone from scratch and never leaves a half file as the asset.
    """
    generation = task.generation
    try:
        gateway = gateway_for(generation)
    except StepError as exc:
        fail(task, token, str(exc))
        return
    try:
        url, headers = gateway.result_download(
            task.external_id,
            PollResult(GatewayStatus.SUCCEEDED, task.status_word, 100, None, video_url=task.result_url),
        )
        download = http.download_to_tempfile(url, headers=headers, on_chunk=lease_keeper(task, token))
    except LeaseLost:
        log.warning("task %s: lease lost during the download; another worker has it", task.pk)
        return
    except http.DownloadError as exc:
        _archive_failed(task, token, exc.message, permanent=exc.permanent)
        return
    except ValueError:  # a URL the adapter could not read (an unclosed IPv6 bracket, say)
        _archive_failed(task, token, "the video URL is not a valid URL", permanent=True)
        return
    try:
        try:
            info = media.probe_video(download.path)
        except media.InvalidVideo as exc:
            # A gateway that answers an error page with 200, or a download cut short, is
            # tried again; only a file that stays unplayable fails the task.
            _archive_failed(task, token, f"the gateway's file is not a playable video ({exc})", permanent=False)
            return
        try:
            poster = media.extract_poster(download.path)
        except media.InvalidVideo:
            poster = None
        asset = Asset(
            generation=generation,
            duration_s=info.duration_s,
            width=info.width,
            height=info.height,
            bytes=download.bytes,
            sha256=download.sha256,
            source_url=url[:2000],
        )
        with open(download.path, "rb") as fh:
            asset.file.save("video.mp4", File(fh), save=False)
        if poster:
            asset.poster.save("poster.jpg", ContentFile(poster), save=False)
        with transaction.atomic():
            if finish(task, token, state=TaskState.COMPLETED, attempts=0, last_error=""):
                Asset.objects.filter(generation=generation).delete()
                asset.save()
                billing.charge(generation, task.delivered_seconds)
                audit.notify(
                    generation.author,
                    generation.team,
                    f"Your video {audit.describe(generation)} is ready.",
                    generation=generation,
                )
                record(
                    generation.pk,
                    "archived",
                    f"Saved {info.width}×{info.height}, {info.duration_s:.1f} s, {download.bytes} bytes.",
                    state=TaskState.COMPLETED,
                    data={"sha256": download.sha256, "bytes": download.bytes},
                )
                return
        # Lost the lease: another worker owns this task now; drop our copy.
        asset.file.delete(save=False)
        if poster:
            asset.poster.delete(save=False)
    finally:
        os.unlink(download.path)


def _archive_failed(task: Task, token: str, message: str, *, permanent: bool) -> None:
    attempts = task.attempts + 1
    if permanent or attempts >= MAX_ARCHIVE_ATTEMPTS:
        fail(task, token, f"The finished video could not be saved: {message}.")
        return
    delay = backoff(attempts, 10.0)
    if finish(
        task, token, attempts=attempts, last_error=message, next_poll_at=timezone.now() + timedelta(seconds=delay)
    ):
        record(task.generation_id, "retry", f"Saving the video failed: {message}. Trying again in {delay:.0f} s.")


def step_stale_submit(task: Task, token: str) -> None:
    """A worker died while sending: we cannot know whether the gateway has the task."""
    message = (
        "The worker stopped while sending this task, so the gateway may or may not have it. "
        "It was not sent again: resubmit it or abandon it."
    )
    if finish(task, token, state=TaskState.NEEDS_ATTENTION, last_error=message):
        record(task.generation_id, "needs_attention", message, state=TaskState.NEEDS_ATTENTION)


# --- entry points -----------------------------------------------------------------------


def run_step(task: Task, token: str) -> None:
    """Run the step for the task's state; never raises (see ``guarded``)."""
    steps = {
        TaskState.PENDING: step_submit,
        TaskState.SUBMITTING: step_stale_submit,
        TaskState.QUEUED: step_poll,
        TaskState.PROCESSING: step_poll,
        TaskState.ARCHIVING: step_archive,
    }
    guarded(steps.get(task.state, lambda task, token: finish(task, token)), task, token)


def guarded(step, task: Task, token: str, *args) -> None:
    """Run ``step(task, token, *args)``; if it raises (a bug, a broken row), log it and
    push the task's next attempt a minute forward, so one task can never stop a sweep."""
    try:
        step(task, token, *args)
    except Exception:
        log.exception("task %s: step %s raised; trying again later", task.pk, getattr(step, "__name__", step))
        finish(task, token, next_poll_at=timezone.now() + timedelta(seconds=60))


def process_task(task_id: int, states: Iterable[str], *, lease: timedelta | None = None) -> bool:
    """Claim one task in ``states`` and run its step. Returns False when it was not ours."""
    token = claim(task_id, states, lease=lease)
    if token is None:
        return False
    task = Task.objects.select_related("generation", "generation__key").get(pk=task_id)
    run_step(task, token)
    return True


def sweep_once(limit: int | None = None) -> int:
    """Claim and advance every due task (up to ``limit``); returns how many were handled.

    Status queries go out concurrently (``STUDIO_POLL_CONCURRENCY`` threads sharing
    the one HTTP client); their answers are applied here, in this thread. Archives
    are queued for a worker of their own, so one large download never holds up
    polling.
    """
    token, tasks = claim_due(limit or settings.STUDIO_SWEEP_BATCH)
    to_poll: list[tuple[Task, Gateway]] = []
    for task in tasks:
        if task.state == TaskState.ARCHIVING:
            finish(task, token, next_poll_at=timezone.now() + ARCHIVE_RESCUE)
            enqueue("videos.tasks.archive_task", task.pk)
        elif task.state in (TaskState.QUEUED, TaskState.PROCESSING):
            gateway = prepare_poll(task, token)
            if gateway is not None:
                to_poll.append((task, gateway))
        else:
            run_step(task, token)
    # A gateway whose circuit is open is not polled: its tasks wait until it reopens.
    paused = circuit.open_hosts({circuit.host_of(gateway.base_url) for _, gateway in to_poll})
    if paused:
        waiting = [(task, gw) for task, gw in to_poll if circuit.host_of(gw.base_url) in paused]
        for task, gateway in waiting:
            finish(task, token, next_poll_at=paused[circuit.host_of(gateway.base_url)])
        to_poll = [(task, gw) for task, gw in to_poll if circuit.host_of(gw.base_url) not in paused]
    if to_poll:
        fetch = lambda pair: fetch_poll(pair[1], pair[0])  # noqa: E731
        parallel = len(to_poll) > 1 and settings.STUDIO_POLL_CONCURRENCY > 1
        outcomes = _poll_pool().map(fetch, to_poll) if parallel else map(fetch, to_poll)
        tally: dict[str, list[int]] = {}
        for (task, gateway), outcome in zip(to_poll, outcomes, strict=True):
            guarded(apply_poll, task, token, gateway, outcome)
            transient = isinstance(outcome, Exception) and not getattr(outcome, "permanent", False)
            counts = tally.setdefault(circuit.host_of(gateway.base_url), [0, 0])
            counts[1 if transient else 0] += 1
        for host, (successes, failures) in tally.items():
            circuit.record(host, successes=successes, failures=failures)
    return len(tasks)


_pool: ThreadPoolExecutor | None = None


def _poll_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=settings.STUDIO_POLL_CONCURRENCY, thread_name_prefix="poll")
    return _pool


def seconds_until_next_due(default: float) -> float:
    """Seconds until the earliest due task (0 if one is due now), at most ``default``."""
    nxt = (
        Task.objects.filter(state__in=SWEEP_STATES, next_poll_at__isnull=False)
        .order_by("next_poll_at")
        .values_list("next_poll_at", flat=True)
        .first()
    )
    if nxt is None:
        return default
    return max(0.0, min(default, (nxt - timezone.now()).total_seconds()))
