"""The web layer: one module per page group, each a set of thin function views that
validate with a form, call ``videos.actions`` for any change, and render one
template per page (or one of its partials, by name, for htmx requests).

``compose`` the studio page (compose form, estimate, progress cards) ·
``generations`` a generation's page, its files and its actions · ``history`` the
team's history and its bulk actions · ``review`` the review desk · ``notes`` notes on a video's timeline and its versions compared · ``activity`` the
audit trail and notifications · ``keys`` gateway keys · ``money`` spend and
approvals. Every object is looked up inside the current team (404 outside it).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet

from accounts.access import get_for_team
from videos import actions
from videos.models import GatewayKey, Generation


def my_keys(request):
    """The keys the member stored in the current team (a member uses only their own)."""
    return GatewayKey.objects.owned_by(request.team, request.user)


def team_generations(request):
    """The current team's generations, with what a card shows joined."""
    return Generation.objects.for_team(request.team).for_cards()


def with_favorite(queryset: QuerySet[Generation], user) -> QuerySet[Generation]:
    """``queryset`` with ``is_favorite``: whether ``user`` favorited each generation."""
    favorites = Generation.favorited_by.through.objects.filter(generation=OuterRef("pk"), user=user)
    return queryset.annotate(is_favorite=Exists(favorites))


def changeable_generation(request, uuid, verb: str) -> Generation:
    """The team's generation ``uuid`` if the member may change it (``changeable_by``).
    Raises Http404 outside the team, PermissionDenied (``actions.CHANGE_REFUSALS[verb]``) otherwise."""
    generation = get_for_team(request, team_generations(request), uuid=uuid)
    if not generation.changeable_by(request.membership):
        raise PermissionDenied(str(actions.CHANGE_REFUSALS[verb]))
    return generation
