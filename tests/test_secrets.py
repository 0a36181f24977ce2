"""A stored key never shows up in a response, a log line or the event log."""

from __future__ import annotations

import json
import logging

from django.urls import reverse

from tests.conftest import add_key, make_generation, run_until_done
from videos.models import AuditEntry, Event, Task

SECRET = "sk-live-DO-NOT-LEAK-8f3a9c2e71"


def test_no_response_log_line_or_event_row_contains_a_stored_key(gateway, client_for, owner, team, caplog):
    caplog.set_level(logging.DEBUG)
    client = client_for(owner)
    client.post(
        reverse("keys"),
        {
            "dialect": "openai-preview",
            "label": "Live",
            "base_url": "http://sandbox.test/sandbox/openai",
            "secret": SECRET,
        },
    )
    key = owner.gateway_keys.get()
    failing = add_key(owner, team, secret=SECRET + "-2", label="Second")
    done = make_generation(owner, team, key, prompt="a clean run")
    failed = make_generation(owner, team, failing, prompt="[fail] a failing run")
    for generation in (done, failed):
        run_until_done(generation.task.pk)
    assert len(gateway.requests) >= 4  # the key did go out, in the Authorization header
    assert all(
        r.headers["Authorization"].startswith("Bearer sk-live-DO-NOT-LEAK")
        for r in gateway.requests
        if r.url.host == "sandbox.test"
    )

    pages = [reverse(name) for name in ("studio", "history", "keys", "spend", "audit_log", "notifications", "teams")]
    pages += [reverse(name, args=[g.uuid]) for g in (done, failed) for name in ("generation", "card")]
    for url in pages:
        body = client.get(url).content.decode()
        assert "DO-NOT-LEAK" not in body, url
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "DO-NOT-LEAK" not in logged
    stored = json.dumps(
        list(Event.objects.values_list("message", "data"))
        + list(AuditEntry.objects.values_list("target", "data"))
        + list(Task.objects.values_list("last_raw", "last_error")),
        default=str,
    )
    assert "DO-NOT-LEAK" not in stored


def test_a_bearer_token_in_a_log_message_is_redacted(caplog):
    from videos.lib.vault import RedactSecretsFilter

    logger = logging.getLogger("videos.test")
    handler = logging.Handler()
    records = []
    handler.emit = records.append
    handler.addFilter(RedactSecretsFilter())
    logger.addHandler(handler)
    try:
        logger.warning("upstream said: Authorization: Bearer %s", SECRET)
        logger.warning('{"api_key": "%s"}', SECRET)
    finally:
        logger.removeHandler(handler)
    assert records and all("DO-NOT-LEAK" not in r.getMessage() for r in records)
