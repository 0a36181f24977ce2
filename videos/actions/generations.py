"""Actions on a generation: create it, retry it, cancel it, resubmit or abandon it, delete it.

Each holds its estimate, checks budgets and queues after commit as ``videos.actions`` says."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from videos import audit, billing, webhooks
from videos.gateways.base import GenerationInput
from videos.models import (
    Approval,
    Asset,
    GatewayKey,
    Generation,
    NewReference,
    ReferenceImage,
    Task,
    TaskState,
    WebhookEvent,
    fresh_attempt_fields,
)
from videos.timeline import record
from videos.worker.queue import SUBMIT, enqueue_on_commit

#: A pending task's safety net: the sweep submits it if the queued nudge was lost.
SUBMIT_RESCUE = timedelta(seconds=15)


def _lock_team(team):
    """The team row, locked until the transaction ends (``SELECT … FOR UPDATE`` on
    PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises writers), so racing
    requests see each other's holds."""
    from accounts.models import Team

    return Team.objects.select_for_update().get(pk=team.pk)


def _price_check(team, membership, cost: billing.Estimate, takes: int = 1):
    """Check budgets for ``cost`` (the team locked) and say why the request must wait for
    an owner's or admin's approval: the reason (a function of no arguments that words it
    in the active language, so each approver reads it in theirs), "" when it need not.

    It waits when its estimate is over the team's approval threshold, or when its price is
    unknown while a threshold, the team's budget or the member's cap is set (a budget
    cannot count what it cannot price) and the team holds such requests (its
    ``unpriced_policy``). Raises billing.BudgetExceeded over a budget or cap, or for an
    unpriced request the team refuses. ``takes`` > 1: ``cost`` is the total of that many
    takes (``billing.takes_total``), checked and compared as one.
    """
    from accounts.models import UnpricedPolicy

    if not cost.billed:
        return ""  # a sandbox rehearsal spends nothing: no budget to check, nothing to approve
    threshold = team.approval_threshold_usd
    if cost.known:
        billing.check_budgets(team, membership, cost.amount, takes)
        if threshold is not None and cost.amount > threshold:
            amount = cost.amount
            return lambda: (
                _("its estimate, %(estimate)s, is over the team's approval threshold of %(threshold)s.")
                % {
                    "estimate": billing.usd(amount),
                    "threshold": billing.usd(threshold),
                }
            )
        return ""
    limits = [name for name, limit in billing.limits(team, membership) if limit is not None]
    if limits and team.unpriced_policy == UnpricedPolicy.REFUSE:
        raise billing.BudgetExceeded(
            _(
                "This request has no price in the price book, so %(limits)s cannot count it, and the "
                "team refuses such requests. Ask an owner or admin to price this gateway, or to hold such "
                "requests for approval instead."
            )
            % {"limits": billing.join_limits(limits)}
        )
    if limits:
        return lambda: (
            _("its price is unknown, so %(limits)s cannot count it.") % {"limits": billing.join_limits(limits)}
        )
    if threshold is not None:
        return lambda: _("its price is unknown and the team has an approval threshold.")
    return ""


def _words(why_wait) -> str:
    """``why_wait`` (``_price_check``'s reason) in the active language."""
    return str(why_wait()) if callable(why_wait) else str(why_wait)


def tell_approvers(generation: Generation, why_wait) -> int:
    """Notify each owner and admin of the generation's team that it waits for their
    approval and why (its author too when they are one: an owner's own request over the
    threshold waits like any other, so that each large spend is approved on purpose), each
    in their own language. ``why_wait``: a reason, or a function of no arguments that
    words it in the active language. Returns how many were told."""
    from accounts.models import Membership, Role

    approvers = Membership.objects.filter(team_id=generation.team_id, role__in=(Role.OWNER, Role.ADMIN))
    told = 0
    for membership in approvers.select_related("user"):
        own = membership.user_id == generation.author_id
        with audit.speaking_to(membership.user):
            author = generation.author.get_username() if generation.author else _("a deleted user")
            params = {"video": audit.describe(generation), "why": _words(why_wait), "author": author}
            message = (
                _("Your request %(video)s waits for approval, yours included: %(why)s Approve it on Approvals.")
                % params
                if own
                else _("%(author)s asks for approval of %(video)s: %(why)s") % params
            )
        audit.notify(membership.user, generation.team, message, generation=generation)
        told += 1
    return told


