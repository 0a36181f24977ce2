"""Frames and sequences: take a frame of a finished video as the next reference image; the
team's sequences (list, one sequence's shots with drag-and-drop order and button fallbacks),
continue a shot, render a sequence and follow the render on its card, play and download it.

Every object is looked up inside the current team (404 outside it); every change goes
through ``videos.actions``."""

from __future__ import annotations

import uuid as uuidlib

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from accounts.access import get_for_team, team_required
from videos import actions, billing
from videos.forms import AddShotForm, FrameForm, SequenceForm
from videos.lib.files import serve_file
from videos.models import Board, Frame, Generation, Sequence, Shot
from videos.web import my_keys, team_generations
from videos.web.generations import detail_context


def team_sequences(request):
    """The current team's sequences."""
    return Sequence.objects.for_team(request.team)


# --- a frame as the next reference image --------------------------------------------------


@require_POST
@team_required(can_generate=True)
def take_frame(request, uuid):
    """Take the frame at the typed time (or, with ``last``, the last frame) of a finished
    video and open the compose form with it as the reference image. A time outside the
    video is shown next to the field on the generation's page (400), nothing saved."""
    generation = get_for_team(request, team_generations(request), uuid=uuid)
    form = FrameForm(request.POST)
    if form.is_valid():
        last = "last" in request.POST
        try:
            url = actions.frame_as_reference(generation, None if last else form.cleaned_data["time_s"], request.user)
        except actions.Refused as exc:
            form.add_error(None if last else "time_s", exc.message)
        else:
            return redirect(url)
    if request.htmx:
        return render(request, "videos/_frame_form.html", {"generation": generation, "frame_form": form}, status=400)
    return render(
        request, "videos/detail.html", {**detail_context(request, generation), "frame_form": form}, status=400
    )


@require_GET
@team_required
def frame_file(request, uuid):
    """A frame taken from one of the team's videos (PNG)."""
    frame = get_for_team(request, Frame.objects.all(), uuid=uuid)
    return serve_file(request, frame.image, content_type="image/png", filename=f"frame-{frame.time_s:.2f}s.png")


# --- sequences ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@team_required
def sequences(request):
    """The team's sequences, and a form to start one (members who can generate)."""
    form = SequenceForm(request.POST or None)
    if request.method == "POST":
        if not request.membership.can_generate:
            raise Http404
        if form.is_valid():
            try:
                sequence = actions.create_sequence(request.team, request.user, form.cleaned_data["name"])
            except actions.Refused as exc:
                form.add_error("name", exc.message)
            else:
                return redirect("sequence", uuid=sequence.uuid)
    listing = team_sequences(request).prefetch_related("shots")
    status = 400 if form.errors else 200
    return render(request, "videos/sequences.html", {"sequences": listing, "form": form}, status=status)


def _sequence_context(request, sequence: Sequence, **extra) -> dict:
    shots = list(sequence.shots.select_related("generation__task", "generation__asset").order_by("position", "pk"))
    on_boards = Board.objects.for_team(request.team).filter(items__sequence=sequence).order_by("name")
    boards = [(str(b.uuid), b.name) for b in Board.objects.for_team(request.team).exclude(items__sequence=sequence)]
    return {"sequence": sequence, "shots": shots, "on_boards": on_boards, "board_choices": boards, **extra}


@require_GET
@team_required
def sequence(request, uuid):
    """One sequence: its shots in order, its render card and its rendered video."""
    found = get_for_team(request, team_sequences(request), uuid=uuid)
    return render(request, "videos/sequence.html", _sequence_context(request, found))


@require_POST
@team_required(can_generate=True)
def add_to_sequence(request):
    """Add a finished generation (``generation``) to one of the team's sequences
    (``sequence``), or to a new one named ``name``; with ``continue``, also make the next
    shot from its last frame. Errors go back to the generation's page, next to the form."""
    try:
        wanted = uuidlib.UUID(str(request.POST.get("generation", "")))
    except ValueError:
        raise Http404 from None
    generation = get_for_team(request, team_generations(request), uuid=wanted)
    form = AddShotForm(request.POST, sequences=team_sequences(request))
    if form.is_valid():
        try:
            with transaction.atomic():  # a new sequence, the shot and the next one: all or nothing
                target = _add(request, form, generation)
        except actions.Refused as exc:
            form.add_error(None, exc.message)
        except billing.BudgetExceeded as exc:
            form.add_error(None, _("Not continued: %(why)s") % {"why": exc.message})
        else:
            return redirect("sequence", uuid=target.uuid)
    context = {**detail_context(request, generation), "add_form": form}
    return render(request, "videos/detail.html", context, status=400)


def _add(request, form: AddShotForm, generation: Generation) -> Sequence:
    target = form.cleaned_data["sequence"]
    if target is None:
        target = actions.create_sequence(request.team, request.user, form.cleaned_data["name"])
    shot = target.shots.filter(generation=generation).last()
    if shot is None or "continue" not in request.POST:
        shot = actions.add_shot(target, generation, request.user)
    if "continue" in request.POST:
        _continue(request, target, shot)
    return target


