"""Sign-up, teams, invitations and switching between teams."""

from __future__ import annotations

import re

from django.urls import reverse
from django.utils.html import escape

from accounts.models import Invitation, Membership, Role, Team, User
from tests.conftest import join, make_user
from videos.models import AuditEntry, Notification


def test_signing_up_creates_a_personal_team_and_logs_in(client, db):
    response = client.post(
        reverse("signup"),
        {
            "username": "carol",
            "email": "c@example.com",
            "password1": "a-long-pass-phrase-1",
            "password2": "a-long-pass-phrase-1",
        },
    )
    assert response.status_code == 302
    carol = User.objects.get(username="carol")
    membership = Membership.objects.get(user=carol)
    assert membership.role == Role.OWNER
    assert client.get(reverse("studio")).status_code == 200


def test_an_owner_invites_by_link_and_the_invitee_joins(client_for, owner, team):
    client = client_for(owner)
    client.post(reverse("invite"), {"role": "member"})
    invitation = Invitation.objects.get()
    dave = make_user("dave")
    Team.create_personal(dave)
    client.force_login(dave)
    assert "Join" in client.get(reverse("accept_invite", args=[invitation.token])).content.decode()
    client.post(reverse("accept_invite", args=[invitation.token]))
    assert Membership.objects.get(user=dave, team=team).role == Role.MEMBER
    # switched to the new team at once
    assert escape(team.name) in client.get(reverse("studio")).content.decode()


def test_an_invitation_admits_one_person(client, owner, team):
    invitation = Invitation.objects.create(team=team, created_by=owner)
    first, second = make_user("erin"), make_user("frank")
    assert invitation.accept(first) is not None
    assert invitation.accept(second) is None
    assert not Membership.objects.filter(user=second, team=team).exists()


def test_a_member_cannot_make_invitations(client_for, teammate):
    assert client_for(teammate).post(reverse("invite"), {"role": "admin"}).status_code == 403
    assert not Invitation.objects.exists()


def invite_options(html: str) -> list[str]:
    """The roles offered by the Team page's invitation form ([] without one)."""
    start = html.find(f'action="{reverse("invite")}"')
    if start == -1:
        return []
    return re.findall(r'<option value="(\w+)"', html[start : html.index("</form>", start)])


def test_an_admin_cannot_mint_admins_or_owners_by_invitation(client_for, team):
    admin, _ = join(team, "carol", Role.ADMIN)
    client = client_for(admin)
    assert invite_options(client.get(reverse("teams")).content.decode()) == ["member", "viewer"]

    for role in (Role.ADMIN, Role.OWNER):  # a forged post
        response = client.post(reverse("invite"), {"role": role}, follow=True)
        html = response.content.decode()
        assert response.status_code == 200 and "No invitation made" in html
        assert f"only an owner can invite as {role.label.lower()}" in html
    assert not Invitation.objects.exists()
    assert not AuditEntry.objects.filter(action="member.invited").exists()

    for role in (Role.MEMBER, Role.VIEWER):
        assert "Invitation link" in client.post(reverse("invite"), {"role": role}, follow=True).content.decode()
    assert sorted(Invitation.objects.values_list("role", flat=True)) == ["member", "viewer"]


def test_an_owner_invites_with_any_role(client_for, owner, team):
    client = client_for(owner)
    assert invite_options(client.get(reverse("teams")).content.decode()) == ["owner", "admin", "member", "viewer"]
    for role in Role:
        client.post(reverse("invite"), {"role": role})
    assert sorted(Invitation.objects.values_list("role", flat=True)) == sorted(Role.values)


def test_an_unknown_invitation_role_is_refused(client_for, owner):
    response = client_for(owner).post(reverse("invite"), {"role": "superuser"}, follow=True)
    assert "Choose one of the roles offered" in response.content.decode()
    assert not Invitation.objects.exists()


def test_a_demoted_owner_can_no_longer_invite_admins_but_their_link_keeps_its_role(client_for, owner, team):
    join(team, "olga", Role.OWNER)
    client = client_for(owner)
    client.post(reverse("invite"), {"role": "admin"})
    Membership.objects.filter(team=team, user=owner).update(role=Role.ADMIN)

    client.post(reverse("invite"), {"role": "admin"})
    assert Invitation.objects.count() == 1  # the second one was refused

    dave = make_user("dave")
    client_for(dave).post(reverse("accept_invite", args=[Invitation.objects.get().token]))
    assert Membership.objects.get(team=team, user=dave).role == Role.ADMIN


def test_a_user_switches_between_teams(client_for, owner, team, outsider):
    other = outsider.teams.get()
    Membership.objects.create(team=other, user=owner, role=Role.MEMBER)
    client = client_for(owner)
    client.post(reverse("switch_team"), {"team": str(other.uuid)})
    assert escape(other.name) in client.get(reverse("history")).content.decode()


def test_switching_to_someone_elses_team_is_404(client_for, owner, outsider):
    other = outsider.teams.get()
    assert client_for(owner).post(reverse("switch_team"), {"team": str(other.uuid)}).status_code == 404


# --- role changes ------------------------------------------------------------------------------


def change_role(client, membership, role):
    return client.post(reverse("change_role", args=[membership.pk]), {"role": role})


