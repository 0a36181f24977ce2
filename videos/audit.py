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
from django.utils import translation
from django.utils.translation import gettext as _

from videos.lib.vault import redact
from videos.models import AuditEntry, Generation, Notification

log = logging.getLogger(__name__)

#: Every action name the studio records, by area. ``record_action`` refuses any other name
#: (``ValueError``) while ``STUDIO_AUDIT_STRICT`` is on (the tests' settings) and logs it
#: otherwise; the audit page has a sentence for each (tests/test_audit_sentences.py checks
#: both against the code). Add the name here, and its sentence in ``videos/web/activity.py``,
#: when you add an action.
ACTIONS = frozenset(
    {
        # generations (videos/actions/generations.py, approvals.py, review.py)
        "generation.submitted",
        "generation.approved",
        "generation.declined",
        "generation.retried",
        "generation.cancelled",
        "generation.deleted",
        "generation.resubmitted",
        "generation.abandoned",
        "generation.take_chosen",
        "generation.takes_archived",
        "generation.sent_to_review",
        "generation.reviewed",
        "generations.downloaded",
        # frames, sequences and shots (frames.py, sequences.py)
        "frame.taken",
        "sequence.created",
        "sequence.shot_added",
        "sequence.shot_removed",
        "sequence.reordered",
        "sequence.rendered",
        "sequence.deleted",
        # notes and share links (notes.py, share.py)
        "note.added",
        "note.replied",
        "note.resolved",
        "note.reopened",
        "share.created",
        "share.revoked",
        "share.viewed",
        "share.guest_note",
        # boards and the prompt library (boards.py, templates.py)
        "board.created",
        "board.changed",
        "board.deleted",
        "board.items_added",
        "board.items_removed",
        "board.sequence_added",
        "board.sequence_removed",
        "template.saved",
        "template.changed",
        "template.deleted",
        # gateway keys, team prices, webhooks (keys.py, prices.py, webhooks.py, worker/webhooks.py)
        "key.added",
        "key.changed",
        "key.checked",
        "key.replaced",
        "key.deleted",
        "price.set",
        "price.deleted",
        "webhook.added",
        "webhook.deleted",
        "webhook.enabled",
        "webhook.disabled",
        "webhook.tested",
        "webhook.redelivered",
        # the team, its members and their access tokens (accounts/actions.py)
        "team.renamed",
        "team.export_gate",
        "budget.changed",
        "member.invited",
        "member.invitation_revoked",
        "member.joined",
        "member.removed",
        "member.left",
        "member.role_changed",
        "token.created",
        "token.first_used",
        "token.revoked",
    }
)


def record_action(team, actor, action: str, target: str = "", **data) -> AuditEntry:
    """Append ``action`` (``key.added``, ``generation.deleted``…) by ``actor`` on ``target``.

    ``data`` must hold no secrets: a key is named by its label and last four characters.
    ``target`` is redacted (``vault.redact``) and cut to 200 characters. ``action`` must be
    one of ``ACTIONS``: raises ``ValueError`` for another name while ``STUDIO_AUDIT_STRICT``
    is on (the tests' settings; off by default, so a forgotten name never fails a member's action), and logs a warning (still recording it) otherwise.
    """
    if action not in ACTIONS:
        if getattr(settings, "STUDIO_AUDIT_STRICT", False):
            raise ValueError(f"unknown audit action {action!r}: add it to videos.audit.ACTIONS with its sentence")
        log.warning("unknown audit action %r: add it to videos.audit.ACTIONS", action)
    return AuditEntry.objects.create(
        team=team, actor=actor, action=action, target=redact(target)[:200], data=data or None
    )


def describe(generation: Generation) -> str:
    """A short human label for a generation in the audit trail and notifications."""
    prompt = generation.prompt.strip().replace("\n", " ")
    return f"“{prompt[:60]}{'…' if len(prompt) > 60 else ''}”"


def speaking_to(user) -> translation.override:
    """A context in which a message to ``user`` (a notification, an email) is written in
    their language (``interface_language``), else the site's ``LANGUAGE_CODE`` (no user)."""
    language = getattr(user, "interface_language", None) or settings.LANGUAGE_CODE
    return translation.override(language)


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
        with speaking_to(user):
            subject = _("Studio: %(message)s") % {"message": message[:70]}

        def send():
            try:
                send_mail(subject, message, None, [user.email], fail_silently=False)
            except Exception:  # a mail outage must not break the pipeline
                log.exception("could not email notification %s", note.pk)

        transaction.on_commit(send)
    return note
