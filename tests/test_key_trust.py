"""A team's first week with its keys: a key is tested with one harmless request and the
page says in words whether it works; a gateway that answers a web page or plain text is
described, never shown raw; a key's label and base URL can be edited, its deletion
confirmed."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from django.urls import reverse

from accounts.models import Role
from tests.conftest import SANDBOX_HOST, add_key, join, make_generation, run_until_done
from videos import actions
from videos.gateways import REGISTRY, get_gateway_class
from videos.gateways.base import CHECK_TASK_ID, GatewayError, KeyVerdict
from videos.lib import http
from videos.models import AuditEntry, Event, GatewayKey, Notification, TaskState

DIALECTS = sorted(REGISTRY)
SECRET = "sk-trust-0123456789-abcd"
HTML_502 = (
    "<!DOCTYPE html>\n<html lang=\"en\"><head><title>502 Bad Gateway</title></head>"
    "<body><h1>Bad Gateway</h1><p>cloudflare</p></body></html>"
)
TEXT = "upstream connect error or disconnect/reset before headers"


def sandbox_url(dialect: str) -> str:
    return f"http://{SANDBOX_HOST}/sandbox{get_gateway_class(dialect).sandbox_path}"


def last_audit(action: str) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).latest("pk")


# --- the check: one harmless request, per dialect -------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_sandbox_key_works_and_the_check_is_one_status_query_for_an_impossible_id(
    gateway, owner, team, dialect
):
    key = add_key(owner, team, dialect=dialect, secret=SECRET)
    check = actions.check_key(key, owner)
    assert check.verdict == KeyVerdict.WORKS, check
    assert len(gateway.requests) == 1
    sent = gateway.requests[0]
    # A status query: a GET with no body, for the nil UUID no gateway ever issues.
    assert sent.method == "GET" and not sent.content
    assert sent.url.path.endswith("/" + CHECK_TASK_ID)
    assert sent.headers["Authorization"] == f"Bearer {SECRET}"
    # It is the dialect's own status path, the one a poll of a real task uses.
    recorded = []

    def not_found(request):
        recorded.append(request)
        return httpx.Response(404, json={"error": "not found"})

    adapter = key.gateway_class(key.base_url, SECRET, client=httpx.Client(transport=httpx.MockTransport(not_found)))
    with pytest.raises(GatewayError):
        adapter.poll("task-123")
    assert recorded[0].url.path == sent.url.path.replace(CHECK_TASK_ID, "task-123")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_secret_the_gateway_does_not_know_is_a_wrong_key(gateway, owner, team, dialect):
    key = add_key(owner, team, dialect=dialect, secret=SECRET)
    key.set_secret("sk-never-issued-to-the-sandbox-9999")  # not issued: the sandbox answers 401
    key.save()
    check = actions.check_key(key, owner)
    assert check.verdict == KeyVerdict.WRONG_KEY and check.status_code == 401


@pytest.mark.parametrize(
    "base_url",
    [
        f"http://{SANDBOX_HOST}/not-a-gateway",  # Django's HTML 404 page: the wrong path
        "http://no-such-gateway.test",  # nothing answers (the test network refuses it)
    ],
)
def test_a_base_url_where_no_gateway_answers_is_a_wrong_base_url(gateway, owner, team, base_url):
    key = add_key(owner, team, base_url=base_url, secret=SECRET)
    check = actions.check_key(key, owner)
    assert check.verdict == KeyVerdict.WRONG_BASE_URL
    assert "<" not in check.detail


def test_a_private_address_is_blocked_before_anything_is_sent(db, owner, team):
    http.use_transport(None)  # the real guarded client: it refuses before connecting
    key = add_key(owner, team, base_url="http://169.254.169.254", secret=SECRET)
    check = actions.check_key(key, owner)
    assert check.verdict == KeyVerdict.BLOCKED


@pytest.mark.parametrize(
    "answer, verdict",
    [
        (httpx.Response(404, json={"error": {"message": "task not found"}}), KeyVerdict.WORKS),
        (httpx.Response(400, json={"error": {"message": "invalid id"}}), KeyVerdict.WORKS),
        (httpx.Response(403, json={"error": {"message": "forbidden"}}), KeyVerdict.WRONG_KEY),
        (httpx.Response(404, text=HTML_502.replace("502 Bad Gateway", "Not Found")), KeyVerdict.WRONG_BASE_URL),
        (httpx.Response(200, text=HTML_502, headers={"content-type": "text/html"}), KeyVerdict.WRONG_BASE_URL),
        (httpx.Response(301, headers={"location": "https://www.example.com/"}), KeyVerdict.WRONG_BASE_URL),
        (httpx.Response(429, json={"error": {"message": "slow down"}}), KeyVerdict.UNSURE),
        (httpx.Response(502, text=HTML_502), KeyVerdict.UNSURE),
        (httpx.Response(503, json={"error": {"message": "maintenance"}}), KeyVerdict.UNSURE),
    ],
)
def test_each_answer_to_the_check_reads_as_its_verdict(gateway, owner, team, answer, verdict):
    key = add_key(owner, team, secret=SECRET)
    gateway.faults.append((lambda request: True, lambda request: answer))
    assert actions.check_key(key, owner).verdict == verdict


def test_the_check_is_audited_without_the_secret_even_when_the_gateway_echoes_it(gateway, owner, team, caplog):
    caplog.set_level(logging.DEBUG)
    key = add_key(owner, team, secret=SECRET)
    echo = {"error": {"message": f"Incorrect API key provided: {SECRET}"}}
    gateway.faults.append((lambda request: True, lambda request: httpx.Response(401, json=echo)))
    check = actions.check_key(key, owner)
    entry = last_audit("key.checked")
    assert check.verdict == KeyVerdict.WRONG_KEY
    assert entry.data["key"] == str(key.uuid) and entry.data["verdict"] == "wrong_key"
    stored = json.dumps(entry.data) + entry.target + check.detail + caplog.text
    assert SECRET not in stored and SECRET[:12] not in stored
    assert "Incorrect API key provided" in entry.data["detail"]
