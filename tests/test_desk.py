"""The review desk, the audit trail, role changes, notifications and the admin's review actions."""

from __future__ import annotations

import copy
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.models import Membership, Role
from tests.conftest import add_key, make_generation, make_user, run_until_done
from videos import audit
from videos.models import AuditEntry, Generation, Notification, Review, Task, TaskState
from videos.web import activity

HTMX = {"HTTP_HX_REQUEST": "true"}


def finished(author, team, key, prompt="A paper boat on a rainy street", *, review=Review.AWAITING) -> Generation:
    """A completed generation (rendered by the sandbox, with its video and poster) in ``review``."""
    generation = make_generation(author, team, key, prompt=prompt)
    assert run_until_done(generation.task.pk).state == TaskState.COMPLETED
    Generation.objects.filter(pk=generation.pk).update(review=review)
    return Generation.objects.get(pk=generation.pk)


def awaiting(author, team, key, prompt="A paper boat on a rainy street") -> Generation:
    """A generation marked completed and awaiting review, without rendering (fast)."""
    generation = make_generation(author, team, key, prompt=prompt)
    Task.objects.filter(pk=generation.task.pk).update(state=TaskState.COMPLETED)
    Generation.objects.filter(pk=generation.pk).update(review=Review.AWAITING)
    return Generation.objects.get(pk=generation.pk)


def join(team, username: str, role: Role):
    user = make_user(username)
    membership = Membership.objects.create(team=team, user=user, role=role)
    return user, membership


@pytest.fixture
def bob_key(teammate, team):
    return add_key(teammate, team, secret="sk-sandbox-bob-0002", label="Bob's sandbox")


@pytest.fixture
def with_badge(settings):
    """The project's settings with ``videos.web.activity.notification_count`` registered (as the
    lead wires it in ``project/settings.py``)."""
    templates = copy.deepcopy(settings.TEMPLATES)
    processors = templates[0]["OPTIONS"]["context_processors"]
    if "videos.web.activity.notification_count" not in processors:
        processors.append("videos.web.activity.notification_count")
    settings.TEMPLATES = templates


def decide(client, generation, decision, comment="", **extra):
    return client.post(
        reverse("review_decide", args=[generation.uuid]), {"decision": decision, "comment": comment}, **extra
    )


# --- the review desk ------------------------------------------------------------------------


def test_it_lists_completed_generations_awaiting_review_oldest_first(
    gateway, client_for, owner, team, teammate, key, bob_key
):
    first = finished(teammate, team, bob_key, prompt="First: a heron at dawn")
    second = finished(owner, team, key, prompt="Second: a tram in the snow")
    finished(owner, team, key, prompt="Not sent to review", review=Review.NONE)
    running = make_generation(owner, team, key, prompt="Still running")
    Generation.objects.filter(pk=running.pk).update(review=Review.AWAITING)

    html = client_for(owner).get(reverse("review_queue")).content.decode()

    assert html.index("First: a heron at dawn") < html.index("Second: a tram in the snow")
    assert "Not sent to review" not in html and "Still running" not in html
    assert reverse("poster_file", args=[first.uuid]) in html and reverse("video_file", args=[second.uuid]) in html
    assert "bob" in html and "alice" in html
    assert reverse("review_decide", args=[first.uuid]) in html
    assert "2 awaiting review" in html


def test_it_accepts_with_a_comment_the_author_sees(client_for, owner, team, teammate, bob_key):
    generation = awaiting(teammate, team, bob_key)

    response = decide(client_for(owner), generation, "accept", "Lovely light, ship it.")

    assert response.status_code == 302 and response["Location"] == reverse("review_queue")
    generation.refresh_from_db()
    assert generation.review == Review.ACCEPTED and generation.reviewed_by == owner
    assert generation.review_comment == "Lovely light, ship it." and generation.reviewed_at is not None
    html = client_for(teammate).get(reverse("generation", args=[generation.uuid])).content.decode()
    assert "Accepted" in html and escape("Lovely light, ship it.") in html
    note = Notification.objects.get(user=teammate)
    assert note.generation == generation
    assert note.message == f"Your video {audit.describe(generation)} was accepted: Lovely light, ship it."
    entry = AuditEntry.objects.get(action="generation.reviewed")
    assert entry.actor == owner and entry.team == team and entry.data["decision"] == "accepted"


@pytest.mark.parametrize(
    ("decision", "review", "words"),
    [("reject", Review.REJECTED, "was rejected"), ("changes", Review.CHANGES, "needs changes")],
)
def test_it_rejects_or_asks_for_changes_with_the_reason(
    client_for, owner, team, teammate, bob_key, decision, review, words
):
    generation = awaiting(teammate, team, bob_key)

    decide(client_for(owner), generation, decision, "The boat sinks at 0:03.")

    generation.refresh_from_db()
    assert generation.review == review and generation.review_comment == "The boat sinks at 0:03."
    assert Notification.objects.get(user=teammate).message.endswith(f"{words}: The boat sinks at 0:03.")
    html = client_for(teammate).get(reverse("generation", args=[generation.uuid])).content.decode()
    assert generation.get_review_display() in html and "The boat sinks at 0:03." in html


