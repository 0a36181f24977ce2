"""Access rules: who may see and do what in the current team.

Every view that touches team data goes through ``team_required`` and looks
objects up with ``get_for_team``, which answers 404 (never 403) to anyone outside
the team, so other teams' ids reveal nothing.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect


def team_required(view=None, *, can_generate: bool = False, can_manage: bool = False):
    """Require a logged-in member of a current team (and optionally a role).

    Without a team the user is sent to the teams page; a role that falls short
    gets 403 (they are in the team, so nothing is hidden from them).
    """

    def decorator(func):
        @login_required
        @wraps(func)
        def wrapper(request, *args, **kwargs):
            membership = getattr(request, "membership", None)
            if membership is None:
                return redirect("teams")
            if can_generate and not membership.can_generate:
                raise PermissionDenied("Viewers cannot submit generations.")
            if can_manage and not membership.can_manage:
                raise PermissionDenied("Only owners and admins can do this.")
            return func(request, *args, **kwargs)

        return wrapper

    return decorator(view) if view is not None else decorator


def get_for_team(request, queryset, **lookup):
    """The object matching ``lookup`` inside the current team, or Http404."""
    return get_object_or_404(queryset.filter(team=request.team), **lookup)
