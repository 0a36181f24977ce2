"""Access rules: who may see and do what in the current team.

Every view that touches team data goes through ``team_required`` and looks
objects up with ``get_for_team``, which answers 404 (never 403) to anyone outside
the team, so other teams' ids reveal nothing. Every ``next`` a view follows goes
through ``safe_next``, so no link can send a member off the site.
"""

from __future__ import annotations

import unicodedata
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

#: The longest ``next`` followed (Django's own check refuses longer ones too).
NEXT_MAX_LENGTH = 2048


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
                raise PermissionDenied(_("Viewers cannot submit generations."))
            if can_manage and not membership.can_manage:
                raise PermissionDenied(_("Only owners and admins can do this."))
            return func(request, *args, **kwargs)

        return wrapper

    return decorator(view) if view is not None else decorator


def get_for_team(request, queryset, **lookup):
    """The object matching ``lookup`` inside the current team, or Http404."""
    return get_object_or_404(queryset.filter(team=request.team), **lookup)


def safe_next(request, fallback_url: str) -> str:
    """Where to send the user after an action: the request's ``next`` (from the POST body,
    else the query string) when it stays on this site, else ``fallback_url``.

    ``next`` is followed only when Django's ``url_has_allowed_host_and_scheme`` allows it
    for this request's host (HTTPS only when the request came over HTTPS), it is a path
    from the root (``/…``) or an absolute URL, it is at most ``NEXT_MAX_LENGTH``
    characters and it holds no control character (NUL, newline). So an off-site URL, a
    scheme-relative ``//host``, ``javascript:``, a bare word (which ``redirect`` would
    take for a view name) and the like fall back. Never raises; returns a URL (absolute
    on this host, or a path) for ``redirect``.
    """
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if (
        candidate.startswith(("/", "http://", "https://"))
        and len(candidate) <= NEXT_MAX_LENGTH
        and not any(unicodedata.category(char) in {"Cc", "Cs"} for char in candidate)
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return fallback_url