def _send_or_wait(generation: Generation, task: Task, why_wait: str) -> None:
    """After a request is saved: queue its submit on commit, or say why it waits for approval
    and tell the team's owners and admins (``tell_approvers``)."""
    if why_wait:
        record(
            generation.pk,
            "approval",
            _("Waiting for an owner or admin to approve it before it is sent: %(why)s") % {"why": _words(why_wait)},
        )
        tell_approvers(generation, why_wait)
    else:
        enqueue_on_commit(SUBMIT, task.pk)


def _request_columns(team, author, key: GatewayKey, choices: GenerationInput, parent) -> dict:
    """A new request's columns: who, through which key, and the dialect-neutral options."""
    options = {
        "duration": choices.duration,
        "aspect_ratio": choices.aspect_ratio,
        "resolution": choices.resolution,
        "audio": choices.audio,
    }
    return {
        "team": team,
        "author": author,
        "key": key,
        "dialect": key.dialect,
        "model_name": choices.model,
        "key_label": key.label,
        "prompt": choices.prompt,
        "options": options,
        "parent": parent,
        "language": translation.get_language() or settings.LANGUAGE_CODE,
    }


#: What a member who may not change a generation (``Generation.changeable_by``) is told, by
#: what they tried, in the pages and the API alike (one whole sentence each, so each
#: translates as a sentence).
CHANGE_REFUSALS = {
    "retry": gettext_lazy("Only its author or an admin can retry a generation."),
    "cancel": gettext_lazy("Only its author or an admin can cancel a generation."),
    "delete": gettext_lazy("Only its author or an admin can delete a generation."),
    "resubmit": gettext_lazy("Only its author or an admin can resubmit a generation."),
    "abandon": gettext_lazy("Only its author or an admin can abandon a generation."),
    "choose a take of": gettext_lazy("Only its author or an admin can choose a take of a generation."),
    "archive the takes of": gettext_lazy("Only its author or an admin can archive the takes of a generation."),
}


class SubmissionTokenReused(Exception):
    """A request whose ``submission_scope`` (an API Idempotency-Key) an earlier request of
    the same member used with another body (``earlier``). Nothing was saved."""

    def __init__(self, earlier: Generation):
        super().__init__(f"the key was used for {earlier.uuid} with another body")
        self.earlier = earlier


class DuplicateRequest(Exception):
    """The team made an identical request (same prompt, options and reference images) in
    the last ``DUPLICATE_WINDOW``; ``earlier`` is that generation. Nothing was saved."""

    def __init__(self, earlier: Generation):
        super().__init__(f"The team made this request already: {earlier.uuid}")
        self.earlier = earlier


#: How far back an identical request counts as a duplicate.
DUPLICATE_WINDOW = timedelta(minutes=30)

#: The most takes one submission may make.
MAX_TAKES = 4


def request_fingerprint(choices: GenerationInput, references: Iterable = ()) -> str:
    """The sha256 (64 hex characters) of a request normalized: its model, prompt (spaces
    trimmed), options and reference images (the sha256 of each upload's bytes, or a pasted
    URL), in order. ``references`` are ``NewReference``s or ``ReferenceImageData``s (their
    ``data`` and ``url``); the same request through another key has the same fingerprint."""
    refs = [hashlib.sha256(ref.data).hexdigest() if ref.data else ref.url for ref in references]
    normalized = {
        "model": choices.model,
        "prompt": " ".join(choices.prompt.split()),
        "duration": choices.duration,
        "aspect_ratio": choices.aspect_ratio,
        "resolution": choices.resolution,
        "audio": choices.audio,
        "references": refs,
    }
    return hashlib.sha256(json.dumps(normalized, sort_keys=True).encode()).hexdigest()


def recent_duplicate(team, fingerprint: str, now=None) -> Generation | None:
    """The team's newest generation with this request fingerprint made in the last
    ``DUPLICATE_WINDOW`` (one query on the (team, fingerprint, created_at) index), or None."""
    now = now or timezone.now()
    return (
        Generation.objects.filter(team=team, fingerprint=fingerprint, created_at__gte=now - DUPLICATE_WINDOW)
        .order_by("-created_at")
        .first()
    )


def create_generation(*, takes: int = 1, **kwargs) -> Generation:
    """Save one request (``create_takes`` with its arguments) and return its generation,
    or with ``takes`` > 1 the first of its takes. Raises as ``create_takes`` does."""
    return create_takes(takes=takes, **kwargs)[0]


