"""A generation's timeline: the ``Event`` rows a member reads on its page.

Everything written here may carry a gateway's words, so it is made storable and
safe first: ``clean_text`` replaces what no database can store, ``scrub`` strips
secrets and shortens what would bloat a JSON column, and ``record`` applies both.
A key its own gateway echoed is masked before it gets here, by its adapter
(``videos.gateways.base.Gateway.redact``); the generic redaction here
(``videos.lib.vault.redact``) is the second line.
"""

from __future__ import annotations

import math
import re
from typing import Any

from videos.lib.vault import redact
from videos.models import Event

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
#: Keys whose values are secrets wherever they appear in a request or an answer.
SECRET_KEYS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "api_key",
        "api-key",
        "apikey",
        "x-api-key",
        "key",
        "token",
        "access_token",
        "secret",
        "password",
    }
)


def clean_text(value: str) -> str:
    """``value`` fit for a text column on every database: each lone surrogate (a
    ``\\ud800`` escape in a gateway's JSON, which no database encoding can store) and
    each NUL (``\\u0000``, which PostgreSQL's text and jsonb refuse) becomes U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", value)


def scrub(value: Any, *, limit: int = 2000) -> Any:
    """A copy of a request or answer fit for the event log and a JSON column: secrets
    redacted (the value of each key in SECRET_KEYS, and ``vault.redact``'s patterns in
    every string and dict key), data URIs and strings longer than ``limit`` characters
    shortened, lone surrogates and NULs replaced (see ``clean_text``), NaN and infinite
    floats (which are not JSON) turned into None, lists cut to 50 items. Dicts, lists
    and scalars keep their shape."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(key, str):
                key = redact(clean_text(key))
            out[key] = "[redacted]" if str(key).lower() in SECRET_KEYS else scrub(item, limit=limit)
        return out
    if isinstance(value, list):
        return [scrub(item, limit=limit) for item in value[:50]]
    if isinstance(value, str):
        if value.startswith("data:") and ";base64," in value:
            head = clean_text(value.split(",", 1)[0][:limit])
            return f"{head},… ({len(value)} characters)"
        value = redact(clean_text(value))
        return value if len(value) <= limit else value[:limit] + "…"
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def record(generation_id: int, kind: str, message: str = "", *, state: str = "", data: Any = None) -> Event:
    """Append one line to a generation's timeline: ``kind`` (``created``, ``submitted``,
    ``status``, ``retry``, ``failed``…), ``message`` (cleaned and redacted), the task
    ``state`` it led to, and ``data`` (a request or answer, scrubbed)."""
    return Event.objects.create(
        generation_id=generation_id,
        kind=kind,
        state=state,
        message=redact(clean_text(message)),
        data=scrub(data) if data is not None else None,
    )
