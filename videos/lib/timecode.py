"""Time codes on a video's timeline: seconds as people read and type them.

``format_tc(2.5)`` is ``"0:02.5"``; ``parse_tc`` reads ``"2.5"``, ``"0:02.5"``,
``"1:02"`` or ``"1:02:03.25"`` back into seconds (a float), to a tenth of a second.
"""

from __future__ import annotations

import math
import re

_TC = re.compile(r"^\s*(?:(?:(\d{1,2}):)?(\d{1,3}):)?(\d{1,5}(?:[.,]\d{1,3})?)\s*$")


def parse_tc(text: str) -> float:
    """Seconds (rounded to 0.1 s) from ``text``: plain seconds (``2.5``, ``2,5``),
    ``m:ss(.s)`` or ``h:mm:ss(.s)``. Raises ValueError for anything else, or when a
    minutes or seconds field after a colon is 60 or more."""
    match = _TC.match(text or "")
    if match is None:
        raise ValueError(f"not a time code: {text!r}")
    hours, minutes, seconds = match.groups()
    secs = float(seconds.replace(",", "."))
    if minutes is not None and secs >= 60:
        raise ValueError(f"not a time code: {text!r}")
    if hours is not None and int(minutes) >= 60:
        raise ValueError(f"not a time code: {text!r}")
    total = int(hours or 0) * 3600 + int(minutes or 0) * 60 + secs
    return round(total, 1)


def format_tc(seconds: float | None) -> str:
    """``seconds`` as ``m:ss.s`` (``h:mm:ss.s`` from an hour on); "" for None or NaN."""
    if seconds is None or math.isnan(seconds):
        return ""
    tenths = int(round(max(seconds, 0) * 10))
    whole, tenth = divmod(tenths, 10)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}.{tenth}"
    return f"{minutes}:{secs:02d}.{tenth}"
