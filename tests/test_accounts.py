"""Sign-up, teams, invitations and switching between teams."""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import escape

from accounts.models import Invitation, Membership, Role, Team, User
from tests.conftest import make_user


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


def test_a_user_switches_between_teams(client_for, owner, team, outsider):
    other = outsider.teams.get()
    Membership.objects.create(team=other, user=owner, role=Role.MEMBER)
    client = client_for(owner)
    client.post(reverse("switch_team"), {"team": str(other.uuid)})
    assert escape(other.name) in client.get(reverse("history")).content.decode()


def test_switching_to_someone_elses_team_is_404(client_for, owner, outsider):
    other = outsider.teams.get()
    assert client_for(owner).post(reverse("switch_team"), {"team": str(other.uuid)}).status_code == 404
