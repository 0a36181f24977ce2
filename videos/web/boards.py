"""Boards: the team's projects. ``/boards/`` lists them (cover, description, how many
videos, total spend) and makes new ones; ``/boards/<uuid>/`` shows a board's tiles,
edits its name, description and cover, takes videos off it, and downloads it as a ZIP
(``downloads.zip_response``). ``add`` puts one or more of the team's videos on a board
(the detail page's "Add to board" form); History's bulk "Add to board" calls the same
action. Every board is looked up inside the current team (404 outside it)."""

from __future__ import annotations

import uuid as uuids

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import get_for_team, safe_next, team_required
from videos import actions, billing
from videos.forms import ShareForm
from videos.lib.files import content_disposition
from videos.models import Board, Generation, Sequence
from videos.web.downloads import zip_response
from videos.web.share import share_link_page

#: The most tiles a board page shows (newest first); its ZIP takes every video on it.
BOARD_TILES = 200


class BoardForm(forms.Form):
    """A board's name and description (and, when editing, its cover)."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=80)
    description = forms.CharField(
        label=gettext_lazy("Description"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    cover = forms.ChoiceField(label=gettext_lazy("Cover"), required=False)

    def __init__(self, *args, covers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cover"].choices = [("", _("No cover")), *covers]


def board_choices(team) -> list[tuple[str, str]]:
    """The team's boards as ``(uuid, name)`` choices, by name."""
    return [(str(u), name) for u, name in Board.objects.for_team(team).values_list("uuid", "name")]


def _board(request, uuid) -> Board:
    """The team's board ``uuid`` (a UUID or its text); Http404 for anything else."""
    try:
        uuid = uuids.UUID(str(uuid))
    except ValueError:
        raise Http404 from None
    return get_for_team(request, Board.objects.select_related("cover", "cover__asset"), uuid=uuid)


def selected(request) -> list[Generation]:
    """The current team's generations among the posted ``ids`` (at most
    ``actions.boards.ITEMS_LIMIT``); malformed ids and other teams' are dropped."""
    ids = set()
    for raw in request.POST.getlist("ids")[: 2 * BOARD_TILES]:
        try:
            ids.add(uuids.UUID(raw))
        except ValueError:
            continue
    return list(Generation.objects.for_team(request.team).filter(uuid__in=ids).select_related("task", "team"))


def _members_only(request) -> None:
    if not request.membership.can_generate:
        raise PermissionDenied(_("Viewers cannot change boards."))


@require_http_methods(["GET", "POST"])
@team_required
def boards(request):
    """The team's boards with cover, description, item count and total spend (USD, billed
    charges); POST makes a new board (members, not viewers)."""
    form = BoardForm(request.POST or None)
    del form.fields["cover"]
    if request.method == "POST":
        _members_only(request)
        if form.is_valid():
            try:
                board = actions.create_board(
                    request.team,
                    request.user,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                )
            except actions.BoardRefused as refused:
                form.add_error("name", refused.message)
            else:
                messages.success(request, _("Made the board “%(name)s”.") % {"name": board.name})
                return redirect("board", uuid=board.uuid)
    listed = list(
        Board.objects.for_team(request.team)
        .select_related("cover", "cover__asset")
        .annotate(item_count=Count("items", filter=Q(items__generation__isnull=False)))
        .order_by("name", "pk")
    )
    spend = billing.board_spend(request.team, [b.pk for b in listed])
    for board in listed:
        board.spend = spend.get(board.pk, billing.ZERO)
    status = 400 if form.errors else 200
    return render(request, "videos/boards.html", {"boards": listed, "form": form}, status=status)


def _board_generations(board: Board):
    return (
        Generation.objects.for_team(board.team)
        .filter(board_items__board=board)
        .select_related("task", "asset", "author", "team")
        .order_by("-board_items__added", "-pk")
    )


def board_sequences(board: Board) -> list[Sequence]:
    """The sequences on ``board``, newest added first, with their shots' generations."""
    return list(
        Sequence.objects.for_team(board.team)
        .filter(board_items__board=board)
        .prefetch_related("shots__generation")
        .order_by("-board_items__added", "-pk")
    )


def sequence_board_choices(team, sequence: Sequence) -> list[tuple[str, str]]:
    """The team's boards ``sequence`` is not on yet, as ``(uuid, name)`` choices."""
    return [
        (str(u), name)
        for u, name in Board.objects.for_team(team).exclude(items__sequence=sequence).values_list("uuid", "name")
    ]


