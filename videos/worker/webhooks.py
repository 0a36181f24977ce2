"""Sending webhook deliveries: sign, post through the guarded client, log, retry, give up.

``send_delivery(id)`` is queued when an event is emitted (``videos.webhooks.emit``);
``send_due()`` runs every minute (django-q2 schedule ``studio-webhooks``, migration
``0015_webhooks``) and sends every delivery whose next attempt is due: the retries, and
any first attempt whose queued message was lost. Both are safe to run twice: an attempt
is claimed by a conditional update that pushes its next attempt ``CLAIM_S`` ahead, so
two workers never send the same attempt, and a worker that dies mid-send leaves it due
again later (at least once, as Standard Webhooks expects: receivers deduplicate on
``webhook-id``).

An attempt succeeds on a 2xx answer. Anything else (another status, a redirect, which is
never followed, a refused address, a timeout) is retried after ``retry_delay(attempts)``:
30 s doubling, at most an hour apart, until ``GIVE_UP_AFTER`` (a day) after the event,
when the delivery is failed. An endpoint whose attempts have failed for a day without a
success (``WebhookEndpoint.failing_since``) is disabled, its pending deliveries failed,
and whoever created it is notified.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from videos import audit
from videos.lib import http
from videos.lib.vault import VaultError, redact
from videos.models import WebhookDelivery, WebhookEndpoint
from videos.timeline import clean_text
from videos.webhooks import sign

log = logging.getLogger(__name__)

#: The first retry's delay, seconds; each next one doubles it.
FIRST_RETRY_S = 30.0
#: The longest wait between two attempts, seconds.
MAX_RETRY_S = 3600.0
#: How long after the event a delivery is retried, and how long an endpoint may fail
#: before it is disabled.
GIVE_UP_AFTER = timedelta(hours=24)
#: How far a claimed attempt pushes its next attempt: a worker that dies mid-send leaves
#: it due again after this (longer than an attempt's deadline).
CLAIM_S = 120.0
#: Bytes of the answer kept in the log (the rest is not read).
EXCERPT_BYTES = 1024
#: At most this many deliveries per ``send_due`` run.
BATCH = 100


def deadline_s() -> float:
    """Wall-clock seconds one attempt may take, connect to last byte read
    (``STUDIO_WEBHOOK_SECONDS``, default 10)."""
    return float(settings.STUDIO_WEBHOOK_SECONDS)


def retry_delay(attempts: int) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones: 30, 60, 120, …,
    at most MAX_RETRY_S. No jitter: the schedule is the one docs/webhooks.md lists."""
    return min(MAX_RETRY_S, FIRST_RETRY_S * 2 ** max(0, attempts - 1))


def send_due(limit: int = BATCH) -> int:
    """Send every delivery whose next attempt is due (up to ``limit``); how many were sent."""
    due = WebhookDelivery.objects.due(timezone.now()).order_by("next_attempt_at", "pk")
    return sum(send_delivery(pk) for pk in due.values_list("pk", flat=True)[:limit])


def _claim(delivery_id: int) -> WebhookDelivery | None:
    """The delivery, claimed for one attempt (attempts counted), or None when it is not
    due or another worker claimed it first."""
    now = timezone.now()
    claimed = (
        WebhookDelivery.objects.due(now)
        .filter(pk=delivery_id)
        .update(next_attempt_at=now + timedelta(seconds=CLAIM_S), attempts=F("attempts") + 1, last_attempt_at=now)
    )
    if claimed != 1:
        return None
    return WebhookDelivery.objects.select_related("endpoint", "endpoint__team", "endpoint__created_by").get(
        pk=delivery_id
    )


