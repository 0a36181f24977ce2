"""Share links: making and revoking them (members), and the guest pages they open.

A guest page (``/s/<token>/``) needs no login and reaches nothing else of the studio:
its templates (``templates/share/``) have no studio navigation and link only to the
link's own video, poster and note form. The link is looked up by the SHA-256 of its
token on every request (never cached), so a revoked or expired link, and a guessed or
tampered token, is a 404 at once. Views, notes and password tries are rate-limited per
client address and link (``accounts.throttle.begin_guest_use``); every view and note
goes into the team's audit trail.
"""

from __future__ import annotations

import re
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.hashers import check_password
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import throttle
from accounts.access import get_for_team, team_required
from videos import actions
from videos.forms import GuestNoteForm, ShareForm, SharePasswordForm
from videos.lib.files import serve_file
from videos.models import Generation, ShareLink, TaskState
from videos.web import team_generations
from videos.web.downloads import download_name

#: What a well-formed token looks like (``secrets.token_urlsafe(32)`` gives 43 characters).
TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")
#: Guest budgets per client address and link: (uses, seconds).
VIEW_LIMIT = (60, 600)
FILE_LIMIT = (600, 600)
NOTE_LIMIT = (30, 3600)
PASSWORD_LIMIT = (10, 900)


# --- members: make and revoke links ---------------------------------------------------------


def _shareable(request, uuid):
    generation = get_for_team(request, team_generations(request), uuid=uuid)
    if not actions.can_share(generation, request.membership):
        raise PermissionDenied(_("Only its author, an admin or an owner can share a video."))
    return generation


