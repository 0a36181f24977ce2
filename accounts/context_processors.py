from django.utils.functional import SimpleLazyObject

from accounts.models import Membership


def team(request):
    """Expose the current team and membership to every template, and (lazily: one query,
    only when the header's team switcher reads it) ``team_memberships``, the user's
    memberships by team name."""
    user = getattr(request, "user", None)
    context = {
        "team": getattr(request, "team", None),
        "membership": getattr(request, "membership", None),
    }
    if user is not None and user.is_authenticated:
        context["team_memberships"] = SimpleLazyObject(
            lambda: list(Membership.objects.filter(user=user).select_related("team").order_by("team__name", "pk"))
        )
    return context
