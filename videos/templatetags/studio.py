from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from videos.billing import usd as format_usd
from videos.web.versions import version

register = template.Library()


@register.filter
def duration_words(seconds) -> str:
    """``75`` → ``1 min 15 s``; ``9`` → ``9 s``."""
    try:
        seconds = int(seconds)
    except (TypeError, ValueError):
        return ""
    minutes, secs = divmod(max(0, seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    if minutes:
        return _("%(minutes)d min %(seconds)d s") % {"minutes": minutes, "seconds": secs}
    return _("%(seconds)d s") % {"seconds": secs}


@register.filter
def elapsed(generation) -> str:
    """Time from the request to its end (or to now, while it runs)."""
    task = getattr(generation, "task", None)
    end = (task.finished_at if task else None) or timezone.now()
    return duration_words((end - generation.created_at).total_seconds())


@register.filter
def usd(amount) -> str:
    """A USD amount as the studio shows money (see ``videos.billing.usd``)."""
    return format_usd(amount)


@register.filter
def changeable_by(generation, membership) -> bool:
    """``{% if generation|changeable_by:membership %}``: the author-or-admin rule
    (``Generation.changeable_by``), for the buttons that cancel, retry or delete."""
    return generation.changeable_by(membership)


@register.filter
def live_version(generation, kind: str = "card") -> str:
    """``{{ generation|live_version }}`` (a studio card) or ``{{ generation|live_version:"tile" }}``:
    the version the page's poller sends back (``videos.web.versions.version``)."""
    return version(generation, kind)
