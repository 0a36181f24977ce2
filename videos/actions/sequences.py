"""Actions on a sequence: create it, add, remove and reorder its shots, continue a shot from
its last frame, render it to one MP4 in the background.

A shot is a finished generation of the sequence's team. Every change to the shots makes an
earlier render out of date: its ``render_token`` is cleared, so a render still running
writes nothing. Each function raises ``Refused`` (nothing changed) with words for the member."""

from __future__ import annotations

import uuid as uuidlib
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from videos import audit
from videos.actions.frames import Refused, decode_frame, finished_asset
from videos.actions.generations import create_generation
from videos.gateways.base import GenerationInput, ReferenceImageData
from videos.models import GatewayKey, Generation, NewReference, RenderState, Sequence, Shot
from videos.worker.queue import enqueue_on_commit
from videos.worker.render import RENDER

NAME_MAX = 120
#: A render still waiting or running this long after it was asked for (or started) is
#: taken as lost, and Render may be pressed again (the sweep loop rescues it sooner:
#: ``videos.worker.render.rescue_renders``).
RENDER_STALE = timedelta(minutes=15)


def _stale(sequence: Sequence) -> None:
    """The shots changed: an earlier or running render no longer matches them."""
    Sequence.objects.filter(pk=sequence.pk).update(render_token="", render_state=RenderState.NONE, render_progress=0)


def _renumber(sequence: Sequence, order: list[int]) -> None:
    for position, shot_id in enumerate(order):
        Shot.objects.filter(pk=shot_id, sequence=sequence).update(position=position)


def create_sequence(team, member, name: str) -> Sequence:
    """A new, empty sequence of ``team`` named ``name`` (1–120 characters after trimming).
    Raises Refused for an empty or too long name."""
    name = " ".join((name or "").split())
    if not name:
        raise Refused(_("Give the sequence a name."))
    if len(name) > NAME_MAX:
        raise Refused(_("A sequence's name may be at most %(max)d characters.") % {"max": NAME_MAX})
    with transaction.atomic():
        sequence = Sequence.objects.create(team=team, name=name, created_by=member)
        audit.record_action(team, member, "sequence.created", name, uuid=str(sequence.uuid))
    return sequence


def add_shot(sequence: Sequence, generation: Generation, member, *, after: Shot | None = None) -> Shot:
    """Append ``generation`` (a finished video of the sequence's team) as the last shot, or
    right after ``after``. Raises Refused for another team's generation or one not finished."""
    if generation.team_id != sequence.team_id:
        raise Refused(_("That generation belongs to another team, so it cannot be a shot here."))
    finished_asset(generation, _("added to a sequence"))
    return _insert(sequence, generation, member, after)


def _insert(sequence: Sequence, generation: Generation, member, after: Shot | None) -> Shot:
    with transaction.atomic():
        Sequence.objects.select_for_update().filter(pk=sequence.pk).first()
        order = list(sequence.shots.order_by("position", "pk").values_list("pk", flat=True))
        at = order.index(after.pk) + 1 if after is not None and after.pk in order else len(order)
        shot = Shot.objects.create(sequence=sequence, generation=generation, position=at)
        order.insert(at, shot.pk)
        _renumber(sequence, order)
        _stale(sequence)
        audit.record_action(
            sequence.team,
            member,
            "sequence.shot_added",
            f"{audit.describe(generation)} → {sequence.name}",
            uuid=str(sequence.uuid),
            generation=str(generation.uuid),
            position=at + 1,
        )
    shot.refresh_from_db()
    return shot


def remove_shot(sequence: Sequence, shot: Shot, member) -> None:
    """Take ``shot`` out of ``sequence`` (the generation itself stays)."""
    with transaction.atomic():
        deleted, _count = Shot.objects.filter(pk=shot.pk, sequence=sequence).delete()
        if not deleted:
            return
        _renumber(sequence, list(sequence.shots.order_by("position", "pk").values_list("pk", flat=True)))
        _stale(sequence)
        audit.record_action(
            sequence.team, member, "sequence.shot_removed", sequence.name, uuid=str(sequence.uuid), shot=shot.pk
        )


def reorder_shots(sequence: Sequence, order: list[int], member) -> None:
    """Put the sequence's shots in ``order`` (their ids, every shot once, as the drag and drop
    sends them). Raises Refused when ``order`` is not exactly the sequence's shots."""
    with transaction.atomic():
        current = list(sequence.shots.order_by("position", "pk").values_list("pk", flat=True))
        if sorted(order) != sorted(current) or len(set(order)) != len(order):
            raise Refused(_("The shots changed meanwhile; reload the page and move them again."))
        if order == current:
            return
        _renumber(sequence, order)
        _stale(sequence)
        audit.record_action(sequence.team, member, "sequence.reordered", sequence.name, uuid=str(sequence.uuid))


