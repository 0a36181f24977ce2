"""Everything a person can do to accounts and teams, one function each: sign up,
create a team, invite, accept or revoke an invitation, set budgets, change a role,
rename a team, remove a member, leave a team, remember the team last worked in, set
one's time zone and language, make, use and revoke a personal access token. Each
does its write, its audit entry and its notification in one transaction; views call
these and write nothing themselves.

Password changes and resets are Django's own views (``django.contrib.auth``), which
save the password themselves.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.models import AccessToken, Invitation, Membership, Role, Scope, Team, User
from videos import audit
from videos.lib.zones import is_time_zone

MEMBER_ROLES = (Role.MEMBER, Role.VIEWER)


class InviteRefused(Exception):
    """An invitation its maker may not make (a role above what they may give); ``message``
    says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class RoleChangeRefused(Exception):
    """A role change that cannot be made as asked; ``message`` says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class MembershipRefused(Exception):
    """A removal or departure that cannot be made (the last owner, a role the actor may
    not touch, a membership gone meanwhile); ``message`` says why, for the place clicked."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def sign_up(form, invitation: Invitation | None = None) -> tuple[User, Team]:
    """Create the account of a valid sign-up ``form``; return it and the team it lands in.

    With a usable ``invitation`` (opened before signing up) the account joins that team
    with the invitation's role, and no personal team is made; otherwise, or when the
    link was spent meanwhile, it gets its personal team (owned by it). The team becomes
    the user's ``last_team``. Callers tell which by comparing the team with the
    invitation's.
    """
    with transaction.atomic():
        user = form.save()
        membership = accept_invitation(invitation, user) if invitation is not None else None
        team = membership.team if membership is not None else Team.create_personal(user)
        remember_team(user, team)
    return user, team


def remember_team(user: User, team: Team | None) -> None:
    """Make ``team`` the one ``user`` lands in at their next login (None: their oldest).

    Not an audit event: it changes nothing anyone else sees."""
    if user.last_team_id != (team.pk if team else None):
        User.objects.filter(pk=user.pk).update(last_team=team)
        user.last_team = team


