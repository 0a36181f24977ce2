"""Sign-up, teams, switching between them, and invitation links."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts import actions
from accounts.access import team_required
from accounts.forms import BudgetForm, InviteForm, LoginForm, SignupForm, TeamForm
from accounts.middleware import SESSION_KEY
from accounts.models import Invitation, Membership, Role


class LoginView(auth_views.LoginView):
    """Django's login view with the throttled form: a refused attempt answers 429 with
    ``Retry-After`` and the form saying how long to wait."""

    form_class = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, "throttled"):
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response


@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def signup(request):
    """Create an account and its personal team, then log in."""
    if request.user.is_authenticated:
        return redirect("studio")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user, team = actions.sign_up(form)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        request.session[SESSION_KEY] = team.pk
        messages.success(request, "Welcome! Add a gateway key to start making videos.")
        return redirect("keys")
    return render(request, "accounts/signup.html", {"form": form})


@require_http_methods(["GET", "POST"])
@login_required
def teams(request):
    """The user's teams; create a new one; invite links for the current one."""
    memberships = Membership.objects.filter(user=request.user).select_related("team").order_by("team__name")
    team_form = TeamForm(request.POST or None)
    if request.method == "POST" and team_form.is_valid():
        team = actions.create_team(team_form.cleaned_data["name"], request.user)
        request.session[SESSION_KEY] = team.pk
        messages.success(request, f"Created {team.name}; you are its owner.")
        return redirect("teams")
    context = {"memberships": memberships, "team_form": team_form}
    membership = request.membership
    if membership is not None:
        context["members"] = membership.team.memberships.select_related("user").order_by("joined_at")
        if membership.can_manage:
            context["members"] = list(context["members"])
            for m in context["members"]:
                m.assignable_roles = actions.assignable_roles(membership, m)
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
    membership = get_object_or_404(Membership, user=request.user, team__uuid=team_uuid)
    request.session[SESSION_KEY] = membership.team_id
    messages.success(request, f"Switched to {membership.team.name}.")
    return redirect("studio")


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
        messages.error(request, f"No invitation made. {exc.message}")
        return redirect("teams")
    link = request.build_absolute_uri(invitation_url(invitation))
    messages.success(request, f"Invitation link (valid 7 days, one use): {link}")
    return redirect("teams")


def invitation_url(invitation: Invitation) -> str:
    from django.urls import reverse

    return reverse("accept_invite", args=[invitation.token])


@require_http_methods(["GET", "POST"])
@login_required
def accept_invite(request, token: str):
    """Show an invitation and, on POST, join its team."""
    invitation = get_object_or_404(Invitation.objects.select_related("team"), token=token)
    if request.method == "POST":
        membership = actions.accept_invitation(invitation, request.user)
        if membership is None:
            messages.error(request, "This invitation has been used or has expired.")
            return redirect("teams")
        request.session[SESSION_KEY] = membership.team_id
        messages.success(request, f"You joined {membership.team.name} as {membership.get_role_display().lower()}.")
        return redirect("studio")
    return render(request, "accounts/invite.html", {"invitation": invitation})


@require_POST
@team_required(can_manage=True)
def budget(request):
    """Set the team's monthly budget, approval threshold and members' caps (owners, admins)."""
    form = BudgetForm(request.POST, team=request.team)
    if form.is_valid():
        actions.set_budgets(form, request.user)
        messages.success(request, "Budgets saved.")
    else:
        messages.error(
            request,
            "Budgets not saved: "
            + "; ".join(
                f"{form.fields[f].label}: {' '.join(e)}" if f in form.fields else " ".join(e)
                for f, e in form.errors.items()
            ),
        )
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
        messages.error(request, "Choose one of the roles offered.")
        return redirect("teams")
    if role == target.role:
        messages.info(request, f"{target.user.get_username()} is already {target.get_role_display().lower()}.")
        return redirect("teams")
    if role not in actions.assignable_roles(request.membership, target):
        raise PermissionDenied("Only owners can make or change owners and admins.")
    try:
        actions.change_role(request.membership, target, role)
    except actions.RoleChangeRefused as exc:
        messages.error(request, exc.message)
        return redirect("teams")
    messages.success(request, f"{target.user.get_username()} is now {target.get_role_display().lower()}.")
    return redirect("teams")
