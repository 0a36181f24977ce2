"""The audit trail pages with keyset cursors: filters kept, a tampered cursor means the first page."""

from __future__ import annotations

import re
from html import unescape

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from videos.audit import record_action
from videos.web import activity


def _fill(team, actor, n, action="key.added", label="Key"):
    for i in range(n):
        record_action(team, actor, action, f"{label} {i:03d}")


def _link(html, rel):
    found = re.search(rf'<a rel="{rel}" href="([^"]+)"', html)
    return reverse("audit_log") + unescape(found.group(1)) if found else None


def test_older_and_newer_walk_the_whole_trail_keeping_the_filter(client_for, owner, team):
    _fill(team, owner, activity.AUDIT_PAGE + 5)
    _fill(team, owner, 3, action="team.renamed", label="Renamed")
    client = client_for(owner)

    first = client.get(reverse("audit_log"), {"action": "key.added"}).content.decode()
    assert "Key 054" in first and "Key 005" in first and "Key 004" not in first and "Renamed" not in first
    assert _link(first, "prev") is None
    older = _link(first, "next")
    assert "action=key.added" in older and "cursor=" in older

    second = client.get(older).content.decode()
    assert "Key 004" in second and "Key 000" in second and "Key 005" not in second and "Renamed" not in second
    assert _link(second, "next") is None
    back = client.get(_link(second, "prev")).content.decode()
    assert "Key 054" in back and "Key 005" in back and "Key 004" not in back


def test_a_tampered_cursor_means_the_first_page(client_for, owner, team):
    _fill(team, owner, activity.AUDIT_PAGE + 5)
    client = client_for(owner)
    older = _link(client.get(reverse("audit_log")).content.decode(), "next")
    cursor = older.split("cursor=")[1]
    forged = cursor[:-3] + ("aaa" if not cursor.endswith("aaa") else "bbb")

    for cursor in (forged, "garbage", "x" * 2000, "%00"):
        response = client.get(reverse("audit_log"), {"cursor": cursor})
        html = response.content.decode()
        assert response.status_code == 200
        assert "Key 054" in html and "Key 004" not in html


def test_the_export_takes_every_filtered_entry_whatever_the_page(client_for, owner, team):
    _fill(team, owner, activity.AUDIT_PAGE + 5)
    _fill(team, owner, 2, action="team.renamed", label="Renamed")
    client = client_for(owner)
    html = client.get(_link(client.get(reverse("audit_log"), {"action": "key.added"}).content.decode(), "next"))
    export = re.search(r'class="button" href="([^"]+)"', html.content.decode()).group(1)
    assert "cursor" not in export and "action=key.added" in unescape(export)

    csv = b"".join(client.get(unescape(export)).streaming_content).decode()
    assert csv.count(",key.added,") == activity.AUDIT_PAGE + 5 and "Renamed" not in csv


def test_a_deep_page_costs_the_queries_the_first_one_does(client_for, owner, team):
    _fill(team, owner, activity.AUDIT_PAGE * 3)
    client = client_for(owner)
    with CaptureQueriesContext(connection) as at_first:
        first = client.get(reverse("audit_log")).content.decode()
    third = _link(client.get(_link(first, "next")).content.decode(), "next")
    with CaptureQueriesContext(connection) as at_third:
        html = client.get(third).content.decode()
    assert "Key 000" in html and "Key 050" not in html
    assert len(at_third) == len(at_first)
    assert not any("OFFSET" in q["sql"].upper() for q in at_third.captured_queries)


# --- the API list's cursor, the same keyset helper with the API's own salt ---------------------


def test_the_api_list_pages_oldest_first_and_refuses_a_cursor_of_another_list(owner, team, key, client_for):
    from tests.conftest import make_generation
    from tests.test_api import Api, make_token

    api = Api(make_token(owner, team))
    for n in range(3):
        make_generation(owner, team, key, prompt=f"boat {n}")
    first = api.get("/generations", sort="oldest", limit=2).json()
    second = api.get("/generations", sort="oldest", limit=2, cursor=first["next"]).json()
    assert [g["prompt"] for g in first["items"] + second["items"]] == ["boat 0", "boat 1", "boat 2"]
    assert second["next"] is None

    _fill(team, owner, activity.AUDIT_PAGE + 1)
    audit_cursor = _link(client_for(owner).get(reverse("audit_log")).content.decode(), "next").split("cursor=")[1]
    response = api.get("/generations", cursor=unescape(audit_cursor).replace("%3A", ":"))
    assert response.status_code == 400 and response["Content-Type"].startswith("application/problem+json")
