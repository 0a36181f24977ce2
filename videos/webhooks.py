"""Webhooks: the events a team's endpoints hear about, signed as Standard Webhooks.

``emit(team, event_type, data)`` is the one function that raises an event: it creates a
``WebhookDelivery`` for each of the team's enabled endpoints subscribed to it and queues
its sending (``videos.worker.webhooks.send_delivery``) after the transaction commits,
so an event of a change that rolls back is never sent. The worker signs and posts it,
retries it with backoff for a day, and disables an endpoint after a day of failures.

Events (``WebhookEvent``), each emitted where it happens:

* ``generation.completed``: the archive stored the video (``worker/archive.py``);
* ``generation.failed``: the task failed (``worker/outcomes.py: fail``) or was abandoned;
* ``generation.needs_attention``: the submit's outcome is unknown (``worker/submit.py``);
* ``generation.reviewed``: a verdict at the review desk (``actions.decide_review``);
* ``budget.threshold_reached``: a hold took the team's month (charges plus open holds,
  ``billing.committed_usd``) to ``BUDGET_THRESHOLD`` (80 %) of its monthly budget or
  more, from below; once a calendar month at most.

The body is ``{"type": …, "timestamp": ISO 8601, "data": {…}}`` (docs/webhooks.md has
the shapes). Signing follows https://www.standardwebhooks.com/ (the specification at
https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
``webhook-signature: v1,<base64 HMAC-SHA256 of "{msg_id}.{timestamp}.{body}">`` keyed
with the base64-decoded secret shown once as ``whsec_<base64>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import logging
import secrets
import uuid
from decimal import Decimal

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from videos import billing
from videos.lib import http
from videos.models import Generation, WebhookDelivery, WebhookEndpoint, WebhookEvent

log = logging.getLogger(__name__)

#: The django-q2 task that sends one delivery (queued by name: the worker is a layer above).
SEND = "videos.worker.webhooks.send_delivery"

#: ``budget.threshold_reached`` fires when a team's month reaches this share of its budget.
BUDGET_THRESHOLD = Decimal("0.8")

#: Bytes of signing secret (Standard Webhooks asks for 24 to 64).
SECRET_BYTES = 32

SECRET_PREFIX = "whsec_"

#: The longest endpoint URL stored.
MAX_URL_LENGTH = 500


def new_secret() -> str:
    """A fresh signing secret, base64 (without ``whsec_``)."""
    return base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def shown_secret(secret_b64: str) -> str:
    """How a secret is shown once to its creator: ``whsec_<base64>``."""
    return SECRET_PREFIX + secret_b64


def sign(secret_b64: str, msg_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` header value for ``body`` (the exact text sent):
    ``v1,`` and the base64 HMAC-SHA256 of ``{msg_id}.{timestamp}.{body}`` keyed with
    the base64-decoded secret (Standard Webhooks, "Signature scheme")."""
    key = base64.b64decode(secret_b64)
    digest = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an endpoint (a sentence for the form), or None.

    Only ``http``/``https`` URLs with a host and no user name or password; a host that is
    an IP address must be public, and ``localhost`` names are refused, unless the host is
    on the address guard's allow-list (``STUDIO_ALLOWED_PRIVATE_HOSTS``). A name is also
    checked at every delivery, where the address guard of ``lib/http.py`` refuses to
    connect to a private address it resolves to.
    """
    url = (url or "").strip()
    if not url:
        return _("Enter the endpoint's URL.")
    if len(url) > MAX_URL_LENGTH:
        return _("The URL is longer than %(n)d characters.") % {"n": MAX_URL_LENGTH}
    try:
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii").strip("[]").lower().rstrip(".")
    except (httpx.InvalidURL, UnicodeError, ValueError):
        return _("This is not a valid URL.")
    if parsed.scheme not in http.ALLOWED_SCHEMES:
        return _("Use an http:// or https:// URL.")
    try:
        URLValidator(schemes=list(http.ALLOWED_SCHEMES))(url)
    except ValidationError:
        return _("This is not a valid URL.")
    if not host:
        return _("The URL has no host.")
    if parsed.userinfo:
        return _("Leave the user name and password out of the URL.")
    port = parsed.port or http.DEFAULT_PORTS[parsed.scheme]
    if http.is_allowed_private(host, port):
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return _("The studio does not send webhooks to this machine (localhost).")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    reason = http.address_refusal(address)
    if reason:
        return _("The studio only sends webhooks to public addresses; %(host)s is %(reason)s.") % {
            "host": host,
            "reason": reason,
        }
    return None


def queue_send(delivery: WebhookDelivery) -> None:
    """Queue the sending of ``delivery`` once the current transaction commits (at once
    outside one). A broker that is down is logged: the every-minute schedule
    (``videos.worker.webhooks.send_due``) sends whatever is due anyway."""
    delivery_id = delivery.pk

    def send():
        from django_q.tasks import async_task

        try:
            async_task(SEND, delivery_id, q_options={"group": "send_delivery"})
        except Exception:
            log.exception("could not queue webhook delivery %s; the schedule will send it", delivery_id)

    transaction.on_commit(send)


def emit(team, event_type: str, data: dict, *, endpoints=None) -> list[WebhookDelivery]:
    """Raise ``event_type`` (a ``WebhookEvent`` value, or ``webhook.test``) for ``team``
    with ``data`` (JSON-serialisable): one delivery per enabled endpoint of the team that
    subscribed to it (or for each of ``endpoints`` given, whatever they subscribed to),
    each with its own ``msg_id``, due now, queued after commit. Returns the deliveries
    (none when nobody listens). Never sends anything itself."""
    if endpoints is None:
        endpoints = WebhookEndpoint.objects.subscribed(team, event_type)
    now = timezone.now()
    payload = {"type": event_type, "timestamp": now.isoformat().replace("+00:00", "Z"), "data": data}
    deliveries = []
    for endpoint in endpoints:
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_type=event_type,
            msg_id=f"msg_{uuid.uuid4().hex}",
            payload=payload,
            next_attempt_at=now,
            created_at=now,
        )
        queue_send(delivery)
        deliveries.append(delivery)
    return deliveries


def public_url(path: str) -> str:
    """``path`` on the studio's public address (``STUDIO_PUBLIC_URL``), or the path alone."""
    return (settings.STUDIO_PUBLIC_URL or "").rstrip("/") + path


