"""The team's audit trail and each member's notifications.

*Audit trail*: a read-only page of the team's ``AuditEntry`` rows, newest first, each
read as a sentence ("alice sent “sunset over…” to review") with its target linked,
filtered by GET parameters (``?action=key.added&actor=alice&since=2026-12-01``), paged with the keyset
helper (``?cursor=``, ``videos.lib.paging``; a tampered cursor means the first page),
and the same filtered entries as a streamed CSV (``audit_export``).

*Notifications*: the list page shows a member their notifications and marks the shown
ones read (the nav badge is ``videos.web.live.badges``).
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time, timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from accounts.access import team_required
from accounts.models import Membership, Role
from videos import actions
from videos.lib.csvtext import csv_lines
from videos.lib.files import content_disposition
from videos.lib.paging import keyset_page
from videos.lib.timecode import format_tc
from videos.models import (
    AuditEntry,
    Board,
    GatewayKey,
    Generation,
    Notification,
    PromptTemplate,
    Sequence,
    WebhookEndpoint,
)

AUDIT_PAGE = 50
NOTIFICATIONS_PAGE = 30


#: The days the date filter takes (both included).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)


#: Each action's name in the audit trail's filter (``videos.audit.ACTIONS``; the code is shown
#: beside each entry).
ACTION_LABELS = {
    "board.changed": _("Board changed"),
    "board.created": _("Board created"),
    "board.deleted": _("Board deleted"),
    "board.items_added": _("Videos added to a board"),
    "board.items_removed": _("Videos removed from a board"),
    "board.sequence_added": _("Sequence added to a board"),
    "board.sequence_removed": _("Sequence removed from a board"),
    "budget.changed": _("Budgets changed"),
    "frame.taken": _("Frame taken"),
    "generation.abandoned": _("Generation abandoned"),
    "generation.approved": _("Spending approved"),
    "generation.cancelled": _("Generation cancelled"),
    "generation.declined": _("Spending declined"),
    "generation.deleted": _("Generation deleted"),
    "generation.resubmitted": _("Generation resubmitted"),
    "generation.retried": _("Generation retried"),
    "generation.reviewed": _("Video reviewed"),
    "generation.sent_to_review": _("Sent to review"),
    "generation.submitted": _("Generation submitted"),
    "generation.take_chosen": _("Take chosen"),
    "generation.takes_archived": _("Other takes archived"),
    "generations.downloaded": _("Videos downloaded"),
    "key.added": _("Key added"),
    "key.changed": _("Key changed"),
    "key.checked": _("Key tested"),
    "key.deleted": _("Key deleted"),
    "key.replaced": _("Key secret replaced"),
    "member.invitation_revoked": _("Invitation revoked"),
    "member.invited": _("Member invited"),
    "member.joined": _("Member joined"),
    "member.left": _("Member left"),
    "member.removed": _("Member removed"),
    "member.role_changed": _("Role changed"),
    "note.added": _("Note added"),
    "note.reopened": _("Note reopened"),
    "note.replied": _("Note replied to"),
    "note.resolved": _("Note resolved"),
    "price.deleted": _("Team price deleted"),
    "price.set": _("Team price set"),
    "sequence.created": _("Sequence created"),
    "sequence.deleted": _("Sequence deleted"),
    "sequence.rendered": _("Sequence rendered"),
    "sequence.reordered": _("Shots reordered"),
    "sequence.shot_added": _("Shot added"),
    "sequence.shot_removed": _("Shot removed"),
    "share.created": _("Share link created"),
    "share.guest_note": _("Guest note"),
    "share.revoked": _("Share link revoked"),
    "share.viewed": _("Share link opened"),
    "team.export_gate": _("Export gate changed"),
    "team.renamed": _("Team renamed"),
    "template.changed": _("Template changed"),
    "template.deleted": _("Template deleted"),
    "template.saved": _("Template saved"),
    "token.created": _("Access token created"),
    "token.first_used": _("Access token first used"),
    "token.revoked": _("Access token revoked"),
    "webhook.added": _("Webhook added"),
    "webhook.deleted": _("Webhook deleted"),
    "webhook.disabled": _("Webhook disabled"),
    "webhook.enabled": _("Webhook enabled"),
    "webhook.redelivered": _("Webhook delivery resent"),
    "webhook.tested": _("Webhook test sent"),
}


class DateInput(forms.DateInput):
    input_type = "date"


class AuditFilterForm(forms.Form):
    """The audit page's filters: an action, an actor (by username) and a range of days
    (``since``/``until``, whole days in the current time zone, both included), each
    optional. The choices are what the team's trail holds, so a bookmarked filter still reads."""

    action = forms.ChoiceField(label=_("Action"), required=False)
    actor = forms.ChoiceField(label=_("Who"), required=False)
    since = forms.DateField(label=_("From"), required=False, widget=DateInput)
    until = forms.DateField(label=_("To"), required=False, widget=DateInput)

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
        self.fields["action"].choices = [("", _("Any action")), *((a, ACTION_LABELS.get(a, a)) for a in actions)]
        self.fields["actor"].choices = [("", _("Anyone")), *((u, u) for u in actors)]

    def clean(self):
        data = super().clean()
        for name in ("since", "until"):
            # Day 1 and the last day, shifted to UTC, fall outside what a datetime holds.
            if data.get(name) and not FIRST_DAY <= data[name] <= LAST_DAY:
                self.add_error(name, _("That day is out of range."))
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("“To” is before “From”."))
        return data


