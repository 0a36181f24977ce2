"""The review desk: finished videos a member sent to review, and the verdict of an
owner or admin on each (accept, reject, request changes), with a comment its author
reads on the card and the detail page. The verdict itself is
``videos.actions.decide_review``, which the Django admin's actions call too.

Each video on the desk shows its open-note count and, when it is a later version (a
remix or retake of another), what changed since the version it was made from: the
prompt's words and the options, with a link to the compare view. The desk filters by
author and by reviewer (see ``DeskFilterForm``), and shows either what awaits review
or the decided reviews, newest decision first."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from accounts.access import get_for_team, team_required
from accounts.models import Membership
from videos import actions, audit
from videos.lib.paging import approximate_count, keyset_page
from videos.models import Generation, Review
from videos.web.notes import option_rows, word_diff

QUEUE_PAGE = 20

# The desk's decision words (the buttons' values) and the verdict each gives.
DECISIONS = {"accept": Review.ACCEPTED, "reject": Review.REJECTED, "changes": Review.CHANGES}


class ReviewForm(forms.Form):
    """A reviewer's verdict on one generation. A comment is optional to accept and
    required to reject or to ask for changes (the author needs to know why)."""

    decision = forms.ChoiceField(
        choices=[("accept", _("Accept")), ("reject", _("Reject")), ("changes", _("Request changes"))]
    )
    comment = forms.CharField(
        required=False,
        max_length=1000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("A note for the author")}),
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") in ("reject", "changes") and not data.get("comment"):
            self.add_error(
                "comment", gettext("Say what is wrong: a comment is required to reject or to ask for changes.")
            )
        return data

    @property
    def verdict(self) -> str:
        """The ``Review`` value the valid form decides."""
        return DECISIONS[self.cleaned_data["decision"]]


#: The reviews' outcomes the "Decided" view lists.
DECIDED = (Review.ACCEPTED, Review.REJECTED, Review.CHANGES)
#: At most this many words of the prompt's changes are shown on a desk row.
CHANGE_WORDS = 12


class DeskFilterForm(forms.Form):
    """The desk's filters, all in the URL (the pager keeps them): which list (awaiting
    review, or the decided reviews), the author and the reviewer, each a team member by
    username. There is no assigned reviewer: "reviewer" is who decided. On the awaiting
    list it picks the new versions of videos that member last reviewed (they asked for
    changes, so the fix comes back to them) and videos of theirs decided before; on the
    decided list, the reviews that member decided. An unknown value is a form error and
    that filter is not applied."""

    show = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[("awaiting", _("Awaiting review")), ("decided", _("Decided reviews"))],
    )
    author = forms.ChoiceField(label=_("Author"), required=False)
    reviewer = forms.ChoiceField(label=_("Reviewer"), required=False)

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        names = list(
            Membership.objects.filter(team=team).order_by("user__username").values_list("user__username", flat=True)
        )
        self.fields["author"].choices = [("", _("Anyone")), *((n, n) for n in names)]
        self.fields["reviewer"].choices = [("", _("Anyone")), *((n, n) for n in names)]

    def chosen(self) -> dict:
        """The valid filters (``show``, ``author``, ``reviewer``; "" when not chosen)."""
        if not self.is_bound:
            return {"show": "awaiting", "author": "", "reviewer": ""}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "show": data.get("show") or "awaiting",
            "author": data.get("author") or "",
            "reviewer": data.get("reviewer") or "",
        }


def _awaiting(request):
    """The team's completed generations awaiting review, oldest first."""
    return Generation.objects.for_team(request.team).awaiting_review().select_related("task", "asset", "author")


