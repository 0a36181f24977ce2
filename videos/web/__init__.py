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
from django.utils.translation import gettext_lazy as _

from accounts.access import get_for_team
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


#: What a member who may not change a generation is told, by what they tried (one whole
#: sentence each, so each translates as a sentence).
REFUSALS = {
    "retry": _("Only its author or an admin can retry a generation."),
    "cancel": _("Only its author or an admin can cancel a generation."),
    "delete": _("Only its author or an admin can delete a generation."),
    "resubmit": _("Only its author or an admin can resubmit a generation."),
    "abandon": _("Only its author or an admin can abandon a generation."),
    "choose a take of": _("Only its author or an admin can choose a take of a generation."),
    "archive the takes of": _("Only its author or an admin can archive the takes of a generation."),
}


def changeable_generation(request, uuid, verb: str) -> Generation:
    """The team's generation ``uuid`` if the member may change it (``changeable_by``).
    Raises Http404 outside the team, PermissionDenied (``REFUSALS[verb]``) otherwise."""
    generation = get_for_team(request, team_generations(request), uuid=uuid)
    if not generation.changeable_by(request.membership):
        raise PermissionDenied(str(REFUSALS[verb]))
    return generation
