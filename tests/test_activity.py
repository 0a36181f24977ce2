"""The audit trail and notifications (videos/web/activity.py)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.models import Membership, Role
from tests.conftest import awaiting, join, make_generation, make_user
from videos.models import AuditEntry, Generation, Notification, Review, Task, TaskState
from videos.web import activity, live

HTMX = {"HTTP_HX_REQUEST": "true"}


def decide(client, generation, decision, comment="", **extra):
    return client.post(
        reverse("review_decide", args=[generation.uuid]), {"decision": decision, "comment": comment}, **extra
    )


# --- the audit trail ------------------------------------------------------------------------


def test_it_lists_every_audited_action_with_actor_time_and_target(client_for, owner, team, teammate, bob_key):
    client = client_for(owner)
    bob = Membership.objects.get(team=team, user=teammate)
    client.post(reverse("invite"), {"role": "viewer"})
    client.post(reverse("budget"), {"monthly_budget_usd": "50", "approval_threshold_usd": "", f"cap_{bob.pk}": "5"})
    client.post(reverse("change_role", args=[bob.pk]), {"role": "admin"})
    client.post(
        reverse("keys"),
        {"dialect": "openai-preview", "label": "Studio key", "base_url": "https://example.com", "secret": "sk-x-9876"},
    )
    generation = make_generation(teammate, team, bob_key, prompt="A fox in the reeds")  # submitted, by bob
    client.post(reverse("cancel", args=[generation.uuid]))
    Task.objects.filter(pk=generation.task.pk).update(state=TaskState.COMPLETED)
    Generation.objects.filter(pk=generation.pk).update(review=Review.AWAITING)
    decide(client, generation, "accept")
    client.post(reverse("delete", args=[generation.uuid]))

    response = client.get(reverse("audit_log"))

    html = response.content.decode()
    expected = {
        "member.invited": "an invitation link for a new viewer",
        "budget.changed": escape(team.name),
        "member.role_changed": "bob",
        "key.added": "Studio key (••••9876)",
        "generation.submitted": "A fox in the reeds",
        "generation.cancelled": "A fox in the reeds",
        "generation.reviewed": "A fox in the reeds",
        "generation.deleted": "A fox in the reeds",
    }
    for action in expected:
        assert f"<code>{action}</code>" in html, action
        assert AuditEntry.objects.filter(team=team, action=action).exists(), action
    rows = html.split("<tr>")[2:]  # after the header row
    assert len(rows) == AuditEntry.objects.filter(team=team).count()
    for row in rows:
        action = row.split("<code>")[1].split("</code>")[0]
        assert expected[action] in row and "<time datetime=" in row
        who = "bob" if action == "generation.submitted" else "alice"
        assert f'<span class="actor">{who}</span>' in row  # the sentence names who did it
    # Newest first.
    assert html.index("generation.deleted") < html.index("generation.reviewed") < html.index("member.invited")
    assert "none → 50.00" in html and "member → admin" in html


def test_it_records_budget_changes_with_old_and_new_values(client_for, owner, team, teammate):
    team.monthly_budget_usd = 10
    team.save()
    bob = Membership.objects.get(team=team, user=teammate)
    client = client_for(owner)

    client.post(reverse("budget"), {"monthly_budget_usd": "25", "approval_threshold_usd": "", f"cap_{bob.pk}": "3"})
    client.post(reverse("budget"), {"monthly_budget_usd": "25", "approval_threshold_usd": "", f"cap_{bob.pk}": "3"})

    entry = AuditEntry.objects.get(action="budget.changed")  # the unchanged second save records nothing
    assert entry.actor == owner
    assert entry.data == {
        "monthly_budget_usd": {"old": "10.00", "new": "25.00"},
        "cap:bob": {"old": None, "new": "3.00"},
    }


def test_it_filters_the_audit_trail_by_action_and_actor(client_for, owner, team, teammate):
    from videos.audit import record_action

    record_action(team, owner, "key.added", "Alice key (••••1111)")
    record_action(team, teammate, "key.added", "Bob key (••••2222)")
    record_action(team, owner, "member.invited", "Invitation link as member")
    client = client_for(owner)

    by_action = client.get(reverse("audit_log"), {"action": "key.added"}).content.decode()
    assert "Alice key" in by_action and "Bob key" in by_action and "invitation link" not in by_action

    both = client.get(reverse("audit_log"), {"action": "key.added", "actor": "bob"}).content.decode()
    assert "Bob key" in both and "Alice key" not in both

    partial = client.get(reverse("audit_log"), {"actor": "alice"}, **HTMX).content.decode()
    assert "<html" not in partial and 'id="audit-results"' in partial
    assert "Alice key" in partial and "invitation link" in partial and "Bob key" not in partial


def test_the_audit_page_and_its_partial_vary_on_hx_request(client_for, owner, team):
    """One URL answers the whole page or (htmx) its results: a cache must keep both apart."""
    client = client_for(owner)
    page = client.get(reverse("audit_log"))
    partial = client.get(reverse("audit_log"), **HTMX)
    for response in (page, partial):
        assert "HX-Request" in response["Vary"]
    assert "<html" in page.content.decode() and "<html" not in partial.content.decode()


def test_it_paginates_the_audit_trail_keeping_the_filters(client_for, owner, team):
    from videos.audit import record_action

    for n in range(activity.AUDIT_PAGE + 5):
        record_action(team, owner, "key.added", f"Key {n}")
    html = client_for(owner).get(reverse("audit_log"), {"action": "key.added"}).content.decode()
    assert "?action=key.added&amp;cursor=" in html and "page=" not in html


def test_it_shows_only_the_teams_own_trail(client_for, owner, team, outsider):
    from videos.audit import record_action

    record_action(team, owner, "key.added", "Alice private key")
    html = client_for(outsider).get(reverse("audit_log")).content.decode()
    assert "Alice private key" not in html


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_it_refuses_the_audit_trail_to_members_and_viewers(client_for, team, role):
    user, _ = join(team, "erin", role)
    assert client_for(user).get(reverse("audit_log")).status_code == 403


def test_nobody_can_edit_the_audit_trail(client, client_for, owner, team):
    from videos.audit import record_action

    entry = record_action(team, owner, "key.added", "Alice key")
    studio = client_for(owner)
    for method in ("post", "put", "patch", "delete"):
        assert getattr(studio, method)(reverse("audit_log")).status_code == 405

    boss = make_user("root")
    boss.is_staff = boss.is_superuser = True
    boss.save()
    client.force_login(boss)
    change_url = reverse("admin:videos_auditentry_change", args=[entry.pk])
    page = client.get(change_url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()  # shown read-only
    assert client.post(change_url, {"action": "nothing", "target": "x"}).status_code == 403
    assert client.get(reverse("admin:videos_auditentry_add")).status_code == 403
    assert client.post(reverse("admin:videos_auditentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.action == "key.added" and entry.target == "Alice key"
    from django.contrib import admin as django_admin

    model_admin = django_admin.site._registry[AuditEntry]
    request = RequestFactory().get("/")
    request.user = boss
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_add_permission(request) and not model_admin.has_delete_permission(request, entry)


def test_joining_by_invitation_is_audited(client_for, owner, team):
    from accounts.models import Invitation
    from tests.conftest import make_user
    from videos.models import AuditEntry

    invitation = Invitation.objects.create(team=team, created_by=owner)
    newcomer = make_user("nina")
    client_for(newcomer).post(reverse("accept_invite", args=[invitation.token]))
    entry = AuditEntry.objects.get(action="member.joined")
    assert (entry.actor, entry.target, entry.team) == (newcomer, "nina", team)


# --- notifications -----------------------------------------------------------------------------


def test_it_counts_unread_notifications_in_the_nav(client_for, owner, team, teammate):
    Notification.objects.create(user=owner, team=team, message="one")
    Notification.objects.create(user=owner, team=team, message="two")
    Notification.objects.create(user=owner, team=team, message="seen", read_at=timezone.now())
    Notification.objects.create(user=teammate, team=team, message="Bob's")

    html = client_for(owner).get(reverse("studio")).content.decode()

    assert '<span class="count" id="notification-count" title="Unread notifications">2</span>' in html


def test_it_shows_no_badge_without_unread_notifications(client_for, owner):
    html = client_for(owner).get(reverse("studio")).content.decode()
    assert 'id="notification-count"' not in html and reverse("notifications") in html


def test_it_counts_nothing_and_queries_nothing_for_anonymous_users(db, django_assert_num_queries):
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert live.badges(request) == {}


def test_it_lists_notifications_and_marks_them_read(client_for, owner, team, key, outsider):
    generation = make_generation(owner, team, key, prompt="A kite over the dunes")
    Notification.objects.create(user=owner, team=team, message="Your video is ready.", generation=generation)
    Notification.objects.create(
        user=owner, team=team, message="Older and read", read_at=timezone.now() - timezone.timedelta(days=1)
    )
    Notification.objects.create(user=outsider, team=outsider.teams.get(), message="Mallory's own")
    client = client_for(owner)

    html = client.get(reverse("notifications")).content.decode()

    assert "Your video is ready." in html and "Older and read" in html and "Mallory's own" not in html
    assert html.count('class="badge new"') == 1  # shown as new this once
    assert reverse("generation", args=[generation.uuid]) in html
    assert 'id="notification-count"' not in html  # the badge is rendered after marking
    assert not Notification.objects.filter(user=owner, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=outsider, read_at__isnull=True).exists()
    assert 'class="badge new"' not in client.get(reverse("notifications")).content.decode()


def test_it_notifies_the_author_once_reviewed_and_the_badge_shows_it(client_for, owner, team, teammate, bob_key):
    generation = awaiting(teammate, team, bob_key)
    decide(client_for(owner), generation, "accept")
    html = client_for(teammate).get(reverse("studio")).content.decode()
    assert 'title="Unread notifications">1</span>' in html


def test_it_rejects_post_on_notifications(client_for, owner):
    assert client_for(owner).post(reverse("notifications")).status_code == 405
