"""Bearer access tokens and the per-token rate limit.

A request sends ``Authorization: Bearer stk_…``. The token must be ours, not revoked,
not expired, and its user still a member of its team (else 401). Each token may make
``RATE_LIMIT`` requests in any clock minute (``RATE_WINDOW`` seconds); past that the API
answers 429 with ``Retry-After`` (seconds until the next minute). The counters live in
the database cache the login throttle uses, so every web process shares them.
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import caches
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja.security import HttpBearer

from accounts import actions as account_actions
from accounts.models import AccessToken, Membership, Scope
from videos.api.problems import Problem

#: Requests per token per window (``STUDIO_API_RATE_LIMIT`` overrides it).
RATE_LIMIT = 120
RATE_WINDOW = 60
CACHE_ALIAS = "login_throttle"


def rate_limit() -> int:
    return int(getattr(settings, "STUDIO_API_RATE_LIMIT", RATE_LIMIT))


def clock() -> float:
    """Seconds since the epoch: the rate limit's clock (the tests hold it still)."""
    return time.time()


def _count(token: AccessToken) -> None:
    """Count one request of ``token``; raises Problem(429) over ``rate_limit()``."""
    cache = caches[CACHE_ALIAS]
    now = clock()
    window = int(now // RATE_WINDOW)
    key = f"api-rate:{token.pk}:{window}"
    cache.add(key, 0, timeout=RATE_WINDOW * 2)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=RATE_WINDOW * 2)
        used = 1
    if used > rate_limit():
        wait = max(1, math.ceil((window + 1) * RATE_WINDOW - now))
        raise Problem(
            429,
            _("Too many requests with this token: %(limit)d a minute. Try again in %(wait)d s.")
            % {"limit": rate_limit(), "wait": wait},
            headers={"Retry-After": str(wait)},
        )


class TokenAuth(HttpBearer):
    """Authenticates ``Authorization: Bearer <token>``; sets ``request.token``,
    ``request.user``, ``request.team`` and ``request.membership``. Raises Problem(401)
    with the reason, Problem(429) over the rate limit."""

    def __call__(self, request):
        header = request.headers.get("Authorization", "")
        scheme, _sep, plain = header.partition(" ")
        if scheme.lower() != "bearer" or not plain.strip():
            raise Problem(
                401, _("Send an access token: Authorization: Bearer <token> (make one on your account page).")
            )
        return self.authenticate(request, plain.strip())

    def authenticate(self, request, token: str):
        found = AccessToken.find(token)
        if found is None:
            raise Problem(401, _("This access token is not valid."))
        if found.revoked_at is not None:
            raise Problem(401, _("This access token was revoked."))
        if not found.is_usable:
            raise Problem(401, _("This access token has expired; make a new one on your account page."))
        membership = Membership.objects.select_related("team", "user").filter(team=found.team, user=found.user).first()
        if membership is None or not found.user.is_active:
            raise Problem(401, _("This token's owner is no longer a member of its team."))
        _count(found)
        account_actions.note_token_use(found)
        request.token, request.membership = found, membership
        request.user, request.team = membership.user, membership.team
        return found


ROLE_REFUSAL = {
    Scope.GENERATE: gettext_lazy("Viewers cannot submit generations."),
    Scope.REVIEW: gettext_lazy("Only owners and admins can do this."),
    Scope.ADMIN: gettext_lazy("Only owners and admins can do this."),
}


def require(request, scope: str) -> None:
    """Refuse (Problem 403) unless the request's token has ``scope`` and its member's role
    allows it (``accounts.actions.token_scopes_allowed``)."""
    if scope not in request.token.scopes:
        raise Problem(403, _("This token lacks the “%(scope)s” scope.") % {"scope": scope})
    if scope not in account_actions.token_scopes_allowed(request.membership):
        raise Problem(403, str(ROLE_REFUSAL.get(scope) or _("Your role does not allow this.")))
