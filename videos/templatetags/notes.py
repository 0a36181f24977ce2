"""The notes panel and version chain on a generation's page, gathered here so the page's
view needs nothing of them: ``{% notes_panel as panel %}`` in ``videos/_notes.html``."""

from __future__ import annotations

import json

from django import template

from videos.lib.timecode import format_tc
from videos.models import Generation, Note

register = template.Library()


@register.filter
def timecode(seconds) -> str:
    """``2.5`` → ``0:02.5``."""
    try:
        return format_tc(float(seconds))
    except (TypeError, ValueError):
        return ""


@register.simple_tag(takes_context=True)
def notes_panel(context) -> dict:
    """What the panel shows for ``context["generation"]``: its pinned notes with their
    replies (time-code order), how many are open, the markers' data for ``notes.js``
    (``[{id, t, end, open, text}]``, seconds; ``markers_json`` as JSON for an attribute), the forms (bound ones from a refused post
    when the view passed them) and whether the member may resolve each note."""
    from videos.web.notes import NoteForm, ReplyForm

    generation: Generation = context["generation"]
    membership = context.get("membership")
    pinned = list(
        Note.objects.filter(generation=generation).pinned().select_related("author", "resolved_by", "generation")
    )
    replies: dict[int, list] = {}
    for answer in Note.objects.filter(parent__in=[n.pk for n in pinned]).select_related("author"):
        replies.setdefault(answer.parent_id, []).append(answer)
    bound = context.get("reply_forms") or {}
    items = [
        {
            "note": n,
            "replies": replies.get(n.pk, []),
            "form": bound.get(n.pk) or ReplyForm(auto_id=f"reply-{n.uuid}-%s"),
            "can_resolve": n.resolvable_by(membership),
        }
        for n in pinned
    ]
    markers = [
        {"id": str(n.uuid), "t": n.time_s, "end": n.end_s, "open": n.is_open, "text": n.body[:80]} for n in pinned
    ]
    asset = getattr(generation, "asset", None)
    return {
        "items": items,
        "open_count": sum(1 for n in pinned if n.is_open),
        "markers": markers,
        "markers_json": json.dumps(markers),
        "duration": asset.duration_s if asset else None,
        "form": context.get("note_form") or NoteForm(),
    }


@register.simple_tag(takes_context=True)
def version_chain(context) -> dict:
    """``context["generation"]``'s version chain (oldest first; empty when it has no other
    version) and its number in it, from 1."""
    generation: Generation = context["generation"]
    chain = Generation.objects.versions_of(generation)
    return {
        "chain": chain if len(chain) > 1 else [],
        "number": next((i for i, g in enumerate(chain, 1) if g.pk == generation.pk), 1),
    }