def send_delivery(delivery_id: int) -> bool:
    """Make one attempt at ``delivery_id`` if it is due; True when an attempt was made
    (whatever its outcome). A delivery of a disabled endpoint is failed unsent."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return False
    endpoint = delivery.endpoint
    if not endpoint.enabled:
        _give_up(delivery, _("the endpoint is disabled"))
        return True
    result = attempt(delivery)
    _record(delivery, *result)
    return True


def attempt(delivery: WebhookDelivery) -> tuple[int | None, int, str, str]:
    """Post ``delivery`` to its endpoint, signed; ``(status code or None, milliseconds,
    the answer's first EXCERPT_BYTES bytes redacted, error or "")``. Never raises.

    The request goes through ``lib/http.py``'s guarded client (the address guard, no
    redirects followed) and its whole exchange is cut off at ``deadline_s()`` seconds;
    at most EXCERPT_BYTES of the answer are read, however large it is.
    """
    endpoint = delivery.endpoint
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)
    timestamp = int(timezone.now().timestamp())
    try:
        secret = endpoint.reveal()
    except VaultError:
        return None, 0, "", _("the signing secret cannot be decrypted; add the endpoint again")
    headers = {
        "Content-Type": "application/json",
        "webhook-id": delivery.msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, delivery.msg_id, timestamp, body),
    }
    limit = deadline_s()
    started = time.monotonic()
    status, excerpt, error = None, b"", ""
    try:
        with http.client().stream(
            "POST", endpoint.url, content=body.encode(), headers=headers, timeout=http.read_timeout(limit)
        ) as response:
            status = response.status_code
            for chunk in response.iter_bytes():
                excerpt += chunk
                if len(excerpt) >= EXCERPT_BYTES:
                    break
                if time.monotonic() - started > limit:
                    error = _("the answer took over %(s)s s") % {"s": f"{limit:g}"}
                    break
    except http.BlockedAddress as exc:
        error = _("refused: %(host)s is %(reason)s") % {"host": exc.host, "reason": exc.reason}
    except httpx.UnsupportedProtocol:
        error = _("refused: only http and https URLs are sent")
    except httpx.TimeoutException:
        error = _("no answer within %(s)s s") % {"s": f"{limit:g}"}
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        error = _("could not connect (%(error)s)") % {"error": type(exc).__name__}
    elapsed_ms = int((time.monotonic() - started) * 1000)
    text = clean_text(excerpt[:EXCERPT_BYTES].decode("utf-8", errors="replace"))
    if status is not None and not error and not 200 <= status < 300:
        error = f"HTTP {status}" + (_(" (redirects are not followed)") if 300 <= status < 400 else "")
    return status, elapsed_ms, redact(text), error


def _record(delivery: WebhookDelivery, status: int | None, ms: int, excerpt: str, error: str) -> None:
    """Write the attempt's outcome; schedule the retry, give up, or disable the endpoint."""
    now = timezone.now()
    fields = {"status_code": status, "response_ms": ms, "response_excerpt": excerpt, "error": error[:300]}
    endpoint = delivery.endpoint
    if not error:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            **fields, state=WebhookDelivery.State.DELIVERED, next_attempt_at=None
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        return
    log.info("webhook delivery %s to endpoint %s failed: %s", delivery.msg_id, endpoint.pk, error)
    with transaction.atomic():
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
        current = WebhookEndpoint.objects.filter(pk=endpoint.pk).values("failing_since", "enabled").first()
        if current is None:  # deleted while the attempt was in flight
            return
        endpoint.failing_since, endpoint.enabled = current["failing_since"], current["enabled"]
        if now - delivery.created_at >= GIVE_UP_AFTER:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                **fields, state=WebhookDelivery.State.FAILED, next_attempt_at=None
            )
        else:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                **fields, next_attempt_at=now + timedelta(seconds=retry_delay(delivery.attempts))
            )
        if endpoint.enabled and endpoint.failing_since and now - endpoint.failing_since >= GIVE_UP_AFTER:
            with audit.speaking_to(endpoint.created_by):  # its creator reads the reason, on the page and told
                disable(endpoint, _("Every delivery failed for a day (last: %(error)s).") % {"error": error[:150]})


def _give_up(delivery: WebhookDelivery, error: str) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=WebhookDelivery.State.FAILED, next_attempt_at=None, error=error
    )


def disable(endpoint: WebhookEndpoint, reason: str) -> bool:
    """Disable ``endpoint`` (a conditional update: once) with ``reason``, fail its pending
    deliveries and notify whoever created it; False when it was disabled already."""
    with transaction.atomic():
        if (
            WebhookEndpoint.objects.filter(pk=endpoint.pk, enabled=True).update(enabled=False, disabled_reason=reason)
            != 1
        ):
            return False
        endpoint.deliveries.filter(state=WebhookDelivery.State.PENDING).update(
            state=WebhookDelivery.State.FAILED, next_attempt_at=None, error=_("the endpoint was disabled")
        )
        audit.record_action(endpoint.team, None, "webhook.disabled", endpoint.url, reason=reason)
        audit.notify(
            endpoint.created_by,
            endpoint.team,
            _("The webhook endpoint %(url)s was disabled: %(reason)s Enable it on the Webhooks page.")
            % {"url": endpoint.url[:120], "reason": reason},
        )
    return True
