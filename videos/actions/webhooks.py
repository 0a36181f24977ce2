"""Webhook endpoints: add one (its secret shown once), delete, enable or disable it,
send it a test event, redeliver a logged delivery. Owners and admins only (the views
check the role); each records an audit entry. Sending is the worker's
(``videos.worker.webhooks``); events are raised by ``videos.webhooks.emit``."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from videos import audit, webhooks
from videos.models import WEBHOOK_TEST_EVENT, WebhookDelivery, WebhookEndpoint, WebhookEvent


class EndpointRefused(ValueError):
    """The URL or the events cannot make an endpoint; ``message`` says why, for the form."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def add_endpoint(team, actor, url: str, events: Iterable[str]) -> tuple[WebhookEndpoint, str]:
    """Register ``url`` for ``events`` (``WebhookEvent`` values) in ``team``; returns the
    endpoint and its signing secret as shown once (``whsec_<base64>``): only its
    encryption is stored. Raises EndpointRefused (nothing saved) for a URL the address
    guard would refuse (``webhooks.url_problem``) or no known event."""
    url = (url or "").strip()
    problem = webhooks.url_problem(url)
    if problem:
        raise EndpointRefused(problem)
    known = set(WebhookEvent.values)
    chosen = [event for event in WebhookEvent.values if event in set(events)]
    if not chosen or not set(events) <= known:
        raise EndpointRefused(_("Choose at least one event."))
    secret = webhooks.new_secret()
    with transaction.atomic():
        endpoint = WebhookEndpoint(team=team, url=url, events=chosen, created_by=actor)
        endpoint.set_secret(secret)
        endpoint.save()
        audit.record_action(team, actor, "webhook.added", url, events=chosen)
    return endpoint, webhooks.shown_secret(secret)


def delete_endpoint(endpoint: WebhookEndpoint, actor) -> None:
    """Delete ``endpoint`` and its delivery log; nothing more is sent to it."""
    with transaction.atomic():
        audit.record_action(endpoint.team, actor, "webhook.deleted", endpoint.url)
        endpoint.delete()


def set_endpoint_enabled(endpoint: WebhookEndpoint, actor, enabled: bool) -> bool:
    """Enable (the failure count starts afresh) or disable ``endpoint`` by hand; False
    when it already was. A disabled endpoint gets no new deliveries."""
    with transaction.atomic():
        changes = {"enabled": enabled}
        if enabled:
            changes |= {"disabled_reason": "", "failing_since": None}
        else:
            changes["disabled_reason"] = _("Disabled by %(name)s.") % {"name": actor.get_username()}
        if WebhookEndpoint.objects.filter(pk=endpoint.pk, enabled=not enabled).update(**changes) != 1:
            return False
        audit.record_action(endpoint.team, actor, "webhook.enabled" if enabled else "webhook.disabled", endpoint.url)
    endpoint.refresh_from_db()
    return True


def send_test_event(endpoint: WebhookEndpoint, actor) -> WebhookDelivery:
    """Queue a ``webhook.test`` event to ``endpoint`` (whatever it subscribed to), sent
    and logged like any other. Data: the team, who sent it, and a line of text."""
    with transaction.atomic():
        (delivery,) = webhooks.emit(
            endpoint.team,
            WEBHOOK_TEST_EVENT,
            {
                "team": webhooks.team_data(endpoint.team),
                "sent_by": actor.get_username(),
                "message": "A test event from the studio.",
            },
            endpoints=[endpoint],
        )
        audit.record_action(endpoint.team, actor, "webhook.tested", endpoint.url)
    return delivery


def redeliver(delivery: WebhookDelivery, actor) -> WebhookDelivery | None:
    """Send a logged delivery again: a new log line with the same ``msg_id`` and body
    (receivers deduplicate on ``webhook-id``), due now. None when its endpoint is disabled."""
    endpoint = delivery.endpoint
    if not WebhookEndpoint.objects.filter(pk=endpoint.pk, enabled=True).exists():
        return None
    with transaction.atomic():
        now = timezone.now()
        again = WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_type=delivery.event_type,
            msg_id=delivery.msg_id,
            payload=delivery.payload,
            next_attempt_at=now,
            created_at=now,
        )
        webhooks.queue_send(again)
        audit.record_action(endpoint.team, actor, "webhook.redelivered", endpoint.url, msg_id=delivery.msg_id)
    return again