def create_takes(
    *,
    team,
    author,
    key: GatewayKey,
    choices: GenerationInput,
    references: Iterable[NewReference] = (),
    membership=None,
    parent: Generation | None = None,
    submission_token: str = "",
    submission_scope: str = "",
    frame_of: Generation | None = None,
    frame_time_s: float | None = None,
    takes: int = 1,
    allow_duplicate: bool = True,
) -> list[Generation]:
    """Save ``takes`` (1–4) takes of one request, each a generation with its reference
    images and task, grouped by one ``take_group`` id when more than one; hold each one's
    estimate; queue their submits on commit. ``frame_of``/``frame_time_s`` (seconds)
    record that its reference image is that generation's frame (its lineage).

    The team row is locked first and the budgets checked for the TOTAL before anything is
    written, so a refused batch leaves nothing behind (no partial batch). A batch whose
    total is above the team's approval threshold (or of unknown price while a threshold
    is set) waits in ``awaiting_approval``, each take, and is not sent until an admin
    approves it; so does one of unknown price while a budget or cap is set, unless the
    team refuses those (see ``_price_check``). Raises billing.BudgetExceeded, ValueError
    for a count outside 1–4, and DuplicateRequest when ``allow_duplicate`` is False and
    the team made an identical request in the last 30 minutes. ``choices.references`` is
    ignored: references are stored from ``references``.

    ``submission_token`` is the compose form's one-time token (32 hex characters): a
    second post with the same token (a double click, a retried request) returns the
    generations the first one made, each with ``repeated = True``, and creates and holds
    nothing. ``submission_scope`` (the API's Idempotency-Key, hashed: a prefix of the
    token) makes the token one of a family: an earlier request of the member's whose token
    starts with it but differs (the same key with another body) raises
    ``SubmissionTokenReused``, checked under the team lock, so two such requests racing
    cannot both be made.
    """
    if not isinstance(takes, int) or not 1 <= takes <= MAX_TAKES:
        raise ValueError(f"takes must be from 1 to {MAX_TAKES}, not {takes!r}")
    return _create_batch(
        team=team,
        author=author,
        legs=[(key, choices)] * takes,
        references=list(references),
        membership=membership,
        parent=parent,
        submission_token=submission_token,
        submission_scope=submission_scope,
        frame_of=frame_of,
        frame_time_s=frame_time_s,
        allow_duplicate=allow_duplicate,
    )


#: How many gateways one request may be compared through.
COMPARE_KEYS = (2, 3)


def create_comparison(
    *,
    team,
    author,
    legs: list[tuple[GatewayKey, GenerationInput]],
    references: Iterable[NewReference] = (),
    membership=None,
    submission_token: str = "",
    allow_duplicate: bool = True,
) -> list[Generation]:
    """Send the same request through 2 or 3 keys at once (``legs``: each key with the
    request as its gateway takes it, already validated), grouped by one ``take_group`` id
    so the results sit side by side. Budgets, caps and the approval threshold count the
    total, all or none, as ``create_takes`` does; raises what it raises, and ValueError
    for fewer than 2 or more than 3 keys."""
    if not COMPARE_KEYS[0] <= len(legs) <= COMPARE_KEYS[-1]:
        raise ValueError(f"compare through 2 or 3 keys, not {len(legs)}")
    return _create_batch(
        team=team,
        author=author,
        legs=legs,
        references=list(references),
        membership=membership,
        submission_token=submission_token,
        allow_duplicate=allow_duplicate,
    )


