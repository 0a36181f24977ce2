"""A generation's page (video, options, reference images, lineage, timeline), its
files, and what a member can do to it: remix, retry, cancel, resubmit, abandon,
favorite, delete."""

from __future__ import annotations

from django.contrib import messages
from django.core import signing
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.access import get_for_team, safe_next, team_required
from videos import actions, billing
from videos.lib import references
from videos.lib.files import serve_file
from videos.models import Board, Event, Generation, ReferenceImage
from videos.web import boards as board_pages
from videos.web import changeable_generation, team_generations, with_favorite
from videos.web.downloads import download_name
from videos.web.versions import version as live_version


def detail_context(request, generation: Generation) -> dict:
    """What a generation's page shows (``detail.html`` and its ``live`` partial, which the
    page's poller refreshes while the task runs): timeline, favorite, remixes, and
    ``live_version``, the version of the page (``videos.web.live``'s refresh compares it)."""
    events = list(Event.objects.filter(generation=generation).order_by("created_at", "pk"))
    return {
        "generation": generation,
        "events": events,
        "is_favorite": generation.favorited_by.filter(pk=request.user.pk).exists(),
        "remixes": Generation.objects.for_team(request.team).filter(parent=generation).select_related("task")[:20],
        "can_change": generation.changeable_by(request.membership),
        "live_version": live_version(generation, "detail", len(events)),
        "boards": board_pages.board_choices(request.team),
        "on_boards": Board.objects.filter(items__generation=generation).only("uuid", "name"),
    }


@require_GET
@team_required
def detail(request, uuid):
    """A generation: its video, options, reference images and timeline; while its task
    runs, the page's poller refreshes them, and stops once it has ended."""
    generation = get_for_team(request, team_generations(request), uuid=uuid)
    return render(request, "videos/detail.html", detail_context(request, generation))


def _asset(request, uuid):
    generation = get_for_team(request, Generation.objects.select_related("asset"), uuid=uuid)
    asset = getattr(generation, "asset", None)
    if asset is None:
        raise Http404
    return generation, asset


@require_GET
@team_required
def video_file(request, uuid):
    """The archived MP4 (ranges served; ``?download=1`` as an attachment)."""
    generation, asset = _asset(request, uuid)
    if not asset.file:
        raise Http404
    if request.GET.get("download") == "1" and not actions.leaves_the_studio(generation):
        messages.error(request, _("Not downloaded: this team lets only approved videos leave the studio."))
        return redirect("generation", uuid=generation.uuid)
    return serve_file(
        request,
        asset.file,
        content_type="video/mp4",
        filename=download_name(generation),
        attachment=request.GET.get("download") == "1",
        size=asset.bytes,  # verified when archived
    )


@require_GET
@team_required
def poster_file(request, uuid):
    """The poster JPEG taken from the archived video."""
    generation, asset = _asset(request, uuid)
    if not asset.poster:
        raise Http404
    return serve_file(request, asset.poster, content_type="image/jpeg", filename=download_name(generation, "jpg"))


@require_GET
@team_required
def reference_file(request, uuid, position: int):
    """An uploaded reference image of a team generation."""
    generation = get_for_team(request, Generation.objects.all(), uuid=uuid)
    ref = ReferenceImage.objects.filter(generation=generation, position=position).first()
    if ref is None:
        raise Http404
    return serve_file(
        request, ref.image, content_type=ref.content_type, filename=f"reference-{position}.{ref.extension}"
    )


@require_GET
def reference_public(request, token: str, ext: str):
    """An uploaded reference image at its signed, expiring URL, for gateways that fetch
    references by URL. No login: the signature is the permission. Expired or forged: 404."""
    try:
        pk = references.unsign(token)
    except signing.BadSignature:
        raise Http404("This link has expired or is not valid.") from None
    ref = ReferenceImage.objects.filter(pk=pk).exclude(image="").first()
    if ref is None or ref.extension != ext:
        raise Http404
    # Always through the studio: a gateway may not follow a redirect to the bucket.
    return serve_file(request, ref.image, content_type=ref.content_type, filename=f"reference.{ext}", redirect=False)