def filtered_entries(form: AuditFilterForm, team) -> QuerySet:
    """The team's entries, newest first, narrowed by whichever of ``form``'s fields validated
    (an invalid one is not applied; its error shows in the form)."""
    entries = AuditEntry.objects.filter(team=team).select_related("actor").order_by("-created_at", "-pk")
    if not form.is_bound:
        return entries
    form.is_valid()
    chosen = getattr(form, "cleaned_data", {})
    if chosen.get("action"):
        entries = entries.filter(action=chosen["action"])
    if chosen.get("actor"):
        entries = entries.filter(actor__username=chosen["actor"])
    zone = timezone.get_current_timezone()
    if chosen.get("since") and "since" not in form.errors:
        entries = entries.filter(created_at__gte=datetime.combine(chosen["since"], time.min, zone))
    if chosen.get("until") and "until" not in form.errors:
        entries = entries.filter(created_at__lt=datetime.combine(chosen["until"] + timedelta(days=1), time.min, zone))
    return entries


#: Each audited action (``videos.audit.ACTIONS``) as a sentence: ``%(actor)s`` who did it,
#: ``%(target)s`` what to (linked to its page when it has one), ``%(role)s`` a member's role;
#: a few take another word from the entry's data (``%(old)s``, ``%(verdict)s``, ``%(shot)s``…).
SENTENCES = {
    # generations
    "generation.submitted": _("%(actor)s asked for %(target)s"),
    "generation.approved": _("%(actor)s approved spending on %(target)s"),
    "generation.declined": _("%(actor)s declined spending on %(target)s"),
    "generation.retried": _("%(actor)s retried %(target)s"),
    "generation.cancelled": _("%(actor)s cancelled %(target)s"),
    "generation.deleted": _("%(actor)s deleted %(target)s"),
    "generation.resubmitted": _("%(actor)s sent %(target)s to the gateway again"),
    "generation.abandoned": _("%(actor)s gave up on %(target)s"),
    "generation.take_chosen": _("%(actor)s chose %(target)s as the take"),
    "generation.takes_archived": _("%(actor)s archived the other takes of %(target)s"),
    "generation.sent_to_review": _("%(actor)s sent %(target)s to review"),
    "generation.reviewed": _("%(actor)s reviewed %(target)s"),
    "generations.downloaded": _("%(actor)s downloaded %(target)s"),
    # frames, sequences and shots
    "frame.taken": _("%(actor)s took a frame at %(time)s from %(target)s"),
    "sequence.created": _("%(actor)s made the sequence “%(target)s”"),
    "sequence.shot_added": _("%(actor)s added %(shot)s to the sequence “%(target)s”"),
    "sequence.shot_removed": _("%(actor)s took a shot out of the sequence “%(target)s”"),
    "sequence.reordered": _("%(actor)s reordered the shots of the sequence “%(target)s”"),
    "sequence.rendered": _("%(actor)s rendered the sequence “%(target)s”"),
    "sequence.deleted": _("%(actor)s deleted the sequence “%(target)s”"),
    # notes and share links
    "note.added": _("%(actor)s left a note on %(target)s"),
    "note.replied": _("%(actor)s replied to a note on %(target)s"),
    "note.resolved": _("%(actor)s resolved a note on %(target)s"),
    "note.reopened": _("%(actor)s reopened a note on %(target)s"),
    "share.created": _("%(actor)s made a share link to %(target)s"),
    "share.revoked": _("%(actor)s revoked a share link to %(target)s"),
    "share.viewed": _("A guest opened a share link to %(target)s"),
    "share.guest_note": _("A guest left a note on %(target)s"),
    # boards and the prompt library
    "board.created": _("%(actor)s made the board “%(target)s”"),
    "board.changed": _("%(actor)s edited the board “%(target)s”"),
    "board.deleted": _("%(actor)s deleted the board “%(target)s”"),
    "board.items_added": _("%(actor)s added videos to the board “%(target)s”"),
    "board.items_removed": _("%(actor)s took videos off the board “%(target)s”"),
    "board.sequence_added": _("%(actor)s added the sequence “%(sequence)s” to the board “%(target)s”"),
    "board.sequence_removed": _("%(actor)s took the sequence “%(sequence)s” off the board “%(target)s”"),
    "template.saved": _("%(actor)s saved the prompt template “%(target)s”"),
    "template.changed": _("%(actor)s edited the prompt template “%(target)s”"),
    "template.deleted": _("%(actor)s deleted the prompt template “%(target)s”"),
    # gateway keys, team prices, webhooks
    "key.added": _("%(actor)s added the key %(target)s"),
    "key.changed": _("%(actor)s pointed the key %(target)s at another address"),
    "key.checked": _("%(actor)s checked the key %(target)s: %(verdict)s"),
    "key.replaced": _("%(actor)s replaced the secret of the key %(target)s"),
    "key.deleted": _("%(actor)s deleted the key %(target)s"),
    "price.set": _("%(actor)s changed the team's price for %(target)s"),
    "price.deleted": _("%(actor)s removed the team's price for %(target)s"),
    "webhook.added": _("%(actor)s added the webhook endpoint %(target)s"),
    "webhook.deleted": _("%(actor)s deleted the webhook endpoint %(target)s"),
    "webhook.enabled": _("%(actor)s turned on the webhook endpoint %(target)s"),
    "webhook.disabled": _("%(actor)s turned off the webhook endpoint %(target)s"),
    "webhook.tested": _("%(actor)s sent a test event to the webhook endpoint %(target)s"),
    "webhook.redelivered": _("%(actor)s sent an event again to the webhook endpoint %(target)s"),
    # the team, its members and their access tokens
    "team.renamed": _("%(actor)s renamed the team “%(old)s” to “%(target)s”"),
    "team.export_gate": _("%(actor)s changed which videos may leave the studio"),
    "budget.changed": _("%(actor)s changed the budgets of %(target)s"),
    "member.invited": _("%(actor)s made an invitation link for a new %(role)s"),
    "member.invitation_revoked": _("%(actor)s revoked an invitation link for a new %(role)s"),
    "member.joined": _("%(target)s joined the team"),
    "member.removed": _("%(actor)s removed %(target)s (%(role)s) from the team"),
    "member.left": _("%(target)s left the team"),
    "member.role_changed": _("%(actor)s made %(target)s %(role)s"),
    "token.created": _("%(actor)s made the access token %(target)s"),
    "token.first_used": _("%(actor)s used the access token %(target)s for the first time"),
    "token.revoked": _("%(actor)s revoked the access token %(target)s"),
}
#: A review's decision (``data["decision"]``) as its own sentence.
REVIEW_SENTENCES = {
    "accepted": _("%(actor)s accepted %(target)s"),
    "rejected": _("%(actor)s rejected %(target)s"),
    "changes": _("%(actor)s asked for changes to %(target)s"),
}
#: Sentences that depend on the entry's data: ``(action, data name, value)`` → sentence.
VARIANT_SENTENCES = {
    ("team.export_gate", "approved_only", True): _("%(actor)s let only approved videos leave the studio"),
    ("team.export_gate", "approved_only", False): _("%(actor)s let every finished video leave the studio"),
    ("price.set", "new", True): _("%(actor)s set a team price for %(target)s"),
}
#: An action with no actor that the studio itself did (not a since deleted user).
STUDIO_SENTENCES = {
    "webhook.disabled": _("The studio turned off the webhook endpoint %(target)s"),
}
#: A renamed key (``key.changed`` with a new ``label`` and the same address).
KEY_RENAMED = _("%(actor)s renamed the key %(target)s to “%(label)s”")
#: Any other action (an entry from before its name was retired).
OTHER_SENTENCE = _("%(actor)s: %(action)s %(target)s")