def _continue(request, sequence: Sequence, shot: Shot) -> Generation:
    key = actions.continuing_key(shot.generation, my_keys(request))
    generation = actions.continue_shot(sequence, shot, request.user, key, membership=request.membership)
    messages.success(request, _("The next shot is queued from the last frame; its card follows its progress below."))
    return generation


def _shot(request, uuid, shot_id: int) -> tuple[Sequence, Shot]:
    found = get_for_team(request, team_sequences(request), uuid=uuid)
    return found, get_object_or_404(Shot.objects.select_related("generation__task"), pk=shot_id, sequence=found)


def _back(request, sequence: Sequence, error: str = ""):
    """The sequence page again: its shots partial for htmx, else a redirect (the error as a
    message at the shots list) or, with an error, the page with it (400)."""
    if request.htmx:
        context = _sequence_context(request, sequence, shots_error=error)
        return render(request, "videos/sequence.html#shots", context, status=400 if error else 200)
    if error:
        return render(
            request, "videos/sequence.html", _sequence_context(request, sequence, shots_error=error), status=400
        )
    return redirect("sequence", uuid=sequence.uuid)


@require_POST
@team_required(can_generate=True)
def shot_move(request, uuid, shot_id: int):
    """Move a shot one place up (``direction=up``) or down: the no-JavaScript fallback."""
    found, shot = _shot(request, uuid, shot_id)
    try:
        actions.move_shot(found, shot, -1 if request.POST.get("direction") == "up" else 1, request.user)
    except actions.Refused as exc:
        return _back(request, found, exc.message)
    return _back(request, found)


@require_POST
@team_required(can_generate=True)
def shot_remove(request, uuid, shot_id: int):
    """Take a shot out of the sequence (the generation stays)."""
    found, shot = _shot(request, uuid, shot_id)
    actions.remove_shot(found, shot, request.user)
    return _back(request, found)


@require_POST
@team_required(can_generate=True)
def shot_continue(request, uuid, shot_id: int):
    """Make the next shot from this shot's last frame, with the same options."""
    found, shot = _shot(request, uuid, shot_id)
    try:
        _continue(request, found, shot)
    except actions.Refused as exc:
        return _back(request, found, exc.message)
    except billing.BudgetExceeded as exc:
        return _back(request, found, _("Not continued: %(why)s") % {"why": exc.message})
    return _back(request, found)


@require_POST
@team_required(can_generate=True)
def shot_order(request, uuid):
    """The new order of the shots after a drag and drop (``order``: shot ids, comma-separated)."""
    found = get_for_team(request, team_sequences(request), uuid=uuid)
    try:
        order = [int(part) for part in request.POST.get("order", "").split(",") if part.strip()]
        actions.reorder_shots(found, order, request.user)
    except ValueError:
        return _back(request, found, _("The new order could not be read; reload the page and move the shots again."))
    except actions.Refused as exc:
        return _back(request, found, exc.message)
    return _back(request, found)


@require_POST
@team_required(can_generate=True)
def sequence_render(request, uuid):
    """Queue the render of the sequence to one MP4; its card follows the render."""
    found = get_for_team(request, team_sequences(request), uuid=uuid)
    try:
        queued = actions.render_sequence(found, request.user)
    except actions.Refused as exc:
        return render(
            request, "videos/sequence.html", _sequence_context(request, found, render_error=exc.message), status=400
        )
    if not queued:
        messages.info(request, _("This sequence is rendering already."))
    return redirect("sequence", uuid=found.uuid)


@require_POST
@team_required(can_generate=True)
def sequence_delete(request, uuid):
    """Delete the sequence and its render (its generations stay), once ``confirm=1`` says
    the member has seen what goes; without it, the page asks first."""
    found = get_for_team(request, team_sequences(request), uuid=uuid)
    if request.POST.get("confirm") != "1":
        return render(request, "videos/sequence.html", _sequence_context(request, found, confirm_delete=True))
    actions.delete_sequence(found, request.user)
    messages.success(request, _("Sequence deleted; its videos are still in History."))
    return redirect("sequences")


@require_GET
@team_required
def sequence_card(request, uuid):
    """The render card (htmx polling every 2 s); 286 (stop polling) once the render ended."""
    found = get_for_team(request, team_sequences(request), uuid=uuid)
    response = render(request, "videos/sequence.html#render", {"sequence": found})
    if not found.is_rendering:
        return HttpResponseStopPolling(response.content)
    return response


@require_GET
@team_required
def sequence_video(request, uuid):
    """The rendered MP4 (ranges served; ``?download=1`` as an attachment)."""
    found = get_for_team(request, team_sequences(request), uuid=uuid)
    if not found.video:
        raise Http404
    return serve_file(
        request,
        found.video,
        content_type="video/mp4",
        filename=f"sequence-{found.uuid}.mp4",
        attachment=request.GET.get("download") == "1",
        size=found.video_bytes,
    )


@require_GET
@team_required
def sequence_poster(request, uuid) -> HttpResponse:
    """The rendered video's poster (JPEG)."""
    found = get_for_team(request, team_sequences(request), uuid=uuid)
    if not found.poster:
        raise Http404
    return serve_file(request, found.poster, content_type="image/jpeg", filename=f"sequence-{found.uuid}.jpg")