@pytest.mark.parametrize("decision", ["reject", "changes"])
def test_it_requires_a_comment_to_reject_or_ask_for_changes(client_for, owner, team, teammate, bob_key, decision):
    generation = awaiting(teammate, team, bob_key)

    response = decide(client_for(owner), generation, decision, "   ")

    assert response.status_code == 400
    assert "a comment is required" in response.content.decode()
    generation.refresh_from_db()
    assert generation.review == Review.AWAITING
    assert not AuditEntry.objects.filter(action="generation.reviewed").exists()
    assert not Notification.objects.exists()


def test_it_refuses_an_unknown_decision(client_for, owner, team, teammate, bob_key):
    generation = awaiting(teammate, team, bob_key)
    assert decide(client_for(owner), generation, "publish", "ok").status_code == 400
    generation.refresh_from_db()
    assert generation.review == Review.AWAITING


def test_it_answers_htmx_with_the_decided_item(client_for, owner, team, teammate, bob_key):
    generation = awaiting(teammate, team, bob_key)

    response = decide(client_for(owner), generation, "changes", "Slower pan, please.", **HTMX)

    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert f'id="review-{generation.uuid}"' in html and "Changes requested" in html and "Slower pan, please." in html


def test_it_answers_htmx_with_the_form_errors(client_for, owner, team, teammate, bob_key):
    generation = awaiting(teammate, team, bob_key)

    html = decide(client_for(owner), generation, "reject", "", **HTMX).content.decode()

    assert "<html" not in html and "a comment is required" in html and 'name="decision"' in html


def test_it_decides_only_once(client_for, owner, team, teammate, bob_key):
    generation = awaiting(teammate, team, bob_key)
    client = client_for(owner)
    decide(client, generation, "accept")

    response = decide(client, generation, "reject", "Too late", follow=True)

    assert "no longer awaiting review" in response.content.decode()
    generation.refresh_from_db()
    assert generation.review == Review.ACCEPTED
    assert AuditEntry.objects.filter(action="generation.reviewed").count() == 1


def test_it_refuses_a_generation_that_is_not_awaiting_review(client_for, owner, team, key):
    generation = make_generation(owner, team, key)
    decide(client_for(owner), generation, "accept")
    generation.refresh_from_db()
    assert generation.review == Review.NONE and not AuditEntry.objects.filter(action="generation.reviewed").exists()


def test_it_lets_admins_review(client_for, owner, team, teammate, bob_key):
    admin, _ = join(team, "carol", Role.ADMIN)
    generation = awaiting(teammate, team, bob_key)
    client = client_for(admin)
    assert client.get(reverse("review_queue")).status_code == 200
    decide(client, generation, "accept")
    generation.refresh_from_db()
    assert generation.review == Review.ACCEPTED and generation.reviewed_by == admin


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_it_refuses_the_desk_to_members_and_viewers(client_for, owner, team, key, role):
    user, _ = join(team, "dave", role)
    generation = awaiting(owner, team, key)
    client = client_for(user)
    assert client.get(reverse("review_queue")).status_code == 403
    assert decide(client, generation, "accept").status_code == 403
    generation.refresh_from_db()
    assert generation.review == Review.AWAITING


def test_it_hides_other_teams_generations(client_for, owner, team, key, outsider):
    generation = awaiting(owner, team, key)
    client = client_for(outsider)
    assert decide(client, generation, "accept").status_code == 404
    assert "paper boat" not in client.get(reverse("review_queue")).content.decode()
    generation.refresh_from_db()
    assert generation.review == Review.AWAITING


def test_it_rejects_get_on_decide_and_post_on_the_queue(client_for, owner, team, key):
    generation = awaiting(owner, team, key)
    client = client_for(owner)
    assert client.get(reverse("review_decide", args=[generation.uuid])).status_code == 405
    assert client.post(reverse("review_queue")).status_code == 405