#: A key check's verdict (``KeyVerdict`` values) in a word or two.
VERDICT_WORDS = {
    "works": _("it works"),
    "wrong_key": _("wrong key"),
    "wrong_base_url": _("wrong base URL"),
    "blocked": _("address blocked"),
    "unsure": _("unsure, try again"),
}


def _role_word(value) -> str:
    try:
        return str(Role(value).label).lower()
    except ValueError:
        return str(value or "")


def _template(entry: AuditEntry, data: dict):
    """The sentence (a lazy translation with ``%(name)s`` slots) ``entry`` reads as."""
    if entry.action == "generation.reviewed" and data.get("decision") in REVIEW_SENTENCES:
        return REVIEW_SENTENCES[data["decision"]]
    if entry.actor_id is None and entry.action in STUDIO_SENTENCES:
        return STUDIO_SENTENCES[entry.action]
    if entry.action == "key.changed" and data.get("label") and "base_url" not in data:
        return KEY_RENAMED
    for (action, name, value), template in VARIANT_SENTENCES.items():
        if entry.action == action and data.get(name) is value:
            return template
    return SENTENCES.get(entry.action, OTHER_SENTENCE)


def _words(entry: AuditEntry, data: dict) -> dict[str, str]:
    """The slots besides actor and target, as plain text, from the entry's data."""
    role = _role_word(data.get("new") if entry.action == "member.role_changed" else data.get("role"))
    words = {
        "role": role,
        "action": entry.action,
        "old": str(data.get("old") or ""),
        "label": str(data.get("label") or ""),
    }
    verdict = str(data.get("verdict") or "")
    words["verdict"] = str(VERDICT_WORDS.get(verdict, verdict or gettext("no answer")))
    time_s = data.get("time_s")
    timed = isinstance(time_s, int | float) and not isinstance(time_s, bool)
    words["time"] = format_tc(float(time_s)) if timed else gettext("some point")
    words["shot"] = gettext("a shot")
    words["sequence"] = str(data.get("sequence") or gettext("a sequence"))
    return words


