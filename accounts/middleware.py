"""Sets ``request.team`` and ``request.membership`` for the logged-in user."""

from __future__ import annotations

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
