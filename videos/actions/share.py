"""Share links: a video shown to people outside the team, and the notes guests leave there.

``create_share_link`` makes a link (the token is returned once; only its hash is kept),
``revoke_share_link`` ends it at once, ``record_share_view`` puts a guest's visit in the
audit trail and ``add_guest_note`` keeps a guest's note. Refusals raise ``ShareRefused``
with the words to show, and nothing is stored.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from videos import audit
from videos.models import Board, BoardItem, Generation, GuestNote, Review, ShareLink, TaskState
from videos.timeline import clean_text

#: The furthest a share link may expire, in days from when it is made.
MAX_SHARE_DAYS = 30
#: The longest guest name and note body kept, in characters.
GUEST_NAME_MAX = 60
GUEST_NOTE_MAX = 2000

_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


class ShareRefused(Exception):
    """A share link or guest note refused; ``message`` says why, in words for the person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def can_share(generation: Generation, membership) -> bool:
    """Whether ``membership`` may make or revoke links to ``generation``: its author, an
    admin or an owner."""
    return membership is not None and (generation.author_id == membership.user_id or membership.can_manage)


def leaves_the_studio(generation: Generation) -> bool:
    """Whether ``generation`` may leave the studio (a download, a ZIP, a share link) under
    its team's export gate: always without the gate, only when its review was accepted
    with it."""
    return not generation.team.export_approved_only or generation.review == Review.ACCEPTED


def create_share_link(
    generation: Generation,
    actor,
    *,
    expires_at: datetime,
    password: str = "",
    allow_notes: bool = True,
    allow_download: bool = False,
) -> tuple[ShareLink, str]:
    """Make a link to ``generation`` (completed, with its video) by ``actor``; returns the
    link and its token (shown once: only its SHA-256 is stored). ``expires_at`` must be in
    the future and at most ``MAX_SHARE_DAYS`` days ahead; ``password`` (optional) is kept
    as Django's password hash. Records ``share.created``. Raises ShareRefused for an
    unfinished video, a bad expiry, or an unapproved video under the team's export gate.
    """
    if getattr(generation, "task", None) is None or generation.task.state != TaskState.COMPLETED:
        raise ShareRefused(_("Only a finished video can be shared."))
    if not leaves_the_studio(generation):
        raise ShareRefused(_("This team lets only approved videos leave the studio: accept its review first."))
    return _make_link(
        actor,
        generation=generation,
        expires_at=expires_at,
        password=password,
        allow_notes=allow_notes,
        allow_download=allow_download,
    )


def _subject(link: ShareLink) -> str:
    """The audit label of what ``link`` shows: its video, or its board."""
    if link.board_id is not None:
        return _("board “%(name)s”") % {"name": link.board.name}
    return audit.describe(link.generation)


def _subject_uuid(link: ShareLink) -> str:
    return str(link.board.uuid if link.board_id is not None else link.generation.uuid)


def _make_link(
    actor,
    *,
    generation: Generation | None = None,
    board: Board | None = None,
    expires_at: datetime,
    password: str,
    allow_notes: bool,
    allow_download: bool,
) -> tuple[ShareLink, str]:
    """Save a share link to ``generation`` or ``board`` by ``actor`` and record
    ``share.created``; returns the link and its token (only its SHA-256 is stored; the
    password as Django's password hash). Raises ShareRefused for an expiry not in the
    future or more than ``MAX_SHARE_DAYS`` days ahead; the callers check the rest."""
    now = timezone.now()
    if expires_at <= now:
        raise ShareRefused(_("The expiry must be in the future."))
    if expires_at > now + timedelta(days=MAX_SHARE_DAYS, minutes=1):
        raise ShareRefused(_("A share link lasts at most %(days)d days.") % {"days": MAX_SHARE_DAYS})
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        link = ShareLink.objects.create(
            team=(board or generation).team,
            generation=generation,
            board=board,
            created_by=actor,
            token_hash=ShareLink.hash_token(token),
            prefix=token[:6],
            expires_at=expires_at,
            password_hash=make_password(password) if password else "",
            allow_notes=allow_notes,
            allow_download=allow_download,
        )
        audit.record_action(
            (board or generation).team,
            actor,
            "share.created",
            _subject(link),
            uuid=_subject_uuid(link),
            link=link.prefix,
            expires=expires_at.isoformat(timespec="minutes"),
            password=bool(password),
            notes=allow_notes,
            download=allow_download,
        )
    return link, token


def board_shows(board: Board, generation: Generation) -> bool:
    """Whether a guest of ``board``'s share link may see ``generation``: it is on the board,
    finished with its video, and may leave the studio (``leaves_the_studio``)."""
    return (
        generation.team_id == board.team_id
        and BoardItem.objects.filter(board=board, generation=generation).exists()
        and getattr(getattr(generation, "task", None), "state", "") == TaskState.COMPLETED
        and getattr(generation, "asset", None) is not None
        and leaves_the_studio(generation)
    )


