"""The approval of spending: an owner's or admin's yes or no to a request over the team's
approval threshold (or of unknown price under a budget), before it is sent."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from videos import audit, billing
from videos.actions.generations import SUBMIT_RESCUE
from videos.models import (
    Approval,
    Generation,
    Task,
    TaskState,
)
from videos.timeline import clean_text, record
from videos.worker.queue import SUBMIT, enqueue_on_commit


def _settle_approval(generation: Generation, approver, approval: str) -> bool:
    """Settle a waiting request as ``approval`` (a conditional update); False when it was
    not waiting (someone else decided first)."""
    waiting = Generation.objects.filter(pk=generation.pk, approval=Approval.WAITING)
    return waiting.update(approval=approval, approved_by=approver) == 1


def approve_spending(generation: Generation, approver) -> bool:
    """Let a request waiting for approval go to its gateway. False when it was not waiting."""
    now = timezone.now()
    with transaction.atomic():
        if not _settle_approval(generation, approver, Approval.APPROVED):
            return False
        Task.objects.filter(generation=generation, state=TaskState.AWAITING_APPROVAL).update(
            state=TaskState.PENDING, next_poll_at=now + SUBMIT_RESCUE, updated_at=now
        )
        record(
            generation.pk,
            "approval",
            _("Approved by %(who)s.") % {"who": approver.get_username()},
            state=TaskState.PENDING,
        )
        audit.record_action(
            generation.team, approver, "generation.approved", audit.describe(generation), uuid=str(generation.uuid)
        )
        if generation.author_id != approver.pk:
            with audit.speaking_to(generation.author):
                message = _("%(who)s approved your request %(video)s; it is being sent.") % {
                    "who": approver.get_username(),
                    "video": audit.describe(generation),
                }
            audit.notify(generation.author, generation.team, message, generation=generation)
        enqueue_on_commit(SUBMIT, generation.task.pk)
    return True


#: The longest decline reason kept (characters); the form says so.
REASON_MAX = 200


def decline_spending(generation: Generation, approver, reason: str = "") -> bool:
    """Refuse a request waiting for approval: it is never sent, its hold is released, and
    its author is told why (``reason``, cleaned and cut to ``REASON_MAX`` characters; the
    approvals page requires one). False when it was not waiting."""
    reason = " ".join(clean_text(reason or "").split())[:REASON_MAX]
    with transaction.atomic():
        if not _settle_approval(generation, approver, Approval.DECLINED):
            return False
        Generation.objects.filter(pk=generation.pk).update(decline_reason=reason)
        generation.decline_reason = reason
        who = approver.get_username()
        with generation.speaking():
            last_error = (
                _("Declined by %(who)s; it was not sent. Reason: %(reason)s") % {"who": who, "reason": reason}
                if reason
                else _("Declined by %(who)s; it was not sent.") % {"who": who}
            )
            message = (
                _("Declined by %(who)s; not sent, not charged. Reason: %(reason)s") % {"who": who, "reason": reason}
                if reason
                else _("Declined by %(who)s; not sent, not charged.") % {"who": who}
            )
        Task.objects.filter(generation=generation, state=TaskState.AWAITING_APPROVAL).end(
            TaskState.CANCELLED, last_error=last_error
        )
        billing.release(generation)
        record(generation.pk, "approval", message, state=TaskState.CANCELLED)
        audit.record_action(
            generation.team,
            approver,
            "generation.declined",
            audit.describe(generation),
            uuid=str(generation.uuid),
            reason=reason,
        )
        if generation.author_id != approver.pk:
            with audit.speaking_to(generation.author):
                params = {"who": who, "video": audit.describe(generation), "reason": reason}
                notice = (
                    _("%(who)s declined your request %(video)s; it was not sent and not charged. Reason: %(reason)s")
                    if reason
                    else _("%(who)s declined your request %(video)s; it was not sent and not charged.")
                ) % params
            audit.notify(generation.author, generation.team, notice, generation=generation)
    return True
