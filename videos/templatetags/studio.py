from django import template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from videos.billing import usd as format_usd
from videos.web.versions import version

register = template.Library()

# The words of a generation's timeline (an event's kind, the state it moved to), as the
# detail page shows them: the code itself in English, its translation in another language.
TIMELINE_WORDS = {
    "abandoned": pgettext_lazy("timeline", "abandoned"),
    "approval": pgettext_lazy("timeline", "approval"),
    "archived": pgettext_lazy("timeline", "archived"),
    "cancelled": pgettext_lazy("timeline", "cancelled"),
    "chosen": pgettext_lazy("timeline", "chosen"),
    "completed": pgettext_lazy("timeline", "completed"),
    "created": pgettext_lazy("timeline", "created"),
    "failed": pgettext_lazy("timeline", "failed"),
    "needs_attention": pgettext_lazy("timeline", "needs_attention"),
    "resubmitted": pgettext_lazy("timeline", "resubmitted"),
    "retried": pgettext_lazy("timeline", "retried"),
    "retry": pgettext_lazy("timeline", "retry"),
    "review": pgettext_lazy("timeline", "review"),
    "status": pgettext_lazy("timeline", "status"),
    "submitted": pgettext_lazy("timeline", "submitted"),
    "awaiting_approval": pgettext_lazy("timeline", "awaiting_approval"),
    "pending": pgettext_lazy("timeline", "pending"),
    "submitting": pgettext_lazy("timeline", "submitting"),
    "queued": pgettext_lazy("timeline", "queued"),
    "processing": pgettext_lazy("timeline", "processing"),
    "archiving": pgettext_lazy("timeline", "archiving"),
}


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
def timeline_word(word) -> str:
    """``{{ event.kind|timeline_word }}``: a timeline code (``"submitted"``, ``"queued"``) in
    the page's language; unchanged in English, and for a code it does not know."""
    return str(TIMELINE_WORDS.get(word, word))


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