def _create_batch(
    *,
    team,
    author,
    legs: list[tuple[GatewayKey, GenerationInput]],
    references: list[NewReference],
    membership=None,
    parent: Generation | None = None,
    submission_token: str = "",
    submission_scope: str = "",
    frame_of: Generation | None = None,
    frame_time_s: float | None = None,
    allow_duplicate: bool = True,
) -> list[Generation]:
    """Save one generation per leg (key, request) as ``create_takes`` describes."""
    from accounts.models import Membership

    n = len(legs)
    fingerprint = request_fingerprint(legs[0][1], references)
    costs = [
        billing.estimate(
            key.dialect,
            choices.model,
            choices.resolution,
            choices.duration,
            len(references),
            team=team,
            billed=billing.billed_through(key),
        )
        for key, choices in legs
    ]
    if n == 1 or len({(key.pk, choices.model) for key, choices in legs}) == 1:
        total = billing.takes_total(costs[0], n)
    else:
        known = all(c.known for c in costs)
        total = billing.Estimate(
            sum((c.amount for c in costs), Decimal(0)) if known else None,
            " + ".join(c.words for c in costs),
            billed=any(c.billed for c in costs),
        )
    group = uuid.uuid4() if n > 1 else None
    made = []
    with transaction.atomic():
        if membership is None:
            membership = Membership.objects.filter(team=team, user=author).first()
        team = _lock_team(team)
        earlier = (
            submission_token and Generation.objects.filter(author=author, submission_token=submission_token).first()
        )
        if not earlier and submission_scope and submission_token.startswith(submission_scope):
            other = Generation.objects.filter(author=author, submission_token__startswith=submission_scope).first()
            if other is not None:
                raise SubmissionTokenReused(other)
        if earlier:  # after the team lock: the first post has committed, or this is the first
            batch = (
                list(Generation.objects.filter(take_group=earlier.take_group).order_by("take_index"))
                if earlier.take_group
                else [earlier]
            )
            for generation in batch:
                generation.repeated = True
            return batch
        if not allow_duplicate:
            duplicate = recent_duplicate(team, fingerprint)
            if duplicate is not None:
                raise DuplicateRequest(duplicate)
        why_wait = _price_check(team, membership, total, n)
        needs_approval = bool(why_wait)
        for index, ((key, choices), cost) in enumerate(zip(legs, costs, strict=True)):
            generation = Generation.objects.create(
                **_request_columns(team, author, key, choices, parent),
                submission_token=submission_token if index == 0 else "",
                frame_of=frame_of,
                frame_time_s=frame_time_s,
                estimate_words=cost.words[:300],
                approval=Approval.WAITING if needs_approval else Approval.NOT_NEEDED,
                billed=cost.billed,
                take_group=group,
                take_index=index,
                fingerprint=fingerprint,
            )
            for position, new in enumerate(references):
                ReferenceImage.store(generation, position, new)
            if cost.known:
                billing.place_hold(generation, cost.amount)
            task = Task.objects.create(
                generation=generation,
                state=TaskState.AWAITING_APPROVAL if needs_approval else TaskState.PENDING,
                next_poll_at=None if needs_approval else timezone.now() + SUBMIT_RESCUE,
            )
            params = {
                "model": choices.model,
                "key": key.label,
                "gateway": key.gateway_class.label,
                "take": index + 1,
                "n": n,
                "estimate": cost.words,
            }
            record(
                generation.pk,
                "created",
                (
                    _(
                        "Requested %(model)s through %(key)s (%(gateway)s) (take %(take)d of %(n)d); estimate: %(estimate)s"
                    )
                    if n > 1
                    else _("Requested %(model)s through %(key)s (%(gateway)s); estimate: %(estimate)s")
                )
                % params,
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
                **({"take": index + 1, "takes": n, "take_group": str(group)} if group else {}),
            )
            _send_or_wait(generation, task, why_wait)
            made.append(generation)
        if total.known:
            webhooks.budget_check(team, total.amount)
    return made


def _group_takes(generation: Generation):
    """The generations of ``generation``'s take group (itself alone without one)."""
    if generation.take_group is None:
        return Generation.objects.filter(pk=generation.pk)
    return Generation.objects.filter(team_id=generation.team_id, take_group=generation.take_group)


def choose_take(generation: Generation, actor) -> bool:
    """Mark ``generation`` as the chosen take of its group (the group's other takes are
    no longer chosen). False when it belongs to no group of takes or is chosen already."""
    if generation.take_group is None or generation.chosen_take:
        return False
    with transaction.atomic():
        takes = _group_takes(generation)
        takes.exclude(pk=generation.pk).update(chosen_take=False)
        takes.filter(pk=generation.pk).update(chosen_take=True, archived=False)
        generation.chosen_take, generation.archived = True, False
        record(generation.pk, "chosen", _("Chosen as the take by %(who)s.") % {"who": actor.get_username()})
        audit.record_action(
            generation.team,
            actor,
            "generation.take_chosen",
            audit.describe(generation),
            uuid=str(generation.uuid),
            take_group=str(generation.take_group),
        )
    return True


def archive_other_takes(generation: Generation, actor) -> int:
    """Archive the takes of ``generation``'s group other than it (they leave the studio's
    cards and the group's grid; nothing is deleted). Returns how many were archived (0 when
    there were none left)."""
    if generation.take_group is None:
        return 0
    with transaction.atomic():
        archived = _group_takes(generation).exclude(pk=generation.pk).filter(archived=False).update(archived=True)
        if archived:
            audit.record_action(
                generation.team,
                actor,
                "generation.takes_archived",
                audit.describe(generation),
                uuid=str(generation.uuid),
                take_group=str(generation.take_group),
                archived=archived,
            )
    return archived


