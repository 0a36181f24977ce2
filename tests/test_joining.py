"""A team's first week: an invitation that survives sign-up, the team remembered across
logins and switched from the header, and the team basics (rename, remove a member, revoke
an invitation, copy its link, leave), passwords and the account page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation, Membership, Role, Team, User
from tests.conftest import make_generation, make_user
from videos.models import AuditEntry, GatewayKey, Generation, Notification

PASSWORD = "a-long-pass-phrase-1"


def sign_up(client, username="carol", email="c@example.com"):
    return client.post(
        reverse("signup"), {"username": username, "email": email, "password1": PASSWORD, "password2": PASSWORD}
    )


def invitation_for(team, owner, role=Role.MEMBER) -> Invitation:
    return Invitation.objects.create(team=team, role=role, created_by=owner)


def header_team(html: str) -> str:
    """The current team's name as the header's switcher shows it."""
    summary = html.split('<summary class="team-name"', 1)[1].split("</summary>", 1)[0]
    return summary.split('<span class="menu-label">', 1)[1].split("</span>", 1)[0].strip()


# --- 6. an invitation survives sign-up -------------------------------------------------------------


def test_an_invitation_opened_logged_out_says_which_team_invited_you(client, owner, team):
    invitation = invitation_for(team, owner, Role.VIEWER)
    html = client.get(reverse("accept_invite", args=[invitation.token])).content.decode()
    assert f"alice invited you to {team.name} as viewer." in html.replace("&#x27;", "'")
    assert 'href="/accounts/signup/"' in html and 'href="/accounts/login/"' in html
    assert "You will join" in client.get(reverse("signup")).content.decode()
    assert "You will join" in client.get(reverse("login")).content.decode()


def test_signing_up_from_an_invitation_lands_you_in_the_inviting_team(client, owner, team):
    invitation = invitation_for(team, owner)
    client.get(reverse("accept_invite", args=[invitation.token]))
    response = sign_up(client)
    assert response.status_code == 302 and response["Location"] == reverse("studio")
    carol = User.objects.get(username="carol")
    assert list(Membership.objects.filter(user=carol).values_list("team", "role")) == [(team.pk, Role.MEMBER)]
    html = client.get(reverse("studio")).content.decode()
    assert header_team(html) == team.name.replace("'", "&#x27;")
    assert f"You joined {team.name} as member." in html.replace("&#x27;", "'")
    assert AuditEntry.objects.filter(team=team, action="member.joined", target="carol").exists()
    invitation.refresh_from_db()
    assert invitation.accepted_by == carol
    # The link is spent: the next person to open it is told so, and signs up into their own team.
    client.logout()
    assert "has been used" in client.get(reverse("accept_invite", args=[invitation.token])).content.decode()
    sign_up(client, "dora", "d@example.com")
    assert Membership.objects.get(user__username="dora").team.name == "dora's team"


def test_logging_in_from_an_invitation_accepts_it(client, owner, team, outsider):
    invitation = invitation_for(team, owner)
    client.get(reverse("accept_invite", args=[invitation.token]))
    response = client.post(reverse("login"), {"username": "mallory", "password": "pw-mallory-123"})
    assert response.status_code == 302 and response["Location"] == reverse("studio")
    assert Membership.objects.get(user=outsider, team=team).role == Role.MEMBER
    assert header_team(client.get(reverse("studio")).content.decode()) == team.name.replace("'", "&#x27;")


def test_a_wrong_password_after_an_invitation_accepts_nothing(client, owner, team, outsider):
    invitation = invitation_for(team, owner)
    client.get(reverse("accept_invite", args=[invitation.token]))
    client.post(reverse("login"), {"username": "mallory", "password": "wrong"})
    assert not Membership.objects.filter(user=outsider, team=team).exists()
    assert Invitation.objects.get(pk=invitation.pk).is_usable


@pytest.mark.parametrize("change", ["tampered", "expired", "used", "revoked"])
def test_a_bad_invitation_admits_nobody_and_sign_up_still_works(client, owner, team, change):
    invitation = invitation_for(team, owner)
    token = invitation.token
    if change == "tampered":
        token = token[:-1] + ("A" if token[-1] != "A" else "B")
    elif change == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif change == "used":
        invitation.accept(make_user("erin"))
    else:
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    response = client.get(reverse("accept_invite", args=[token]))
    assert response.status_code == (404 if change == "tampered" else 200)
    assert "invited you" not in response.content.decode()
    assert "You will join" not in client.get(reverse("signup")).content.decode()
    assert sign_up(client)["Location"] == reverse("keys")
    assert Membership.objects.get(user__username="carol").team.name == "carol's team"


def test_an_invitation_spent_between_opening_and_signing_up_says_so(client, owner, team):
    invitation = invitation_for(team, owner)
    client.get(reverse("accept_invite", args=[invitation.token]))
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    sign_up(client)
    carol = User.objects.get(username="carol")
    assert not Membership.objects.filter(user=carol, team=team).exists()
    assert Membership.objects.filter(user=carol).count() == 1  # their own team: never teamless


def test_a_session_holding_a_junk_invitation_is_ignored(client, db):
    session = client.session
    session["pending_invitation"] = {"not": "a token"}
    session.save()
    assert client.get(reverse("signup")).status_code == 200
    assert sign_up(client).status_code == 302


def test_posting_an_invitation_logged_out_asks_to_log_in(client, owner, team):
    invitation = invitation_for(team, owner)
    response = client.post(reverse("accept_invite", args=[invitation.token]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert Invitation.objects.get(pk=invitation.pk).is_usable


# --- 7. the team remembered, switched from the header ------------------------------------------------


def test_the_team_used_last_is_where_the_next_login_lands(client, owner, team):
    second = Team.objects.create(name="Night shift")
    Membership.objects.create(team=second, user=owner, role=Role.MEMBER)
    client.force_login(owner)
    assert header_team(client.get(reverse("studio")).content.decode()) != "Night shift"
    client.post(reverse("switch_team"), {"team": str(second.uuid)})
    client.logout()
    client.post(reverse("login"), {"username": "alice", "password": "pw-alice-123"})
    assert header_team(client.get(reverse("studio")).content.decode()) == "Night shift"


def test_the_header_team_name_offers_the_other_teams(client_for, owner, team, outsider):
    second = Team.objects.create(name="Night shift")
    Membership.objects.create(team=second, user=owner, role=Role.MEMBER)
    html = client_for(owner).get(reverse("history")).content.decode()
    menu = html.split('class="team-menu"', 1)[1].split("</details>", 1)[0]
    assert f'value="{second.uuid}"' in menu and "Switch to Night shift" in menu
    assert f'value="{team.uuid}"' not in menu  # the current one is not offered
    assert str(outsider.teams.get().uuid) not in html


def test_after_leaving_the_last_used_team_the_next_login_lands_in_another(client, owner, team, teammate):
    second = Team.objects.create(name="Night shift")
    Membership.objects.create(team=second, user=teammate, role=Role.OWNER)
    client.force_login(teammate)
    client.post(reverse("switch_team"), {"team": str(team.uuid)})
    client.post(reverse("leave_team"), {"team": str(team.uuid)})
    client.logout()
    client.force_login(teammate)
    assert header_team(client.get(reverse("studio")).content.decode()) == "Night shift"


# --- 8. team basics --------------------------------------------------------------------------------


def test_an_owner_renames_the_team_and_it_is_audited(client_for, owner, team):
    client = client_for(owner)
    client.post(reverse("rename_team"), {"rename-name": "Rainy Day Films"})
    assert Team.objects.get(pk=team.pk).name == "Rainy Day Films"
    entry = AuditEntry.objects.get(team=team, action="team.renamed")
    assert entry.data == {"old": "alice's team", "new": "Rainy Day Films"}


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_bad_team_name_is_refused_with_a_message(client_for, owner, team, name):
    response = client_for(owner).post(reverse("rename_team"), {"rename-name": name}, follow=True)
    assert "Team not renamed" in response.content.decode()
    assert Team.objects.get(pk=team.pk).name == "alice's team"
    assert not AuditEntry.objects.filter(action="team.renamed").exists()


def test_a_hostile_team_name_is_shown_as_text(client_for, owner, team):
    client = client_for(owner)
    client.post(reverse("rename_team"), {"rename-name": "<script>alert(1)</script>"})
    html = client.get(reverse("teams")).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_members_cannot_rename_or_remove(client_for, owner, team, teammate):
    client = client_for(teammate)
    assert client.post(reverse("rename_team"), {"rename-name": "Mine now"}).status_code == 403
    owner_membership = Membership.objects.get(user=owner, team=team)
    assert client.post(reverse("remove_member", args=[owner_membership.pk])).status_code == 403
    assert Team.objects.get(pk=team.pk).name == "alice's team"
    assert Membership.objects.filter(team=team).count() == 2


def test_an_owner_removes_a_member_whose_videos_stay(gateway, client_for, owner, team, teammate):
    from tests.conftest import add_key

    key = add_key(teammate, team, secret="sk-sandbox-bob-0001", label="Bob's key")
    generation = make_generation(teammate, team, key, prompt="Bob's paper boat")
    target = Membership.objects.get(user=teammate, team=team)
    response = client_for(owner).post(reverse("remove_member", args=[target.pk]), follow=True)
    assert "bob is no longer in" in response.content.decode()
    assert not Membership.objects.filter(pk=target.pk).exists()
    assert Generation.objects.filter(pk=generation.pk, team=team, author=teammate).exists()
    assert AuditEntry.objects.filter(team=team, action="member.removed", target="bob").exists()
    assert Notification.objects.filter(user=teammate, message__contains="removed you").exists()
    # Bob's key is his, not the team's: nobody there can choose it; it waits for him.
    assert "Bob&#x27;s key" not in client_for(owner).get(reverse("studio")).content.decode()
    assert GatewayKey.objects.filter(pk=key.pk, owner=teammate).exists()
    client = client_for(teammate)
    assert "Bob&#x27;s paper boat" not in client.get(reverse("history")).content.decode()
    Invitation.objects.create(team=team, created_by=owner).accept(teammate)
    client.post(reverse("switch_team"), {"team": str(team.uuid)})
    assert "Bob&#x27;s key" in client.get(reverse("studio")).content.decode()


def test_an_admin_cannot_remove_an_owner_or_another_admin(client_for, owner, team):
    admin, other = make_user("ada"), make_user("abe")
    Membership.objects.create(team=team, user=admin, role=Role.ADMIN)
    other_admin = Membership.objects.create(team=team, user=other, role=Role.ADMIN)
    client = client_for(admin)
    for target in (Membership.objects.get(user=owner), other_admin):
        assert client.post(reverse("remove_member", args=[target.pk])).status_code == 403
    assert Membership.objects.filter(team=team).count() == 3


def test_removing_yourself_is_refused_and_points_to_leaving(client_for, owner, team):
    me = Membership.objects.get(user=owner, team=team)
    response = client_for(owner).post(reverse("remove_member", args=[me.pk]))
    assert response.status_code == 403 and "account page" in response.content.decode()
    assert Membership.objects.filter(pk=me.pk).exists()


def test_removing_a_member_of_another_team_is_404(client_for, owner, outsider):
    theirs = Membership.objects.get(user=outsider)
    assert client_for(owner).post(reverse("remove_member", args=[theirs.pk])).status_code == 404
    assert Membership.objects.filter(pk=theirs.pk).exists()


def test_an_owner_revokes_an_invitation_and_the_link_stops_working(client, owner, team):
    invitation = invitation_for(team, owner)
    client.force_login(owner)
    response = client.post(reverse("revoke_invitation", args=[invitation.token]), follow=True)
    assert "Invitation revoked" in response.content.decode()
    assert invitation.token not in response.content.decode()  # no longer listed
    assert AuditEntry.objects.filter(team=team, action="member.invitation_revoked").exists()
    dave = make_user("dave")
    client.force_login(dave)
    client.post(reverse("accept_invite", args=[invitation.token]))
    assert not Membership.objects.filter(user=dave, team=team).exists()


def test_revoking_another_teams_invitation_is_404(client_for, owner, team, outsider):
    invitation = invitation_for(team, owner)
    assert client_for(outsider).post(reverse("revoke_invitation", args=[invitation.token])).status_code == 404
    assert Invitation.objects.get(pk=invitation.pk).is_usable


def test_a_member_cannot_revoke(client_for, owner, team, teammate):
    invitation = invitation_for(team, owner)
    assert client_for(teammate).post(reverse("revoke_invitation", args=[invitation.token])).status_code == 403
    assert Invitation.objects.get(pk=invitation.pk).is_usable


def test_an_invitation_link_can_be_copied_with_one_click_or_selected(client_for, owner, team):
    invitation = invitation_for(team, owner)
    html = client_for(owner).get(reverse("teams")).content.decode()
    field = re.search(r'<input type="text" readonly id="(invite-link-\d+)"[^>]*value="([^"]+)"', html)
    assert field and field[2] == f"http://testserver/invite/{invitation.token}/"
    assert f'data-copy="{field[1]}"' in html and "/static/js/copy.js" in html


def test_a_member_leaves_a_team_from_the_account_page(client_for, owner, team, teammate):
    client = client_for(teammate)
    assert "Leave" in client.get(reverse("account")).content.decode()
    response = client.post(reverse("leave_team"), {"team": str(team.uuid)}, follow=True)
    assert f"You left {team.name}." in response.content.decode().replace("&#x27;", "'")
    assert not Membership.objects.filter(user=teammate, team=team).exists()
    assert AuditEntry.objects.filter(team=team, action="member.left", target="bob").exists()


def test_the_last_owner_cannot_leave_and_is_told_why(client_for, owner, team):
    response = client_for(owner).post(reverse("leave_team"), {"team": str(team.uuid)}, follow=True)
    assert "make someone else owner first" in response.content.decode()
    assert Membership.objects.filter(user=owner, team=team, role=Role.OWNER).exists()


def test_an_owner_leaves_when_another_owner_remains(client_for, owner, team, teammate):
    Membership.objects.filter(user=teammate).update(role=Role.OWNER)
    client_for(owner).post(reverse("leave_team"), {"team": str(team.uuid)})
    assert not Membership.objects.filter(user=owner, team=team).exists()


@pytest.mark.parametrize("posted", ["not-a-uuid", "", "00000000-0000-0000-0000-000000000000", None])
def test_leaving_a_team_you_are_not_in_is_404(client_for, owner, outsider, posted):
    data = {"team": str(owner.teams.get().uuid) if posted is None else posted}
    assert client_for(outsider).post(reverse("leave_team"), data).status_code == 404
    assert Membership.objects.filter(user=owner).exists()


@pytest.mark.parametrize("name", ["leave_team", "rename_team", "switch_team"], ids=["leave", "rename", "switch"])
def test_post_only_views_refuse_get(client_for, owner, name):
    assert client_for(owner).get(reverse(name)).status_code == 405


def test_the_account_page_shows_who_you_are_and_your_teams(client_for, owner, team):
    User.objects.filter(pk=owner.pk).update(email="alice@example.com")
    html = client_for(owner).get(reverse("account")).content.decode()
    assert "alice@example.com" in html and 'href="/account/password/"' in html
    assert f'value="{team.uuid}"' in html


def test_the_account_page_asks_to_log_in(client):
    response = client.get(reverse("account"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_member_changes_their_password(client_for, owner):
    client = client_for(owner)
    refused = client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": "another-long-pass-9", "new_password2": "another-long-pass-9"},
    )
    assert refused.status_code == 200 and "incorrectly" in refused.content.decode()
    client.post(
        reverse("password_change"),
        {
            "old_password": "pw-alice-123",
            "new_password1": "another-long-pass-9",
            "new_password2": "another-long-pass-9",
        },
    )
    assert User.objects.get(pk=owner.pk).check_password("another-long-pass-9")


def test_a_forgotten_password_is_reset_by_email(client, owner):
    User.objects.filter(pk=owner.pk).update(email="alice@example.com")
    response = client.post(reverse("password_reset"), {"email": "alice@example.com"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@example.com"]
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body)[1]
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    client.post(
        form.redirect_chain[-1][0], {"new_password1": "fresh-long-pass-7", "new_password2": "fresh-long-pass-7"}
    )
    assert User.objects.get(pk=owner.pk).check_password("fresh-long-pass-7")
    used = client.get(link, follow=True).content.decode()
    assert "has been used or has expired" in used


def test_a_reset_for_an_unknown_address_reads_the_same_and_sends_nothing(client, owner):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


def test_reset_requests_are_throttled_like_logins(client, owner):
    User.objects.filter(pk=owner.pk).update(email="alice@example.com")
    for _ in range(3):
        assert client.post(reverse("password_reset"), {"email": "alice@example.com"}).status_code == 302
    refused = client.post(reverse("password_reset"), {"email": "ALICE@example.com"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many reset requests" in refused.content.decode()
    assert len(mail.outbox) == 3
