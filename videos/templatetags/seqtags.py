"""Template tags for frames and sequences: ``{% team_sequences as choices %}`` lists the
current team's sequences (the "Add to sequence" form on a generation's page)."""

from django import template

from videos.models import Sequence

register = template.Library()


@register.simple_tag(takes_context=True)
def team_sequences(context):
    """The current team's sequences, newest first (none without a team)."""
    request = context.get("request")
    team = getattr(request, "team", None)
    if team is None:
        return Sequence.objects.none()
    return Sequence.objects.for_team(team).only("uuid", "name")
