"""Videos as files to keep: the readable name every download carries, and the ZIP of
ticked videos with its ``manifest.csv`` and, when some were left out, ``left-out.txt``.

``download_name`` is the one naming rule: a ZIP's entries and a single video's
``Content-Disposition`` (``lib.files.content_disposition``, RFC 6266 ``filename*``
when the name is not ASCII) use it, so a file keeps its name however it was fetched.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from videos import audit, billing
from videos.gateways import dialect_choices
from videos.lib.csvtext import csv_lines
from videos.lib.files import content_disposition
from videos.lib.zipstream import ZipEntry, stream_zip
from videos.models import ACTIVE_STATES, Generation, RenderState, Review, Sequence, TaskState

#: The manifest's columns, in order.
MANIFEST_COLUMNS = ("file", "prompt", "gateway", "model", "options", "cost", "author", "created", "sha256")
#: The most posted ids ``left-out.txt`` names one by one (the rest are counted).
LEFT_OUT_LINES = 200


def download_name(generation: Generation, ext: str = "mp4") -> str:
    """``2026-11-21-a-paper-boat-on-a-rainy-1a2b3c4d.mp4``: the local day it was made, the
    prompt's first words (letters of any script kept: ``2026-12-01-日落时的海边-…``), and
    the first 8 hex digits of its uuid. Safe as a file name everywhere: no slash, quote,
    dot or space inside."""
    words = slugify(" ".join(generation.prompt.split()[:6]), allow_unicode=True)[:48].strip("-_") or "video"
    return f"{timezone.localdate(generation.created_at):%Y-%m-%d}-{words}-{generation.uuid.hex[:8]}.{ext}"


def _options(generation: Generation) -> str:
    """``aspect_ratio=16:9; duration=6; resolution=720p`` (duration in seconds)."""
    return "; ".join(f"{name}={value}" for name, value in sorted((generation.options or {}).items()))


def manifest_row(generation: Generation) -> list[str]:
    """One ``manifest.csv`` row (``MANIFEST_COLUMNS``); the cost is in USD, empty when unpriced
    or not charged; ``created`` is local ISO 8601."""
    gateways = dict(dialect_choices())
    cost = "" if generation.cost_usd is None else billing.usd(generation.cost_usd).lstrip("$")
    author = generation.author.get_username() if generation.author else _("deleted user")
    return [
        download_name(generation),
        generation.prompt,
        gateways.get(generation.dialect, generation.dialect),
        generation.model_name,
        _options(generation),
        cost,
        author,
        timezone.localtime(generation.created_at).isoformat(timespec="seconds"),
        generation.asset.sha256,
    ]


def approved_only(generation: Generation) -> bool:
    """Whether ``generation`` is held back by its team's export gate (only approved videos
    leave the studio, and its review was not accepted)."""
    return generation.team.export_approved_only and generation.review != Review.ACCEPTED


def left_out_reason(generation: Generation) -> str:
    """Why a ticked video of the team is not in the ZIP, in words."""
    if approved_only(generation) and getattr(generation, "asset", None) is not None:
        return _("not approved")
    task = getattr(generation, "task", None)
    state = task.state if task else ""
    if state in ACTIVE_STATES:
        return _("not finished yet (%(state)s)") % {"state": task.get_state_display().lower()}
    if state and state != TaskState.COMPLETED:
        return _("no video: it ended %(state)s") % {"state": task.get_state_display().lower()}
    return _("no archived video")


def _left_out_line(name: str, what: str, why: str) -> str:
    """One line of ``left-out.txt``: a file's name, what it is, and why it is not in the ZIP."""
    return _("%(name)s %(what)s: %(why)s") % {"name": name, "what": what, "why": why}


def _left_out(request: HttpRequest, generations: list[Generation], archived: list[Generation]) -> list[str]:
    """Lines for ``left-out.txt``: each ticked id that is not in the ZIP and why. An id that
    is malformed, deleted or another team's reads "not found", whichever it was."""
    found = {g.uuid: g for g in generations}
    included = {g.uuid for g in archived}
    lines, seen, not_found = [], set(), 0
    for raw in request.POST.getlist("ids"):
        try:
            wanted = uuid.UUID(raw)
        except ValueError:
            wanted = None
        if wanted in seen or wanted in included:
            continue
        seen.add(wanted)
        if wanted in found:
            generation = found[wanted]
            lines.append(
                _left_out_line(download_name(generation), audit.describe(generation), left_out_reason(generation))
            )
        else:
            not_found += 1
            if not_found <= LEFT_OUT_LINES:
                lines.append(_("%(id)s: not found") % {"id": wanted or _("a malformed id")})
    if not_found > LEFT_OUT_LINES:
        lines.append(_("… and %(n)d more not found") % {"n": not_found - LEFT_OUT_LINES})
    return lines