def share_link_page(request, form: ShareForm, make, template: str, context: dict, *, refused_status: int = 200):
    """The page making share links (the video's, the board's): on a valid POST of ``form``,
    ``make(expires_at=, password=, allow_notes=, allow_download=)`` saves one and its
    address is shown once (``new_url``) with a fresh form; its ShareRefused is shown on the
    form, answered with ``refused_status``. Renders ``template`` with ``context`` plus
    ``form`` and ``new_url``, never cached."""
    new_url = ""
    if request.method == "POST" and form.is_valid():
        try:
            _link, token = make(
                expires_at=form.expires_at(),
                password=form.cleaned_data["password"],
                allow_notes=form.cleaned_data["allow_notes"],
                allow_download=form.cleaned_data["allow_download"],
            )
        except actions.ShareRefused as exc:
            form.add_error(None, exc.message)
        else:
            new_url = request.build_absolute_uri(reverse("share_page", args=[token]))
            form = ShareForm()
    status = refused_status if form.errors else 200
    response = render(request, template, {**context, "form": form, "new_url": new_url}, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@team_required
def share_create(request, uuid):
    """GET: the form for a new link to this video and its links so far. POST: make one and
    show its address once (only its hash is kept). 403 for a member who is neither its
    author nor an admin or owner; a refusal is shown on the form and nothing is saved."""
    generation = _shareable(request, uuid)
    return share_link_page(
        request,
        ShareForm(request.POST or None),
        lambda **options: actions.create_share_link(generation, request.user, **options),
        "videos/share.html",
        {
            "generation": generation,
            "links": generation.share_links.select_related("created_by")[:50],
            "gated": not actions.leaves_the_studio(generation),
        },
    )


@require_POST
@team_required
def share_revoke(request, uuid):
    """POST ``link`` (a link's uuid): revoke that link of this video now."""
    generation = _shareable(request, uuid)
    link = generation.share_links.filter(uuid=_uuid_or_none(request.POST.get("link"))).first()
    if link is None:
        raise Http404
    if actions.revoke_share_link(link, request.user):
        messages.success(request, _("Revoked: the link %(prefix)s… no longer opens.") % {"prefix": link.prefix})
    else:
        messages.error(request, _("That link was already revoked."))
    return redirect("share_create", uuid=generation.uuid)


def _uuid_or_none(value):
    try:
        return UUID(str(value))
    except ValueError:
        return None


# --- guests ------------------------------------------------------------------------------------


def _gone(request) -> HttpResponse:
    response = render(request, "share/gone.html", status=404)
    response["Cache-Control"] = "no-store"
    return response


def _live_link(token: str) -> ShareLink | None:
    """The live link whose token this is (looked up by its hash), or None."""
    if not TOKEN.fullmatch(token or ""):
        return None
    return (
        ShareLink.objects.live()
        .filter(token_hash=ShareLink.hash_token(token))
        .select_related("team", "board", "generation__asset", "generation__task", "generation__team")
        .first()
    )


def _session_key(link: ShareLink) -> str:
    return f"share-pass:{link.uuid}"


def _address(request) -> str:
    return throttle.address_digest(request, settings.SECRET_KEY[:16])


def _guest_headers(response: HttpResponse) -> HttpResponse:
    """No caching, no indexing, and the token-bearing address never sent to another site
    (``same-origin``: ``no-referrer`` would make the browser post ``Origin: null``, which
    the CSRF check refuses)."""
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _too_many(request, wait: int, *, notes: bool = False) -> HttpResponse:
    minutes = max(1, -(-wait // 60))
    response = render(request, "share/limited.html", {"minutes": minutes, "notes": notes}, status=429)
    response["Retry-After"] = str(wait)
    return _guest_headers(response)


@require_http_methods(["GET", "POST"])
def share_page(request, token: str):
    """The guest page of a share link: its video (and a download when allowed), the guest
    notes, and a note form when the link takes notes; first a password form when it has
    one. POST ``password`` or a note (``guest_name``, ``body``, ``time_s``). 404 for a
    token that is malformed, unknown, revoked or expired; 429 past the address's budget."""
    link = _live_link(token)
    if link is None:
        return _gone(request)
    address = _address(request)
    scope = str(link.uuid)
    generation = link.generation

    if link.password_hash and not request.session.get(_session_key(link)):
        form = SharePasswordForm(request.POST if request.method == "POST" and "password" in request.POST else None)
        if form.is_bound:
            wait = throttle.begin_guest_use("share-password", scope, address, *PASSWORD_LIMIT)
            if wait:
                return _too_many(request, wait)
            if form.is_valid() and check_password(form.cleaned_data["password"], link.password_hash):
                request.session[_session_key(link)] = True
                return redirect("share_page", token=token)
            form.add_error("password", _("That is not the password."))
        return _guest_headers(render(request, "share/password.html", {"form": form}))

    if link.board_id is not None:
        return _board_page(request, link, token, address)

    note_form = GuestNoteForm()
    if request.method == "POST":
        if not link.allow_notes:
            return _guest_headers(HttpResponse(_("This link does not take notes."), status=403))
        note_form = GuestNoteForm(request.POST)
        if note_form.is_valid():
            wait = throttle.begin_guest_use("share-note", scope, address, *NOTE_LIMIT)
            if wait:
                return _too_many(request, wait, notes=True)
            data = note_form.cleaned_data
            try:
                note = actions.add_guest_note(link, data["guest_name"], data["body"], data["time_s"], address)
            except actions.ShareRefused as exc:
                note_form.add_error(None, exc.message)
            else:
                request.session["share-guest-name"] = note.guest_name  # the cleaned name, for the next note
                return redirect(reverse("share_page", args=[token]) + "#notes")
    else:
        wait = throttle.begin_guest_use("share-view", scope, address, *VIEW_LIMIT)
        if wait:
            return _too_many(request, wait)
        actions.record_share_view(link, address)
        if request.session.get("share-guest-name"):
            note_form = GuestNoteForm(initial={"guest_name": request.session["share-guest-name"]})

    available = actions.leaves_the_studio(generation) and getattr(generation, "asset", None) is not None
    context = {
        "link": link,
        "token": token,
        "generation": generation,
        "asset": getattr(generation, "asset", None),
        "available": available,
        "notes": link.guest_notes.all(),
        "note_form": note_form,
    }
    return _guest_headers(render(request, "share/page.html", context, status=400 if note_form.errors else 200))


def _guest_asset(request, token: str):
    link = _live_link(token)
    if link is None or (link.password_hash and not request.session.get(_session_key(link))):
        raise Http404
    generation = link.generation
    asset = getattr(generation, "asset", None)
    if asset is None or not actions.leaves_the_studio(generation):
        raise Http404
    return link, generation, asset


def _guest_video(request, link, generation, asset):
    """A share link's video file for a guest (ranges served; ``?download=1`` as an
    attachment, only when ``link`` allows downloads). 404 for a refused download or no
    file; 429 past the address's budget (``FILE_LIMIT``)."""
    attachment = request.GET.get("download") == "1"
    if attachment and not link.allow_download:
        raise Http404
    wait = throttle.begin_guest_use("share-file", str(link.uuid), _address(request), *FILE_LIMIT)
    if wait:
        return _too_many(request, wait)
    if not asset.file:
        raise Http404
    response = serve_file(
        request,
        asset.file,
        content_type="video/mp4",
        filename=download_name(generation),
        attachment=attachment,
        size=asset.bytes,
    )
    response["Referrer-Policy"] = "same-origin"
    return response


@require_GET
def share_video(request, token: str):
    """The link's video (ranges served; ``?download=1`` as an attachment, only when the link
    allows downloads). 404 outside a live link; 429 past the address's budget."""
    link, generation, asset = _guest_asset(request, token)
    return _guest_video(request, link, generation, asset)


@require_GET
def share_poster(request, token: str):
    """The poster of the link's video."""
    _link, generation, asset = _guest_asset(request, token)
    if not asset.poster:
        raise Http404
    return serve_file(request, asset.poster, content_type="image/jpeg", filename=download_name(generation, "jpg"))


# --- a board's link ------------------------------------------------------------------------


def board_videos(link: ShareLink) -> tuple[list[Generation], int]:
    """The videos a guest of a board's ``link`` sees: the board's finished ones with their
    video (under the export gate only approved ones), newest added first; and how many
    finished ones the gate holds back."""
    finished = list(
        Generation.objects.filter(team=link.team, board_items__board=link.board, task__state=TaskState.COMPLETED)
        .exclude(asset=None)
        .select_related("asset", "task", "team")
        .order_by("-board_items__added", "-pk")
    )
    shown = [g for g in finished if actions.leaves_the_studio(g)]
    return shown, len(finished) - len(shown)


def _board_page(request, link: ShareLink, token: str, address: str) -> HttpResponse:
    """The guest page of a board's link: the board's videos as tiles, the chosen one (``v``,
    a uuid; the first by default) in the player with its guest notes and the note form
    (POST ``video`` with the note)."""
    videos, held = board_videos(link)
    wanted = _uuid_or_none(request.POST.get("video") if request.method == "POST" else request.GET.get("v"))
    current = next((g for g in videos if g.uuid == wanted), videos[0] if videos else None)
    if wanted is not None and (current is None or current.uuid != wanted):
        return _gone(request)  # not on the board (or not shown): nothing to say about it
    here = reverse("share_page", args=[token])
    note_form = GuestNoteForm()
    if request.method == "POST":
        if not link.allow_notes or current is None:
            return _guest_headers(HttpResponse(_("This link does not take notes."), status=403))
        note_form = GuestNoteForm(request.POST)
        if note_form.is_valid():
            wait = throttle.begin_guest_use("share-note", str(link.uuid), address, *NOTE_LIMIT)
            if wait:
                return _too_many(request, wait, notes=True)
            data = note_form.cleaned_data
            try:
                note = actions.add_guest_note(
                    link, data["guest_name"], data["body"], data["time_s"], address, generation=current
                )
            except actions.ShareRefused as exc:
                note_form.add_error(None, exc.message)
            else:
                request.session["share-guest-name"] = note.guest_name
                return redirect(f"{here}?v={current.uuid}#notes")
    else:
        wait = throttle.begin_guest_use("share-view", str(link.uuid), address, *VIEW_LIMIT)
        if wait:
            return _too_many(request, wait)
        actions.record_share_view(link, address)
        if request.session.get("share-guest-name"):
            note_form = GuestNoteForm(initial={"guest_name": request.session["share-guest-name"]})
    context = {
        "link": link,
        "token": token,
        "board": link.board,
        "videos": videos,
        "held": held,
        "current": current,
        "asset": getattr(current, "asset", None),
        "notes": link.guest_notes.filter(generation=current) if current else [],
        "note_form": note_form,
    }
    return _guest_headers(render(request, "share/board.html", context, status=400 if note_form.errors else 200))


def _board_asset(request, token: str, video):
    link = _live_link(token)
    if link is None or link.board_id is None or (link.password_hash and not request.session.get(_session_key(link))):
        raise Http404
    generation = Generation.objects.filter(team=link.team, uuid=video).select_related("asset", "task", "team").first()
    if generation is None or not actions.board_shows(link.board, generation) or not generation.asset.file:
        raise Http404
    return link, generation, generation.asset


@require_GET
def share_board_video(request, token: str, video):
    """One video of a board's link (``video``: its uuid; it must be on the board and shown
    there), ranges served; ``?download=1`` only when the link allows downloads. 404
    otherwise; 429 past the address's budget."""
    link, generation, asset = _board_asset(request, token, video)
    return _guest_video(request, link, generation, asset)


@require_GET
def share_board_poster(request, token: str, video):
    """The poster of one video of a board's link (on the board and shown there; else 404)."""
    _link, generation, asset = _board_asset(request, token, video)
    if not asset.poster:
        raise Http404
    return serve_file(request, asset.poster, content_type="image/jpeg", filename=download_name(generation, "jpg"))
