"""Notes on a finished video's timeline: add one at a time code (or over a range), reply,
resolve, reopen.

Every note and reply is plain text (markup is refused, not escaped away), mentions
teammates as ``@username`` (each mentioned member of the team is notified), and tells
the video's author of every new note. Each function records its audit entry
(``note.added``, ``note.replied``, ``note.resolved``, ``note.reopened``).
"""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from videos import audit
from videos.lib.timecode import format_tc
from videos.models import Generation, Note, TaskState
from videos.timeline import clean_text

#: The longest note or reply, in characters.
NOTE_MAX_CHARS = 2000
#: An HTML tag's start: ``<b``, ``</``, ``<!--``, ``<?``. "a < b" is fine.
_MARKUP = re.compile(r"<[/!?a-zA-Z]")
_MENTION = re.compile(r"(?<![\w@])@([\w.+-]+)")


class NoteRefused(ValueError):
    """A note that cannot be stored: ``field`` names the form field at fault (``body``,
    ``time``, ``end``), ``message`` says why, for the member who typed it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def _clean_body(body: str) -> str:
    body = clean_text(body or "").strip()
    if not body:
        raise NoteRefused("body", gettext("Write the note first."))
    if len(body) > NOTE_MAX_CHARS:
        raise NoteRefused("body", gettext("A note is at most %(n)d characters.") % {"n": NOTE_MAX_CHARS})
    if _MARKUP.search(body):
        raise NoteRefused("body", gettext("Notes are plain text: remove the markup (the part starting with “<”)."))
    return body


def mentioned(generation: Generation, body: str) -> list:
    """The members of ``generation``'s team that ``body`` mentions as ``@username``
    (case-insensitive), each once; names of anyone outside the team are ignored."""
    from accounts.models import User

    names = {name.rstrip(".").lower() for name in _MENTION.findall(body)}
    if not names:
        return []
    members = User.objects.filter(memberships__team_id=generation.team_id).distinct()
    return [u for u in members if u.get_username().lower() in names]


def _tell(note: Note, actor, tell_first: list, message) -> None:
    """Notify ``tell_first`` (the author, the note's author…) and everyone ``note`` mentions,
    each once, never ``actor``; ``message``: a function of no arguments that words it in the
    active language, called in each recipient's."""
    generation = note.generation
    told = {actor.pk}
    for user in [*tell_first, *mentioned(generation, note.body)]:
        if user is None or user.pk in told:
            continue
        told.add(user.pk)
        with audit.speaking_to(user):
            text = message() if callable(message) else message
        audit.notify(user, generation.team, text, generation=generation)


def add_note(generation: Generation, author, body: str, time_s: float, end_s: float | None = None) -> Note:
    """Pin a note by ``author`` to ``time_s`` seconds of ``generation``'s video (over the
    range to ``end_s`` when given) and tell the video's author and every ``@mention``ed
    teammate. Raises NoteRefused (nothing stored) when the video is not finished, the
    time code is outside the video, the range is backwards, or the body is empty, too
    long or holds markup."""
    asset = getattr(generation, "asset", None)
    if generation.task.state != TaskState.COMPLETED or asset is None:
        raise NoteRefused("time", gettext("Notes go on a finished video."))
    duration = asset.duration_s
    if time_s is None or not 0 <= time_s <= duration:
        raise NoteRefused(
            "time",
            gettext("The time code must be within the video: 0:00.0 to %(end)s.") % {"end": format_tc(duration)},
        )
    if end_s is not None and not time_s < end_s <= duration:
        raise NoteRefused(
            "end",
            gettext("The range must end after it starts and by the end of the video (%(end)s).")
            % {"end": format_tc(duration)},
        )
    body = _clean_body(body)
    with transaction.atomic():
        note = Note.objects.create(generation=generation, author=author, time_s=time_s, end_s=end_s, body=body)
        label = audit.describe(generation)
        audit.record_action(
            generation.team, author, "note.added", label, uuid=str(generation.uuid), note=str(note.uuid), at=time_s
        )
        params = {"who": author.get_username(), "at": format_tc(time_s), "video": label, "body": body}
        _tell(
            note,
            author,
            [generation.author],
            lambda: gettext("%(who)s left a note at %(at)s on %(video)s: %(body)s") % params,
        )
    return note


def reply(note: Note, author, body: str, *, resolve_it: bool = False) -> Note:
    """Reply to the pinned ``note`` as ``author`` (and resolve it when ``resolve_it``); tells
    the note's author, the video's author and every ``@mention``ed teammate. Raises
    NoteRefused for an empty, too long or marked-up body; ValueError for a reply to a reply."""
    if note.parent_id is not None:
        raise ValueError("a reply answers a pinned note, not another reply")
    body = _clean_body(body)
    generation = note.generation
    with transaction.atomic():
        answer = Note.objects.create(generation=generation, parent=note, author=author, body=body)
        label = audit.describe(generation)
        audit.record_action(
            generation.team, author, "note.replied", label, uuid=str(generation.uuid), note=str(note.uuid)
        )
        params = {"who": author.get_username(), "at": format_tc(note.time_s), "video": label, "body": body}
        _tell(
            answer,
            author,
            [note.author, generation.author],
            lambda: gettext("%(who)s replied to the note at %(at)s on %(video)s: %(body)s") % params,
        )
        if resolve_it:
            resolve(note, author)
    return answer


def resolve(note: Note, actor) -> bool:
    """Mark the pinned ``note`` resolved by ``actor`` (now); False, and nothing changes, when
    it was resolved already (a conditional update)."""
    return _set_resolved(note, actor, resolved=True)


def reopen(note: Note, actor) -> bool:
    """Open the resolved ``note`` again; False, and nothing changes, when it was open."""
    return _set_resolved(note, actor, resolved=False)


def _set_resolved(note: Note, actor, *, resolved: bool) -> bool:
    """Resolve the open top-level ``note`` (``resolved``) or open the resolved one again, as
    a conditional update, and record ``note.resolved``/``note.reopened``. False, and
    nothing changes, when it was that way already."""
    now = timezone.now() if resolved else None
    by = actor if resolved else None
    with transaction.atomic():
        if (
            Note.objects.filter(pk=note.pk, parent__isnull=True, resolved_at__isnull=resolved).update(
                resolved_at=now, resolved_by=by
            )
            != 1
        ):
            return False
        note.resolved_at, note.resolved_by = now, by
        audit.record_action(
            note.generation.team,
            actor,
            "note.resolved" if resolved else "note.reopened",
            audit.describe(note.generation),
            uuid=str(note.generation.uuid),
            note=str(note.uuid),
        )
    return True


def open_notes_summary(generation: Generation, limit: int = 5) -> str:
    """The first ``limit`` open notes of ``generation`` in one line, for the "changes
    requested" notification: ``0:02.5 “fix the sky”; 0:04.0 “…” (and 2 more)``; "" without any."""
    notes = list(Note.objects.filter(generation=generation).open())
    if not notes:
        return ""
    parts = [f"{format_tc(n.time_s)} “{n.body[:60]}{'…' if len(n.body) > 60 else ''}”" for n in notes[:limit]]
    more = len(notes) - limit
    line = "; ".join(parts)
    if more > 0:
        line += " " + gettext("(and %(n)d more)") % {"n": more}
    return line