def sequence_download_name(sequence: Sequence) -> str:
    """``sequence-opening-titles-1a2b3c4d.mp4``: a rendered sequence's file name in a ZIP."""
    words = slugify(sequence.name, allow_unicode=True)[:48].strip("-_") or "sequence"
    return f"sequence-{words}-{sequence.uuid.hex[:8]}.mp4"


def sequence_held_back(sequence: Sequence) -> str:
    """Why a board's sequence is not in its ZIP, in words, or "" when it goes in: rendered,
    and under the team's export gate every shot approved."""
    if sequence.render_state != RenderState.DONE or not sequence.video:
        return _("not rendered")
    if sequence.team.export_approved_only and any(
        shot.generation.review != Review.ACCEPTED for shot in sequence.shots.all()
    ):
        return _("not approved (a shot's review was not accepted)")
    return ""


def _zip_entries(
    archived: list[Generation],
    left_out: list[str],
    missing: list[ZipEntry],
    *,
    gated: bool = False,
    sequences: tuple[Sequence, ...] = (),
    listed: bool = False,
) -> Iterator[ZipEntry]:
    """The videos, then (once they are written, so it knows which the store failed to give)
    ``manifest.csv`` and, when anything was left out, ``left-out.txt``. Under the team's
    export gate (``gated``) ``left-out.txt`` is always there and says only approved videos
    are in the ZIP."""
    now = timezone.now()
    by_name = {}
    for generation in archived:
        name = download_name(generation)
        by_name[name] = generation
        asset = generation.asset
        yield ZipEntry(name, asset.file.storage, asset.file.name, asset.bytes, generation.created_at)
    for sequence in sequences:
        video = sequence.video
        yield ZipEntry(
            sequence_download_name(sequence), video.storage, video.name, sequence.video_bytes or 0, sequence.rendered_at
        )
    lost = {entry.name for entry in missing}
    rows = [MANIFEST_COLUMNS, *(manifest_row(g) for name, g in by_name.items() if name not in lost)]
    yield ZipEntry.text("manifest.csv", "".join(csv_lines(rows)), now)
    lines = left_out + [
        _left_out_line(name, audit.describe(by_name[name]), _("missing from the file store"))
        for name in lost
        if name in by_name
    ]
    if lines or gated:
        heading = [_("Not in this ZIP:") if listed else _("Ticked but not in this ZIP:")] if lines else []
        if gated:
            heading.insert(
                0, _("This team lets only approved videos leave the studio: this ZIP holds approved videos only.")
            )
        yield ZipEntry.text("left-out.txt", "\r\n".join([*heading, *lines, ""]), now)


def zip_response(
    request: HttpRequest,
    generations: list[Generation],
    back: str,
    *,
    listed: bool = False,
    sequences: list[Sequence] | tuple = (),
) -> HttpResponse:
    """A streamed ZIP of the archived videos among ``generations`` (the team's, from the
    posted ``ids``; with ``listed``, all of a list such as a board's, and ``left-out.txt``
    names those of it left out) with ``manifest.csv`` and ``left-out.txt``, and the
    rendered ``sequences`` (a board's) that may leave the studio. Under the team's export
    gate only approved videos go in. A redirect to ``back`` with a message when there is
    nothing to put in. Records ``generations.downloaded``."""
    archived = [g for g in generations if getattr(g, "asset", None) is not None and g.asset.file]
    gated = request.team.export_approved_only
    if gated:
        archived = [g for g in archived if not approved_only(g)]
    held = {sequence.pk: sequence_held_back(sequence) for sequence in sequences}
    rendered = tuple(sequence for sequence in sequences if not held[sequence.pk])
    if not archived and not rendered:
        if gated:
            messages.error(
                request,
                _("None of the selected videos is approved: this team lets only approved videos leave the studio."),
            )
        else:
            messages.error(request, _("None of the selected videos is ready to download yet."))
        return redirect(back)
    if listed:
        included = {g.pk for g in archived}
        left_out = [
            _left_out_line(download_name(g), audit.describe(g), left_out_reason(g))
            for g in generations
            if g.pk not in included
        ]
    else:
        left_out = _left_out(request, generations, archived)
    left_out += [
        _left_out_line(sequence_download_name(sequence), sequence.name, held[sequence.pk])
        for sequence in sequences
        if held[sequence.pk]
    ]
    count = len(archived)
    audit.record_action(
        request.team,
        request.user,
        "generations.downloaded",
        f"{count} video{'s' if count != 1 else ''} as a ZIP",
        count=count,
        uuids=[str(g.uuid) for g in archived],
        left_out=len(left_out),
    )
    missing: list[ZipEntry] = []
    response = StreamingHttpResponse(
        stream_zip(
            _zip_entries(archived, left_out, missing, gated=gated, sequences=rendered, listed=listed), missing=missing
        ),
        content_type="application/zip",
    )
    filename = f"studio-{timezone.localdate():%Y-%m-%d}-{count}-video{'s' if count != 1 else ''}.zip"
    response["Content-Disposition"] = content_disposition(filename, attachment=True)
    response["Cache-Control"] = "no-store"
    return response