def _shot_and_sequence(target: str) -> tuple[str, str]:
    """``sequence.shot_added``'s target ``“prompt…” → name`` as (the shot, the sequence name)."""
    shot, arrow, name = target.partition("” → ")
    return (shot + "”", name) if arrow else ("", target)


def sentence(entry: AuditEntry, link: str | None = None, *, html: bool = True) -> str:
    """``entry`` as a sentence: "alice sent “sunset over…” to review". With ``html`` it is
    escaped markup, the actor in ``<span class="actor">`` and the target a link to ``link``
    when given; without, plain text (for the CSV). An action without a sentence reads
    "alice: its.name target"."""
    data = entry.data if isinstance(entry.data, dict) else {}
    template = _template(entry, data)
    actor = entry.actor.get_username() if entry.actor else gettext("A deleted user")
    target = entry.target or gettext("something")
    words = _words(entry, data)
    if entry.action == "sequence.shot_added":
        shot, target = _shot_and_sequence(target)
        words["shot"] = shot or words["shot"]
    if not html:
        return str(template) % {"actor": actor, "target": target, **words}
    parts = {name: conditional_escape(value) for name, value in words.items()}
    parts |= {
        "actor": format_html('<span class="actor">{}</span>', actor),
        "target": format_html('<a href="{}">{}</a>', link, target) if link else conditional_escape(target),
        "action": format_html("<code>{}</code>", entry.action),
    }
    return mark_safe(conditional_escape(str(template)) % parts)  # noqa: S308 (every part escaped)


