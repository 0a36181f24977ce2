"""The review desk: finished videos a member sent to review, and the verdict of an
owner or admin on each (accept, reject, request changes), with a comment its author
reads on the card and the detail page. The verdict itself is
``videos.actions.decide_review``, which the Django admin's actions call too."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.access import get_for_team, team_required
from videos import actions, audit
from videos.lib.paging import approximate_count, keyset_page
from videos.models import Generation, Review

QUEUE_PAGE = 20

# The desk's decision words (the buttons' values) and the verdict each gives.
DECISIONS = {"accept": Review.ACCEPTED, "reject": Review.REJECTED, "changes": Review.CHANGES}


class ReviewForm(forms.Form):
    """A reviewer's verdict on one generation. A comment is optional to accept and
    required to reject or to ask for changes (the author needs to know why)."""

    decision = forms.ChoiceField(choices=[("accept", "Accept"), ("reject", "Reject"), ("changes", "Request changes")])
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
    def verdict(self) -> str:
        """The ``Review`` value the valid form decides."""
        return DECISIONS[self.cleaned_data["decision"]]


def _awaiting(request):
    """The team's completed generations awaiting review, oldest first."""
    return Generation.objects.for_team(request.team).awaiting_review().select_related("task", "asset", "author")


def _form_for(generation: Generation, data=None) -> ReviewForm:
    # One form per queue item: ids carry the generation so labels point at the right box.
    return ReviewForm(data, auto_id=f"review-{generation.uuid}-%s")


def _queue_context(request, errored: Generation | None = None, form: ReviewForm | None = None) -> dict:
    awaiting = _awaiting(request)
    page = keyset_page(awaiting, request.GET.get("cursor"), size=QUEUE_PAGE, newest_first=False)
    total, exact = approximate_count(awaiting)
    items = [(g, form if errored is not None and g.pk == errored.pk else _form_for(g)) for g in page.object_list]
    return {"page": page, "items": items, "total": total, "total_exact": exact}


@require_GET
@team_required(can_manage=True)
def review_queue(request):
    """GET: the review desk (owners and admins; others 403). Completed generations
    awaiting review, oldest first, 20 a page (keyset: ``?cursor=`` from the "Older"/"Newer"
    links, the same cost at any depth; an invalid cursor means the first page), each with its video,
    prompt, author and a decision form posting to ``review_decide``."""
    return render(request, "videos/review.html", _queue_context(request))


@require_POST
@team_required(can_manage=True)
def review_decide(request, uuid):
    """POST ``decision`` (accept | reject | changes) and ``comment`` (required to
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
    decided = actions.decide_review(generation, request.user, form.verdict, form.cleaned_data["comment"])
    if request.htmx:
        generation.refresh_from_db(fields=["review", "review_comment", "reviewed_by", "reviewed_at"])
        context = {"generation": generation, "decided": True, "stale": not decided}
        return render(request, "videos/review.html#item", context)
    if decided:
        messages.success(request, f"{generation.get_review_display()}: {audit.describe(generation)}.")
    else:
        messages.error(request, f"{audit.describe(generation)} is no longer awaiting review.")
    return redirect("review_queue")