def retry(generation: Generation, actor, *, membership=None) -> bool:
    """Send a failed or cancelled generation again, as a new attempt of the same request:
    the same card, the same timeline (a ``retried`` line), the same reference images.

    Its estimate is held again, with the budgets checked and the approval threshold
    applied as for a new request (raises billing.BudgetExceeded, changing nothing).
    False when it had not failed or been cancelled (it is running, or completed).
    """
    from accounts.models import Membership

    cost = billing.estimate_generation(generation)
    now = timezone.now()
    with transaction.atomic():
        if membership is None:
            membership = Membership.objects.filter(team_id=generation.team_id, user=generation.author_id).first()
        why_wait = _price_check(_lock_team(generation.team), membership, cost)
        needs_approval = bool(why_wait)
        state = TaskState.AWAITING_APPROVAL if needs_approval else TaskState.PENDING
        changed = Task.objects.filter(generation=generation, state__in=(TaskState.FAILED, TaskState.CANCELLED)).update(
            **fresh_attempt_fields(state, None if needs_approval else now + SUBMIT_RESCUE, now)
        )
        if changed != 1:
            return False
        Generation.objects.filter(pk=generation.pk).update(
            approval=Approval.WAITING if needs_approval else Approval.NOT_NEEDED,
            approved_by=None,
            estimate_words=cost.words[:300],
        )
        if cost.known:
            billing.place_hold(generation, cost.amount)
            webhooks.budget_check(generation.team, cost.amount)
        record(
            generation.pk,
            "retried",
            _("Retried by %(who)s; estimate: %(estimate)s") % {"who": actor.get_username(), "estimate": cost.words},
            state=state,
        )
        audit.record_action(
            generation.team, actor, "generation.retried", audit.describe(generation), uuid=str(generation.uuid)
        )
        _send_or_wait(generation, Task.objects.get(generation=generation), why_wait)
    return True


def cancel(generation: Generation, actor) -> bool:
    """Stop a running generation: it is not sent (or no longer followed) and its hold is
    released. Any worker holding its lease loses it, so nothing writes over the cancel.

    None of the documented dialects has a cancel endpoint (docs/gateways.md §7), so a
    task already at the gateway may still run there; the timeline says so. False when
    it was not running.
    """
    sent = bool(generation.task.external_id)
    with generation.speaking():
        message = (
            _("Cancelled by %(who)s. The gateway documents no way to cancel, so it may still finish the video there.")
            if sent
            else _("Cancelled by %(who)s. It was not sent.")
        ) % {"who": actor.get_username()}
    with transaction.atomic():
        if Task.objects.filter(generation=generation).active().end(TaskState.CANCELLED, last_error=message) != 1:
            return False
        Generation.objects.filter(pk=generation.pk, approval=Approval.WAITING).update(approval=Approval.DECLINED)
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


def resubmit(generation: Generation, actor) -> bool:
    """Send a task that needs attention once more, at the member's request.

    The first send's outcome is unknown: the gateway may have created, and may bill,
    that task, so this may bill twice; the timeline says so. The hold stays open and
    covers the new attempt. The task goes back to ``pending`` from scratch (no
    gateway id, no lease, no attempts) and its submit is queued on commit. False when
    it was not waiting for attention.
    """
    now = timezone.now()
    message = _("Resubmitted by %(who)s: the gateway may bill twice if it had created the first one.") % {
        "who": actor.get_username()
    }
    with transaction.atomic():
        changed = Task.objects.filter(pk=generation.task.pk, state=TaskState.NEEDS_ATTENTION).update(
            **fresh_attempt_fields(TaskState.PENDING, now + SUBMIT_RESCUE, now)
        )
        if changed != 1:
            return False
        record(generation.pk, "resubmitted", message, state=TaskState.PENDING)
        audit.record_action(
            generation.team, actor, "generation.resubmitted", audit.describe(generation), uuid=str(generation.uuid)
        )
        enqueue_on_commit(SUBMIT, generation.task.pk)
    return True


def abandon(generation: Generation, actor) -> bool:
    """Give up on a task that needs attention: it fails, is not sent again, and its hold
    is released. If the gateway had created it, it may still bill it; the timeline says
    so. False when it was not waiting for attention."""
    with generation.speaking():
        message = _("Abandoned by %(who)s; if the gateway had created it, it may still bill it.") % {
            "who": actor.get_username()
        }
    with transaction.atomic():
        tasks = Task.objects.filter(pk=generation.task.pk, state=TaskState.NEEDS_ATTENTION)
        if tasks.end(TaskState.FAILED, last_error=message) != 1:
            return False
        billing.release(generation)
        record(generation.pk, "abandoned", message, state=TaskState.FAILED)
        audit.record_action(
            generation.team, actor, "generation.abandoned", audit.describe(generation), uuid=str(generation.uuid)
        )
        webhooks.generation_event(generation, WebhookEvent.GENERATION_FAILED)
    return True
