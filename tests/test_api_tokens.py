"""Personal access tokens: made on the account page, shown once, stored as a digest,
listed with their last use, revoked at once; in the audit trail; never more than the
member's role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts import actions as account_actions
from accounts.models import AccessToken, Membership, Role
from tests.conftest import make_user
from videos.models import AuditEntry, Generation


def make_token(user, team, scopes=("read", "generate", "review", "admin"), days=30, name="script"):
    """A token of ``user`` in ``team`` made as the account page makes it; its plain text."""
    membership = Membership.objects.select_related("team", "user").get(user=user, team=team)
    _, plain = account_actions.create_access_token(
        membership, name, list(scopes), timezone.now() + timedelta(days=days)
    )
    return plain


def bearer(plain: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


def _create(client, team, **fields):
    data = {"team": str(team.uuid), "name": "CMS export", "scopes": ["read", "generate"]}
    data["expires"] = (timezone.now().date() + timedelta(days=30)).isoformat()
    data.update(fields)
    return client.post("/account/tokens", data)


def test_a_token_is_shown_once_and_stored_only_as_a_digest(client_for, owner, team):
    client = client_for(owner)
    response = _create(client, team)
    assert response.status_code == 200
    plain = response.context["new_token"]
    assert plain.startswith("stk_") and plain in response.content.decode()
    token = AccessToken.objects.get()
    assert token.name == "CMS export" and token.team == team and token.scopes == ["generate", "read"]
    assert plain not in str(AccessToken.objects.values().get())  # only the prefix and the digest
    assert token.digest == AccessToken.digest_of(plain) and plain.startswith(f"stk_{token.prefix}_")
    page = client.get("/account/").content.decode()
    assert plain not in page and token.display in page and "never" in page
    entry = AuditEntry.objects.get(action="token.created")
    assert plain not in str(entry.data) and entry.data["scopes"] == ["generate", "read"]


@pytest.mark.parametrize(
    ("expires", "message"),
    [
        ("", "This field is required."),
        (None, "A token lasts at most a year"),
        ("yesterday", "Choose a day after today."),
        ("2026-02-31", "Enter a valid date."),
    ],
)
def test_an_expiry_is_required_and_at_most_a_year(client_for, owner, team, expires, message):
    today = timezone.now().date()
    value = {None: (today + timedelta(days=366)).isoformat(), "yesterday": (today - timedelta(days=1)).isoformat()}
    response = _create(client_for(owner), team, expires=value.get(expires, expires))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AccessToken.objects.exists()


def test_a_token_is_only_for_a_team_of_mine(client_for, owner, outsider):
    response = _create(client_for(owner), outsider.teams.get())
    assert response.status_code == 400 and not AccessToken.objects.exists()


def test_hostile_names_and_scopes_are_refused(client_for, owner, team):
    client = client_for(owner)
    assert _create(client, team, name="\x00\x01").status_code == 400
    assert _create(client, team, scopes=["root"]).status_code == 400
    assert _create(client, team, scopes=[]).status_code == 400
    assert not AccessToken.objects.exists()


def test_first_use_is_audited_once_and_last_use_is_listed(client, owner, team):
    plain = make_token(owner, team)
    for _ in range(3):
        assert client.get("/api/v1/keys", **bearer(plain)).status_code == 200
    assert AuditEntry.objects.filter(action="token.first_used").count() == 1
    assert AccessToken.objects.get().last_used_at is not None


def test_revoking_works_at_once_and_is_audited(client_for, owner, team):
    plain = make_token(owner, team)
    token = AccessToken.objects.get()
    client = Client()
    assert client.get("/api/v1/keys", **bearer(plain)).status_code == 200
    page = client_for(owner)
    response = page.post(f"/account/tokens/{token.prefix}/revoke")
    assert response.status_code == 302
    answer = client.get("/api/v1/keys", **bearer(plain))
    assert answer.status_code == 401 and answer["Content-Type"] == "application/problem+json"
    assert answer.json()["detail"] == "This access token was revoked."
    assert AuditEntry.objects.filter(action="token.revoked").count() == 1
    assert "revoked" in page.get("/account/").content.decode()


def test_another_users_token_cannot_be_revoked(client_for, owner, team, teammate):
    make_token(teammate, team)
    token = AccessToken.objects.get()
    assert client_for(owner).post(f"/account/tokens/{token.prefix}/revoke").status_code == 404
    assert AccessToken.objects.get().revoked_at is None


def test_an_expired_token_is_refused(client, owner, team):
    plain = make_token(owner, team)
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    answer = client.get("/api/v1/keys", **bearer(plain))
    assert answer.status_code == 401 and "expired" in answer.json()["detail"]


@pytest.mark.parametrize("header", ["", "Bearer", "Basic YWxpY2U6cHc=", "Bearer stk_nothing", "Bearer " + "x" * 5000])
def test_missing_or_forged_tokens_are_refused(client, db, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    answer = client.get("/api/v1/keys", **extra)
    assert answer.status_code == 401 and answer["Content-Type"] == "application/problem+json"
    assert answer.json()["status"] == 401


def test_a_token_whose_member_left_is_refused(client, owner, team, teammate):
    plain = make_token(teammate, team)
    Membership.objects.filter(user=teammate).delete()
    assert client.get("/api/v1/keys", **bearer(plain)).status_code == 401


def test_a_viewers_token_with_generate_still_cannot_generate(client, owner, team, key):
    viewer = make_user("vera")
    Membership.objects.create(team=team, user=viewer, role=Role.VIEWER)
    plain = make_token(viewer, team)
    answer = client.post(
        "/api/v1/generations",
        {"key": str(key.uuid), "prompt": "a cat"},
        content_type="application/json",
        **bearer(plain),
    )
    assert answer.status_code == 403 and answer.json()["detail"] == "Viewers cannot submit generations."
    assert not Generation.objects.exists()


def test_a_token_without_the_scope_is_refused(client, owner, team, key):
    plain = make_token(owner, team, scopes=("read",))
    answer = client.post(
        "/api/v1/generations",
        {"key": str(key.uuid), "prompt": "a cat"},
        content_type="application/json",
        **bearer(plain),
    )
    assert answer.status_code == 403 and "generate" in answer.json()["detail"]
    assert not Generation.objects.exists()


@pytest.mark.parametrize("prefix", ["nothere1", "a\x00b", "ZZZZZZZZ", "x" * 300])
def test_revoking_a_token_that_is_not_there_is_404(client_for, owner, prefix):
    assert client_for(owner).post(f"/account/tokens/{prefix}/revoke").status_code == 404


def test_a_token_with_a_nul_is_refused_not_a_500(client, db):
    answer = client.get("/api/v1/keys", HTTP_AUTHORIZATION="Bearer stk_\x00bcdefgh_x")
    assert answer.status_code == 401
