"""The approval of spending: an owner's or admin's yes or no to a request over the team's
approval threshold (or of unknown price under a budget), before it is sent."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from videos import audit, billing
from videos.actions.generations import SUBMIT_RESCUE
from videos.models import (
    Approval,
    Generation,
    Task,
    TaskState,
)
from videos.timeline import record
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
        record(generation.pk, "approval", f"Approved by {approver.get_username()}.", state=TaskState.PENDING)
        audit.record_action(
            generation.team, approver, "generation.approved", audit.describe(generation), uuid=str(generation.uuid)
        )
        enqueue_on_commit(SUBMIT, generation.task.pk)
    return True


def decline_spending(generation: Generation, approver) -> bool:
    """Refuse a request waiting for approval: it is never sent and its hold is released.
    False when it was not waiting."""
    with transaction.atomic():
        if not _settle_approval(generation, approver, Approval.DECLINED):
            return False
        Task.objects.filter(generation=generation, state=TaskState.AWAITING_APPROVAL).end(
            TaskState.CANCELLED, last_error=f"Declined by {approver.get_username()}; it was not sent."
        )
        billing.release(generation)
        message = f"Declined by {approver.get_username()}; not sent, not charged."
        record(generation.pk, "approval", message, state=TaskState.CANCELLED)
        audit.record_action(
            generation.team, approver, "generation.declined", audit.describe(generation), uuid=str(generation.uuid)
        )
    return True