def team_data(team) -> dict:
    """The team as events name it: ``{"id": uuid, "name": …}``."""
    return {"id": str(team.uuid), "name": team.name}


def generation_data(generation: Generation) -> dict:
    """A generation as events describe it (docs/webhooks.md): ids, the request, the task's
    state and error, the cost in USD (a string, or None), the review, the page's URL."""
    task = getattr(generation, "task", None)
    options = generation.options or {}
    return {
        "id": str(generation.uuid),
        "url": public_url(reverse("generation", args=[generation.uuid])),
        "prompt": generation.prompt,
        "model": generation.model_name,
        "dialect": generation.dialect,
        "duration_s": options.get("duration"),
        "aspect_ratio": options.get("aspect_ratio"),
        "resolution": options.get("resolution"),
        "author": generation.author.get_username() if generation.author_id else None,
        "created_at": generation.created_at.isoformat().replace("+00:00", "Z"),
        "state": task.state if task else None,
        "error": (task.last_error or None) if task else None,
        "cost_usd": None if generation.cost_usd is None else str(generation.cost_usd),
        "review": generation.review or None,
        "review_comment": generation.review_comment or None,
    }


def generation_event(generation: Generation, event_type: str) -> list[WebhookDelivery]:
    """Emit ``event_type`` about ``generation`` (re-read, so the state is the committed
    one in this transaction): ``{"generation": …, "team": …}``."""
    fresh = Generation.objects.select_related("task", "author", "team").get(pk=generation.pk)
    return emit(fresh.team, event_type, {"generation": generation_data(fresh), "team": team_data(fresh.team)})


def budget_check(team, added_usd: Decimal | None) -> list[WebhookDelivery]:
    """After a hold of ``added_usd``: emit ``budget.threshold_reached`` when it took the
    team's month from below ``BUDGET_THRESHOLD`` of its monthly budget to at or above it,
    unless the event was sent this month already. Data: the team, ``budget_usd``,
    ``committed_usd`` (strings), ``threshold_percent`` (80) and ``month`` (``YYYY-MM``)."""
    from accounts.models import Team

    budget = Team.objects.filter(pk=team.pk).values_list("monthly_budget_usd", flat=True).first()
    if not budget or not added_usd or budget <= 0:
        return []
    line = budget * BUDGET_THRESHOLD
    committed = billing.committed_usd(team)
    if not (committed - added_usd < line <= committed):
        return []
    since = billing.month_start()
    event = WebhookEvent.BUDGET_THRESHOLD_REACHED
    if WebhookDelivery.objects.filter(endpoint__team=team, event_type=event, created_at__gte=since).exists():
        return []
    return emit(
        team,
        event,
        {
            "team": team_data(team),
            "budget_usd": str(budget),
            "committed_usd": str(committed.quantize(Decimal("0.01"))),
            "threshold_percent": int(BUDGET_THRESHOLD * 100),
            "month": since.strftime("%Y-%m"),
        },
    )
