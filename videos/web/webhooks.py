"""Webhooks: the team's endpoints (owners and admins only): add one (its secret shown
once), its delivery log, send a test event, redeliver, enable, disable, delete."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import get_for_team, team_required
from videos import actions
from videos.forms import WebhookEndpointForm
from videos.lib import vault
from videos.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

#: The session key holding a new endpoint's secret (encrypted, as at rest) until its page shows it, once.
NEW_SECRET = "webhook_new_secret"
#: Deliveries shown on an endpoint's page, newest first.
LOG_LINES = 50


def _endpoints(request):
    return WebhookEndpoint.objects.for_team(request.team).annotate(
        pending=Count("deliveries", filter=Q(deliveries__state=WebhookDelivery.State.PENDING)),
        failed=Count("deliveries", filter=Q(deliveries__state=WebhookDelivery.State.FAILED)),
    )


@require_http_methods(["GET", "POST"])
@team_required(can_manage=True)
def webhooks(request):
    """The team's endpoints and the form to add one (a refused URL is said under it: 400)."""
    form = WebhookEndpointForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                endpoint, secret = actions.add_endpoint(
                    request.team, request.user, form.cleaned_data["url"], form.cleaned_data["events"]
                )
            except actions.EndpointRefused as exc:
                form.add_error("url", exc.message)
            else:
                request.session[NEW_SECRET] = {"endpoint": str(endpoint.uuid), "secret": vault.encrypt(secret)}
                return redirect("webhook", uuid=endpoint.uuid)
        status = 400
    else:
        status = 200
    context = {"form": form, "endpoints": _endpoints(request), "event_labels": dict(WebhookEvent.choices)}
    return render(request, "videos/webhooks.html", context, status=status)


@require_GET
@team_required(can_manage=True)
def webhook(request, uuid):
    """One endpoint: its events, its state, its delivery log; the new secret, once."""
    endpoint = get_for_team(request, WebhookEndpoint.objects.select_related("created_by"), uuid=uuid)
    new = request.session.get(NEW_SECRET)
    secret = None
    if new and new.get("endpoint") == str(endpoint.uuid):
        del request.session[NEW_SECRET]
        try:
            secret = vault.decrypt(new["secret"])
        except vault.VaultError:  # the encryption keys changed meanwhile
            secret = None
    context = {
        "endpoint": endpoint,
        "secret": secret,
        "deliveries": endpoint.deliveries.all()[:LOG_LINES],
        "event_labels": dict(WebhookEvent.choices),
    }
    response = render(request, "videos/webhook.html", context)
    if secret:
        response["Cache-Control"] = "no-store"
    return response


@require_POST
@team_required(can_manage=True)
def webhook_test(request, uuid):
    """Queue a ``webhook.test`` event to the endpoint."""
    endpoint = get_for_team(request, WebhookEndpoint.objects.all(), uuid=uuid)
    actions.send_test_event(endpoint, request.user)
    messages.success(request, _("A test event is on its way; its delivery is logged below."))
    return redirect("webhook", uuid=endpoint.uuid)


@require_POST
@team_required(can_manage=True)
def webhook_enabled(request, uuid, enabled: bool):
    """Enable (``enabled=True``) or disable the endpoint."""
    endpoint = get_for_team(request, WebhookEndpoint.objects.all(), uuid=uuid)
    if actions.set_endpoint_enabled(endpoint, request.user, enabled):
        messages.success(request, _("The endpoint is enabled.") if enabled else _("The endpoint is disabled."))
    return redirect("webhook", uuid=endpoint.uuid)


@require_POST
@team_required(can_manage=True)
def webhook_delete(request, uuid):
    """Delete the endpoint and its log."""
    endpoint = get_for_team(request, WebhookEndpoint.objects.all(), uuid=uuid)
    actions.delete_endpoint(endpoint, request.user)
    messages.success(request, _("Deleted the endpoint %(url)s.") % {"url": endpoint.url})
    return redirect("webhooks")


@require_POST
@team_required(can_manage=True)
def webhook_redeliver(request, delivery):
    """Send a logged delivery again (same ``webhook-id``, same body)."""
    found = get_object_or_404(
        WebhookDelivery.objects.select_related("endpoint", "endpoint__team"),
        uuid=delivery,
        endpoint__team=request.team,
    )
    if actions.redeliver(found, request.user) is None:
        messages.error(request, _("The endpoint is disabled: enable it first."))
    else:
        messages.success(request, _("Redelivery queued; it is logged below."))
    return redirect("webhook", uuid=found.endpoint.uuid)