def test_an_owner_changes_a_members_role_and_it_is_audited(client_for, owner, team, teammate):
    bob = Membership.objects.get(team=team, user=teammate)

    response = change_role(client_for(owner), bob, Role.ADMIN)

    assert response.status_code == 302 and response["Location"] == reverse("teams")
    bob.refresh_from_db()
    assert bob.role == Role.ADMIN
    entry = AuditEntry.objects.get(action="member.role_changed")
    assert entry.actor == owner and entry.target == "bob" and entry.data == {"old": "member", "new": "admin"}
    assert "made you admin" in Notification.objects.get(user=teammate).message


def test_an_owner_can_make_another_owner(client_for, owner, team, teammate):
    bob = Membership.objects.get(team=team, user=teammate)
    change_role(client_for(owner), bob, Role.OWNER)
    bob.refresh_from_db()
    assert bob.role == Role.OWNER


def test_an_admin_sets_member_and_viewer_roles(client_for, team, teammate):
    admin, _ = join(team, "carol", Role.ADMIN)
    bob = Membership.objects.get(team=team, user=teammate)
    client = client_for(admin)

    change_role(client, bob, Role.VIEWER)
    bob.refresh_from_db()
    assert bob.role == Role.VIEWER
    change_role(client, bob, Role.MEMBER)
    bob.refresh_from_db()
    assert bob.role == Role.MEMBER


def test_an_admin_cannot_make_or_unmake_owners_and_admins(client_for, owner, team, teammate):
    admin, carol = join(team, "carol", Role.ADMIN)
    _, dan = join(team, "dan", Role.ADMIN)
    alice = Membership.objects.get(team=team, user=owner)
    bob = Membership.objects.get(team=team, user=teammate)
    client = client_for(admin)

    assert change_role(client, bob, Role.ADMIN).status_code == 403
    assert change_role(client, bob, Role.OWNER).status_code == 403
    assert change_role(client, alice, Role.MEMBER).status_code == 403
    assert change_role(client, dan, Role.MEMBER).status_code == 403
    assert change_role(client, carol, Role.OWNER).status_code == 403

    roles = dict(Membership.objects.filter(team=team).values_list("user__username", "role"))
    assert roles == {"alice": "owner", "bob": "member", "carol": "admin", "dan": "admin"}
    assert not AuditEntry.objects.filter(action="member.role_changed").exists()


def test_the_last_owner_cannot_be_demoted(client_for, owner, team):
    alice = Membership.objects.get(team=team, user=owner)

    response = client_for(owner).post(reverse("change_role", args=[alice.pk]), {"role": "member"}, follow=True)

    assert "A team needs an owner" in response.content.decode()
    alice.refresh_from_db()
    assert alice.role == Role.OWNER and not AuditEntry.objects.exists()


def test_an_owner_can_step_down_when_another_owner_remains(client_for, owner, team):
    join(team, "olga", Role.OWNER)
    alice = Membership.objects.get(team=team, user=owner)
    change_role(client_for(owner), alice, Role.ADMIN)
    alice.refresh_from_db()
    assert alice.role == Role.ADMIN


def test_members_cannot_change_roles(client_for, owner, team, teammate):
    viewer, vera = join(team, "vera", Role.VIEWER)
    assert change_role(client_for(teammate), vera, Role.MEMBER).status_code == 403
    vera.refresh_from_db()
    assert vera.role == Role.VIEWER


def test_a_membership_of_another_team_is_404(client_for, owner, outsider):
    theirs = Membership.objects.get(user=outsider)
    assert change_role(client_for(owner), theirs, Role.VIEWER).status_code == 404
    theirs.refresh_from_db()
    assert theirs.role == Role.OWNER


def test_it_refuses_an_unknown_role_and_get(client_for, owner, team, teammate):
    bob = Membership.objects.get(team=team, user=teammate)
    client = client_for(owner)
    change_role(client, bob, "superuser")
    bob.refresh_from_db()
    assert bob.role == Role.MEMBER
    assert client.get(reverse("change_role", args=[bob.pk])).status_code == 405


def role_options(html: str, membership) -> list[str]:
    """The roles offered in a member's role form on the Team page ([] without a form)."""
    start = html.find(f'id="role-{membership.pk}"')
    if start == -1:
        return []
    return re.findall(r'<option value="(\w+)">', html[start : html.index("</select>", start)])


def test_the_team_page_offers_role_forms_to_managers_only(client_for, owner, team, teammate):
    bob = Membership.objects.get(team=team, user=teammate)
    alice = Membership.objects.get(team=team, user=owner)
    html = client_for(owner).get(reverse("teams")).content.decode()
    assert reverse("change_role", args=[bob.pk]) in html
    assert role_options(html, bob) == ["owner", "admin", "viewer"]

    admin, carol = join(team, "carol", Role.ADMIN)
    html = client_for(admin).get(reverse("teams")).content.decode()
    assert role_options(html, bob) == ["viewer"]
    assert role_options(html, alice) == [] and role_options(html, carol) == []
    assert reverse("change_role", args=[alice.pk]) not in html

    html = client_for(teammate).get(reverse("teams")).content.decode()
    assert role_options(html, bob) == [] and reverse("change_role", args=[bob.pk]) not in html
