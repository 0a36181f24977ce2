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
from tests.test_echoed_keys import choices_for
from videos import actions
from videos.gateways import REGISTRY, get_gateway_class
from videos.gateways.base import CHECK_TASK_ID, GatewayError, KeyVerdict
from videos.lib import http
from videos.models import AuditEntry, Event, GatewayKey, Notification, TaskState

DIALECTS = sorted(REGISTRY)
SECRET = "sk-trust-0123456789-abcd"
HTML_502 = (
    '<!DOCTYPE html>\n<html lang="en"><head><title>502 Bad Gateway</title></head>'
    "<body><h1>Bad Gateway</h1><p>cloudflare</p></body></html>"
)
TEXT = "upstream connect error or disconnect/reset before headers"


def sandbox_url(dialect: str) -> str:
    return f"http://{SANDBOX_HOST}/sandbox{get_gateway_class(dialect).sandbox_path}"


def last_audit(action: str) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).latest("pk")


# --- the check: one harmless request, per dialect -------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_sandbox_key_works_and_the_check_is_one_status_query_for_an_impossible_id(gateway, owner, team, dialect):
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


# --- gateway errors in words: a web page or plain text is described, never shown -------------


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    "answer, words, permanent",
    [
        (httpx.Response(502, text=HTML_502), "answered a web page, not JSON (HTTP 502)", False),
        (httpx.Response(200, text=HTML_502, headers={"content-type": "text/html"}), "a web page, not JSON", False),
        (httpx.Response(404, text=TEXT), "answered plain text, not JSON (HTTP 404): is the base URL right?", True),
        (httpx.Response(500, text=""), "answered an empty answer, not JSON (HTTP 500)", False),
    ],
)
def test_an_answer_that_is_not_json_is_described_at_submit_and_at_poll(dialect, answer, words, permanent):
    cls = get_gateway_class(dialect)
    adapter = cls(cls.default_base_url, SECRET, client=httpx.Client(transport=httpx.MockTransport(lambda r: answer)))
    choices = choices_for(dialect)  # a request the dialect takes, reference image included
    for call in (lambda: adapter.poll("task-1"), lambda: adapter.submit(choices)):
        with pytest.raises(GatewayError) as info:
            call()
        error = info.value
        assert words in error.message and cls.label in error.message
        assert "<" not in error.message and TEXT not in error.message
        assert error.kind == "not_json" and error.permanent is permanent
        assert error.raw == answer.text  # the body itself stays, for the timeline


def test_an_html_502_at_submit_reads_in_words_on_the_card_and_keeps_the_page_in_the_timeline(
    gateway, client_for, owner, team, key
):
    gateway.faults.append((lambda r: r.method == "POST", lambda r: httpx.Response(502, text=HTML_502)))
    generation = make_generation(owner, team, key)
    task = run_until_done(generation.task.pk, rounds=2)
    assert task.state == TaskState.NEEDS_ATTENTION
    assert "answered a web page, not JSON (HTTP 502)" in task.last_error and "<" not in task.last_error
    card = client_for(owner).get(reverse("card", args=[generation.uuid])).content.decode()
    assert "a web page, not JSON" in card and "DOCTYPE" not in card and "Bad Gateway</h1>" not in card
    event = Event.objects.filter(generation=generation, kind="needs_attention").get()
    assert "<!DOCTYPE html>" in json.dumps(event.data) and "<" not in event.message


def test_plain_text_refusing_a_submit_fails_it_in_words_and_the_notification_says_so(gateway, owner, team, key):
    gateway.faults.append((lambda r: r.method == "POST", lambda r: httpx.Response(400, text=TEXT)))
    generation = make_generation(owner, team, key)
    task = run_until_done(generation.task.pk, rounds=2)
    assert task.state == TaskState.FAILED
    note = Notification.objects.get(user=owner)
    assert "answered plain text, not JSON (HTTP 400): is the base URL right?" in note.message
    assert TEXT not in note.message and TEXT not in task.last_error
    event = Event.objects.filter(generation=generation, kind="failed").get()
    assert TEXT in json.dumps(event.data)


