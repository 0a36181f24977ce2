"""Webhooks: signed as Standard Webhooks (verified with the reference library), one
``generation.completed`` per generation, retried after a 500 with backoff for a day,
an endpoint disabled after a day of failures, test events and redeliveries, the address
guard on webhook URLs, and who may manage endpoints."""

from __future__ import annotations

import http.server
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from accounts.models import Role, Team
from tests.conftest import awaiting, join, make_generation, run_until_done
from videos import actions
from videos.lib import http as studio_http
from videos.models import (
    WEBHOOK_TEST_EVENT,
    AuditEntry,
    Notification,
    Review,
    TaskState,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from videos.worker import webhooks as sender

HOOK_HOST = "hooks.example.com"
HOOK_URL = f"https://{HOOK_HOST}/studio"


@dataclass
class Receiver:
    """A team's webhook receiver behind the test transport: answers ``answers`` in turn
    (a status, a Response, or a function of the request; then 200), and verifies every request with the Standard Webhooks reference library
    (``verified``: the parsed bodies with their ``webhook-id``; ``refused``: the rest)."""

    secret: str = ""
    answers: list = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    verified: list[tuple[str, dict]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    verify: bool = True

    def matches(self, request: httpx.Request) -> bool:
        return request.url.host == HOOK_HOST

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.verify:
            try:
                body = Webhook(self.secret).verify(request.content, dict(request.headers))
            except WebhookVerificationError as exc:
                self.refused.append(str(exc))
            else:
                self.verified.append((request.headers["webhook-id"], body))
        answer = self.answers.pop(0) if self.answers else 200
        if callable(answer):
            answer = answer(request)
        return answer if isinstance(answer, httpx.Response) else httpx.Response(answer, text="ok")

    def events(self, event_type: str) -> list[tuple[str, dict]]:
        return [(msg_id, body) for msg_id, body in self.verified if body["type"] == event_type]


@pytest.fixture
def receiver(gateway) -> Receiver:
    found = Receiver()
    gateway.faults.insert(0, (found.matches, found.answer))
    return found


def endpoint_for(receiver: Receiver, team, owner, events=(WebhookEvent.GENERATION_COMPLETED,), url=HOOK_URL):
    endpoint, secret = actions.add_endpoint(team, owner, url, events)
    receiver.secret = secret
    return endpoint


def deliver_all(rounds: int = 1) -> None:
    """Make every pending delivery due and send it, as the every-minute schedule would."""
    for _ in range(rounds):
        WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING).update(next_attempt_at=timezone.now())
        sender.send_due()


class Clock:
    """``django.utils.timezone.now``, frozen, moved by hand."""

    def __init__(self, monkeypatch, start: datetime):
        self.now = start
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def to(self, when: datetime) -> None:
        self.now = when


# --- signing and the acceptance -------------------------------------------------------------------


def test_a_delivery_verifies_with_the_standard_webhooks_reference_library(receiver, owner, team):
    endpoint = endpoint_for(receiver, team, owner)
    assert receiver.secret.startswith("whsec_") and receiver.secret.removeprefix("whsec_") not in (
        endpoint.secret_encrypted
    )
    delivery = actions.send_test_event(endpoint, owner)
    assert sender.send_due() == 1

    (request,) = receiver.requests
    assert receiver.refused == []
    (msg_id, body) = receiver.verified[0]
    assert msg_id == delivery.msg_id and request.headers["webhook-signature"].startswith("v1,")
    assert abs(int(request.headers["webhook-timestamp"]) - datetime.now(UTC).timestamp()) < 60
    assert body["type"] == WEBHOOK_TEST_EVENT and body["data"]["team"]["id"] == str(team.uuid)
    assert request.headers["content-type"] == "application/json"

    # The check can fail: another secret, or one changed byte of the body, is refused.
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUJD" * 8).verify(request.content, dict(request.headers))
    with pytest.raises(WebhookVerificationError):
        Webhook(receiver.secret).verify(request.content.replace(b"test", b"tost"), dict(request.headers))

    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.DELIVERED and delivery.status_code == 200
    assert delivery.response_excerpt == "ok" and delivery.response_ms is not None and delivery.attempts == 1


def test_generation_completed_arrives_once_per_generation_and_again_after_a_500(receiver, owner, team, key):
    endpoint_for(receiver, team, owner)
    receiver.answers = [500]  # the receiver's first answer fails; later ones succeed
    first = make_generation(owner, team, key, prompt="A kite over a beach")
    second = make_generation(owner, team, key, prompt="A lantern in fog")
    for generation in (first, second):
        assert run_until_done(generation.task.pk).state == TaskState.COMPLETED
    run_until_done(first.task.pk)  # the worker running again emits nothing more

    assert sender.send_due() == 2  # one got the 500
    deliver_all(rounds=3)

    completed = receiver.events(WebhookEvent.GENERATION_COMPLETED)
    assert receiver.refused == [] and len(receiver.requests) == 3
    unique = {msg_id: body for msg_id, body in completed}
    assert Counter(body["data"]["generation"]["id"] for body in unique.values()) == {
        str(first.uuid): 1,
        str(second.uuid): 1,
    }
    redelivered = [msg_id for msg_id, n in Counter(msg_id for msg_id, _ in completed).items() if n == 2]
    assert len(redelivered) == 1
    data = unique[redelivered[0]]["data"]["generation"]
    assert data["state"] == TaskState.COMPLETED and data["url"].endswith(f"/generations/{data['id']}/")
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {WebhookDelivery.State.DELIVERED}
    retried = WebhookDelivery.objects.get(msg_id=redelivered[0])
    assert retried.attempts == 2 and retried.status_code == 200


def test_the_first_attempt_is_queued_after_commit_and_a_rollback_sends_nothing(
    receiver, owner, team, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(receiver, team, owner)
    with django_capture_on_commit_callbacks(execute=True):  # the test settings run django-q2 inline
        actions.send_test_event(endpoint, owner)
    assert len(receiver.verified) == 1

    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            actions.send_test_event(endpoint, owner)
            raise RuntimeError("the change rolls back")
    assert len(receiver.requests) == 1 and WebhookDelivery.objects.count() == 1


# --- the other events --------------------------------------------------------------------------------


def test_failed_needs_attention_and_reviewed_reach_the_endpoints_subscribed_to_them(
    receiver, gateway, owner, team, key
):
    endpoint_for(
        receiver,
        team,
        owner,
        events=[
            WebhookEvent.GENERATION_FAILED,
            WebhookEvent.GENERATION_NEEDS_ATTENTION,
            WebhookEvent.GENERATION_REVIEWED,
        ],
    )
    refusal = (lambda r: r.method == "POST" and r.url.host != HOOK_HOST, lambda r: httpx.Response(400, text="no"))
    gateway.faults.append(refusal)
    refused = make_generation(owner, team, key, prompt="refused by the gateway")
    assert run_until_done(refused.task.pk).state == TaskState.FAILED
    gateway.faults.remove(refusal)

    lost = (lambda r: r.method == "POST" and r.url.host != HOOK_HOST, lambda r: httpx.Response(500, text="oops"))
    gateway.faults.append(lost)
    stuck = make_generation(owner, team, key, prompt="answer lost")
    assert run_until_done(stuck.task.pk).state == TaskState.NEEDS_ATTENTION
    gateway.faults.remove(lost)
    assert actions.abandon(stuck, owner)

    done = awaiting(owner, team, key, prompt="to review")
    assert actions.decide_review(done, owner, Review.CHANGES, "Slower, please")
    assert make_generation(owner, team, key, prompt="completes, unheard").task.state == TaskState.PENDING
    deliver_all()

    seen = [(body["type"], body["data"]["generation"]["prompt"]) for _, body in receiver.verified]
    assert sorted(seen) == sorted(
        [
            (WebhookEvent.GENERATION_FAILED, "refused by the gateway"),
            (WebhookEvent.GENERATION_NEEDS_ATTENTION, "answer lost"),
            (WebhookEvent.GENERATION_FAILED, "answer lost"),
            (WebhookEvent.GENERATION_REVIEWED, "to review"),
        ]
    )
    reviewed = receiver.events(WebhookEvent.GENERATION_REVIEWED)[0][1]["data"]["generation"]
    assert reviewed["review"] == Review.CHANGES and reviewed["review_comment"] == "Slower, please"
    failed = receiver.events(WebhookEvent.GENERATION_FAILED)
    assert any(body["data"]["generation"]["error"] for _, body in failed)


def test_the_budget_threshold_is_announced_once_when_a_hold_crosses_80_percent(receiver, owner, team, key, priced):
    Team.objects.filter(pk=team.pk).update(monthly_budget_usd=Decimal("0.12"))  # 80 % is $0.096
    endpoint_for(receiver, team, owner, events=[WebhookEvent.BUDGET_THRESHOLD_REACHED])
    make_generation(owner, team, key)  # $0.05 held: under the line
    assert WebhookDelivery.objects.count() == 0
    make_generation(owner, team, key)  # $0.10: over it
    deliver_all()
    ((_, body),) = receiver.verified
    assert body["type"] == WebhookEvent.BUDGET_THRESHOLD_REACHED
    assert body["data"]["budget_usd"] == "0.12" and body["data"]["committed_usd"] == "0.10"
    assert body["data"]["threshold_percent"] == 80

    Team.objects.filter(pk=team.pk).update(monthly_budget_usd=Decimal("1.00"))
    make_generation(owner, team, key)  # still over 80 % of the old line, and sent this month: no repeat
    assert WebhookDelivery.objects.count() == 1


# --- retries, giving up, disabling ---------------------------------------------------------------------


def test_retries_back_off_from_30_s_doubling_to_an_hour_for_a_day_then_the_endpoint_is_disabled(
    receiver, monkeypatch, owner, team
):
    clock = Clock(monkeypatch, datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    receiver.verify = False  # the reference library checks timestamps against the real clock
    receiver.answers = [503] * 1000
    endpoint = endpoint_for(receiver, team, owner)
    delivery = actions.send_test_event(endpoint, owner)
    start = clock.now
    delays = []
    while True:
        assert sender.send_due() == 1
        delivery.refresh_from_db()
        if delivery.next_attempt_at is None:
            break
        delays.append((delivery.next_attempt_at - clock.now).total_seconds())
        assert sender.send_due() == 0  # not due before its time
        clock.to(delivery.next_attempt_at)

    assert delays[:8] == [30, 60, 120, 240, 480, 960, 1920, 3600]
    assert set(delays[8:]) == {3600}
    assert timedelta(hours=24) <= clock.now - start < timedelta(hours=25)
    assert delivery.state == WebhookDelivery.State.FAILED and delivery.status_code == 503
    assert delivery.attempts == len(delays) + 1 and delivery.error == "HTTP 503"

    endpoint.refresh_from_db()
    assert not endpoint.enabled and "failed for a day" in endpoint.disabled_reason
    note = Notification.objects.get(user=owner)
    assert endpoint.url in note.message and "disabled" in note.message
    assert AuditEntry.objects.filter(team=team, action="webhook.disabled").exists()
    # A disabled endpoint hears nothing more until it is enabled again.
    assert actions.send_test_event(endpoint, owner) is not None
    sender.send_due()
    assert WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING).count() == 0
    assert len(receiver.requests) == delivery.attempts


def test_a_success_starts_the_endpoints_failure_day_afresh(receiver, monkeypatch, owner, team):
    clock = Clock(monkeypatch, datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    receiver.verify = False
    endpoint = endpoint_for(receiver, team, owner)
    receiver.answers = [500]
    actions.send_test_event(endpoint, owner)
    sender.send_due()
    endpoint.refresh_from_db()
    assert endpoint.failing_since == clock.now
    clock.to(clock.now + timedelta(hours=23))
    deliver_all()  # succeeds
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None
    clock.to(clock.now + timedelta(hours=2))
    receiver.answers = [500]
    actions.send_test_event(endpoint, owner)
    sender.send_due()
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.failing_since == clock.now


def test_two_workers_never_send_the_same_attempt(receiver, owner, team):
    endpoint = endpoint_for(receiver, team, owner)
    delivery = actions.send_test_event(endpoint, owner)
    assert sender.send_delivery(delivery.pk) is True
    assert sender.send_delivery(delivery.pk) is False  # delivered: the queued duplicate does nothing
    assert sender.send_due() == 0
    assert len(receiver.requests) == 1


# --- hostile URLs and answers ---------------------------------------------------------------------------

HOSTILE_URLS = [
    "file:///etc/passwd",
    "gopher://example.com/",
    "javascript:alert(1)",
    "http://127.0.0.1:8000/hook",
    "http://10.0.0.7/hook",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://0.0.0.0/",
    "http://localhost:8000/hook",
    "http://api.localhost/hook",
    "https://user:pass@example.com/hook",
    "https://example.com/" + "a" * 600,
    "https://exa mple.com/",
    "",
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_hostile_endpoint_url_is_refused_where_it_was_typed(client_for, owner, team, url):
    client = client_for(owner)
    response = client.post(reverse("webhooks"), {"url": url, "events": [WebhookEvent.GENERATION_COMPLETED]})
    assert response.status_code == 400
    assert response.context["form"].errors["url"]
    assert WebhookEndpoint.objects.count() == 0 and not AuditEntry.objects.filter(action="webhook.added").exists()
    with pytest.raises(actions.EndpointRefused):
        actions.add_endpoint(team, owner, url, [WebhookEvent.GENERATION_COMPLETED])
    assert WebhookEndpoint.objects.count() == 0


def test_unknown_or_no_events_are_refused(client_for, owner, team):
    client = client_for(owner)
    for events in ([], ["generation.exploded"]):
        response = client.post(reverse("webhooks"), {"url": HOOK_URL, "events": events})
        assert response.status_code == 400 and response.context["form"].errors["events"]
    with pytest.raises(actions.EndpointRefused):
        actions.add_endpoint(team, owner, HOOK_URL, ["generation.exploded"])
    assert WebhookEndpoint.objects.count() == 0


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def loopback_receiver():
    """A real HTTP receiver on 127.0.0.1 (a private address), on the real network path."""
    _Hook.received = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    studio_http.use_transport(None)  # the guarded network, as in production
    yield server.server_address[1]
    server.shutdown()
    thread.join(timeout=5)


def test_a_webhook_to_a_private_address_is_refused_when_sent_unless_the_host_is_allowed(
    loopback_receiver, settings, owner, team
):
    port = loopback_receiver
    # A name may resolve to a private address later than it was typed: the guard checks at each send.
    endpoint = WebhookEndpoint(team=team, url=f"http://127.0.0.1:{port}/hook", events=[], created_by=owner)
    secret = "whsec_" + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
    endpoint.set_secret(secret.removeprefix("whsec_"))
    endpoint.save()
    delivery = actions.send_test_event(endpoint, owner)
    sender.send_due()
    delivery.refresh_from_db()
    assert _Hook.received == []
    assert delivery.state == WebhookDelivery.State.PENDING and "loopback" in delivery.error
    assert delivery.status_code is None

    settings.STUDIO_ALLOWED_PRIVATE_HOSTS = [f"127.0.0.1:{port}"]
    deliver_all()
    ((headers, body),) = _Hook.received
    assert Webhook(secret).verify(body, headers)["type"] == WEBHOOK_TEST_EVENT
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.DELIVERED and delivery.status_code == 204


def test_a_huge_answer_is_read_only_to_its_first_kilobyte_and_secrets_in_it_are_redacted(receiver, owner, team):
    endpoint = endpoint_for(receiver, team, owner)
    receiver.answers = [httpx.Response(200, content=b'{"token": "tok-live-123456"} ' + b"x" * 10_000_000)]
    delivery = actions.send_test_event(endpoint, owner)
    sender.send_due()
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.DELIVERED
    assert len(delivery.response_excerpt) <= sender.EXCERPT_BYTES + 20
    assert "tok-live-123456" not in delivery.response_excerpt and "[redacted]" in delivery.response_excerpt


def test_a_trickling_answer_is_cut_off_at_the_deadline_and_retried(receiver, settings, owner, team):
    import time

    settings.STUDIO_WEBHOOK_SECONDS = 0.2

    def trickle():
        while True:
            time.sleep(0.05)
            yield b"."

    endpoint = endpoint_for(receiver, team, owner)
    receiver.answers = [httpx.Response(200, content=trickle())]
    delivery = actions.send_test_event(endpoint, owner)
    sender.send_due()
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.PENDING and "took over" in delivery.error
    assert delivery.next_attempt_at > timezone.now()


def test_a_redirect_is_never_followed(receiver, owner, team):
    endpoint = endpoint_for(receiver, team, owner)
    receiver.answers = [httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/"})]
    delivery = actions.send_test_event(endpoint, owner)
    sender.send_due()
    delivery.refresh_from_db()
    assert len(receiver.requests) == 1 and delivery.status_code == 302
    assert delivery.state == WebhookDelivery.State.PENDING and "redirects are not followed" in delivery.error


# --- the pages: add (secret once), test event, redeliver, enable, delete; who may -----------------------


def test_an_owner_adds_an_endpoint_and_sees_its_secret_once(client_for, owner, team):
    client = client_for(owner)
    assert client.get(reverse("webhooks")).status_code == 200
    response = client.post(
        reverse("webhooks"), {"url": HOOK_URL, "events": [WebhookEvent.GENERATION_COMPLETED]}, follow=True
    )
    endpoint = WebhookEndpoint.objects.get()
    assert response.redirect_chain[-1][0] == reverse("webhook", args=[endpoint.uuid])
    page = response.content.decode()
    secret = "whsec_" + endpoint.reveal()
    assert secret in page and response["Cache-Control"] == "no-store"
    assert secret not in client.get(reverse("webhook", args=[endpoint.uuid])).content.decode()
    assert secret not in client.get(reverse("webhooks")).content.decode()
    assert endpoint.events == [WebhookEvent.GENERATION_COMPLETED] and endpoint.created_by == owner
    assert AuditEntry.objects.filter(team=team, action="webhook.added", target=HOOK_URL).exists()


def test_send_a_test_event_and_redeliver_from_the_log(receiver, client_for, owner, team):
    endpoint = endpoint_for(receiver, team, owner)
    client = client_for(owner)
    assert client.post(reverse("webhook_test", args=[endpoint.uuid])).status_code == 302
    sender.send_due()
    delivery = WebhookDelivery.objects.get()
    page = client.get(reverse("webhook", args=[endpoint.uuid])).content.decode()
    assert WEBHOOK_TEST_EVENT in page and reverse("webhook_redeliver", args=[delivery.uuid]) in page

    assert client.post(reverse("webhook_redeliver", args=[delivery.uuid])).status_code == 302
    sender.send_due()
    first, again = receiver.requests
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == delivery.msg_id
    assert first.content == again.content and len(receiver.verified) == 2
    assert WebhookDelivery.objects.filter(msg_id=delivery.msg_id, state=WebhookDelivery.State.DELIVERED).count() == 2


def test_disable_enable_and_delete(receiver, client_for, owner, team):
    endpoint = endpoint_for(receiver, team, owner)
    client = client_for(owner)
    client.post(reverse("webhook_disable", args=[endpoint.uuid]))
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert WebhookEndpoint.objects.subscribed(team, WebhookEvent.GENERATION_COMPLETED) == []
    delivery = actions.send_test_event(endpoint, owner)
    assert actions.redeliver(delivery, owner) is None
    client.post(reverse("webhook_enable", args=[endpoint.uuid]))
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.disabled_reason == ""
    client.post(reverse("webhook_delete", args=[endpoint.uuid]))
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_members_and_viewers_cannot_manage_endpoints(receiver, client_for, owner, team, role):
    endpoint = endpoint_for(receiver, team, owner)
    delivery = actions.send_test_event(endpoint, owner)
    user, _ = join(team, f"someone-{role}", role)
    client = client_for(user)
    assert client.get(reverse("webhooks")).status_code == 403
    assert client.get(reverse("webhook", args=[endpoint.uuid])).status_code == 403
    assert client.post(reverse("webhooks"), {"url": HOOK_URL, "events": ["generation.completed"]}).status_code == 403
    for name in ("webhook_test", "webhook_disable", "webhook_delete"):
        assert client.post(reverse(name, args=[endpoint.uuid])).status_code == 403
    assert client.post(reverse("webhook_redeliver", args=[delivery.uuid])).status_code == 403
    assert WebhookEndpoint.objects.filter(enabled=True).count() == 1 and WebhookDelivery.objects.count() == 1
    assert "/webhooks/" not in client.get(reverse("studio")).content.decode()


def test_another_teams_endpoint_and_delivery_are_404(receiver, client_for, owner, team, outsider):
    endpoint = endpoint_for(receiver, team, owner)
    delivery = actions.send_test_event(endpoint, owner)
    client = client_for(outsider)
    assert client.get(reverse("webhook", args=[endpoint.uuid])).status_code == 404
    for name in ("webhook_test", "webhook_enable", "webhook_disable", "webhook_delete"):
        assert client.post(reverse(name, args=[endpoint.uuid])).status_code == 404
    assert client.post(reverse("webhook_redeliver", args=[delivery.uuid])).status_code == 404
    assert HOOK_URL not in client.get(reverse("webhooks")).content.decode()
    assert WebhookEndpoint.objects.get().enabled and WebhookDelivery.objects.count() == 1


def test_the_payload_is_the_documented_shape(receiver, owner, team, key):
    endpoint_for(receiver, team, owner)
    generation = make_generation(owner, team, key, prompt="A shape test")
    run_until_done(generation.task.pk)
    deliver_all()
    ((_, body),) = receiver.verified
    assert set(body) == {"type", "timestamp", "data"} and body["timestamp"].endswith("Z")
    assert set(body["data"]) == {"generation", "team"}
    assert set(body["data"]["generation"]) == {
        "id", "url", "prompt", "model", "dialect", "duration_s", "aspect_ratio", "resolution", "author",
        "created_at", "state", "error", "cost_usd", "review", "review_comment",
    }  # fmt: skip
    assert json.loads(receiver.requests[0].content) == body


def test_an_answer_with_markup_is_shown_as_text_in_the_log(receiver, client_for, owner, team):
    endpoint = endpoint_for(receiver, team, owner)
    receiver.answers = [httpx.Response(500, text="<script>alert('hook')</script>\x00")]
    actions.send_test_event(endpoint, owner)
    sender.send_due()
    page = client_for(owner).get(reverse("webhook", args=[endpoint.uuid])).content.decode()
    assert "<script>alert(" not in page and "&lt;script&gt;alert(" in page
    assert "\x00" not in WebhookDelivery.objects.get().response_excerpt


def test_a_delivery_pending_when_its_endpoint_is_disabled_is_never_sent(receiver, owner, team):
    endpoint = endpoint_for(receiver, team, owner)
    delivery = actions.send_test_event(endpoint, owner)
    assert actions.set_endpoint_enabled(endpoint, owner, False)
    assert not actions.set_endpoint_enabled(endpoint, owner, False)  # already: nothing changes
    sender.send_due()
    delivery.refresh_from_db()
    assert receiver.requests == [] and delivery.state == WebhookDelivery.State.FAILED


def test_an_endpoint_deleted_while_its_attempt_is_in_flight_breaks_nothing(receiver, owner, team):
    endpoint = endpoint_for(receiver, team, owner)
    delivery = actions.send_test_event(endpoint, owner)

    def delete_then_fail(request):
        WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()
        return httpx.Response(500)

    receiver.answers = [delete_then_fail]
    assert sender.send_delivery(delivery.pk) is True
    assert not WebhookDelivery.objects.exists()


def test_the_new_secret_waits_in_the_session_encrypted(client_for, owner, team):
    from django.contrib.sessions.models import Session

    client = client_for(owner)
    client.post(reverse("webhooks"), {"url": HOOK_URL, "events": [WebhookEvent.GENERATION_COMPLETED]})
    secret = WebhookEndpoint.objects.get().reveal()
    stored = [s.get_decoded() for s in Session.objects.all()]
    assert stored and not any(secret in json.dumps(data) for data in stored)
    assert (
        "whsec_" + secret in client.get(reverse("webhook", args=[WebhookEndpoint.objects.get().uuid])).content.decode()
    )
