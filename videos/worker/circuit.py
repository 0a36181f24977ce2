"""A circuit breaker per gateway host, so a gateway that keeps failing is not hammered.

After ``THRESHOLD`` consecutive transient failures (timeouts, resets, 5xx, 429,
garbage) polling of that host pauses for a cooldown that doubles with each trip
(30 s, 60 s, … at most 5 min) and resumes by itself; the first answer that comes
back closes it. Tasks are never failed by the breaker: their next poll is simply
moved to when it reopens. The state lives in the database so every worker sees it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.db.models import F
from django.utils import timezone

from videos.models import GatewayCircuit

THRESHOLD = 5
BASE_COOLDOWN_S = 30
MAX_COOLDOWN_S = 300


def host_of(base_url: str) -> str:
    """``scheme://host:port`` of a base URL (the port made explicit)."""
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def open_hosts(hosts: set[str]) -> dict[str, datetime]:
    """Of ``hosts``, those whose circuit is open now, with when it reopens (one query)."""
    if not hosts:
        return {}
    rows = GatewayCircuit.objects.filter(host__in=hosts, open_until__gt=timezone.now())
    return dict(rows.values_list("host", "open_until"))


def cooldown(trips: int) -> timedelta:
    return timedelta(seconds=min(MAX_COOLDOWN_S, BASE_COOLDOWN_S * 2 ** max(0, trips)))


def record(host: str, *, successes: int, failures: int) -> None:
    """Count one sweep's outcomes for ``host``: any answer closes the circuit; failures
    alone add up and open it at THRESHOLD."""
    if successes:
        GatewayCircuit.objects.filter(host=host).exclude(failures=0, open_until=None).update(
            failures=0, trips=0, open_until=None
        )
        return
    if not failures:
        return
    circuit, _ = GatewayCircuit.objects.get_or_create(host=host)
    GatewayCircuit.objects.filter(pk=circuit.pk).update(failures=F("failures") + failures)
    circuit.refresh_from_db()
    if circuit.failures >= THRESHOLD:
        GatewayCircuit.objects.filter(pk=circuit.pk).update(
            open_until=timezone.now() + cooldown(circuit.trips), trips=F("trips") + 1, failures=0
        )