def test_an_html_502_while_polling_is_retried_in_words_with_the_page_in_the_timeline(
    gateway, client_for, owner, team, key
):
    generation = make_generation(owner, team, key)
    run_until_done(generation.task.pk, rounds=0)  # submitted for real; now the status queries fail
    gateway.faults.append((lambda r: r.method == "GET", lambda r: httpx.Response(502, text=HTML_502)))
    task = run_until_done(generation.task.pk, rounds=1)
    assert task.is_active and "answered a web page, not JSON (HTTP 502)" in task.last_error
    card = client_for(owner).get(reverse("card", args=[generation.uuid])).content.decode()
    assert "a web page, not JSON" in card and "DOCTYPE" not in card
    retry = Event.objects.filter(generation=generation, kind="retry").latest("pk")
    assert "<!DOCTYPE html>" in json.dumps(retry.data) and "<" not in retry.message


def test_plain_text_404_while_polling_fails_the_task_in_words(gateway, owner, team, key):
    generation = make_generation(owner, team, key)
    run_until_done(generation.task.pk, rounds=0)
    gateway.faults.append((lambda r: r.method == "GET", lambda r: httpx.Response(404, text=TEXT)))
    task = run_until_done(generation.task.pk, rounds=2)
    assert task.state == TaskState.FAILED
    note = Notification.objects.get(user=owner)
    assert "answered plain text, not JSON (HTTP 404)" in note.message and TEXT not in note.message
    assert TEXT in json.dumps(Event.objects.filter(generation=generation, kind="failed").get().data)


# --- the keys page: test, edit, delete with a confirmation, viewers ------------------------------

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_the_test_button_swaps_the_row_with_the_verdict_and_when_it_ran(gateway, client_for, owner, team, key):
    client = client_for(owner)
    row = client.post(reverse("key_check", args=[key.uuid]), **HTMX).content.decode()
    assert row.lstrip().startswith(f'<article class="key-card" id="key-{key.uuid}"')
    assert "Works: the gateway accepted the key." in row and "<time datetime=" in row
    page = client.get(reverse("keys")).content.decode()
    assert "Works: the gateway accepted the key." in page  # the last check stays on the page


def test_a_wrong_key_is_said_in_words_in_the_row(gateway, client_for, owner, team):
    key = add_key(owner, team, secret=SECRET)
    key.set_secret("sk-never-issued-to-the-sandbox-9999")
    key.save()
    row = client_for(owner).post(reverse("key_check", args=[key.uuid]), **HTMX).content.decode()
    assert "Wrong key: the gateway refused it (HTTP 401)" in row
    assert "sk-never-issued" not in row


def test_without_javascript_the_test_button_comes_back_to_the_page_with_the_verdict(gateway, client_for, owner, key):
    page = client_for(owner).post(reverse("key_check", args=[key.uuid]), follow=True).content.decode()
    assert "Works: the gateway accepted the key." in page


def test_a_saved_key_is_tested_as_the_page_loads(gateway, client_for, owner, team):
    client = client_for(owner)
    data = {"dialect": "openai-preview", "label": "Mine", "base_url": sandbox_url("openai-preview"), "secret": SECRET}
    page = client.post(reverse("keys"), data, follow=True).content.decode()
    key = GatewayKey.objects.get(label="Mine")
    assert "Testing it now" in page
    assert f'hx-post="{reverse("key_check", args=[key.uuid])}" hx-trigger="load"' in page
    # only once: the next visit shows the verdict or "Not tested yet", not another test
    assert 'hx-trigger="load"' not in client.get(reverse("keys")).content.decode()


def test_editing_a_key_changes_its_label_and_base_url_and_keeps_its_secret(gateway, client_for, owner, team, key):
    secret = key.reveal()
    new_url = "https://gw.example.com/api"
    row = (
        client_for(owner)
        .post(reverse("key_edit", args=[key.uuid]), {"label": "Renamed", "base_url": new_url + "/"}, **HTMX)
        .content.decode()
    )
    key.refresh_from_db()
    assert (key.label, key.base_url, key.reveal()) == ("Renamed", new_url, secret)
    assert "Renamed" in row and new_url in row
    entry = last_audit("key.changed")
    assert entry.data == {"label": "Renamed", "base_url": new_url} and secret not in json.dumps(entry.data)


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"label": "", "base_url": "https://gw.example.com"}, "label", "This field is required."),
        ({"label": "x" * 81, "base_url": "https://gw.example.com"}, "label", "at most 80 characters"),
        ({"label": "Ok", "base_url": "ftp://gw.example.com"}, "base_url", ""),
        ({"label": "Ok", "base_url": "not a url"}, "base_url", "Enter a valid URL."),
        ({"label": "a\x00b", "base_url": "https://gw.example.com"}, "label", "Null characters are not allowed."),
    ],
)
def test_a_refused_edit_says_why_in_the_row_and_changes_nothing(client_for, owner, team, key, data, field, message):
    before = (key.label, key.base_url)
    response = client_for(owner).post(reverse("key_edit", args=[key.uuid]), data, **HTMX)
    row = response.content.decode()
    key.refresh_from_db()
    assert response.status_code == 200 and (key.label, key.base_url) == before
    assert "<details open>" in row and 'class="errorlist' in row and message in row
    assert not AuditEntry.objects.filter(action="key.changed").exists()


