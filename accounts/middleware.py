"""Sets ``request.team`` and ``request.membership`` for the logged-in user, and puts their
pages in their own time zone and language."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.utils import timezone, translation

from accounts import actions
from accounts.models import Membership

SESSION_KEY = "current_team"


def current_membership(request) -> Membership | None:
    """Return the user's membership in the team chosen in their session.

    When the session names no team (a new login) or a team they have left: the team
    they last worked in (``User.last_team``, kept by ``actions.remember_team``), else
    their oldest membership. None for anonymous users and users with no team.
    """
    user = request.user
    if not user.is_authenticated:
        return None
    memberships = Membership.objects.select_related("team").filter(user=user)
    team_id = request.session.get(SESSION_KEY)
    membership = None
    if team_id is not None:
        membership = memberships.filter(team_id=team_id).first()
    if membership is None and user.last_team_id is not None:
        membership = memberships.filter(team_id=user.last_team_id).first()
    if membership is None:
        membership = memberships.order_by("joined_at", "pk").first()
    if membership is not None and request.session.get(SESSION_KEY) != membership.team_id:
        request.session[SESSION_KEY] = membership.team_id
    return membership


class CurrentTeamMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        membership = current_membership(request)
        request.membership = membership
        request.team = membership.team if membership else None
        return self.get_response(request)


def member_time_zone(user) -> zoneinfo.ZoneInfo | None:
    """The zone ``user`` chose or their browser reported (``User.time_zone``), or None:
    anonymous, not set yet, or a name this machine's tz database no longer knows."""
    if not user.is_authenticated or not user.time_zone:
        return None
    try:
        return zoneinfo.ZoneInfo(user.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


class MemberPreferencesMiddleware:
    """Activates the member's time zone (``User.time_zone``; the server's ``TIME_ZONE`` for
    anonymous visitors and members with none yet), so every aware datetime a template
    renders is in it; and their language (``User.language``) over the one
    ``LocaleMiddleware`` took from the browser, copying it into the language cookie so the
    login page keeps it after they log out. For a member who chose none, the browser's is
    remembered on the account (``User.browser_language``), for the messages written to them
    while they are away.

    The zone is set at the start of every request and left active after it, so a streamed
    response (the audit CSV) renders in it too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        zone = member_time_zone(user)
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        language = user.language if user.is_authenticated else ""
        if language and language in dict(settings.LANGUAGES):
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        else:
            language = ""
            if user.is_authenticated:
                actions.remember_browser_language(user, translation.get_language())
        response = self.get_response(request)
        if language and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != language:
            set_language_cookie(response, language)
        return response


def set_language_cookie(response, language: str) -> None:
    """Remember ``language`` in this browser (Django's language cookie, which
    ``LocaleMiddleware`` reads for anonymous visitors); ``""`` forgets it."""
    if not language:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME, path=settings.LANGUAGE_COOKIE_PATH)
        return
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
