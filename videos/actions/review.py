"""Favorites, the review of finished videos (send to review, the verdict), notifications read."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from videos import audit, webhooks
from videos.actions.notes import open_notes_summary
from videos.models import (
    Generation,
    Notification,
    Review,
    TaskState,
    WebhookEvent,
)
from videos.timeline import record

#: What each review verdict reads as in the author's notification and the timeline.
VERDICT_WORDS = {
    Review.ACCEPTED: gettext_lazy("was accepted"),
    Review.REJECTED: gettext_lazy("was rejected"),
    Review.CHANGES: gettext_lazy("needs changes"),
}
Favorite = Generation.favorited_by.through


def set_favorite(generations: Iterable[Generation], user, favorite: bool) -> int:
    """Add ``generations`` to ``user``'s favorites (or remove them); returns how many changed."""
    pks = [g.pk for g in generations]
    mine = Favorite.objects.filter(user_id=user.pk, generation_id__in=pks)
    already = set(mine.values_list("generation_id", flat=True))
    if not favorite:
        mine.delete()
        return len(already)
    new = [Favorite(generation_id=pk, user_id=user.pk) for pk in pks if pk not in already]
    Favorite.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def toggle_favorite(generation: Generation, user) -> bool:
    """Flip ``generation`` in ``user``'s favorites; True when it is a favorite now."""
    on = not Favorite.objects.filter(user_id=user.pk, generation_id=generation.pk).exists()
    set_favorite([generation], user, on)
    return on


def send_to_review(generations: Iterable[Generation], actor) -> int:
    """Mark the completed, not yet reviewed ones ``Review.AWAITING`` (a conditional update
    each) and record ``generation.sent_to_review``; returns how many were sent."""
    sent = 0
    for generation in generations:
        if generation.task.state != TaskState.COMPLETED or generation.review != Review.NONE:
            continue
        with transaction.atomic():
            if Generation.objects.filter(pk=generation.pk, review=Review.NONE).update(review=Review.AWAITING) != 1:
                continue
            audit.record_action(
                generation.team,
                actor,
                "generation.sent_to_review",
                audit.describe(generation),
                uuid=str(generation.uuid),
            )
        sent += 1
    return sent


def decide_review(generation: Generation, reviewer, verdict: str, comment: str = "", *, via: str = "desk") -> bool:
    """Record ``reviewer``'s verdict (a ``Review``: accepted, rejected or changes) on a
    completed generation awaiting review, with ``comment`` for its author.

    Records ``generation.reviewed`` in the audit trail (``via``: ``desk`` or ``admin``)
    and notifies the author (unless they reviewed it themselves). False, and nothing
    changes, when it was not awaiting review (already decided by someone else, or
    never sent) or is not completed. Raises ValueError for a value that is no verdict.
    """
    if verdict not in VERDICT_WORDS:
        raise ValueError(f"not a review verdict: {verdict!r}")
    now = timezone.now()
    with transaction.atomic():
        changed = (
            Generation.objects.filter(pk=generation.pk)
            .awaiting_review()
            .update(review=verdict, review_comment=comment, reviewed_by=reviewer, reviewed_at=now)
        )
        if changed != 1:
            return False
        generation.review, generation.review_comment = verdict, comment
        generation.reviewed_by, generation.reviewed_at = reviewer, now
        label = audit.describe(generation)
        params = {"who": reviewer.get_username(), "words": VERDICT_WORDS[verdict], "comment": comment}
        record(
            generation.pk,
            "review",
            (gettext("%(who)s: %(words)s — %(comment)s") if comment else gettext("%(who)s: %(words)s.")) % params,
        )
        audit.record_action(
            generation.team,
            reviewer,
            "generation.reviewed",
            label,
            uuid=str(generation.uuid),
            decision=verdict,
            comment=comment,
            via=via,
        )
        if generation.author_id is not None and generation.author_id != reviewer.pk:
            with audit.speaking_to(generation.author):
                params = {"video": label, "words": VERDICT_WORDS[verdict], "comment": comment}
                message = (
                    gettext("Your video %(video)s %(words)s: %(comment)s")
                    if comment
                    else gettext("Your video %(video)s %(words)s.")
                ) % params
                if verdict == Review.CHANGES and (still_open := open_notes_summary(generation)):
                    message += " " + gettext("Open notes: %(notes)s") % {"notes": still_open}
            audit.notify(generation.author, generation.team, message, generation=generation)
        webhooks.generation_event(generation, WebhookEvent.GENERATION_REVIEWED)
    return True


def mark_read(notifications: Iterable[Notification]) -> int:
    """Mark the unread ones among ``notifications`` read (now); how many were unread."""
    unread = [n.pk for n in notifications if n.read_at is None]
    if not unread:
        return 0
    return Notification.objects.filter(pk__in=unread, read_at__isnull=True).update(read_at=timezone.now())