#: The actions whose data ``uuid`` names a generation (the others name a sequence).
GENERATION_ACTIONS = ("generation.", "frame.", "note.", "share.")
#: The actions about the team itself: its page is the teams page.
TEAM_ACTIONS = ("team.renamed", "team.export_gate", "budget.changed", "member.invited", "member.invitation_revoked")


def _uuid(entry: AuditEntry) -> uuid.UUID | None:
    try:
        return uuid.UUID(str((entry.data or {}).get("uuid")))
    except (AttributeError, TypeError, ValueError):
        return None


def target_links(entries: list[AuditEntry], request) -> dict[int, str]:
    """``{entry pk: URL}`` for the entries whose target still exists and that the member may
    open: a generation or a sequence of the team (by the ``uuid`` in its data), a board, a
    prompt template or a webhook endpoint of the team (by its name or address), a key of the
    member's own (by its label and masked secret), a member still in the team, the team's
    prices, the member's own access tokens. A few queries a page."""
    team = request.team
    ids = {a: {_uuid(e) for e in entries if e.action.startswith(a)} - {None} for a in ("generation", "sequence")}
    ids["generation"] |= {_uuid(e) for e in entries if e.action.startswith(GENERATION_ACTIONS)} - {None}
    generations = set(
        Generation.objects.for_team(team).filter(uuid__in=ids["generation"]).values_list("uuid", flat=True)
    )
    sequences = set(Sequence.objects.for_team(team).filter(uuid__in=ids["sequence"]).values_list("uuid", flat=True))
    names = {e.target for e in entries}
    boards = dict(Board.objects.for_team(team).filter(name__in=names).values_list("name", "uuid"))
    templates = set(PromptTemplate.objects.for_team(team).filter(name__in=names).values_list("name", flat=True))
    endpoints = dict(WebhookEndpoint.objects.for_team(team).filter(url__in=names).values_list("url", "uuid"))
    keys = {f"{k.label} ({k.masked})" for k in GatewayKey.objects.owned_by(team, request.user)}
    members = set(Membership.objects.filter(team=team).values_list("user__username", flat=True))
    links = {}
    for entry in entries:
        action, target, key = entry.action, entry.target, _uuid(entry)
        if action.startswith(GENERATION_ACTIONS) and key in generations:
            links[entry.pk] = reverse("generation", args=[key])
        elif action.startswith("sequence.") and key in sequences:
            links[entry.pk] = reverse("sequence", args=[key])
        elif action.startswith("board.") and target in boards:
            links[entry.pk] = reverse("board", args=[boards[target]])
        elif action.startswith("template.") and target in templates:
            links[entry.pk] = reverse("prompts")
        elif action.startswith("webhook.") and target in endpoints:
            links[entry.pk] = reverse("webhook", args=[endpoints[target]])
        elif action.startswith("key.") and target in keys:
            links[entry.pk] = reverse("keys")
        elif action.startswith("price."):
            links[entry.pk] = reverse("prices")
        elif action.startswith("token.") and entry.actor_id == request.user.pk:
            links[entry.pk] = reverse("account") + "#tokens"
        elif action in ("member.joined", "member.role_changed") and target in members:
            links[entry.pk] = reverse("teams")
        elif action in TEAM_ACTIONS:
            links[entry.pk] = reverse("teams")
    return links


#: A moment as the actions store it in an entry's data: ISO 8601 with its offset.
_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:\d\d|Z)")


def _moment(value: str, zone) -> str:
    """``value`` shifted to ``zone`` (``2026-12-09T01:00+00:00`` → ``2026-12-09T09:00+08:00``)
    when it is a stored moment; anything else unchanged."""
    if not _MOMENT.fullmatch(value):
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return timezone.localtime(moment, zone).isoformat(timespec="minutes")