class PreferenceRefused(ValueError):
    """A time zone or language that is not one the studio knows; ``message`` says why.
    Nothing is stored."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def set_time_zone(user: User, name: str, *, only_if_unset: bool = False) -> bool:
    """Show every date and time on ``user``'s pages in the IANA zone ``name``
    (``"Asia/Shanghai"``; ``""``: back to the server's zone); return whether it changed.

    ``only_if_unset`` is the browser's report on a first visit: it is stored only while the
    user has no zone yet (a conditional update, so two tabs reporting at once store one and
    a zone chosen on the account page is never overwritten). Raises ``PreferenceRefused``
    for a name the tz database does not know (nothing stored). Not an audit event: it
    changes nothing anyone else sees.
    """
    if name and not is_time_zone(name):
        raise PreferenceRefused(_("“%(name)s” is not a time zone: choose one from the list.") % {"name": name[:64]})
    rows = User.objects.filter(pk=user.pk)
    if only_if_unset:
        rows = rows.filter(time_zone="")
    changed = rows.exclude(time_zone=name).update(time_zone=name) == 1
    if changed:
        user.time_zone = name
    return changed


def set_language(user: User, code: str) -> bool:
    """Show ``user``'s pages in the language ``code``, one of ``settings.LANGUAGES``
    (``""``: whatever their browser asks for); return whether it changed. Kept on the
    account, so it follows them to every browser and across logins. Raises
    ``PreferenceRefused`` for another code (nothing stored). Not an audit event."""
    if code and code not in dict(settings.LANGUAGES):
        raise PreferenceRefused(_("Choose a language from the list."))
    changed = User.objects.filter(pk=user.pk).exclude(language=code).update(language=code) == 1
    if changed:
        user.language = code
    return changed


def remember_browser_language(user: User, code: str) -> bool:
    """Keep ``code`` (one of ``settings.LANGUAGES``, what the browser of ``user`` asks for
    while they have chosen no language) as the language to write to them in later; whether
    it changed. One conditional UPDATE, and only when it differs; another code is ignored."""
    if not code or code not in dict(settings.LANGUAGES) or user.browser_language == code:
        return False
    changed = User.objects.filter(pk=user.pk).exclude(browser_language=code).update(browser_language=code) == 1
    user.browser_language = code
    return changed


def create_team(name: str, owner: User) -> Team:
    """Create a team called ``name`` with ``owner`` as its owner (and their current team)."""
    with transaction.atomic():
        team = Team.objects.create(name=name)
        Membership.objects.create(team=team, user=owner, role=Role.OWNER)
        remember_team(owner, team)
    return team


def rename_team(actor: Membership, name: str) -> bool:
    """Call ``actor``'s team ``name`` (the caller has checked ``actor.can_manage`` and a
    valid ``TeamForm``); records ``team.renamed`` with the old and new name. False when
    the name is unchanged (nothing recorded)."""
    team = actor.team
    old = team.name
    if name == old:
        return False
    with transaction.atomic():
        Team.objects.filter(pk=team.pk).update(name=name)
        team.name = name
        audit.record_action(team, actor.user, "team.renamed", name, old=old, new=name)
    return True


def invite(team: Team, actor: User, role: str) -> Invitation:
    """Make a one-use invitation link to ``team`` as ``role`` (valid 7 days). The audit
    trail names its role and expiry, never its token: the link is a credential.

    ``actor`` may invite only as one of ``invitable_roles`` of their membership, read
    afresh under the transaction's lock (an owner any role; an admin member or viewer;
    nobody else any). Raises ``InviteRefused`` otherwise, and makes nothing.

    The role is checked when the link is made, not when it is opened: a link keeps the
    role it was made with even if its maker is later demoted or leaves. It is a
    deliberate grant by someone who could make it then, it lasts at most 7 days and
    admits one person, and ``accept_invitation`` never raises an existing member.
    """
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(team=team, user=actor).first()
        allowed = invitable_roles(membership) if membership is not None else []
        if role not in allowed:
            raise InviteRefused(_invite_refusal(role, allowed))
        invitation = Invitation.objects.create(team=team, role=role, created_by=actor)
        audit.record_action(
            team,
            actor,
            "member.invited",
            f"Invitation link as {invitation.role}",  # the audit trail's words: English, whoever acts
            role=invitation.role,
            expires_at=invitation.expires_at.isoformat(timespec="minutes"),
        )
    return invitation


def invitable_roles(actor: Membership) -> list[Role]:
    """The roles ``actor`` may invite someone to its team as, by the rule of
    ``assignable_roles`` for a newcomer: an owner any role; an admin member or viewer
    (owners and admins are made by owners); nobody else any."""
    if actor.role == Role.OWNER:
        return list(Role)
    if actor.role == Role.ADMIN:
        return list(MEMBER_ROLES)
    return []


def _invite_refusal(role: str, allowed: list[Role]) -> str:
    if role not in Role.values:
        return _("Choose one of the roles offered.")
    if not allowed:
        return _("Only owners and admins can make invitation links.")
    offered = pgettext("between alternatives", " or ").join(str(r.label).lower() for r in allowed)
    return _("You can invite only as %(offered)s: only an owner can invite as %(role)s.") % {
        "offered": offered,
        "role": str(Role(role).label).lower(),
    }


def accept_invitation(invitation: Invitation, user: User) -> Membership | None:
    """Join ``user`` to the invitation's team, which becomes their current one; the
    membership, or None when the link is spent, revoked or expired (one link admits one
    user, even when opened twice at once)."""
    with transaction.atomic():
        membership = invitation.accept(user)
        if membership is not None:
            audit.record_action(membership.team, user, "member.joined", user.get_username(), role=membership.role)
            remember_team(user, membership.team)
    return membership


def revoke_invitation(actor: Membership, invitation: Invitation) -> bool:
    """Make an open invitation of ``actor``'s team unusable at once (it expires now);
    records ``member.invitation_revoked`` (its role, never its token). The caller has
    checked ``actor.can_manage`` and that the invitation is of ``actor``'s team. False
    when it was accepted or had expired meanwhile (a conditional update; nothing recorded)."""
    now = timezone.now()
    with transaction.atomic():
        revoked = Invitation.objects.filter(
            pk=invitation.pk, team=actor.team, accepted_at__isnull=True, expires_at__gt=now
        ).update(expires_at=now)
        if revoked != 1:
            return False
        invitation.expires_at = now
        audit.record_action(
            actor.team,
            actor.user,
            "member.invitation_revoked",
            f"Invitation link as {invitation.role}",
            role=invitation.role,
        )
    return True


def removable(actor: Membership, target: Membership) -> bool:
    """Whether ``actor`` may remove ``target`` from their team (by the rule of
    ``assignable_roles``): an owner anyone else; an admin a member or viewer; nobody
    else anyone. Leaving oneself is ``leave_team``. The last owner is refused
    separately (``remove_member``)."""
    if actor.team_id != target.team_id or actor.pk == target.pk:
        return False
    if actor.role == Role.OWNER:
        return True
    return actor.role == Role.ADMIN and target.role in MEMBER_ROLES


def _end_membership(target: Membership) -> None:
    """Delete ``target`` unless it is its team's last owner (under the write lock, so two
    owners leaving at once cannot leave the team with none). Raises MembershipRefused."""
    team = target.team
    if target.role == Role.OWNER and not team.memberships.filter(role=Role.OWNER).exclude(pk=target.pk).exists():
        raise MembershipRefused(_("A team needs an owner: make someone else owner first."))
    if Membership.objects.filter(pk=target.pk, role=target.role).delete()[0] != 1:
        raise MembershipRefused(_("Their membership changed meanwhile; look again."))
    User.objects.filter(pk=target.user_id, last_team=team).update(last_team=None)


def remove_member(actor: Membership, target: Membership) -> None:
    """Remove ``target`` from ``actor``'s team (the caller has checked ``removable``);
    records ``member.removed`` and tells them.

    What they made stays in the team's history, under their name. Their gateway keys
    for the team are theirs, not the team's: nobody in the team can use them, and they
    stay stored (so tasks already running finish, and a member who is invited back
    finds them again). Raises MembershipRefused for the last owner, or when the
    membership changed meanwhile.
    """
    team = actor.team
    with transaction.atomic():
        _end_membership(target)
        audit.record_action(team, actor.user, "member.removed", target.user.get_username(), role=target.role)
        with audit.speaking_to(target.user):
            message = _("%(actor)s removed you from %(team)s.") % {
                "actor": actor.user.get_username(),
                "team": team.name,
            }
        audit.notify(target.user, team, message)


def leave_team(membership: Membership) -> None:
    """End ``membership``: its user leaves the team (as ``remove_member`` for what stays);
    records ``member.left``. Raises MembershipRefused for the team's last owner."""
    with transaction.atomic():
        _end_membership(membership)
        audit.record_action(
            membership.team, membership.user, "member.left", membership.user.get_username(), role=membership.role
        )


