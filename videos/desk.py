"""The review desk, the team's audit trail and members' notifications.

*Review desk*: a member sends a finished generation to review (``review`` becomes
``awaiting``, see ``videos.gallery``); an owner or admin approves it, rejects it or
asks for changes, with a comment its author reads on the card and the detail page.
``decide_review`` holds that state change (a conditional update, so two reviewers
can never both decide), records ``generation.reviewed`` in the audit trail and
notifies the author; the view and the Django admin's bulk actions both call it.

*Audit trail*: a read-only page of the team's ``AuditEntry`` rows, newest first,
filtered by GET parameters (``?action=key.added&actor=alice&page=2``).

*Notifications*: ``notification_count`` is a context processor for the nav badge
(one indexed COUNT, only when a template uses it, never for anonymous users); the
list page shows a member their notifications and marks the shown ones read.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_GET, require_POST

from accounts.access import get_for_team, team_required
from videos import audit, pipeline
from videos.models import AuditEntry, Generation, Notification, Review, TaskState

QUEUE_PAGE = 20
AUDIT_PAGE = 50
NOTIFICATIONS_PAGE = 30

# The desk's decision words (the buttons' values) and what each makes of the generation.
DECISIONS = {"approve": Review.APPROVED, "reject": Review.REJECTED, "changes": Review.CHANGES}
OUTCOME_WORDS = {Review.APPROVED: "was approved", Review.REJECTED: "was rejected", Review.CHANGES: "needs changes"}


# --- the review desk ------------------------------------------------------------------------


class ReviewForm(forms.Form):
    """A reviewer's decision on one generation. A comment is optional to approve and
    required to reject or to ask for changes (the author needs to know why)."""

    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject"), ("changes", "Request changes")])
    comment = forms.CharField(
        required=False,
        max_length=1000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "A note for the author"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") in ("reject", "changes") and not data.get("comment"):
            self.add_error("comment", "Say what is wrong: a comment is required to reject or to ask for changes.")
        return data

    @property
    def review(self) -> str:
        """The ``Review`` value the valid form decides."""
        return DECISIONS[self.cleaned_data["decision"]]


def decide_review(generation: Generation, reviewer, review: str, comment: str = "", *, via: str = "desk") -> bool:
    """Record ``reviewer``'s decision (a ``Review`` value: approved, rejected or changes)
    on a completed generation awaiting review, with ``comment`` for its author.

    Records ``generation.reviewed`` in the audit trail and notifies the author (unless
    they reviewed it themselves). False, and nothing changes, when it was not awaiting
    review (already decided by someone else, or never sent) or is not completed.
    """
    if review not in OUTCOME_WORDS:
        raise ValueError(f"not a review decision: {review!r}")
    now = timezone.now()
    with transaction.atomic():
        changed = Generation.objects.filter(
            pk=generation.pk, review=Review.AWAITING, task__state=TaskState.COMPLETED
        ).update(review=review, review_comment=comment, reviewed_by=reviewer, reviewed_at=now)
        if changed != 1:
            return False
        generation.review, generation.review_comment = review, comment
        generation.reviewed_by, generation.reviewed_at = reviewer, now
        label = audit.describe(generation)
        words = OUTCOME_WORDS[review]
        pipeline.record(
            generation.pk, "review", f"{reviewer.get_username()}: {words}" + (f" — {comment}" if comment else ".")
        )
        audit.record_action(
            generation.team,
            reviewer,
            "generation.reviewed",
            label,
            uuid=str(generation.uuid),
            decision=review,
            comment=comment,
            via=via,
        )
        if generation.author_id is not None and generation.author_id != reviewer.pk:
            message = f"Your video {label} {words}" + (f": {comment}" if comment else ".")
            audit.notify(generation.author, generation.team, message, generation=generation)
    return True


def _awaiting(request):
    """The team's completed generations awaiting review, oldest first."""
    return (
        Generation.objects.filter(team=request.team, review=Review.AWAITING, task__state=TaskState.COMPLETED)
        .select_related("task", "asset", "author")
        .order_by("created_at", "pk")
    )


def _form_for(generation: Generation, data=None) -> ReviewForm:
    # One form per queue item: ids carry the generation so labels point at the right box.
    return ReviewForm(data, auto_id=f"review-{generation.uuid}-%s")


def _queue_context(request, errored: Generation | None = None, form: ReviewForm | None = None) -> dict:
    page = Paginator(_awaiting(request), QUEUE_PAGE).get_page(request.GET.get("page"))
    items = [(g, form if errored is not None and g.pk == errored.pk else _form_for(g)) for g in page]
    return {"page": page, "items": items}


@require_GET
@team_required(can_manage=True)
def review_queue(request):
    """GET: the review desk (owners and admins; others 403). Completed generations
    awaiting review, oldest first, 20 a page (``?page=``), each with its video,
    prompt, author and a decision form posting to ``review_decide``."""
    return render(request, "videos/review.html", _queue_context(request))


