"""The team's History page (its generations as tiles) and its bulk actions.

``history`` lists the team's generations as poster tiles, filtered by the GET
query (``HistoryFilters``: search, gateway, member, dates, state, review state,
my favorites, sort, ``cursor``), so any view of it can be shared as a URL; htmx
requests get only the ``results`` partial. ``bulk`` acts on the ticked tiles:
a streamed ZIP of their videos, favorite/unfavorite, send to review, delete.

Cost per page is constant whatever the team's size and the page's depth: one
query for the member list, one for the page (keyset pagination, ``lib/paging.py``:
the rows after the cursor's, task, asset and author joined; "is it my favorite" as
an ``EXISTS`` annotation; ``PAGE_SIZE + 1`` rows to know whether more lie beyond),
one bounded count for the approximate total (none for a search). Prompt search is ``videos/search.py``'s
index.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.access import team_required
from accounts.models import User
from videos import actions, search
from videos.gateways import dialect_choices
from videos.lib import paging
from videos.models import ACTIVE_STATES, Generation, Review, TaskState
from videos.web import boards as board_pages
from videos.web.downloads import download_name as zip_entry_name  # noqa: F401 (the name tests use)
from videos.web.downloads import zip_response

PAGE_SIZE = 24
#: The most tiles one bulk action takes (a page holds PAGE_SIZE; this bounds forged posts).
BULK_LIMIT = 200
RUNNING = "running"  # a pseudo-state in the state filter: any of ACTIVE_STATES

Favorite = Generation.favorited_by.through


class DateInput(forms.DateInput):
    input_type = "date"


class SearchInput(forms.TextInput):
    input_type = "search"


class HistoryFilters(forms.Form):
    """History's filters, read from the GET query.

    Every field is optional; an invalid one (a bad date, an unknown state) is
    reported in ``errors`` and left out of ``values()``, never an exception.
    ``members`` is the team's ``(user_id, username)`` list, the member choices.
    """

    q = forms.CharField(
        label=gettext_lazy("Search prompts"),
        required=False,
        max_length=200,
        widget=SearchInput(attrs={"placeholder": gettext_lazy("Words in the prompt"), "autocomplete": "off"}),
    )
    gateway = forms.ChoiceField(label=gettext_lazy("Gateway"), required=False)
    member = forms.ChoiceField(label=gettext_lazy("Member"), required=False)
    since = forms.DateField(label=gettext_lazy("From"), required=False, widget=DateInput)
    until = forms.DateField(label=gettext_lazy("To"), required=False, widget=DateInput)
    state = forms.ChoiceField(label=gettext_lazy("State"), required=False)
    review = forms.ChoiceField(label=gettext_lazy("Review"), required=False)
    favorites = forms.BooleanField(label=gettext_lazy("My favorites"), required=False)
    board = forms.ChoiceField(label=gettext_lazy("Board"), required=False)
    sort = forms.ChoiceField(
        label=gettext_lazy("Sort"),
        required=False,
        choices=[("newest", gettext_lazy("Newest first")), ("oldest", gettext_lazy("Oldest first"))],
    )

    def __init__(self, data, *, members: list[tuple[int, str]], boards: list[tuple[str, str]] = ()):
        super().__init__(data)
        self.fields["board"].choices = [("", gettext_lazy("Any board")), *boards]
        self.member_ids = {username: pk for pk, username in members}
        self.fields["gateway"].choices = [("", gettext_lazy("Any gateway")), *dialect_choices()]
        self.fields["member"].choices = [("", gettext_lazy("Anyone")), *((name, name) for _, name in members)]
        self.fields["state"].choices = [
            ("", gettext_lazy("Any state")),
            (RUNNING, gettext_lazy("Running (any)")),
            *TaskState.choices,
        ]
        self.fields["review"].choices = [("", gettext_lazy("Any review state")), *Review.choices]

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if until == date.max:  # no day follows it, so it cannot be the bound's next midnight
            self.add_error("until", gettext("That day is out of range."))
        elif since and until and since > until:
            self.add_error("until", gettext("“To” is before “From”."))
        return data

    def values(self) -> dict:
        """The valid, non-empty filters: ``{name: value}`` (dates as ``date``, member as user id)."""
        self.is_valid()
        out = {name: value for name, value in self.cleaned_data.items() if value not in (None, "", False)}
        if "member" in out:
            out["member"] = self.member_ids[out["member"]]
        return out


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def filtered_generations(team, user, filters: dict) -> QuerySet[Generation]:
    """The team's generations matching ``filters`` (``HistoryFilters.values()``), sorted.

    Each row carries ``is_favorite`` (whether ``user`` favorited it), with its task,
    asset and author joined. Dates are whole days in the current time zone, ``until``
    included; they become ``created_at`` bounds so the (team, …, -created_at)
    indexes serve them.
    """
    mine = Favorite.objects.filter(generation_id=OuterRef("pk"), user_id=user.pk)
    qs = (
        Generation.objects.for_team(team)
        .select_related("task", "asset", "author")
        .defer("options", "review_comment", "task__last_raw", "task__last_error")
        .annotate(is_favorite=Exists(mine))
    )
    if "gateway" in filters:
        qs = qs.filter(dialect=filters["gateway"])
    if "member" in filters:
        qs = qs.filter(author_id=filters["member"])
    if "review" in filters:
        qs = qs.filter(review=filters["review"])
    if "since" in filters:
        qs = qs.filter(created_at__gte=_day_start(filters["since"]))
    if "until" in filters:
        qs = qs.filter(created_at__lt=_day_start(filters["until"] + timedelta(days=1)))
    if "state" in filters:
        state = filters["state"]
        qs = qs.filter(task__state__in=ACTIVE_STATES) if state == RUNNING else qs.filter(task__state=state)
    if "favorites" in filters:
        qs = qs.filter(is_favorite=True)
    if "q" in filters:
        qs = search.search(qs, filters["q"])
    if "board" in filters:
        qs = qs.filter(board_items__board__uuid=filters["board"])
    if filters.get("sort") == "oldest":
        return qs.order_by("created_at", "pk")
    return qs.order_by("-created_at", "-pk")


def _members(team) -> list[tuple[int, str]]:
    return list(User.objects.filter(memberships__team=team).order_by("username").values_list("pk", "username"))


def _history_url(request: HttpRequest) -> str:
    """History with the query string this request came with (its filters and page)."""
    query = request.GET.urlencode()
    return reverse("history") + (f"?{query}" if query else "")


def _results_template(request: HttpRequest) -> str:
    # A history restore (back button after the cache was evicted) needs the whole page.
    if request.htmx and not request.htmx.history_restore_request:
        return "videos/history.html#results"
    return "videos/history.html"


@require_GET
@team_required
def history(request: HttpRequest) -> HttpResponse:
    """The team's generations as tiles, ``PAGE_SIZE`` a page, filtered by the GET query.

    Query: ``q`` (words in the prompt, any case), ``gateway`` (dialect), ``member``
    (username), ``since``/``until`` (``YYYY-MM-DD``, both days included), ``state``
    (a task state or ``running``), ``review``, ``favorites`` (mine), ``sort``
    (``newest``, the default, or ``oldest``) and ``cursor`` (a signed place in the
    list from the "Newer"/"Older" links; an invalid one means the first page). Invalid
    values are ignored and named above the tiles. htmx requests get the ``results``
    partial. Two queries whatever the depth: the page (keyset, ``PAGE_SIZE + 1`` rows)
    and the total counted up to ``paging.COUNT_CAP`` ("more than 10,000"). A search is not
    counted (a short or common word's ``LIKE`` would read rows until it had counted them):
    its total is shown when all its matches fit on the first page.
    """
    boards = board_pages.board_choices(request.team)
    form = HistoryFilters(request.GET, members=_members(request.team), boards=boards)
    filters = form.values()
    generations = filtered_generations(request.team, request.user, filters)
    page = paging.keyset_page(
        generations, request.GET.get("cursor"), size=PAGE_SIZE, newest_first=filters.get("sort") != "oldest"
    )
    if "q" in filters:
        total, exact = (len(page.object_list), True) if page.is_first and not page.next else (None, False)
    else:
        total, exact = paging.approximate_count(generations, paging.COUNT_CAP)
    context = {
        "form": form,
        "page": page,
        "total": total,
        "total_exact": exact,
        "filtered": bool(set(filters) - {"sort"}),
        "boards": boards,
        "bulk_url": reverse("bulk") + (f"?{request.GET.urlencode()}" if request.GET else ""),
    }
    response = render(request, _results_template(request), context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- bulk actions ---------------------------------------------------------------------------


def selected_generations(request: HttpRequest) -> list[Generation] | None:
    """The current team's generations among the posted ``ids`` (uuids), newest first.

    Ids that are malformed or of another team are dropped silently; None when more
    than ``BULK_LIMIT`` distinct ids were posted.
    """
    ids = set()
    for raw in request.POST.getlist("ids"):
        try:
            ids.add(uuid.UUID(raw))
        except ValueError:
            continue
    if len(ids) > BULK_LIMIT:
        return None
    if not ids:
        return []
    return list(
        Generation.objects.for_team(request.team)
        .filter(uuid__in=ids)
        .select_related("task", "asset", "author", "team")
        .order_by("-created_at", "-pk")
    )


def _favorite(request, generations, back, *, on: bool) -> HttpResponse:
    changed = actions.set_favorite(generations, request.user, on)
    if on:
        said = ngettext("Added to your favorites: %(n)d video.", "Added to your favorites: %(n)d videos.", changed)
    else:
        said = ngettext(
            "Removed from your favorites: %(n)d video.", "Removed from your favorites: %(n)d videos.", changed
        )
    messages.success(request, said % {"n": changed})
    return redirect(back)


def _review(request, generations, back) -> HttpResponse:
    sent = actions.send_to_review(generations, request.user)
    left = len(generations) - sent
    note = (
        ngettext(
            " (%(n)d video not completed or already reviewed was left out)",
            " (%(n)d videos not completed or already reviewed were left out)",
            left,
        )
        % {"n": left}
        if left
        else ""
    )
    said = ngettext("Sent to review: %(n)d video%(note)s.", "Sent to review: %(n)d videos%(note)s.", sent)
    messages.success(request, said % {"n": sent, "note": note})
    return redirect(back)


def _delete(request, generations, back) -> HttpResponse:
    """Without ``confirm=1``: the confirmation page. With it: delete those the member may."""
    allowed = [g for g in generations if g.changeable_by(request.membership)]
    kept = len(generations) - len(allowed)
    if not allowed:
        messages.error(request, gettext("You can delete only the videos you made."))
        return redirect(back)
    if request.POST.get("confirm") != "1":
        context = {"to_delete": allowed, "skipped": kept, "bulk_url": request.get_full_path(), "back": back}
        return render(request, "videos/history.html", context)
    for generation in allowed:
        actions.delete_generation(generation, request.user)
    note = (
        ngettext(" %(n)d video made by others was kept.", " %(n)d videos made by others were kept.", kept) % {"n": kept}
        if kept
        else ""
    )
    deleted = len(allowed)
    said = ngettext("Deleted %(n)d video, with their files.", "Deleted %(n)d videos, with their files.", deleted)
    messages.success(request, said % {"n": deleted} + note)
    return redirect(back)


ACTIONS = {
    "zip": zip_response,
    "favorite": lambda request, generations, back: _favorite(request, generations, back, on=True),
    "unfavorite": lambda request, generations, back: _favorite(request, generations, back, on=False),
    "review": _review,
    "delete": _delete,
    "board": board_pages.add_generations,
}
#: Actions that change the team's videos: not for viewers.
MEMBER_ACTIONS = {"review", "delete", "board"}


@require_POST
@team_required
def bulk(request: HttpRequest) -> HttpResponse:
    """Act on the ticked tiles: POST ``ids`` (generation uuids) and ``action``.

    ``zip`` streams a ZIP of their archived MP4s; ``favorite``/``unfavorite`` change
    the member's favorites; ``review`` sends the completed, unreviewed ones to the
    review desk; ``delete`` asks for confirmation, then (with ``confirm=1``) deletes
    those the member made (all of them for owners and admins). Viewers get 403 for
    ``review`` and ``delete``. Ids outside the current team are ignored. Everything
    but ``zip`` and the confirmation redirects to History with this request's
    query string (its filters and page) and a message.
    """
    action = request.POST.get("action", "")
    back = _history_url(request)
    if action not in ACTIONS:
        messages.error(request, gettext("Choose what to do with the selected videos."))
        return redirect(back)
    if action in MEMBER_ACTIONS and not request.membership.can_generate:
        raise PermissionDenied(gettext("Viewers cannot send videos to review or delete them."))
    generations = selected_generations(request)
    if generations is None:
        messages.error(request, gettext("Select at most %(n)d videos at a time.") % {"n": BULK_LIMIT})
        return redirect(back)
    if not generations:
        messages.error(request, gettext("Tick at least one video first."))
        return redirect(back)
    return ACTIONS[action](request, generations, back)