def _sequence(request, raw) -> Sequence:
    try:
        wanted = uuids.UUID(str(raw))
    except ValueError:
        raise Http404 from None
    return get_for_team(request, Sequence.objects.all(), uuid=wanted)


@require_http_methods(["GET", "POST"])
@team_required
def board(request, uuid):
    """A board's tiles; POST changes its name, description and cover (members)."""
    board = _board(request, uuid)
    tiles = list(_board_generations(board)[:BOARD_TILES])
    covers = [(str(g.uuid), g.prompt[:60]) for g in tiles if getattr(g, "asset", None) is not None]
    initial = {
        "name": board.name,
        "description": board.description,
        "cover": str(board.cover.uuid) if board.cover else "",
    }
    form = BoardForm(request.POST or None, covers=covers, initial=initial)
    if request.method == "POST":
        _members_only(request)
        if form.is_valid():
            wanted = form.cleaned_data["cover"]
            cover = next((g for g in tiles if str(g.uuid) == wanted), None)
            try:
                actions.update_board(
                    board,
                    request.user,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    cover=cover,
                )
            except actions.BoardRefused as refused:
                form.add_error(None, refused.message)
            else:
                messages.success(request, _("Saved the board “%(name)s”.") % {"name": board.name})
                return redirect("board", uuid=board.uuid)
    spend = billing.board_spend(request.team, [board.pk]).get(board.pk, billing.ZERO)
    on_board = board_sequences(board)
    addable = Sequence.objects.for_team(request.team).exclude(board_items__board=board).values_list("uuid", "name")
    context = {
        "board": board,
        "tiles": tiles,
        "form": form,
        "spend": spend,
        "board_sequences": on_board,
        "addable_sequences": [(str(u), name) for u, name in addable],
        "can_share": board.created_by_id == request.user.pk or request.membership.can_manage,
    }
    return render(request, "videos/board.html", context, status=400 if form.errors else 200)


@require_POST
@team_required(can_generate=True)
def board_remove(request, uuid):
    """Take the posted ``ids`` (generation uuids) off the board; they stay in History. Back
    to ``next`` (a path on this site, e.g. the video's page) or the board."""
    board = _board(request, uuid)
    generations = selected(request)
    removed = actions.remove_from_board(board, generations, request.user)
    if removed:
        said = ngettext("Took %(n)d video(s) off “%(name)s”.", "Took %(n)d video(s) off “%(name)s”.", removed)
        messages.success(request, said % {"n": removed, "name": board.name})
    else:
        messages.error(request, _("Tick at least one video on this board first."))
    return redirect(safe_next(request, reverse("board", kwargs={"uuid": board.uuid})))


@require_POST
@team_required
def board_download(request, uuid):
    """A streamed ZIP of every archived video on the board and its rendered sequences, with
    its manifest, named after the board; under the team's export gate approved ones only,
    the rest named in ``left-out.txt`` with why (``downloads.zip_response``, as History's)."""
    board = _board(request, uuid)
    generations = list(_board_generations(board))
    response = zip_response(
        request,
        generations,
        reverse("board", kwargs={"uuid": board.uuid}),
        listed=True,
        sequences=board_sequences(board),
    )
    if response.streaming:
        name = slugify(board.name, allow_unicode=True)[:48] or "board"
        response["Content-Disposition"] = content_disposition(
            f"board-{name}-{timezone.localdate():%Y-%m-%d}.zip", attachment=True
        )
    return response


@require_POST
@team_required(can_generate=True)
def board_delete(request, uuid):
    """Delete the board (its maker, or an owner or admin); its videos stay in History."""
    board = _board(request, uuid)
    if board.created_by_id != request.user.pk and not request.membership.can_manage:
        raise PermissionDenied(_("Only the board's maker or an owner or admin can delete it."))
    name = board.name
    actions.delete_board(board, request.user)
    messages.success(request, _("Deleted the board “%(name)s”; its videos stay in History.") % {"name": name})
    return redirect("boards")