@require_POST
@team_required(can_manage=True)
def review_decide(request, uuid):
    """POST ``decision`` (approve | reject | changes) and ``comment`` (required to
    reject or ask for changes): decide on one generation awaiting review.

    Owners and admins only (403); a generation of another team is 404. htmx gets the
    queue item back (``review.html#item``): the outcome, or the form with its errors.
    Without htmx: a redirect to the desk with a message, or on an invalid form the
    desk again with the errors, status 400. Deciding on one no longer awaiting review
    (someone was quicker) changes nothing and says so.
    """
    generation = get_for_team(request, Generation.objects.select_related("team", "task", "asset", "author"), uuid=uuid)
    form = _form_for(generation, request.POST)
    if not form.is_valid():
        if request.htmx:
            return render(request, "videos/review.html#item", {"generation": generation, "form": form})
        return render(request, "videos/review.html", _queue_context(request, generation, form), status=400)
    decided = decide_review(generation, request.user, form.review, form.cleaned_data["comment"])
    if request.htmx:
        generation.refresh_from_db(fields=["review", "review_comment", "reviewed_by", "reviewed_at"])
        context = {"generation": generation, "decided": True, "stale": not decided}
        return render(request, "videos/review.html#item", context)
    if decided:
        messages.success(request, f"{generation.get_review_display()}: {audit.describe(generation)}.")
    else:
        messages.error(request, f"{audit.describe(generation)} is no longer awaiting review.")
    return redirect("review_queue")


# --- the audit trail --------------------------------------------------------------------------


class AuditFilterForm(forms.Form):
    """The audit page's filters: an action and an actor (by username), each optional.
    The choices are what the team's trail holds, so a bookmarked filter still reads."""

    action = forms.ChoiceField(required=False)
    actor = forms.ChoiceField(required=False)

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        entries = AuditEntry.objects.filter(team=team)
        actions = entries.order_by("action").values_list("action", flat=True).distinct()
        actors = (
            entries.filter(actor__isnull=False)
            .order_by("actor__username")
            .values_list("actor__username", flat=True)
            .distinct()
        )
        self.fields["action"].choices = [("", "Any action"), *((a, a) for a in actions)]
        self.fields["actor"].choices = [("", "Anyone"), *((u, u) for u in actors)]


def entry_details(data) -> list[tuple[str, str]]:
    """An entry's ``data`` as (name, text) lines for the page: a value ``{"old": a, "new": b}``
    (or ``old`` and ``new`` keys at the top) reads "a → b", an empty value "none"."""
    if not isinstance(data, dict):
        return [("data", str(data))] if data else []

    def text(value) -> str:
        if isinstance(value, dict) and value.keys() == {"old", "new"}:
            return f"{text(value['old'])} → {text(value['new'])}"
        return "none" if value in (None, "") else str(value)

    lines = [(str(name), text(value)) for name, value in data.items() if name not in ("old", "new")]
    if "old" in data and "new" in data:  # a change of the target itself (a member's role)
        lines.insert(0, ("change", text({"old": data["old"], "new": data["new"]})))
    return lines


@require_GET
@team_required(can_manage=True)
def audit_log(request):
    """GET: the team's audit trail, newest first, 50 a page (owners and admins; others 403).

    ``?action=`` and ``?actor=`` (a username) filter it; an unknown value is shown as
    a form error and that filter is not applied. Read-only: no URL edits or deletes
    entries (POST is 405). htmx (the filter form) gets the results only.
    """
    form = AuditFilterForm(request.GET or None, team=request.team)
    entries = AuditEntry.objects.filter(team=request.team).select_related("actor").order_by("-created_at", "-pk")
    if form.is_bound:
        form.is_valid()  # applies the fields that validated; errors are shown next to the others
        chosen = getattr(form, "cleaned_data", {})
        if chosen.get("action"):
            entries = entries.filter(action=chosen["action"])
        if chosen.get("actor"):
            entries = entries.filter(actor__username=chosen["actor"])
    page = Paginator(entries, AUDIT_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for entry in page.object_list:
        entry.details = entry_details(entry.data)
    context = {"form": form, "page": page}
    if request.htmx and not request.htmx.boosted:
        return render(request, "videos/audit.html#results", context)
    return render(request, "videos/audit.html", context)


# --- notifications -----------------------------------------------------------------------------


def unread_notifications(user):
    return Notification.objects.filter(user=user, read_at__isnull=True)


def notification_count(request) -> dict:
    """Context processor: ``notification_count``, the user's unread notifications.

    Lazy: the COUNT runs only when a template reads it, once per response. Nothing
    (and no query) for anonymous users.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notification_count": SimpleLazyObject(lambda: unread_notifications(user).count())}


@require_GET
@login_required
def notifications(request):
    """GET: the user's notifications from all their teams, newest first, 30 a page.

    The ones shown are marked read as the page is rendered (they still show as new
    this once). A generation is linked when it belongs to the current team (the
    others would be 404 until the member switches team).
    """
    notes = Notification.objects.filter(user=request.user).select_related("team", "generation")
    page = Paginator(notes, NOTIFICATIONS_PAGE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    unread = [n.pk for n in shown if n.read_at is None]
    if unread:
        Notification.objects.filter(pk__in=unread, read_at__isnull=True).update(read_at=timezone.now())
    return render(request, "videos/notifications.html", {"page": page, "notes": shown})