def move_shot(sequence: Sequence, shot: Shot, step: int, member) -> None:
    """Move ``shot`` one place earlier (``step`` −1) or later (+1); at an end, nothing."""
    current = list(sequence.shots.order_by("position", "pk").values_list("pk", flat=True))
    if shot.pk not in current:
        raise Refused(_("That shot is no longer in this sequence."))
    i = current.index(shot.pk)
    j = i + (1 if step > 0 else -1)
    if not 0 <= j < len(current):
        return
    current[i], current[j] = current[j], current[i]
    reorder_shots(sequence, current, member)


def continuing_key(source: Generation, keys) -> GatewayKey | None:
    """The member's key to continue ``source`` through: its own key when it is one of
    ``keys``, else one of ``keys`` of the same dialect; None without one."""
    return keys.filter(pk=source.key_id).first() or keys.filter(dialect=source.dialect).first()


def continue_shot(sequence: Sequence, shot: Shot, member, key: GatewayKey | None, *, membership=None) -> Generation:
    """Make the next shot from ``shot``'s last frame: a new generation with the same prompt,
    model and options through ``key`` (see ``continuing_key``), its reference image that
    frame (PNG), its lineage the shot and the frame's time; it goes through
    ``create_generation`` (budgets, caps, hold, approval) and is inserted right after
    ``shot``. Raises Refused (no key, unfinished shot, a gateway that would refuse the
    request) and billing.BudgetExceeded; either way nothing is made."""
    source = shot.generation
    if key is None:
        raise Refused(
            _("You have no key for %(dialect)s to continue this shot through; add one on Keys.")
            % {"dialect": source.dialect}
        )
    grabbed = decode_frame(source, None)
    options = source.options or {}
    link = settings.STUDIO_PUBLIC_URL + "/r/upload" if settings.STUDIO_PUBLIC_URL else ""
    choices = GenerationInput(
        model=source.model_name,
        prompt=source.prompt,
        duration=options.get("duration"),
        aspect_ratio=options.get("aspect_ratio"),
        resolution=options.get("resolution"),
        audio=options.get("audio"),
        # An upload to a gateway that fetches by URL is served at its signed link (as the form says).
        references=[ReferenceImageData("image/png", grabbed.png, link)],
    )
    problems = key.gateway_class.validate_choices(choices)
    if problems:
        raise Refused(_("The gateway would refuse the next shot: %(why)s") % {"why": " ".join(problems.values())})
    reference = NewReference("image/png", grabbed.png, grabbed.width, grabbed.height)
    with transaction.atomic():
        generation = create_generation(
            team=sequence.team,
            author=member,
            key=key,
            choices=choices,
            references=[reference],
            membership=membership,
            frame_of=source,
            frame_time_s=grabbed.time_s,
        )
        _insert(sequence, generation, member, shot)
    return generation


def render_sequence(sequence: Sequence, member) -> bool:
    """Queue the render of the sequence to one MP4 (``RENDER``, after commit). Raises
    Refused for a sequence without shots or with a shot not finished; False when a render
    is already waiting or running (one asked for over ``RENDER_STALE`` ago is taken as lost
    with its queued message, and replaced)."""
    shots = list(sequence.shots.select_related("generation__task", "generation__asset"))
    if not shots:
        raise Refused(_("This sequence has no shots yet; add a finished video before rendering it."))
    for shot in shots:
        finished_asset(shot.generation, _("rendered into the sequence (shot %(n)d)") % {"n": shot.position + 1})
    token = uuidlib.uuid4().hex
    now = timezone.now()
    with transaction.atomic():
        busy = Q(
            render_state__in=(RenderState.QUEUED, RenderState.RENDERING), render_requested_at__gt=now - RENDER_STALE
        )
        changed = (
            Sequence.objects.filter(pk=sequence.pk)
            .exclude(busy)
            .update(
                render_state=RenderState.QUEUED,
                render_token=token,
                render_progress=0,
                render_error="",
                render_requested_at=now,
            )
        )
        if not changed:
            return False
        audit.record_action(sequence.team, member, "sequence.rendered", sequence.name, uuid=str(sequence.uuid))
        enqueue_on_commit(RENDER, sequence.pk, token)
    return True


def delete_sequence(sequence: Sequence, member) -> None:
    """Delete the sequence and its rendered file (its generations stay)."""
    with transaction.atomic():
        files = [f for f in (sequence.video, sequence.poster) if f]
        Sequence.objects.filter(pk=sequence.pk).delete()
        audit.record_action(sequence.team, member, "sequence.deleted", sequence.name, uuid=str(sequence.uuid))
        for f in files:
            transaction.on_commit(lambda f=f: f.storage.delete(f.name))


__all__ = [
    "RENDER",
    "Refused",
    "add_shot",
    "continue_shot",
    "continuing_key",
    "create_sequence",
    "delete_sequence",
    "move_shot",
    "remove_shot",
    "render_sequence",
    "reorder_shots",
]
