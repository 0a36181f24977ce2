"""Circuit breakers, so a gateway that keeps failing is not hammered, and one team's bad
luck never pauses another team's tasks.

There are two kinds of scope. A *host* (``scheme://host:port``) counts what fails for
every caller: connection errors, timeouts, 5xx, garbage. A *key* (``key:<uuid>``) counts
what is about that key alone: 401, 403 and 429 (docs/gateways.md §7), which say nothing
about the host's health. After ``THRESHOLD`` consecutive failures a scope's circuit
opens for a cooldown that doubles with each trip (30 s, 60 s, … at most 5 min) and
closes by itself; the first good answer closes it at once. Tasks are never failed by a
breaker: their next poll is moved to when it closes. The state lives in the database,
so every worker sees it.
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


#: Answers about the key, not the host: they count against the key's circuit only.
KEY_STATUSES = frozenset({401, 403, 429})


def key_scope(key) -> str:
    """The scope of one gateway key's circuit: ``key:<uuid>``."""
    return f"key:{key.uuid}"


def scopes_for(gateway, key) -> tuple[str, ...]:
    """The circuits a query through ``gateway`` with ``key`` (None: deleted) passes."""
    host = host_of(gateway.base_url)
    return (host, key_scope(key)) if key is not None else (host,)


def open_scopes(scopes: set[str]) -> dict[str, datetime]:
    """Of ``scopes``, those whose circuit is open now, with when it closes (one query)."""
    if not scopes:
        return {}
    rows = GatewayCircuit.objects.filter(scope__in=scopes, open_until__gt=timezone.now())
    return dict(rows.values_list("scope", "open_until"))


def tally(outcomes) -> None:
    """Count a batch of poll outcomes, ``[(gateway, task, PollResult | Exception)]``, for
    their hosts and keys: an answer is a success for its host; a 401/403/429 a failure of
    its key alone; any other transient error (timeout, reset, 5xx, garbage) a failure of
    its host. Anything else (a bug) counts for nobody."""
    counts: dict[str, list[int]] = {}
    for gateway, task, outcome in outcomes:
        host = host_of(gateway.base_url)
        key = task.generation.key
        status = getattr(outcome, "status_code", None)
        if not isinstance(outcome, Exception):
            counts.setdefault(host, [0, 0])[0] += 1
            if key is not None:
                counts.setdefault(key_scope(key), [0, 0])[0] += 1
        elif status in KEY_STATUSES:
            counts.setdefault(host, [0, 0])[0] += 1  # the host answered
            if key is not None:
                counts.setdefault(key_scope(key), [0, 0])[1] += 1
        elif hasattr(outcome, "permanent"):  # a GatewayError
            counts.setdefault(host, [0, 0])[0 if outcome.permanent else 1] += 1
    for scope, (successes, failures) in counts.items():
        record(scope, successes=successes, failures=failures)


def cooldown(trips: int) -> timedelta:
    return timedelta(seconds=min(MAX_COOLDOWN_S, BASE_COOLDOWN_S * 2 ** max(0, trips)))


def record(scope: str, *, successes: int, failures: int) -> None:
    """Count a batch of outcomes for ``scope`` (a host or a key): any success closes the
    circuit; failures alone add up and open it at THRESHOLD."""
    if successes:
        GatewayCircuit.objects.filter(scope=scope).exclude(failures=0, open_until=None).update(
            failures=0, trips=0, open_until=None
        )
        return
    if not failures:
        return
    circuit, _ = GatewayCircuit.objects.get_or_create(scope=scope)
    GatewayCircuit.objects.filter(pk=circuit.pk).update(failures=F("failures") + failures)
    circuit.refresh_from_db()
    if circuit.failures >= THRESHOLD:
        GatewayCircuit.objects.filter(pk=circuit.pk).update(
            open_until=timezone.now() + cooldown(circuit.trips), trips=F("trips") + 1, failures=0
        )
