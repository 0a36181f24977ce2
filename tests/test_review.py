"""The review desk: the verdict on finished videos (accept, reject, request changes), on the desk and in the admin."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from accounts.models import Role
from tests.conftest import awaiting, finished, join, make_generation, make_user, run_until_done
from videos import audit
from videos.models import AuditEntry, Generation, Notification, Review

HTMX = {"HTTP_HX_REQUEST": "true"}


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


def test_staff_outside_the_team_see_admin_posters(gateway, admin_client, owner, team, key):
    from tests.conftest import make_generation

    generation = make_generation(owner, team, key)
    run_until_done(generation.task.pk)
    html = admin_client.get(reverse("admin:videos_generation_changelist")).content.decode()
    poster = reverse("admin:videos_generation_poster", args=[generation.uuid])
    assert poster in html
    response = admin_client.get(poster)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
