"""Gateway keys: the member's own keys in the current team, shown only as
``••••last4``; add one (it is tested right after), test it, edit its label and base
URL, replace its secret, delete it (after a confirmation).

A key's row is one partial (``videos/keys.html#key-row``): the Test, Edit and Replace
forms post with htmx and get the row back, with the verdict or the errors in place;
without JavaScript they post as plain forms and come back to the page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import throttle
from accounts.access import get_for_team, team_required
from videos import actions
from videos.forms import GatewayKeyForm, KeyEditForm, ReplaceSecretForm
from videos.gateways import REGISTRY
from videos.gateways.base import KeyCheck, KeyVerdict
from videos.models import GatewayKey
from videos.web import my_keys

#: The session entry naming the key just saved, whose row tests it as the page loads.
JUST_SAVED = "keys.just_saved"


@dataclass(frozen=True)
class CheckShown:
    """A key's last check as the page shows it: its verdict, the sentence saying it, the
    gateway's own (redacted) message for the curious, and when it ran."""

    verdict: str
    words: str
    detail: str
    at: datetime


def verdict_words(verdict: str, status_code: int | None) -> str:
    """The sentence a member reads for a check's ``verdict`` (a ``KeyVerdict`` value)."""
    status = f" (HTTP {status_code})" if status_code else ""
    if verdict == KeyVerdict.WORKS:
        return _("Works: the gateway accepted the key.")
    if verdict == KeyVerdict.WRONG_KEY:
        return _("Wrong key: the gateway refused it%(status)s. Replace it with the key from your gateway account.") % {
            "status": status
        }
    if verdict == KeyVerdict.WRONG_BASE_URL:
        return _(
            "Wrong base URL: nothing there answers like this gateway. "
            "Compare it with the gateway's documented base URL."
        )
    if verdict == KeyVerdict.BLOCKED:
        return _("Blocked address: the studio does not connect to private or local network addresses.")
    return _("Could not tell%(status)s: the gateway did not answer clearly. Try again in a minute.") % {
        "status": status
    }


def last_check(key: GatewayKey, fresh: KeyCheck | None = None) -> CheckShown | None:
    """``key``'s last check as its row shows it (``last_verdict``, ``last_checked_at``), or
    None when it was never tested. ``fresh`` is the check that just ran: its HTTP status
    and the gateway's message are shown too (they are kept only in the audit trail)."""
    if not key.last_verdict or key.last_checked_at is None:
        return None
    status, detail = (fresh.status_code, fresh.detail) if fresh is not None else (None, "")
    return CheckShown(key.last_verdict, verdict_words(key.last_verdict, status), detail, key.last_checked_at)


def wait_words(seconds: int) -> str:
    """What a key's row says when its member has used up their tests for now (``seconds``
    until the next may run)."""
    return ngettext(
        "You have tested keys %(limit)d times in a minute; try again in %(seconds)d second.",
        "You have tested keys %(limit)d times in a minute; try again in %(seconds)d seconds.",
        seconds,
    ) % {"limit": throttle.KEY_CHECK_LIMIT, "seconds": seconds}


def _for_row(key: GatewayKey, fresh: KeyCheck | None = None, edit_form=None, refusal: str = "") -> GatewayKey:
    """``key`` with what its row shows: its gateway's name, its last check, its edit form,
    and ``refusal``, why a test did not run."""
    gateway = REGISTRY.get(key.dialect)
    key.gateway_label = gateway.label if gateway else key.dialect
    key.last_check = last_check(key, fresh)
    key.edit_form = edit_form or KeyEditForm(initial={"label": key.label, "base_url": key.base_url})
    key.refusal = refusal
    return key


def _row(request, key: GatewayKey, *, fresh: KeyCheck | None = None, edit_form=None, refusal: str = ""):
    """The key's row (htmx), with its last check and any form's errors in place."""
    _for_row(key, fresh, edit_form, refusal)
    return render(request, "videos/keys.html#key-row", {"key": key})


def _can_add(request) -> bool:
    return request.membership.can_generate


