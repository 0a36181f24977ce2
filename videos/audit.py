"""The audit trail and member notifications.

``record_action`` appends to a team's audit trail (who did what, when, to what);
entries are never edited or deleted through the studio. ``notify`` tells a member
something in the studio, and by email when they have an address and an email
backend is configured; the email goes out after the transaction commits.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from videos.lib.vault import redact
from videos.models import AuditEntry, Generation, Notification

log = logging.getLogger(__name__)


def record_action(team, actor, action: str, target: str = "", **data) -> AuditEntry:
    """Append ``action`` (``key.added``, ``generation.deleted``…) by ``actor`` on ``target``.

    ``data`` must hold no secrets: a key is named by its label and last four characters.
    ``target`` is redacted (``vault.redact``) and cut to 200 characters.
    """
    return AuditEntry.objects.create(
        team=team, actor=actor, action=action, target=redact(target)[:200], data=data or None
    )


def describe(generation: Generation) -> str:
    """A short human label for a generation in the audit trail and notifications."""
    prompt = generation.prompt.strip().replace("\n", " ")
    return f"“{prompt[:60]}{'…' if len(prompt) > 60 else ''}”"


def notify(user, team, message: str, *, generation: Generation | None = None) -> Notification | None:
    """Tell ``user`` ``message`` in the studio; email it too when possible. None for no user.

    ``message`` may quote a gateway (a failure's reason): it is redacted (``vault.redact``)
    before it is stored or mailed; a key its gateway echoed was masked by its adapter already.
    """
    if user is None:
        return None
    message = redact(message)
    note = Notification.objects.create(user=user, team=team, message=message[:300], generation=generation)
    if user.email and getattr(settings, "STUDIO_EMAIL_NOTIFICATIONS", True):

        def send():
            try:
                send_mail(f"Studio: {message[:70]}", message, None, [user.email], fail_silently=False)
            except Exception:  # a mail outage must not break the pipeline
                log.exception("could not email notification %s", note.pk)

        transaction.on_commit(send)
    return note