def create_board_share_link(
    board: Board,
    actor,
    membership,
    *,
    expires_at: datetime,
    password: str = "",
    allow_notes: bool = True,
    allow_download: bool = False,
) -> tuple[ShareLink, str]:
    """Make a link to ``board`` (its guest page lists the board's finished videos, under the
    export gate only approved ones) by ``actor``: the board's maker, an admin or an owner
    (``membership``). Returns the link and its token (shown once). The expiry and password
    rules are ``create_share_link``'s. Records ``share.created``. Raises ShareRefused."""
    if board.created_by_id != actor.pk and not (membership is not None and membership.can_manage):
        raise ShareRefused(_("Only the board's maker, an admin or an owner can share a board."))
    return _make_link(
        actor,
        board=board,
        expires_at=expires_at,
        password=password,
        allow_notes=allow_notes,
        allow_download=allow_download,
    )


def revoke_share_link(link: ShareLink, actor) -> bool:
    """End ``link`` now (a conditional update: its page is a 404 from the next request);
    records ``share.revoked``. False when it was already revoked."""
    with transaction.atomic():
        changed = ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=actor
        )
        if changed != 1:
            return False
        audit.record_action(
            link.team,
            actor,
            "share.revoked",
            _subject(link),
            uuid=_subject_uuid(link),
            link=link.prefix,
        )
    return True


def record_share_view(link: ShareLink, address_hash: str) -> None:
    """Put a guest's visit of ``link`` in the team's audit trail (``share.viewed``, no actor;
    the address only as the first 12 digits of its salted hash)."""
    audit.record_action(
        link.team,
        None,
        "share.viewed",
        _subject(link),
        uuid=_subject_uuid(link),
        link=link.prefix,
        guest=address_hash[:12],
    )


def clean_guest_name(value: str) -> str:
    """A guest's typed name as plain text: markup removed, control and direction characters
    dropped, spaces collapsed, at most ``GUEST_NAME_MAX`` characters. Raises ShareRefused
    when nothing is left."""
    text = strip_tags(clean_text(value or ""))
    text = text.replace("<", "").replace(">", "")
    text = _SPACES.sub(" ", _CONTROL.sub("", text)).strip()
    if not text:
        raise ShareRefused(_("Type your name (plain text) so the team knows who wrote the note."))
    if len(text) > GUEST_NAME_MAX:
        raise ShareRefused(_("A name is at most %(n)d characters.") % {"n": GUEST_NAME_MAX})
    return text


def add_guest_note(
    link: ShareLink,
    guest_name: str,
    body: str,
    time_s: float | None,
    address_hash: str,
    generation: Generation | None = None,
) -> GuestNote:
    """Keep a guest's note on ``link``'s video (for a board's link, ``generation``: one of
    the videos on its board, else ShareRefused): ``guest_name`` cleaned (``clean_guest_name``),
    ``body`` plain text of at most ``GUEST_NOTE_MAX`` characters, ``time_s`` a time code in
    seconds within the video (or None). Records ``share.guest_note`` and tells the author.
    Raises ShareRefused when the link takes no notes, or for an empty name or body, a too
    long body, or a time code outside the video."""
    if not link.allow_notes:
        raise ShareRefused(_("This link does not take notes."))
    name = clean_guest_name(guest_name)
    text = clean_text(body or "").strip()
    if not text:
        raise ShareRefused(_("Write a note first."))
    if len(text) > GUEST_NOTE_MAX:
        raise ShareRefused(_("A note is at most %(n)d characters.") % {"n": GUEST_NOTE_MAX})
    if link.board_id is not None:
        if generation is None or not board_shows(link.board, generation):
            raise ShareRefused(_("That video is not on this board."))
    else:
        generation = link.generation
    if time_s is not None:
        asset = getattr(generation, "asset", None)
        length = asset.duration_s if asset is not None else 0
        if not (0 <= time_s <= length + 0.05):
            raise ShareRefused(_("The time code is outside the video (0 to %(s).1f s).") % {"s": length})
    with transaction.atomic():
        note = GuestNote.objects.create(
            share_link=link,
            generation=generation,
            guest_name=name,
            time_s=time_s,
            body=text,
            address_hash=address_hash,
        )
        label = audit.describe(generation)
        audit.record_action(
            link.team,
            None,
            "share.guest_note",
            label,
            uuid=str(generation.uuid),
            link=link.prefix,
            guest_name=name,
            time_s=time_s,
            guest=address_hash[:12],
        )
        if generation.author_id is not None:
            with audit.speaking_to(generation.author):
                message = _("%(name)s (guest) left a note on your video %(label)s") % {"name": name, "label": label}
            audit.notify(generation.author, link.team, message, generation=generation)
    return note
