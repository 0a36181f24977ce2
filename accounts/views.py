"""Sign-up and sign-in (an invitation opened before either is accepted by it), the
account page, passwords (Django's own views, throttled reset), teams, switching
between them, their members, and invitation links."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import actions
from accounts.access import team_required
from accounts.forms import (
    AccessTokenForm,
    BudgetForm,
    InviteForm,
    LoginForm,
    PreferencesForm,
    SignupForm,
    TeamForm,
    ThrottledPasswordResetForm,
)
from accounts.middleware import SESSION_KEY, set_language_cookie
from accounts.models import AccessToken, Invitation, Membership, Role

#: The session key holding the token of an invitation opened while logged out; signing up
#: or logging in from that browser accepts it.
PENDING_INVITATION = "pending_invitation"


def pending_invitation(request) -> Invitation | None:
    """The usable invitation this browser opened while logged out, or None (forgotten
    when it is spent, revoked, expired or tampered with)."""
    token = request.session.get(PENDING_INVITATION)
    if not isinstance(token, str):
        return None
    invitation = Invitation.objects.select_related("team", "created_by").filter(token=token).first()
    if invitation is None or not invitation.is_usable:
        request.session.pop(PENDING_INVITATION, None)
        return None
    return invitation


def _joined(request, membership: Membership) -> None:
    request.session.pop(PENDING_INVITATION, None)
    request.session[SESSION_KEY] = membership.team_id
    messages.success(
        request,
        _("You joined %(team)s as %(role)s.")
        % {"team": membership.team.name, "role": membership.get_role_display().lower()},
    )


def _spent(request) -> None:
    request.session.pop(PENDING_INVITATION, None)
    messages.error(request, _("The invitation had been used, revoked or had expired: ask for a new link."))


class LoginView(auth_views.LoginView):
    """Django's login view with the throttled form: a refused attempt answers 429 with
    ``Retry-After`` and the form saying how long to wait. An invitation opened before
    logging in is accepted by it, and the user lands in its team's studio."""

    form_class = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "invitation": pending_invitation(self.request)}

    def form_valid(self, form):
        invitation = pending_invitation(self.request)
        response = super().form_valid(form)
        if invitation is None:
            return response
        membership = actions.accept_invitation(invitation, self.request.user)
        if membership is None:
            _spent(self.request)
            return response
        _joined(self.request, membership)
        return redirect("studio")

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, "throttled"):
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset view with the throttled form (``throttle.begin_reset``): a refused
    request answers 429 with ``Retry-After``, and no mail is sent."""

    form_class = ThrottledPasswordResetForm
    success_url = reverse_lazy("password_reset_done")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, "throttled"):
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response


@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def signup(request):
    """Create an account, then log in. After an invitation opened in this browser the
    account joins its team and lands in its studio; otherwise it gets its personal team
    and is sent to add a gateway key."""
    if request.user.is_authenticated:
        return redirect("studio")
    invitation = pending_invitation(request)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user, team = actions.sign_up(form, invitation)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        request.session[SESSION_KEY] = team.pk
        if invitation is not None and team.pk == invitation.team_id:
            _joined(request, user.memberships.select_related("team").get(team=team))
            return redirect("studio")
        if invitation is not None:
            _spent(request)
        messages.success(request, _("Welcome! Add a gateway key to start making videos."))
        return redirect("keys")
    return render(request, "accounts/signup.html", {"form": form, "invitation": invitation})


@require_GET
@login_required
def account(request):
    """The account page: username and email, password, time zone and language, the user's
    teams (leave one), and their personal access tokens for the API (make one, revoke one)."""
    return _account_page(request)


def _preferences(user) -> dict:
    return {"time_zone": user.time_zone, "language": user.language}


def _account_page(
    request,
    preferences: PreferencesForm | None = None,
    token_form: AccessTokenForm | None = None,
    new_token: str = "",
    status: int = 200,
):
    memberships = Membership.objects.filter(user=request.user).select_related("team").order_by("team__name")
    if preferences is None:
        preferences = PreferencesForm(initial=_preferences(request.user))
    if token_form is None:
        token_form = AccessTokenForm(memberships=memberships, initial={"team": str(getattr(request.team, "uuid", ""))})
    context = {
        "memberships": memberships,
        "preferences": preferences,
        "token_form": token_form,
        "new_token": new_token,
        "tokens": AccessToken.objects.filter(user=request.user).select_related("team")[:50],
        "now": timezone.now(),
    }
    return render(request, "accounts/account.html", context, status=status)


@require_POST
@login_required
def preferences(request):
    """POST ``time_zone`` (an IANA name; blank: the server's) and ``language`` (a code of
    ``settings.LANGUAGES``; blank: the browser's) from the account page. A value outside
    the lists re-renders the page with the error by its field, status 400, nothing stored.
    The language is also put in the browser's language cookie, so the login page keeps it."""
    form = PreferencesForm(request.POST)
    if not form.is_valid():
        return _account_page(request, form, status=400)
    try:
        actions.set_time_zone(request.user, form.cleaned_data["time_zone"])
        actions.set_language(request.user, form.cleaned_data["language"])
    except actions.PreferenceRefused as exc:  # the form's lists and the actions' agree; belt and braces
        form.add_error(None, exc.message)
        return _account_page(request, form, status=400)
    messages.success(request, _("Saved your time zone and language."))
    response = redirect("account")
    set_language_cookie(response, request.user.language)
    return response


@sensitive_post_parameters()
@require_POST
@login_required
def create_token(request):
    """POST ``team`` (UUID), ``name``, ``scopes``, ``expires`` (a date within a year): make
    a personal access token. The page shows it once; errors are shown at their fields (400)."""
    memberships = Membership.objects.filter(user=request.user).select_related("team", "user")
    form = AccessTokenForm(request.POST, memberships=memberships)
    if not form.is_valid():
        return _account_page(request, token_form=form, status=400)
    data = form.cleaned_data
    _, plain = actions.create_access_token(data["membership"], data["name"], data["scopes"], data["expires_at"])
    return _account_page(request, new_token=plain)


@require_POST
@login_required
def detect_time_zone(request):
    """POST ``time_zone``: the zone the browser reports on a member's first visit
    (``static/js/timezone.js``). Stored only while the member has none, so a zone chosen
    on the account page stays. 204 whether stored or not; 400, nothing stored, for a name
    the tz database does not know."""
    name = request.POST.get("time_zone", "")
    if not name:
        return HttpResponseBadRequest(_("No time zone given."), content_type="text/plain; charset=utf-8")
    try:
        actions.set_time_zone(request.user, name, only_if_unset=True)
    except actions.PreferenceRefused as exc:
        return HttpResponseBadRequest(exc.message, content_type="text/plain; charset=utf-8")
    return HttpResponse(status=204)


@require_POST
@login_required
def revoke_token(request, prefix: str):
    """Revoke one of the user's own access tokens at once (another user's: 404)."""
    if len(prefix) != 8 or any(ch not in "0123456789abcdef" for ch in prefix):
        raise Http404("No such token.")
    token = get_object_or_404(AccessToken.objects.select_related("team"), user=request.user, prefix=prefix)
    if actions.revoke_access_token(request.user, token):
        messages.success(request, _("Revoked %(name)s: it no longer works.") % {"name": token.name})
    else:
        messages.info(request, _("%(name)s was already revoked.") % {"name": token.name})
    return redirect("account")


@require_POST
@login_required
def leave_team(request):
    """POST ``team`` (its UUID): leave one of the user's teams. 404 for a team they are not
    in; the last owner is refused with a message on the account page. Leaving the current
    team makes another current (``CurrentTeamMiddleware``)."""
    membership = _own_membership(request)
    try:
        actions.leave_team(membership)
    except actions.MembershipRefused as exc:
        messages.error(
            request, _("You are still in %(team)s. %(why)s") % {"team": membership.team.name, "why": exc.message}
        )
        return redirect("account")
    if request.session.get(SESSION_KEY) == membership.team_id:
        request.session.pop(SESSION_KEY)
    messages.success(request, _("You left %(team)s.") % {"team": membership.team.name})
    return redirect("account")


def _own_membership(request) -> Membership:
    """The user's membership in the team whose UUID is posted as ``team``, or Http404."""
    try:
        team_uuid = uuid.UUID(request.POST.get("team", ""))
    except (TypeError, ValueError, AttributeError):
        raise Http404("No such team.") from None
    return get_object_or_404(Membership.objects.select_related("team", "user"), user=request.user, team__uuid=team_uuid)


@require_http_methods(["GET", "POST"])
@login_required
def teams(request):
    """The user's teams; create a new one; invite links for the current one."""
    memberships = Membership.objects.filter(user=request.user).select_related("team").order_by("team__name")
    team_form = TeamForm(request.POST or None)
    if request.method == "POST" and team_form.is_valid():
        team = actions.create_team(team_form.cleaned_data["name"], request.user)
        request.session[SESSION_KEY] = team.pk
        messages.success(request, _("Created %(team)s; you are its owner.") % {"team": team.name})
        return redirect("teams")
    context = {"memberships": memberships, "team_form": team_form}
    membership = request.membership
    if membership is not None:
        context["members"] = membership.team.memberships.select_related("user").order_by("joined_at")
        if membership.can_manage:
            context["members"] = list(context["members"])
            for m in context["members"]:
                m.assignable_roles = actions.assignable_roles(membership, m)
                m.removable = actions.removable(membership, m)
            context["rename_form"] = TeamForm(instance=membership.team, prefix="rename")
            context["budget_form"] = BudgetForm(team=membership.team)
            context["invite_form"] = InviteForm(roles=actions.invitable_roles(membership))
            context["invitations"] = [
                i
                for i in membership.team.invitations.filter(accepted_at__isnull=True).order_by("-created_at")[:20]
                if i.is_usable
            ]
    return render(request, "accounts/teams.html", context)


@require_POST
@login_required
def switch_team(request):
    """Make another of the user's teams the current one."""
    try:
        team_uuid = uuid.UUID(request.POST.get("team", ""))
    except (TypeError, ValueError, AttributeError):
        raise Http404("No such team.") from None
    membership = get_object_or_404(Membership.objects.select_related("team"), user=request.user, team__uuid=team_uuid)
    request.session[SESSION_KEY] = membership.team_id
    actions.remember_team(request.user, membership.team)
    messages.success(request, _("Switched to %(team)s.") % {"team": membership.team.name})
    return redirect("studio")


@require_POST
@team_required(can_manage=True)
def rename_team(request):
    """POST ``rename-name``: rename the current team (owners, admins; 403 for others). A
    blank or too long name is refused with a message and nothing changes."""
    form = TeamForm(request.POST, prefix="rename")
    if not form.is_valid():
        messages.error(request, _("Team not renamed: %(why)s") % {"why": " ".join(form.errors.get("name", []))})
        return redirect("teams")
    old = request.team.name
    if actions.rename_team(request.membership, form.cleaned_data["name"]):
        messages.success(request, _("%(old)s is now called %(new)s.") % {"old": old, "new": request.team.name})
    return redirect("teams")


@require_POST
@team_required(can_manage=True)
def remove_member(request, membership_id: int):
    """Remove a member of the current team (an owner anyone else; an admin a member or
    viewer: 403 otherwise, and for yourself: leave from the account page). 404 for a
    membership of another team; the last owner is refused with a message. What they
    made stays in the team's history."""
    target = get_object_or_404(Membership.objects.select_related("user", "team"), pk=membership_id, team=request.team)
    if not actions.removable(request.membership, target):
        raise PermissionDenied(_("Only owners can remove owners and admins; to leave, use your account page."))
    try:
        actions.remove_member(request.membership, target)
    except actions.MembershipRefused as exc:
        messages.error(request, exc.message)
        return redirect("teams")
    messages.success(
        request,
        _("%(user)s is no longer in %(team)s; what they made stays in its history.")
        % {"user": target.user.get_username(), "team": request.team.name},
    )
    return redirect("teams")


@require_POST
@team_required(can_manage=True)
def revoke_invitation(request, token: str):
    """Revoke an open invitation link of the current team (owners, admins): it stops
    admitting anyone at once. 404 for another team's invitation."""
    invitation = get_object_or_404(Invitation, token=token, team=request.team)
    if actions.revoke_invitation(request.membership, invitation):
        messages.success(request, _("Invitation revoked: the link no longer works."))
    else:
        messages.info(request, _("That invitation had already been used or had expired."))
    return redirect("teams")


@require_POST
@team_required(can_manage=True)
def invite(request):
    """POST ``role``: make an invitation link for the current team (owners and admins).

    The role must be one the inviter may give (``actions.invitable_roles``: an owner
    any, an admin member or viewer); a higher or unknown role makes no invitation and
    the Team page says why. 403 for a member or viewer. Redirects to the Team page,
    whose message holds the link.
    """
    form = InviteForm(request.POST, roles=actions.invitable_roles(request.membership))
    role = form.cleaned_data["role"] if form.is_valid() else request.POST.get("role", "")
    try:
        invitation = actions.invite(request.team, request.user, role)
    except actions.InviteRefused as exc:
        messages.error(request, _("No invitation made. %(why)s") % {"why": exc.message})
        return redirect("teams")
    link = request.build_absolute_uri(invitation_url(invitation))
    messages.success(request, _("Invitation link (valid 7 days, one use): %(link)s") % {"link": link})
    return redirect("teams")


def invitation_url(invitation: Invitation) -> str:
    return reverse("accept_invite", args=[invitation.token])


@require_http_methods(["GET", "POST"])
def accept_invite(request, token: str):
    """Show an invitation (which team, who invited, as what) and, on POST, join its team.

    Logged out, the page offers to sign up or log in and remembers the invitation in the
    session, so either accepts it (``signup``, ``LoginView``). 404 for an unknown token;
    a spent, revoked or expired one says so and is not remembered.
    """
    invitation = get_object_or_404(Invitation.objects.select_related("team", "created_by"), token=token)
    if not request.user.is_authenticated:
        if request.method == "POST":
            return redirect("login")
        if invitation.is_usable:
            request.session[PENDING_INVITATION] = invitation.token
        return render(request, "accounts/invite.html", {"invitation": invitation})
    if request.method == "POST":
        membership = actions.accept_invitation(invitation, request.user)
        if membership is None:
            messages.error(request, _("This invitation has been used or has expired."))
            return redirect("teams")
        _joined(request, membership)
        return redirect("studio")
    return render(request, "accounts/invite.html", {"invitation": invitation})


@require_POST
@team_required(can_manage=True)
def budget(request):
    """Set the team's monthly budget, approval threshold and members' caps (owners, admins)."""
    form = BudgetForm(request.POST, team=request.team)
    if form.is_valid():
        actions.set_budgets(form, request.user)
        messages.success(request, _("Budgets saved."))
    else:
        problems = "; ".join(
            _("%(field)s: %(errors)s") % {"field": form.fields[f].label, "errors": " ".join(e)}
            if f in form.fields
            else " ".join(e)
            for f, e in form.errors.items()
        )
        messages.error(request, _("Budgets not saved: %(problems)s") % {"problems": problems})
    return redirect("teams")


@require_POST
@team_required(can_manage=True)
def change_role(request, membership_id: int):
    """POST ``role``: give a member of the current team another role (owners, admins).

    403 for a member or viewer, or for a change ``assignable_roles`` does not allow
    (an admin touching an owner or admin, or making one); 404 for a membership of
    another team; the last owner cannot be demoted and an unknown role is refused,
    each with a message. Records ``member.role_changed`` (old and new role) and tells
    the member. Redirects to the Team page.
    """
    target = get_object_or_404(Membership.objects.select_related("user"), pk=membership_id, team=request.team)
    role = request.POST.get("role", "")
    if role not in Role.values:
        messages.error(request, _("Choose one of the roles offered."))
        return redirect("teams")
    if role == target.role:
        messages.info(
            request,
            _("%(user)s is already %(role)s.")
            % {"user": target.user.get_username(), "role": target.get_role_display().lower()},
        )
        return redirect("teams")
    if role not in actions.assignable_roles(request.membership, target):
        raise PermissionDenied(_("Only owners can make or change owners and admins."))
    try:
        actions.change_role(request.membership, target, role)
    except actions.RoleChangeRefused as exc:
        messages.error(request, exc.message)
        return redirect("teams")
    messages.success(
        request,
        _("%(user)s is now %(role)s.")
        % {"user": target.user.get_username(), "role": target.get_role_display().lower()},
    )
    return redirect("teams")


@require_POST
@team_required(can_manage=True)
def export_gate(request):
    """POST ``approved_only`` (a checkbox): let only approved videos leave the team's studio
    (ZIPs, single downloads, share links), or all of them (owners, admins; 403 for others)."""
    on = request.POST.get("approved_only") in {"on", "1", "true"}
    if actions.set_export_gate(request.membership, on):
        if on:
            messages.success(request, _("Only approved videos leave the studio now."))
        else:
            messages.success(request, _("Every finished video may leave the studio now."))
    return redirect("teams")
