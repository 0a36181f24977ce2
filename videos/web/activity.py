"""The team's audit trail and each member's notifications.

*Audit trail*: a read-only page of the team's ``AuditEntry`` rows, newest first,
filtered by GET parameters (``?action=key.added&actor=alice&page=2``).

*Notifications*: ``notification_count`` is a context processor for the nav badge
(one indexed COUNT, only when a template uses it, never for anonymous users); the
list page shows a member their notifications and marks the shown ones read.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_GET

from accounts.access import team_required
from videos import actions
from videos.models import AuditEntry, Notification

AUDIT_PAGE = 50
NOTIFICATIONS_PAGE = 30


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
    template = "videos/audit.html#results" if request.htmx and not request.htmx.boosted else "videos/audit.html"
    response = render(request, template, context)
    # The same URL answers a whole page or its results partial: caches must keep both.
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- notifications -----------------------------------------------------------------------------


def notification_count(request) -> dict:
    """Context processor: ``notification_count``, the user's unread notifications.

    Lazy: the COUNT runs only when a template reads it, once per response. Nothing
    (and no query) for anonymous users.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notification_count": SimpleLazyObject(lambda: Notification.objects.unread_for(user).count())}


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
    actions.mark_read(shown)
    return render(request, "videos/notifications.html", {"page": page, "notes": shown})