def test_desk_pages_need_a_login(client, owner, team, key):
    generation = awaiting(owner, team, key)
    for url in (reverse("review_queue"), reverse("audit_log"), reverse("notifications")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert decide(client, generation, "accept").status_code == 302


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
        "member.invited": "Invitation link as viewer",
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
        assert ("<td>bob</td>" if action == "generation.submitted" else "<td>alice</td>") in row
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
    assert "Alice key" in by_action and "Bob key" in by_action and "Invitation link" not in by_action

    both = client.get(reverse("audit_log"), {"action": "key.added", "actor": "bob"}).content.decode()
    assert "Bob key" in both and "Alice key" not in both

    partial = client.get(reverse("audit_log"), {"actor": "alice"}, **HTMX).content.decode()
    assert "<html" not in partial and 'id="audit-results"' in partial
    assert "Alice key" in partial and "Invitation link" in partial and "Bob key" not in partial


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
    assert "Page 1 of 2" in html and "?action=key.added&amp;page=2" in html


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


# --- notifications -----------------------------------------------------------------------------


def test_it_counts_unread_notifications_in_the_nav(with_badge, client_for, owner, team, teammate):
    Notification.objects.create(user=owner, team=team, message="one")
    Notification.objects.create(user=owner, team=team, message="two")
    Notification.objects.create(user=owner, team=team, message="seen", read_at=timezone.now())
    Notification.objects.create(user=teammate, team=team, message="Bob's")

    html = client_for(owner).get(reverse("studio")).content.decode()

    assert '<span class="count" id="notification-count" title="Unread notifications">2</span>' in html


def test_it_shows_no_badge_without_unread_notifications(with_badge, client_for, owner):
    html = client_for(owner).get(reverse("studio")).content.decode()
    assert 'id="notification-count"' not in html and reverse("notifications") in html


def test_it_counts_nothing_and_queries_nothing_for_anonymous_users(db, django_assert_num_queries):
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert activity.notification_count(request) == {}


def test_it_lists_notifications_and_marks_them_read(with_badge, client_for, owner, team, key, outsider):
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


def test_it_notifies_the_author_once_reviewed_and_the_badge_shows_it(
    with_badge, client_for, owner, team, teammate, bob_key
):
    generation = awaiting(teammate, team, bob_key)
    decide(client_for(owner), generation, "accept")
    html = client_for(teammate).get(reverse("studio")).content.decode()
    assert 'title="Unread notifications">1</span>' in html


def test_it_rejects_post_on_notifications(client_for, owner):
    assert client_for(owner).post(reverse("notifications")).status_code == 405


# --- the admin -------------------------------------------------------------------------------------


@pytest.fixture
def site_admin(db):
    user = make_user("root")
    user.is_staff = user.is_superuser = True
    user.save()
    return user


def test_the_admin_bulk_accepts_and_rejects_awaiting_generations(client, site_admin, owner, team, teammate, bob_key):
    first = awaiting(teammate, team, bob_key, prompt="First")
    second = awaiting(teammate, team, bob_key, prompt="Second")
    not_sent = make_generation(teammate, team, bob_key, prompt="Not sent")
    client.force_login(site_admin)
    url = reverse("admin:videos_generation_changelist")

    response = client.post(url, {"action": "accept_review", "_selected_action": [first.pk, not_sent.pk]}, follow=True)
    client.post(url, {"action": "reject_review", "_selected_action": [second.pk]})

    assert "Accepted 1 generation(s)." in response.content.decode() and "Skipped 1" in response.content.decode()
    reviews = dict(Generation.objects.values_list("prompt", "review"))
    assert reviews == {"First": Review.ACCEPTED, "Second": Review.REJECTED, "Not sent": Review.NONE}
    entries = AuditEntry.objects.filter(action="generation.reviewed").order_by("pk")
    assert [(e.actor, e.data["decision"], e.data["via"]) for e in entries] == [
        (site_admin, "accepted", "admin"),
        (site_admin, "rejected", "admin"),
    ]
    messages = sorted(Notification.objects.filter(user=teammate).values_list("message", flat=True))
    assert messages == [
        "Your video “First” was accepted.",
        "Your video “Second” was rejected: Rejected by a site administrator.",
    ]


def test_the_admin_lists_poster_thumbnails_with_filters(gateway, client, site_admin, owner, team, key):
    generation = finished(owner, team, key)
    client.force_login(site_admin)

    html = client.get(reverse("admin:videos_generation_changelist")).content.decode()

    assert f'<img src="{reverse("admin:videos_generation_poster", args=[generation.uuid])}"' in html
    for name in ("review__exact", "dialect", "task__state"):
        assert name in html
    searched = client.get(
        reverse("admin:videos_generation_changelist"), {"q": "paper boat", "review__exact": "awaiting"}
    )
    assert (
        searched.status_code == 200
        and reverse("admin:videos_generation_change", args=[generation.pk]) in searched.content.decode()
    )


def test_joining_by_invitation_is_audited(client_for, owner, team):
    from accounts.models import Invitation
    from tests.conftest import make_user
    from videos.models import AuditEntry

    invitation = Invitation.objects.create(team=team, created_by=owner)
    newcomer = make_user("nina")
    client_for(newcomer).post(reverse("accept_invite", args=[invitation.token]))
    entry = AuditEntry.objects.get(action="member.joined")
    assert (entry.actor, entry.target, entry.team) == (newcomer, "nina", team)


def test_staff_outside_the_team_see_admin_posters(gateway, admin_client, owner, team, key):
    from tests.conftest import make_generation, run_until_done

    generation = make_generation(owner, team, key)
    run_until_done(generation.task.pk)
    html = admin_client.get(reverse("admin:videos_generation_changelist")).content.decode()
    poster = reverse("admin:videos_generation_poster", args=[generation.uuid])
    assert poster in html
    response = admin_client.get(poster)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