@sensitive_post_parameters("secret")
@require_http_methods(["GET", "POST"])
@team_required
def keys(request):
    """The member's own keys in this team, and (for all but viewers) the form to add one."""
    if request.method == "POST":
        if not _can_add(request):
            raise PermissionDenied(_("Viewers do not add gateway keys."))
        form = GatewayKeyForm(request.POST)
        if form.is_valid():
            key = actions.add_key(form.save(commit=False), request.team, request.user)
            request.session[JUST_SAVED] = str(key.uuid)
            messages.success(
                request,
                _("Saved “%(label)s”. It is stored encrypted and shown from now on as %(masked)s. Testing it now…")
                % {"label": key.label, "masked": key.masked},
            )
            return redirect("keys")
    else:
        form = GatewayKeyForm()
    rows = list(my_keys(request))
    for key in rows:
        _for_row(key)
    gateways = [
        {"dialect": d, "label": c.label, "base_url": c.default_base_url, "doc_url": c.doc_url}
        for d, c in REGISTRY.items()
    ]
    context = {
        "form": form,
        "keys": rows,
        "gateways": gateways,
        "can_add": _can_add(request),
        "just_saved": request.session.pop(JUST_SAVED, ""),
    }
    return render(request, "videos/keys.html", context)


@require_GET
@team_required
def key_base_url(request):
    """The base URL field prefilled with the chosen gateway's documented host (htmx)."""
    dialect = request.GET.get("dialect", "")
    gateway = REGISTRY.get(dialect)
    form = GatewayKeyForm(initial={"dialect": dialect, "base_url": gateway.default_base_url if gateway else ""})
    return render(request, "videos/keys.html#base-url", {"form": form})


@require_POST
@team_required
def key_check(request, uuid):
    """Test one of the member's keys with one harmless request (``actions.check_key``);
    the row comes back with the verdict (htmx), or the page with it as a message. Over the
    member's limit of tests nothing is sent and the row says when to try again."""
    key = get_for_team(request, my_keys(request), uuid=uuid)
    try:
        check = actions.check_key(key, request.user)
    except actions.TooManyChecks as refused:
        if request.htmx:
            return _row(request, key, refusal=wait_words(refused.retry_after))
        messages.error(
            request, _("“%(label)s”: %(words)s") % {"label": key.label, "words": wait_words(refused.retry_after)}
        )
        return redirect("keys")
    if request.htmx:
        return _row(request, key, fresh=check)
    words = verdict_words(check.verdict, check.status_code)
    level = messages.success if check.verdict == KeyVerdict.WORKS else messages.error
    level(request, _("“%(label)s”: %(words)s") % {"label": key.label, "words": words})
    return redirect("keys")


@require_POST
@team_required
def key_edit(request, uuid):
    """Change the label and base URL of one of the member's keys (its secret stays).
    A refused edit says why next to the field and changes nothing."""
    key = get_for_team(request, my_keys(request), uuid=uuid)
    form = KeyEditForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            return _row(request, key, edit_form=form)
        problems = " ".join(str(error) for errors in form.errors.values() for error in errors)
        messages.error(
            request, _("“%(label)s” was not changed: %(problems)s") % {"label": key.label, "problems": problems}
        )
        return redirect("keys")
    changed = actions.update_key(
        key, request.user, label=form.cleaned_data["label"], base_url=form.cleaned_data["base_url"]
    )
    if request.htmx:
        return _row(request, key)
    if changed:
        messages.success(request, _("Saved the changes to “%(label)s”; its secret stays.") % {"label": key.label})
    return redirect("keys")


@sensitive_post_parameters("secret")
@require_POST
@team_required
def key_replace(request, uuid):
    """Replace the secret of one of the member's keys; the page then tests it."""
    key = get_for_team(request, my_keys(request), uuid=uuid)
    form = ReplaceSecretForm(request.POST)
    if form.is_valid():
        actions.replace_key_secret(key, form.cleaned_data["secret"], request.user)
        request.session[JUST_SAVED] = str(key.uuid)  # its row tests the new secret as the page loads
        messages.success(
            request,
            _("Replaced the secret of “%(label)s”; it now ends in %(masked)s.")
            % {"label": key.label, "masked": key.masked},
        )
    else:
        messages.error(request, " ".join(form.errors.get("secret", [_("That key was not accepted.")])))
    return redirect("keys")


@require_POST
@team_required
def key_delete(request, uuid):
    """Delete one of the member's keys (the page asks first); its generations stay in the history."""
    key = get_for_team(request, my_keys(request), uuid=uuid)
    label = key.label
    actions.delete_key(key, request.user)
    messages.success(
        request, _("Deleted “%(label)s”. Generations made with it stay in the history.") % {"label": label}
    )
    return redirect("keys")