def set_budgets(form, actor: User) -> dict:
    """Save a valid ``BudgetForm`` (team budget, approval threshold, members' caps) and
    record what changed as ``budget.changed``: ``{name: {"old": "10.00", "new": None}}``
    (USD as strings, None for no limit; caps named ``cap:<username>``; the unpriced
    policy by its value). Returns that."""
    changes = _budget_changes(form)
    with transaction.atomic():
        form.save()
        if changes:
            audit.record_action(form.team, actor, "budget.changed", form.team.name, **changes)
    return changes


def _budget_changes(form) -> dict:
    def text(value):
        return value if isinstance(value, str) else None if value is None else f"{value:.2f}"

    names = {
        "monthly_budget_usd": "monthly_budget_usd",
        "approval_threshold_usd": "approval_threshold_usd",
        "unpriced_policy": "unpriced_policy",
    }
    names.update({f"cap_{m.pk}": f"cap:{m.user.get_username()}" for m in form.memberships})
    changes = {}
    for field, name in names.items():
        old, new = text(form.initial.get(field)), text(form.cleaned_data.get(field))
        if old != new:
            changes[name] = {"old": old, "new": new}
    return changes


def assignable_roles(actor: Membership, target: Membership) -> list[Role]:
    """The roles ``actor`` may give ``target`` (same team), other than its current one.

    An owner may give any role; an admin only member or viewer, and only to a member
    or viewer (owners and admins are made and unmade by owners). Nobody else any.
    The last owner's demotion is refused separately (see ``change_role``).
    """
    if actor.role == Role.OWNER:
        allowed = list(Role)
    elif actor.role == Role.ADMIN and target.role in MEMBER_ROLES:
        allowed = list(MEMBER_ROLES)
    else:
        allowed = []
    return [r for r in allowed if r != target.role]