def test_pointing_a_key_at_the_sandbox_issues_it_there_so_it_works(gateway, client_for, owner, team):
    key = add_key(owner, team, base_url="https://gw.example.com", secret="sk-moved-to-the-sandbox-77")
    client = client_for(owner)
    client.post(reverse("key_edit", args=[key.uuid]), {"label": key.label, "base_url": sandbox_url(key.dialect)})
    row = client.post(reverse("key_check", args=[key.uuid]), **HTMX).content.decode()
    assert "Works" in row


def test_delete_asks_to_confirm_in_the_page_and_names_the_key(client_for, owner, team, key):
    page = client_for(owner).get(reverse("keys")).content.decode()
    assert "<summary>Delete</summary>" in page
    assert f"Delete “{key.label}”? You cannot generate with it afterwards" in page
    assert "Yes, delete this key" in page


def test_viewers_do_not_see_add_a_key_and_cannot_post_one(client_for, team):
    viewer, _ = join(team, "vera", Role.VIEWER)
    client = client_for(viewer)
    page = client.get(reverse("keys")).content.decode()
    assert "Add a key" not in page and 'name="secret"' not in page
    data = {"dialect": "openai-preview", "label": "Sneaky", "base_url": "https://duoyuanx.com", "secret": SECRET}
    assert client.post(reverse("keys"), data).status_code == 403
    assert not GatewayKey.objects.filter(label="Sneaky").exists()


def test_the_documented_base_urls_link_the_gateways_public_pages(client_for, owner):
    page = client_for(owner).get(reverse("keys")).content.decode()
    assert "docs/gateways.md" not in page and "§" not in page
    for cls in REGISTRY.values():
        assert f'href="{cls.doc_url}"' in page and cls.doc_url.startswith("https://")


def test_a_teammates_key_cannot_be_tested_or_edited_by_another_member(gateway, client_for, team, teammate, key):
    client = client_for(teammate)
    assert client.post(reverse("key_check", args=[key.uuid]), **HTMX).status_code == 404
    assert (
        client.post(reverse("key_edit", args=[key.uuid]), {"label": "x", "base_url": "https://a.example"}).status_code
        == 404
    )
    assert not gateway.requests and not AuditEntry.objects.filter(action="key.checked").exists()


def test_a_replaced_secret_is_tested_as_the_page_loads_and_the_row_names_the_gateway(gateway, client_for, owner, key):
    client = client_for(owner)
    page = client.post(reverse("key_replace", args=[key.uuid]), {"secret": "sk-a-brand-new-one-5555"}, follow=True)
    html = page.content.decode()
    assert f'hx-post="{reverse("key_check", args=[key.uuid])}" hx-trigger="load"' in html
    assert key.gateway_class.label in html
    row = client.post(reverse("key_check", args=[key.uuid]), **HTMX).content.decode()
    assert "Works" in row  # a sandbox key's new secret is issued to the sandbox (tests/test_key_followup.py)


def test_a_hostile_label_and_a_private_base_url_are_kept_harmless(client_for, owner, team, key, db):
    client = client_for(owner)
    hostile = '<img src=x onerror="alert(1)">'
    row = client.post(
        reverse("key_edit", args=[key.uuid]), {"label": hostile, "base_url": "http://169.254.169.254"}, **HTMX
    ).content.decode()
    assert hostile not in row and "&lt;img src=x" in row
    http.use_transport(None)  # the real guarded client: the metadata address is refused before connecting
    row = client.post(reverse("key_check", args=[key.uuid]), **HTMX).content.decode()
    assert "Blocked address" in row