def add_generations(request, generations: list[Generation], back: str):
    """Put ``generations`` (the team's) on the posted ``board`` (uuid) and go to ``back``
    with a message; a board of another team is 404. History's bulk action and ``add``."""
    _members_only(request)
    board = _board(request, request.POST.get("board", ""))
    try:
        added = actions.add_to_board(board, generations, request.user)
    except actions.BoardRefused as refused:
        messages.error(request, refused.message)
        return redirect(back)
    there = len(generations) - added
    note = ngettext(" (%(n)d already on it)", " (%(n)d already on it)", there) % {"n": there} if there else ""
    said = ngettext("Added %(n)d video(s) to “%(name)s”%(note)s.", "Added %(n)d video(s) to “%(name)s”%(note)s.", added)
    messages.success(request, said % {"n": added, "name": board.name, "note": note})
    return redirect(back)


@require_POST
@team_required(can_generate=True)
def add(request):
    """Add the posted ``ids`` (the team's generation uuids) to the posted ``board``; back
    to ``next`` (a path on this site) or the board."""
    generations = selected(request)
    if not generations:
        messages.error(request, _("Choose a video of this team first."))
        return redirect(safe_next(request, reverse("boards")))
    return add_generations(request, generations, safe_next(request, reverse("boards")))


@require_POST
@team_required(can_generate=True)
def board_sequence_add(request):
    """Put the posted ``sequence`` (the team's, a uuid) on the posted ``board``; back to
    ``next`` (a path on this site) or the board. Another team's sequence or board is 404."""
    board = _board(request, request.POST.get("board", ""))
    sequence = _sequence(request, request.POST.get("sequence", ""))
    back = safe_next(request, reverse("board", kwargs={"uuid": board.uuid}))
    try:
        added = actions.add_sequence_to_board(board, sequence, request.user)
    except actions.BoardRefused as refused:
        messages.error(request, refused.message)
        return redirect(back)
    if added:
        messages.success(request, _("Put “%(seq)s” on “%(name)s”.") % {"seq": sequence.name, "name": board.name})
    else:
        messages.info(request, _("“%(seq)s” is on “%(name)s” already.") % {"seq": sequence.name, "name": board.name})
    return redirect(back)


@require_POST
@team_required(can_generate=True)
def board_sequence_remove(request, uuid):
    """Take the posted ``sequence`` off the board (the sequence stays); back to ``next`` or
    the board."""
    board = _board(request, uuid)
    sequence = _sequence(request, request.POST.get("sequence", ""))
    if actions.remove_sequence_from_board(board, sequence, request.user):
        messages.success(request, _("Took “%(seq)s” off “%(name)s”.") % {"seq": sequence.name, "name": board.name})
    else:
        messages.error(request, _("That sequence is not on this board."))
    return redirect(safe_next(request, reverse("board", kwargs={"uuid": board.uuid})))


def _shareable_board(request, uuid) -> Board:
    board = _board(request, uuid)
    if board.created_by_id != request.user.pk and not request.membership.can_manage:
        raise PermissionDenied(_("Only the board's maker, an admin or an owner can share a board."))
    return board


@require_http_methods(["GET", "POST"])
@team_required
def board_share(request, uuid):
    """GET: the form for a new share link to this board and its links so far. POST: make
    one and show its address once. 403 for a member who is neither the board's maker nor
    an admin or owner; a refusal is shown on the form and nothing is saved."""
    board = _shareable_board(request, uuid)
    form = ShareForm(request.POST or None)
    form.fields["allow_download"].label = _("Guests may download the videos")
    return share_link_page(
        request,
        form,
        lambda **options: actions.create_board_share_link(board, request.user, request.membership, **options),
        "videos/board_share.html",
        {
            "board": board,
            "links": board.share_links.select_related("created_by")[:50],
            "gated": request.team.export_approved_only,
        },
        refused_status=400,
    )


@require_POST
@team_required
def board_share_revoke(request, uuid):
    """POST ``link`` (a link's uuid): revoke that link of this board now."""
    board = _shareable_board(request, uuid)
    try:
        wanted = uuids.UUID(str(request.POST.get("link", "")))
    except ValueError:
        raise Http404 from None
    link = board.share_links.filter(uuid=wanted).first()
    if link is None:
        raise Http404
    if actions.revoke_share_link(link, request.user):
        messages.success(request, _("Revoked: the link %(prefix)s… no longer opens.") % {"prefix": link.prefix})
    else:
        messages.error(request, _("That link was already revoked."))
    return redirect("board_share", uuid=board.uuid)