def change_role(actor: Membership, target: Membership, role: str) -> None:
    """Give ``target`` the role ``role`` (the caller has checked ``assignable_roles``);
    records ``member.role_changed`` and tells the member.

    Raises RoleChangeRefused when it would leave the team without an owner, or when the
    target's role changed meanwhile (a conditional update).
    """
    team, old = actor.team, target.role
    with transaction.atomic():
        # Under the write lock (SQLite BEGIN IMMEDIATE), so two owners demoting each
        # other at once cannot leave the team with none.
        if old == Role.OWNER and not team.memberships.filter(role=Role.OWNER).exclude(pk=target.pk).exists():
            raise RoleChangeRefused(_("A team needs an owner: make someone else owner first."))
        if Membership.objects.filter(pk=target.pk, role=old).update(role=role) != 1:
            raise RoleChangeRefused(_("Their role changed meanwhile; look again."))
        target.role = role
        audit.record_action(team, actor.user, "member.role_changed", target.user.get_username(), old=old, new=role)
        if target.user_id != actor.user_id:
            with audit.speaking_to(target.user):
                message = _("%(actor)s made you %(role)s in %(team)s.") % {
                    "actor": actor.user.get_username(),
                    "role": target.get_role_display().lower(),
                    "team": team.name,
                }
            audit.notify(target.user, team, message)


def set_export_gate(actor: Membership, on: bool) -> bool:
    """Let only approved videos leave ``actor``'s team (``on``) or all of them (the caller
    has checked ``actor.can_manage``); records ``team.export_gate``. False when unchanged."""
    team = actor.team
    if team.export_approved_only == on:
        return False
    with transaction.atomic():
        Team.objects.filter(pk=team.pk).update(export_approved_only=on)
        team.export_approved_only = on
        audit.record_action(team, actor.user, "team.export_gate", team.name, approved_only=on)
    return True


def token_scopes_allowed(membership: Membership) -> set[str]:
    """The scopes ``membership``'s role can exercise: ``read`` always; ``generate`` unless a
    viewer; ``review`` and ``admin`` for owners and admins. A token's scopes beyond these
    do nothing (a viewer's token with ``generate`` still cannot generate)."""
    allowed = {Scope.READ}
    if membership.can_generate:
        allowed.add(Scope.GENERATE)
    if membership.can_manage:
        allowed.update({Scope.REVIEW, Scope.ADMIN})
    return allowed


def create_access_token(membership: Membership, name: str, scopes: list[str], expires_at) -> tuple[AccessToken, str]:
    """Make a personal access token for ``membership``'s user in its team (the caller has
    validated ``AccessTokenForm``: a name, scopes, an expiry within a year); records
    ``token.created`` (its name, prefix, scopes and expiry, never the token). Returns the
    token and its plain text, which is shown once and stored only as a digest."""
    with transaction.atomic():
        token, plain = AccessToken.new(
            user=membership.user, team=membership.team, name=name, scopes=sorted(set(scopes)), expires_at=expires_at
        )
        token.save()
        audit.record_action(
            membership.team,
            membership.user,
            "token.created",
            f"{name} ({token.display})",
            prefix=token.prefix,
            scopes=token.scopes,
            expires_at=expires_at.isoformat(timespec="minutes"),
        )
    return token, plain


def revoke_access_token(user: User, token: AccessToken) -> bool:
    """Make ``user``'s own ``token`` unusable at once; records ``token.revoked``. False when
    it was revoked already (a conditional update; nothing recorded)."""
    now = timezone.now()
    with transaction.atomic():
        if AccessToken.objects.filter(pk=token.pk, user=user, revoked_at__isnull=True).update(revoked_at=now) != 1:
            return False
        token.revoked_at = now
        audit.record_action(token.team, user, "token.revoked", f"{token.name} ({token.display})", prefix=token.prefix)
    return True


def note_token_use(token: AccessToken) -> None:
    """Keep when ``token`` was last used (at most once a minute a write); its first use
    records ``token.first_used`` in the audit trail."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < timedelta(minutes=1):
        return
    with transaction.atomic():
        first = AccessToken.objects.filter(pk=token.pk, last_used_at__isnull=True).update(last_used_at=now) == 1
        if first:
            audit.record_action(
                token.team, token.user, "token.first_used", f"{token.name} ({token.display})", prefix=token.prefix
            )
        else:
            AccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
