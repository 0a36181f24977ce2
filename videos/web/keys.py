"""Gateway keys: the member's own keys in the current team, shown only as
``••••last4``; add one, replace its secret, delete it."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import get_for_team, team_required
from videos import actions
from videos.forms import GatewayKeyForm, ReplaceSecretForm
from videos.gateways import REGISTRY
from videos.web import my_keys


@sensitive_post_parameters("secret")
@require_http_methods(["GET", "POST"])
@team_required
def keys(request):
    """The member's own keys in this team, and the form to add one."""
    if request.method == "POST":
        form = GatewayKeyForm(request.POST)
        if form.is_valid():
            key = actions.add_key(form.save(commit=False), request.team, request.user)
            messages.success(
                request, f"Saved “{key.label}”. It is stored encrypted and shown from now on as {key.masked}."
            )
            return redirect("keys")
    else:
        form = GatewayKeyForm()
    gateways = [
        {"dialect": d, "label": c.label, "base_url": c.default_base_url, "source": c.source}
        for d, c in REGISTRY.items()
    ]
    return render(request, "videos/keys.html", {"form": form, "keys": my_keys(request), "gateways": gateways})


@require_GET
@team_required
def key_base_url(request):
    """The base URL field prefilled with the chosen gateway's documented host (htmx)."""
    dialect = request.GET.get("dialect", "")
    gateway = REGISTRY.get(dialect)
    form = GatewayKeyForm(initial={"dialect": dialect, "base_url": gateway.default_base_url if gateway else ""})
    return render(request, "videos/keys.html#base-url", {"form": form})


@sensitive_post_parameters("secret")
@require_POST
@team_required
def key_replace(request, uuid):
    """Replace the secret of one of the member's keys."""
    key = get_for_team(request, my_keys(request), uuid=uuid)
    form = ReplaceSecretForm(request.POST)
    if form.is_valid():
        actions.replace_key_secret(key, form.cleaned_data["secret"], request.user)
        messages.success(request, f"Replaced the secret of “{key.label}”; it now ends in {key.masked}.")
    else:
        messages.error(request, " ".join(form.errors.get("secret", ["That key was not accepted."])))
    return redirect("keys")


@require_POST
@team_required
def key_delete(request, uuid):
    """Delete one of the member's keys; its generations stay in the history."""
    key = get_for_team(request, my_keys(request), uuid=uuid)
    label = key.label
    actions.delete_key(key, request.user)
    messages.success(request, f"Deleted “{label}”. Generations made with it stay in the history.")
    return redirect("keys")
