"""Taking a frame of a finished video as the reference image of a new generation.

``frame_as_reference`` decodes the frame shown at a time (``videos.lib.frames``), keeps it as
a PNG (``Frame``) and returns the compose form's address prefilled like a remix with that
frame as its reference image; the generation made there records where its image came from
(``Generation.frame_of``, ``frame_time_s``)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from videos import audit
from videos.lib import frames, media
from videos.models import Frame, Generation, TaskState


class Refused(Exception):
    """An action on frames or sequences that cannot be done as asked; ``message`` says why,
    in words for the member, and nothing was changed."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def finished_asset(generation: Generation, what: str):
    """The generation's archived video, or Refused naming ``what`` it was needed for."""
    asset = getattr(generation, "asset", None) if generation.task.state == TaskState.COMPLETED else None
    if asset is None:
        raise Refused(
            _("%(prompt)s is not a finished video yet, so it cannot be %(what)s; wait until it is completed.")
            % {"prompt": audit.describe(generation), "what": what}
        )
    return asset


def decode_frame(generation: Generation, time_s: float | None) -> frames.Frame:
    """The frame of the generation's video at ``time_s`` seconds (None: its last frame).
    Raises Refused for an unfinished video, a time outside it or an unreadable file."""
    asset = finished_asset(generation, _("used for a frame"))
    try:
        with asset.file.open("rb") as fh:
            return frames.last_frame(fh) if time_s is None else frames.frame_at(fh, time_s)
    except frames.OutsideVideo as exc:
        raise Refused(
            _("Pick a time from 0 to %(end).2f s: %(time)s s is outside this video.")
            % {"end": asset.duration_s, "time": f"{exc.time_s:.2f}"}
        ) from exc
    except (media.InvalidVideo, OSError) as exc:
        raise Refused(_("This video's file could not be read, so no frame was taken.")) from exc


def compose_url(frame: Frame) -> str:
    """The compose form's address prefilled from the frame's video, the frame as its image."""
    return f"{reverse('studio')}?{urlencode({'frame': frame.uuid})}"


def frame_as_reference(generation: Generation, time_s: float | None, member) -> str:
    """Decode the frame of ``generation``'s finished video at ``time_s`` seconds (None: the
    last frame), keep it as a PNG ``Frame`` of the team, record ``frame.taken`` in the audit
    trail, and return the compose URL prefilled with it (``?frame=<uuid>``).

    Raises Refused (nothing saved) for an unfinished video or a time outside
    [0, duration]."""
    grabbed = decode_frame(generation, time_s)
    with transaction.atomic():
        frame = Frame(
            team_id=generation.team_id,
            generation=generation,
            # The time asked for (the frame on screen then is ``index``); the last frame's own time.
            time_s=grabbed.time_s if time_s is None else float(time_s),
            index=grabbed.index,
            width=grabbed.width,
            height=grabbed.height,
            created_by=member,
        )
        frame.image.save("frame.png", ContentFile(grabbed.png), save=False)
        frame.save()
        audit.record_action(
            generation.team,
            member,
            "frame.taken",
            audit.describe(generation),
            uuid=str(generation.uuid),
            time_s=round(grabbed.time_s if time_s is None else float(time_s), 3),
        )
    return compose_url(frame)