def changes_since(parent: Generation, generation: Generation) -> dict:
    """What changed from ``parent`` to ``generation`` in short: ``removed`` and ``added``
    (the prompt's changed words, each at most ``CHANGE_WORDS`` words, "…" when cut),
    ``options`` (``{"label", "left", "right"}`` of each changed option) and ``same`` (True
    when nothing differs)."""
    removed, added = [], []
    for op, text in word_diff(parent.prompt, generation.prompt):
        if op == "removed":
            removed.extend(text.split())
        elif op == "added":
            added.extend(text.split())

    def short(words):
        return " ".join(words[:CHANGE_WORDS]) + (" …" if len(words) > CHANGE_WORDS else "")

    options = [row for row in option_rows(parent, generation) if row["changed"]]
    return {
        "removed": short(removed),
        "added": short(added),
        "options": options,
        "same": not (removed or added or options),
    }


def _desk_rows(request, chosen: dict):
    """The filtered list the desk shows, its rows joined with what they show (the parent
    version by a join, the open notes by a subquery): a constant number of queries a page."""
    if chosen["show"] == "decided":
        rows = (
            Generation.objects.for_team(request.team)
            .filter(review__in=DECIDED, reviewed_at__isnull=False)
            .select_related("task", "asset", "author", "reviewed_by")
        )
    else:
        rows = _awaiting(request)
    rows = rows.with_open_notes().select_related("parent")
    if chosen["author"]:
        rows = rows.filter(author__username=chosen["author"])
    if chosen["reviewer"]:
        if chosen["show"] == "decided":
            rows = rows.filter(reviewed_by__username=chosen["reviewer"])
        else:
            rows = rows.filter(
                Q(reviewed_by__username=chosen["reviewer"]) | Q(parent__reviewed_by__username=chosen["reviewer"])
            )
    return rows


def _form_for(generation: Generation, data=None) -> ReviewForm:
    # One form per queue item: ids carry the generation so labels point at the right box.
    return ReviewForm(data, auto_id=f"review-{generation.uuid}-%s")


def _queue_context(request, errored: Generation | None = None, form: ReviewForm | None = None) -> dict:
    filters = DeskFilterForm(request.GET or None, team=request.team)
    chosen = filters.chosen()
    decided = chosen["show"] == "decided"
    rows = _desk_rows(request, chosen)
    if decided:
        page = keyset_page(rows, request.GET.get("cursor"), size=QUEUE_PAGE, field="reviewed_at", newest_first=True)
    else:
        page = keyset_page(rows, request.GET.get("cursor"), size=QUEUE_PAGE, newest_first=False)
    total, exact = approximate_count(rows)
    for g in page.object_list:
        parent = g.parent if g.parent_id and g.parent and g.parent.team_id == g.team_id else None
        g.previous_version = parent
        g.changes = changes_since(parent, g) if parent else None
    if decided:
        items = [(g, None) for g in page.object_list]
    else:
        items = [(g, form if errored is not None and g.pk == errored.pk else _form_for(g)) for g in page.object_list]
    return {
        "page": page,
        "items": items,
        "total": total,
        "total_exact": exact,
        "filters": filters,
        "showing_decided": decided,
        "filtered": bool(chosen["author"] or chosen["reviewer"]),
    }


@require_GET
@team_required(can_manage=True)
def review_queue(request):
    """GET: the review desk (owners and admins; others 403). Completed generations
    awaiting review, oldest first, 20 a page (keyset: ``?cursor=`` from the "Older"/"Newer"
    links, the same cost at any depth; an invalid cursor means the first page), each with its video,
    prompt, author, open-note count, what changed since its previous version, and a decision
    form posting to ``review_decide``. ``?show=decided`` lists the decided reviews instead,
    newest decision first; ``?author=`` and ``?reviewer=`` (usernames) filter either list
    (``DeskFilterForm``). Queries per page do not grow with the page's rows."""
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
        said = gettext("%(verdict)s: %(video)s.") % {
            "verdict": generation.get_review_display(),
            "video": audit.describe(generation),
        }
        messages.success(request, said)
    else:
        messages.error(
            request, gettext("%(video)s is no longer awaiting review.") % {"video": audit.describe(generation)}
        )
    return redirect("review_queue")
