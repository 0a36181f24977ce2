"""Boards: a team's projects that group its generations. Members make boards, add and
remove generations, and edit a board's name, description and cover; its maker or an
owner or admin deletes it. Every function records its audit entry in the same
transaction; a refusal (``BoardRefused``) leaves nothing changed."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from videos import audit
from videos.models import Board, BoardItem, Generation, Sequence, TaskState

#: The most generations one call adds or removes (History's bulk limit).
ITEMS_LIMIT = 200


class BoardRefused(Exception):
    """A board change that cannot be made; ``message`` says why, for the person who asked."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise BoardRefused(_("Give the board a name."))
    if len(name) > 80:
        raise BoardRefused(_("A board's name may be at most 80 characters."))
    return name


def _check_cover(board: Board, cover: Generation | None) -> None:
    if cover is not None and cover.team_id != board.team_id:
        raise BoardRefused(_("The cover must be one of this team's videos."))


def create_board(team, actor, *, name: str, description: str = "") -> Board:
    """Make a board named ``name`` (spaces folded, at most 80 characters, unique in the
    team) with ``description``. Raises ``BoardRefused``. Records ``board.created``."""
    name = _clean_name(name)
    try:
        with transaction.atomic():
            board = Board.objects.create(team=team, name=name, description=description[:2000], created_by=actor)
            audit.record_action(team, actor, "board.created", name)
    except IntegrityError:
        raise BoardRefused(_("This team has a board named “%(name)s” already.") % {"name": name}) from None
    return board


def update_board(board: Board, actor, *, name: str, description: str, cover: Generation | None) -> Board:
    """Rename ``board``, change its description and its cover (one of the team's
    generations, or None). Raises ``BoardRefused``. Records ``board.changed``."""
    name = _clean_name(name)
    _check_cover(board, cover)
    try:
        with transaction.atomic():
            Board.objects.filter(pk=board.pk).update(name=name, description=description[:2000], cover=cover)
            audit.record_action(board.team, actor, "board.changed", name, was=board.name)
    except IntegrityError:
        raise BoardRefused(_("This team has a board named “%(name)s” already.") % {"name": name}) from None
    board.name, board.description, board.cover = name, description[:2000], cover
    return board


def delete_board(board: Board, actor) -> None:
    """Delete ``board`` (its generations stay in History). Records ``board.deleted``."""
    with transaction.atomic():
        audit.record_action(board.team, actor, "board.deleted", board.name)
        board.delete()


def add_to_board(board: Board, generations: list[Generation], actor) -> int:
    """Put ``generations`` on ``board``; those already on it are skipped. Returns how many
    were added. Any generation of another team refuses the whole call (``BoardRefused``),
    nothing added. The first finished one becomes the cover of a board without one.
    Records ``board.items_added``."""
    if len(generations) > ITEMS_LIMIT:
        raise BoardRefused(_("Add at most %(n)d videos at a time.") % {"n": ITEMS_LIMIT})
    if any(g.team_id != board.team_id for g in generations):
        raise BoardRefused(_("Only this team's videos can go on its boards."))
    with transaction.atomic():
        there = set(BoardItem.objects.filter(board=board).values_list("generation_id", flat=True))
        new = [g for g in generations if g.pk not in there]
        BoardItem.objects.bulk_create([BoardItem(board=board, generation=g, added_by=actor) for g in new])
        if new and board.cover_id is None:
            done = [g for g in new if getattr(getattr(g, "task", None), "state", "") == TaskState.COMPLETED]
            if done:
                Board.objects.filter(pk=board.pk, cover__isnull=True).update(cover=done[0])
                board.cover = done[0]
        if new:
            audit.record_action(
                board.team, actor, "board.items_added", board.name, count=len(new), uuids=[str(g.uuid) for g in new]
            )
    return len(new)


def remove_from_board(board: Board, generations: list[Generation], actor) -> int:
    """Take ``generations`` off ``board`` (they stay in History); a removed cover is
    cleared. Returns how many were on it. Records ``board.items_removed``."""
    ids = [g.pk for g in generations if g.team_id == board.team_id]
    with transaction.atomic():
        removed, _counts = BoardItem.objects.filter(board=board, generation_id__in=ids).delete()
        if board.cover_id in ids:
            Board.objects.filter(pk=board.pk).update(cover=None)
            board.cover = None
        if removed:
            audit.record_action(board.team, actor, "board.items_removed", board.name, count=removed)
    return removed


def add_sequence_to_board(board: Board, sequence: Sequence, actor) -> bool:
    """Put ``sequence`` on ``board``; False when it is on it already. A sequence of another
    team raises ``BoardRefused``, nothing added. Records ``board.sequence_added``."""
    if sequence.team_id != board.team_id:
        raise BoardRefused(_("Only this team's sequences can go on its boards."))
    with transaction.atomic():
        if BoardItem.objects.filter(board=board, sequence=sequence).exists():
            return False
        BoardItem.objects.create(board=board, sequence=sequence, added_by=actor)
        audit.record_action(board.team, actor, "board.sequence_added", board.name, sequence=sequence.name)
    return True


def remove_sequence_from_board(board: Board, sequence: Sequence, actor) -> bool:
    """Take ``sequence`` off ``board`` (the sequence stays); False when it was not on it.
    Records ``board.sequence_removed``."""
    with transaction.atomic():
        removed, _counts = BoardItem.objects.filter(board=board, sequence=sequence).delete()
        if removed:
            audit.record_action(board.team, actor, "board.sequence_removed", board.name, sequence=sequence.name)
    return bool(removed)
