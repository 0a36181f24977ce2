"""Live pages: one refresh request per open page, whatever the number of running cards.

Every page carries one poller, the form ``#live-refresh`` (``templates/videos/_live.html``),
which htmx posts every ``FAST`` seconds while the page shows something running and every
``SLOW`` seconds otherwise. What the page shows lives in hidden inputs owned by that form
(``form="live-refresh"``), placed in the cards themselves, so they come and go with them:

- ``card`` / ``tile`` / ``detail`` = ``<generation uuid>.<version>``: a running studio card,
  History tile or generation page, and the version of it the page holds (``version``: a
  short hash of what the fragment shows).
- ``seen`` = ``<badge>.<count>``: the nav badges' counts the page shows (``BADGES``).
- ``every`` = the poller's interval in seconds.

``refresh`` answers only what changed, as htmx out-of-band fragments: each changed card,
tile or detail (its final fragment carries no ``live`` input, so it drops out), each badge
whose count moved, and a new poller when the interval should change (fast while anything
posted still runs). Nothing changed: 204 and an empty body.

"Nothing changed" costs two queries whatever the number of cards (besides the session and
membership): the posted generations' version fields in one indexed ``uuid IN (...)`` query,
and the badge counts in one statement of scalar subqueries. Another team's ids are ignored.
"""

from __future__ import annotations

import functools
import uuid as uuidlib
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, IntegerField, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_POST

from accounts.access import team_required
from videos.models import ACTIVE_STATES, Event, Generation, Notification
from videos.web import with_favorite
from videos.web.generations import detail_context
from videos.web.versions import VERSION_FIELDS, version_of

#: The poller's interval in seconds while something on the page runs, and otherwise
#: (the nav badges only).
FAST = 2
SLOW = 30
#: The most items one refresh reads (a page shows far fewer; this bounds forged posts).
MAX_ITEMS = 500
KINDS = ("card", "tile", "detail")
#: The nav badges, in the order the nav shows them.
BADGES = ("notifications", "review", "approvals")

# --- the nav badges ---------------------------------------------------------------------------


def _count(queryset: QuerySet, by: str):
    """``queryset``'s row count as a scalar subquery (0 when empty)."""
    counted = queryset.order_by().values(by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


#: Stand-ins for the user's and the team's ids in the badge statement compiled once
#: (``_badge_statement``), replaced by the real ids at each call.
_USER, _TEAM = -7_000_001, -7_000_002


@functools.cache
def _badge_statement(manager: bool) -> tuple[str, tuple, tuple[str, ...]]:
    """The badge counts as one SQL statement, its parameters (with ``_USER``/``_TEAM``
    stand-ins) and the badge names, in column order. Built from the QuerySet methods
    (``unread_for``, ``awaiting_review``, ``awaiting_approval``) and compiled once per
    shape: compiling three subqueries costs ~1,000× running them (milliseconds against
    microseconds, measured by ``bench/refresh.py``)."""
    counts = {"notifications": _count(Notification.objects.unread_for(_USER), "user")}
    if manager:
        team_generations = Generation.objects.for_team(_TEAM)
        counts["review"] = _count(team_generations.awaiting_review(), "team")
        counts["approvals"] = _count(team_generations.awaiting_approval(), "team")
    # One row (the user's own, by primary key) carries every count: each column is an
    # uncorrelated scalar subquery. Prefixed names stay clear of the user's own fields.
    named = {f"badge_{name}": count for name, count in counts.items()}
    query = get_user_model().objects.filter(pk=_USER).annotate(**named).values(*named)[:1].query
    sql, params = query.sql_with_params()
    return sql, tuple(params), tuple(counts)


def badge_counts(request) -> dict[str, int]:
    """The nav badges' counts for the member, in one query: unread notifications (from
    all their teams); for owners and admins also the team's videos awaiting review and
    its requests awaiting approval. ``{}`` without a signed-in user."""
    user, team, membership = request.user, getattr(request, "team", None), getattr(request, "membership", None)
    if not user.is_authenticated:
        return {}
    manager = team is not None and membership is not None and membership.can_manage
    sql, params, names = _badge_statement(manager)
    ids = {_USER: user.pk, _TEAM: team.pk if team is not None else None}
    with connection.cursor() as cursor:
        cursor.execute(sql, [ids.get(p, p) if isinstance(p, int) else p for p in params])
        row = cursor.fetchone()
    return dict(zip(names, row or (0,) * len(names), strict=True))


def badges(request) -> dict:
    """Context processor: ``badges``, the nav badges' counts (``badge_counts``), read lazily
    (one query, only when a template reads it). Nothing for anonymous users."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"badges": SimpleLazyObject(lambda: badge_counts(request))}


# --- the refresh ------------------------------------------------------------------------------


@dataclass
class Posted:
    """What the page said it shows: ``items`` as ``{(kind, uuid): version}``, the badge
    counts ``seen`` and the poller's interval ``every`` (seconds)."""

    items: dict[tuple[str, uuidlib.UUID], str] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)
    every: int = SLOW
    fresh: bool = False