def entry_details(data, zone=None) -> list[tuple[str, str]]:
    """An entry's ``data`` as (name, text) lines for the page: a value ``{"old": a, "new": b}``
    (or ``old`` and ``new`` keys at the top) reads "a → b", an empty value "none", a stored
    moment (ISO 8601 with an offset) in ``zone`` (default: the member's)."""
    if not isinstance(data, dict):
        return [("data", str(data))] if data else []
    zone = zone or timezone.get_current_timezone()
    none = pgettext("an empty value in the audit trail", "none")

    def text(value) -> str:
        if isinstance(value, dict) and value.keys() == {"old", "new"}:
            return f"{text(value['old'])} → {text(value['new'])}"
        if isinstance(value, str):
            return _moment(value, zone) if value else none
        return none if value is None else str(value)

    lines = [(str(name), text(value)) for name, value in data.items() if name not in ("old", "new")]
    if "old" in data and "new" in data:  # a change of the target itself (a member's role)
        lines.insert(0, ("change", text({"old": data["old"], "new": data["new"]})))
    return lines


@require_GET
@team_required(can_manage=True)
def audit_log(request):
    """GET: the team's audit trail, newest first, 50 a page (owners and admins; others 403).

    Each entry reads as a sentence, its target linked to its page while it exists.
    ``?action=``, ``?actor=`` (a username), ``?since=`` and ``?until=`` (days, YYYY-MM-DD)
    filter it; an unknown or malformed value is shown as a form error and that filter is
    not applied. Paged by ``?cursor=`` ("Newer"/"Older" links that keep the filters; the
    same cost at any depth); a missing, tampered or stale cursor means the first page. Read-only: no URL edits or deletes entries (POST is 405). htmx (the
    filter form) gets the results only.
    """
    form = AuditFilterForm(request.GET or None, team=request.team)
    entries = filtered_entries(form, request.team)
    page = keyset_page(entries, request.GET.get("cursor"), size=AUDIT_PAGE)
    links = target_links(page.object_list, request)
    for entry in page.object_list:
        entry.details = entry_details(entry.data)
        entry.sentence = sentence(entry, links.get(entry.pk))
    context = {"form": form, "page": page, "filtered": form.is_bound and any(form.data.get(n) for n in form.fields)}
    template = "videos/audit.html#results" if request.htmx and not request.htmx.boosted else "videos/audit.html"
    response = render(request, template, context)
    # The same URL answers a whole page or its results partial: caches must keep both.
    patch_vary_headers(response, ["HX-Request"])
    return response


#: The export's columns.
EXPORT_COLUMNS = ("when", "who", "action", "sentence", "target", "details")


@require_GET
@team_required(can_manage=True)
def audit_export(request):
    """GET: the entries the audit page shows for the same query (all pages) as a CSV, each
    ``when`` in ISO 8601 with the member's zone's offset (``2026-12-02T08:00:00+08:00``),
    streamed (memory flat), every cell safe to open in a spreadsheet (``lib.csvtext``).
    A filter that does not validate sends the member back to the page, where the form says why."""
    form = AuditFilterForm(request.GET or None, team=request.team)
    if form.is_bound and not form.is_valid():
        return redirect(f"{reverse('audit_log')}?{request.GET.urlencode()}")
    entries = filtered_entries(form, request.team)
    # The member's zone, taken now: the rows are made while the response streams out.
    zone = timezone.get_current_timezone()

    def rows():
        yield EXPORT_COLUMNS
        for entry in entries.iterator(chunk_size=500):
            details = "; ".join(f"{name}: {value}" for name, value in entry_details(entry.data, zone))
            yield (
                timezone.localtime(entry.created_at, zone).isoformat(timespec="seconds"),
                entry.actor.get_username() if entry.actor else "",
                entry.action,
                sentence(entry, html=False),
                entry.target,
                details,
            )

    response = StreamingHttpResponse(csv_lines(rows()), content_type="text/csv; charset=utf-8")
    filename = f"audit-{slugify(request.team.name) or 'team'}-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = content_disposition(filename, attachment=True)
    response["Cache-Control"] = "no-store"
    return response


# --- notifications -----------------------------------------------------------------------------


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