# --- actions on one generation ------------------------------------------------------------


def _act(request, uuid, verb: str, action, done: str, gone: str):
    """Run ``action(generation, user)`` on a generation the member may change, say how it
    went (``done`` or, when it returned False, ``gone``) and go back to its page."""
    generation = changeable_generation(request, uuid, verb)
    if action(generation, request.user):
        messages.success(request, done)
    else:
        messages.error(request, gone)
    return redirect("generation", uuid=generation.uuid)


@require_GET
@team_required(can_generate=True)
def remix(request, uuid):
    """Open the compose form prefilled from this generation, linked as its child."""
    generation = get_for_team(request, Generation.objects.all(), uuid=uuid)
    return redirect(f"{reverse('studio')}?remix={generation.uuid}")


@require_POST
@team_required(can_generate=True)
def retry(request, uuid):
    """Send a failed or cancelled generation again: a new attempt of the same request, on
    the same card and timeline, with its estimate held again (its author or an admin)."""
    generation = changeable_generation(request, uuid, "retry")
    if generation.key_id is None:
        messages.error(request, _("Its gateway key was deleted: remix it to send it through another key."))
        return redirect("generation", uuid=generation.uuid)
    try:
        retried = actions.retry(generation, request.user)
    except billing.BudgetExceeded as exc:
        messages.error(request, _("Not retried: %(reason)s") % {"reason": exc.message})
        return redirect("generation", uuid=generation.uuid)
    if retried:
        messages.success(request, _("Sent again; this page follows the new attempt."))
    else:
        messages.error(request, _("Only a failed or cancelled generation can be retried."))
    return redirect("generation", uuid=generation.uuid)


@require_POST
@team_required(can_generate=True)
def cancel(request, uuid):
    """Cancel a running generation and release its hold (its author or an admin). htmx
    (the Cancel button on a studio card) gets the card back as it now stands; otherwise
    back to its page with a message."""
    if not request.htmx:
        done, gone = _("Cancelled; the hold was released."), _("It had already ended.")
        return _act(request, uuid, "cancel", actions.cancel, done, gone)
    generation = changeable_generation(request, uuid, "cancel")
    actions.cancel(generation, request.user)
    fresh = with_favorite(team_generations(request), request.user).get(pk=generation.pk)
    return render(request, "videos/studio.html#card", {"generation": fresh})


@require_POST
@team_required
def favorite(request, uuid):
    """Toggle this generation among the member's favorites (htmx gets the button back).
    Otherwise redirects to ``next`` when it stays on this site (``safe_next``), else to
    the generation's page."""
    generation = get_for_team(request, Generation.objects.all(), uuid=uuid)
    is_favorite = actions.toggle_favorite(generation, request.user)
    if request.htmx:
        return render(request, "videos/_favorite.html", {"generation": generation, "is_favorite": is_favorite})
    return redirect(safe_next(request, reverse("generation", args=[generation.uuid])))


@require_POST
@team_required(can_generate=True)
def delete(request, uuid):
    """Delete a generation and its files (its author or an admin)."""
    generation = changeable_generation(request, uuid, "delete")
    actions.delete_generation(generation, request.user)
    messages.success(request, _("Deleted, with its video and reference images."))
    return redirect("history")


@require_POST
@team_required(can_generate=True)
def resubmit(request, uuid):
    """Send a generation that needs attention once more (its author or an admin). The
    gateway may have created the first one, so this may bill twice."""
    done = _("Resubmitted. If the gateway had created the first one, it may bill both; the hold covers this one.")
    return _act(request, uuid, "resubmit", actions.resubmit, done, _("It no longer needs attention."))


@require_POST
@team_required(can_generate=True)
def abandon(request, uuid):
    """Give up on a generation that needs attention (its author or an admin): it fails
    and its hold is released, though the gateway may still bill it if it had created it."""
    done = _("Abandoned; the hold was released. It will not be sent again.")
    return _act(request, uuid, "abandon", actions.abandon, done, _("It no longer needs attention."))