def read_post(data) -> Posted:
    """Parse the poller's form (see the module docstring). Malformed values are skipped,
    never an error; at most ``MAX_ITEMS`` items are read."""
    posted = Posted()
    for kind in KINDS:
        for value in data.getlist(kind)[:MAX_ITEMS]:
            if len(posted.items) >= MAX_ITEMS:
                break
            raw, _, seen_version = value.partition(".")
            try:
                posted.items[(kind, uuidlib.UUID(raw))] = seen_version[:32]
            except ValueError:
                continue
    for value in data.getlist("seen")[: len(BADGES)]:
        name, _, count = value.partition(".")
        if name in BADGES and count.isdigit() and len(count) < 10:
            posted.seen[name] = int(count)
    posted.every = FAST if data.get("every") == str(FAST) else SLOW
    posted.fresh = data.get("fresh") == "1"
    return posted


def poller_fragment(request, every: int, *, fresh: bool = False, over: str = "#live-refresh") -> str:
    """The page's poller at ``every`` seconds, as an out-of-band fragment that replaces the
    one on the page matching ``over`` (and so its interval).

    Generate's answer sends a ``fresh`` one: a refresh already in flight, sent before the new
    card was on the page, may answer "slow down", so that answer replaces only a poller that
    is not fresh (``#live-refresh:not(.fresh)``); the fresh poller's own first refresh, which
    carries the new card, swaps in an ordinary poller at the right pace."""
    context = {"every": every, "oob": True, "fresh": fresh, "over": over}
    return render_to_string("videos/_live.html#poller", context, request)


def _render(request, kind: str, generation: Generation) -> str:
    """The fragment of ``kind`` for ``generation``, marked for an out-of-band swap."""
    if kind == "detail":
        context = {**detail_context(request, generation), "oob": True}
        return render_to_string("videos/detail.html#live", context, request)
    template = "videos/studio.html#card" if kind == "card" else "videos/history.html#tile"
    return render_to_string(template, {"generation": generation, "oob": True}, request)


@require_POST
@team_required
def refresh(request):
    """POST from the page's poller: the changed cards, tiles and details, badges and
    poller, as out-of-band fragments; 204 with nothing when nothing changed."""
    posted = read_post(request.POST)
    uuids = {uuid for _, uuid in posted.items}
    rows = {}
    if uuids:
        team_generations = Generation.objects.for_team(request.team).filter(uuid__in=uuids)
        rows = {row[0]: row[1:] for row in team_generations.values_list("uuid", *VERSION_FIELDS)}
    events = {}
    details = [uuid for kind, uuid in posted.items if kind == "detail" and uuid in rows]
    if details:
        counted = Event.objects.filter(generation__uuid__in=details).values("generation__uuid")
        events = dict(counted.annotate(n=Count("pk")).values_list("generation__uuid", "n"))

    changed: list[tuple[str, uuidlib.UUID]] = []
    running = False
    for (kind, uuid), seen_version in posted.items.items():
        values = rows.get(uuid)
        if values is None:  # gone, or another team's: nothing to say
            continue
        running = running or values[0] in ACTIVE_STATES
        now = version_of(values, kind, events.get(uuid, 0) if kind == "detail" else None)
        if now != seen_version:
            changed.append((kind, uuid))

    parts: list[str] = []
    if changed:
        wanted = {uuid for _, uuid in changed}
        found = Generation.objects.for_team(request.team).for_cards().filter(uuid__in=wanted)
        generations = {g.uuid: g for g in with_favorite(found, request.user)}
        parts += [_render(request, kind, generations[uuid]) for kind, uuid in changed if uuid in generations]

    counts = badge_counts(request)
    moved = {name: n for name, n in counts.items() if posted.seen.get(name) != n}
    for name, count in moved.items():
        parts.append(render_to_string("videos/_live.html#badge", {"name": name, "count": count, "oob": True}, request))

    every = FAST if running else SLOW
    if posted.fresh:
        parts.append(poller_fragment(request, every))
    elif every != posted.every:
        parts.append(poller_fragment(request, every, over="#live-refresh:not(.fresh)"))
    if not parts:
        return HttpResponse(status=204)
    return HttpResponse("".join(parts))
