"""Notes on a finished video's timeline (add, reply, resolve, reopen) and its versions
compared side by side.

The notes panel on a generation's page is ``templates/videos/_notes.html``, fed by the
``notes_panel`` template tag (``videos/templatetags/notes.py``); with htmx every form here
gets the panel back (``_notes.html#panel``), without it a redirect to the page (or, for a
refused note, the panel on a page of its own with the message next to the field, 400).
Every object is looked up inside the current team: another team's video or note is 404.
"""

from __future__ import annotations

import difflib

from django import forms
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from accounts.access import get_for_team, team_required
from videos import actions
from videos.actions.notes import NOTE_MAX_CHARS
from videos.lib.timecode import parse_tc
from videos.models import Generation, Note

_BAD_TC = _("Type a time code like 0:02.5 or 2.5 (seconds).")


class NoteForm(forms.Form):
    """A note pinned at ``time`` (a time code, or seconds), covering the range to ``end``
    when given. The time code's place in the video is checked by ``actions.add_note``."""

    time = forms.CharField(label=_("Time code"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    end = forms.CharField(label=_("Until (optional)"), max_length=20, required=False)
    body = forms.CharField(
        label=_("Note"),
        max_length=NOTE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("What should change here? @name tells a teammate")}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "note-%s")
        super().__init__(*args, **kwargs)

    def _tc(self, name):
        text = self.cleaned_data.get(name) or ""
        if not text.strip():
            return None
        try:
            return parse_tc(text)
        except ValueError:
            raise forms.ValidationError(_BAD_TC) from None

    def clean_time(self):
        return self._tc("time")

    def clean_end(self):
        return self._tc("end")


class ReplyForm(forms.Form):
    """A reply to a pinned note; the "Reply and resolve" button also resolves it."""

    body = forms.CharField(label=_("Reply"), max_length=NOTE_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 1}))


def _generation(request, uuid) -> Generation:
    return get_for_team(request, Generation.objects.select_related("team", "task", "asset", "author"), uuid=uuid)


def _note(generation: Generation, note_uuid) -> Note:
    return get_object_or_404(
        Note.objects.select_related("author", "generation"), generation=generation, uuid=note_uuid, parent__isnull=True
    )


def _answer(request, generation: Generation, *, status: int = 200, **context):
    """The panel again (htmx), or back to the page; a refusal without htmx gets the panel
    on a page of its own, with the message next to the field (``status`` 400)."""
    context = {"generation": generation, **context}
    if request.htmx:
        return render(request, "videos/_notes.html#panel", context)
    if status != 200:
        return render(request, "videos/note_refused.html", context, status=status)
    return redirect(reverse("generation", args=[generation.uuid]) + "#notes")


@require_POST
@team_required
def note_add(request, uuid):
    """POST ``time`` (a time code), optional ``end`` and ``body``: pin a note to the video.

    A time code outside the video, a backwards range, an empty body or markup is refused
    next to its field and nothing is stored (htmx: the panel with the errors; otherwise 400)."""
    generation = _generation(request, uuid)
    form = NoteForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.add_note(generation, request.user, data["body"], data["time"], data["end"])
        except actions.NoteRefused as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    if form.errors:
        return _answer(request, generation, status=400, note_form=form)
    return _answer(request, generation)


@require_POST
@team_required
def note_reply(request, uuid, note):
    """POST ``body`` (and ``resolve`` to resolve the note too): reply to a pinned note.
    Resolving needs the right to (``Note.resolvable_by``: 403, nothing stored)."""
    generation = _generation(request, uuid)
    pinned = _note(generation, note)
    resolve_it = "resolve" in request.POST
    if resolve_it and not pinned.resolvable_by(request.membership):
        raise PermissionDenied(gettext("Only the note's author, the video's author or an admin can resolve it."))
    form = ReplyForm(request.POST, auto_id=f"reply-{pinned.uuid}-%s")
    if form.is_valid():
        try:
            actions.reply(pinned, request.user, form.cleaned_data["body"], resolve_it=resolve_it)
        except actions.NoteRefused as exc:
            form.add_error("body", exc.message)
    if form.errors:
        return _answer(request, generation, status=400, reply_forms={pinned.pk: form})
    return _answer(request, generation)


def _settle(request, uuid, note, action):
    generation = _generation(request, uuid)
    pinned = _note(generation, note)
    if not pinned.resolvable_by(request.membership):
        raise PermissionDenied(gettext("Only the note's author, the video's author or an admin can change it."))
    action(pinned, request.user)  # already so: nothing to change, the panel shows how it stands
    return _answer(request, generation)


@require_POST
@team_required
def note_resolve(request, uuid, note):
    """Resolve a pinned note (its author, the video's author, owners and admins; else 403)."""
    return _settle(request, uuid, note, actions.resolve)


@require_POST
@team_required
def note_reopen(request, uuid, note):
    """Reopen a resolved note (who may resolve it may reopen it)."""
    return _settle(request, uuid, note, actions.reopen)


# --- versions ------------------------------------------------------------------------------


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """The prompt's words from ``old`` to ``new`` as ``(op, text)`` pieces, ``op`` one of
    ``same``, ``removed``, ``added`` (``difflib`` on whitespace-separated words)."""
    a, b = old.split(), new.split()
    pieces = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            pieces.append(("same", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(("removed", " ".join(a[i1:i2])))
        if j2 > j1:
            pieces.append(("added", " ".join(b[j1:j2])))
    return pieces


#: The options a version's table compares, in order, with their labels.
OPTION_ROWS = [
    ("model", _("Model")),
    ("duration", _("Duration (s)")),
    ("aspect_ratio", _("Aspect ratio")),
    ("resolution", _("Resolution")),
    ("audio", _("Audio")),
]


def option_rows(left: Generation, right: Generation) -> list[dict]:
    """One row per option either version has: its label, each side's value ("—" when
    absent) and whether they differ. The gateway and model come from the generation."""

    def value(g, name):
        if name == "model":
            return f"{g.dialect} · {g.model_name}"
        found = (g.options or {}).get(name)
        return "—" if found in (None, "") else str(found)

    names = [n for n, _label in OPTION_ROWS]
    extra = sorted(({*(left.options or {}), *(right.options or {})}) - set(names))
    labels = dict(OPTION_ROWS)
    rows = []
    for name in names + extra:
        a, b = value(left, name), value(right, name)
        if name != "model" and a == b == "—":
            continue
        rows.append({"label": labels.get(name, name), "left": a, "right": b, "changed": a != b})
    return rows


@require_GET
@team_required
def compare(request, uuid, other):
    """Two versions of one video side by side (``uuid`` on the left, ``other`` on the
    right), their players in step (``static/js/compare.js``), the prompt's word diff and a
    table of options. Both must be in the team (404) and in one version chain (404)."""
    left = get_for_team(request, Generation.objects.select_related("task", "asset", "author"), uuid=uuid)
    right = get_for_team(request, Generation.objects.select_related("task", "asset", "author"), uuid=other)
    chain = Generation.objects.versions_of(left)
    numbers = {g.pk: i for i, g in enumerate(chain, 1)}
    if right.pk not in numbers:
        from django.http import Http404

        raise Http404(gettext("These two are not versions of one video."))
    context = {
        "left": left,
        "right": right,
        "left_number": numbers[left.pk],
        "right_number": numbers[right.pk],
        "chain": chain,
        "prompt_diff": word_diff(left.prompt, right.prompt),
        "options": option_rows(left, right),
    }
    return render(request, "videos/compare.html", context)
