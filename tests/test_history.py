"""History: the team's generations as tiles, filters in the URL, htmx partials, paging at
scale, and the bulk actions (ZIP download, favorites, send to review, delete)."""

from __future__ import annotations

import dataclasses
import io
import re
import uuid
import zipfile
from datetime import datetime, timedelta
from urllib.parse import unquote

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role
from tests.conftest import add_key, make_generation, make_user, run_until_done
from videos.lib import paging, zipstream
from videos.models import Asset, AuditEntry, Generation, Review, Task, TaskState
from videos.web import history

HTMX = {"HTTP_HX_REQUEST": "true"}


def next_cursor(html: str, rel: str = "next") -> str:
    """The cursor of a page's "Older →" (``rel="next"``) or "← Newer" (``prev``) link."""
    found = re.search(rf'rel="{rel}" href="[^"]*cursor=([^"&]+)', html)
    assert found, f"no {rel} link"
    return unquote(found.group(1))


def listed(response) -> list[str]:
    """The prompts of the tiles on a History page, in order."""
    html = response.content.decode()
    return re.findall(r'<p class="prompt"><a href="[^"]+">([^<]*)</a></p>', html)


def quick(author, team, prompt, *, dialect="openai-preview", state=TaskState.PENDING, review=Review.NONE, when=None):
    """A generation and its task saved directly (no pipeline, no gateway): fast fixtures."""
    generation = Generation.objects.create(
        team=team,
        author=author,
        dialect=dialect,
        model_name="grok-imagine-video",
        key_label=f"{dialect} key",
        prompt=prompt,
        review=review,
        created_at=when or timezone.now(),
    )
    Task.objects.create(generation=generation, state=state)
    return generation


@pytest.fixture
def viewer(team):
    user = make_user("vera")
    Membership.objects.create(team=team, user=user, role=Role.VIEWER)
    return user


# --- listing and filters ---------------------------------------------------------------------


def test_it_shows_completed_videos_with_poster_and_player(client_for, owner, team, key, gateway):
    generation = make_generation(owner, team, key, prompt="A paper boat on a rainy street")
    run_until_done(generation.task.pk)
    html = client_for(owner).get(reverse("history")).content.decode()
    assert '<video class="poster" controls preload="none"' in html
    assert reverse("poster_file", args=[generation.uuid]) in html
    assert reverse("video_file", args=[generation.uuid]) in html
    assert f'name="ids" value="{generation.uuid}"' in html
    assert "alice" in html and "Completed" in html and "openai-preview" in html
    assert "style=" not in html and "onclick" not in html  # nothing the CSP would block


def test_it_filters_by_gateway(client_for, owner, team):
    quick(owner, team, "through openai", dialect="openai-preview")
    quick(owner, team, "through xai", dialect="xai")
    assert listed(client_for(owner).get(reverse("history"), {"gateway": "xai"})) == ["through xai"]


def test_it_filters_by_member(client_for, owner, team, teammate):
    quick(owner, team, "made by alice")
    quick(teammate, team, "made by bob")
    client = client_for(owner)
    assert listed(client.get(reverse("history"), {"member": "bob"})) == ["made by bob"]
    assert listed(client.get(reverse("history"), {"member": "alice"})) == ["made by alice"]


def test_it_filters_by_date_range_with_both_days_included(client_for, owner, team):
    tz = timezone.get_current_timezone()
    for day in (1, 2, 3, 4):
        quick(owner, team, f"on day {day}", when=datetime(2026, 11, day, 23, 30, tzinfo=tz))
    client = client_for(owner)
    response = client.get(reverse("history"), {"since": "2026-11-02", "until": "2026-11-03"})
    assert listed(response) == ["on day 3", "on day 2"]
    assert listed(client.get(reverse("history"), {"since": "2026-11-04"})) == ["on day 4"]
    assert listed(client.get(reverse("history"), {"until": "2026-11-01"})) == ["on day 1"]


def test_it_filters_by_task_state(client_for, owner, team):
    quick(owner, team, "done", state=TaskState.COMPLETED)
    quick(owner, team, "broken", state=TaskState.FAILED)
    quick(owner, team, "in flight", state=TaskState.PROCESSING)
    client = client_for(owner)
    assert listed(client.get(reverse("history"), {"state": "failed"})) == ["broken"]
    assert listed(client.get(reverse("history"), {"state": "running"})) == ["in flight"]


def test_it_filters_by_review_state(client_for, owner, team):
    quick(owner, team, "waiting for a look", state=TaskState.COMPLETED, review=Review.AWAITING)
    quick(owner, team, "signed off", state=TaskState.COMPLETED, review=Review.ACCEPTED)
    quick(owner, team, "never sent", state=TaskState.COMPLETED)
    client = client_for(owner)
    assert listed(client.get(reverse("history"), {"review": "accepted"})) == ["signed off"]
    assert listed(client.get(reverse("history"), {"review": "awaiting"})) == ["waiting for a look"]


def test_it_filters_to_my_favorites_only(client_for, owner, team, teammate):
    mine = quick(owner, team, "alice loves this")
    theirs = quick(owner, team, "bob loves this")
    quick(owner, team, "nobody cares")
    mine.favorited_by.add(owner)
    theirs.favorited_by.add(teammate)
    response = client_for(owner).get(reverse("history"), {"favorites": "on"})
    assert listed(response) == ["alice loves this"]
    assert 'class="fav"' in response.content.decode()


def test_it_searches_prompts_ignoring_case(client_for, owner, team):
    quick(owner, team, "A Lighthouse in a storm")
    quick(owner, team, "A paper boat")
    assert listed(client_for(owner).get(reverse("history"), {"q": "lighthouse"})) == ["A Lighthouse in a storm"]


def test_it_sorts_newest_or_oldest_first(client_for, owner, team):
    now = timezone.now()
    for i in range(3):
        quick(owner, team, f"number {i}", when=now - timedelta(hours=3 - i))
    client = client_for(owner)
    assert listed(client.get(reverse("history"))) == ["number 2", "number 1", "number 0"]
    assert listed(client.get(reverse("history"), {"sort": "oldest"})) == ["number 0", "number 1", "number 2"]


def test_it_combines_filters(client_for, owner, team, teammate):
    quick(owner, team, "storm at sea", dialect="xai", state=TaskState.COMPLETED)
    quick(owner, team, "storm in a teacup", dialect="openai-preview", state=TaskState.COMPLETED)
    quick(teammate, team, "storm clouds", dialect="xai", state=TaskState.COMPLETED)
    quick(owner, team, "storm, failed", dialect="xai", state=TaskState.FAILED)
    query = {"q": "storm", "gateway": "xai", "member": "alice", "state": "completed"}
    assert listed(client_for(owner).get(reverse("history"), query)) == ["storm at sea"]


def test_it_pages_by_cursor(client_for, owner, team):
    now = timezone.now()
    Generation.objects.bulk_create(
        Generation(
            team=team,
            author=owner,
            dialect="xai",
            key_label="k",
            prompt=f"clip {i:02}",
            created_at=now - timedelta(minutes=i),
        )
        for i in range(history.PAGE_SIZE + 5)
    )
    Task.objects.bulk_create(Task(generation=g) for g in Generation.objects.all())
    client = client_for(owner)
    first = client.get(reverse("history"), {"gateway": "xai"})
    assert listed(first)[0] == "clip 00" and len(listed(first)) == history.PAGE_SIZE
    html = first.content.decode()
    assert "?gateway=xai&amp;cursor=" in html and "Newer" not in html  # the next link keeps the filters
    second = client.get(reverse("history"), {"gateway": "xai", "cursor": next_cursor(html)})
    assert listed(second) == [f"clip {i:02}" for i in range(history.PAGE_SIZE, history.PAGE_SIZE + 5)]
    assert "← Newer" in second.content.decode() and "Older →" not in second.content.decode()
    assert client.get(reverse("history"), {"page": "99"}).status_code == 200  # old page links: the first page
    assert client.get(reverse("history"), {"cursor": "nope"}).status_code == 200


def test_it_answers_htmx_with_the_grid_only_and_the_browser_with_the_page(client_for, owner, team):
    quick(owner, team, "a clip")
    client = client_for(owner)
    partial = client.get(reverse("history"), {"q": "clip"}, **HTMX)
    html = partial.content.decode()
    assert html.lstrip().startswith('<div id="results"') and "<html" not in html and 'id="filters"' not in html
    assert listed(partial) == ["a clip"]
    assert "HX-Request" in partial["Vary"]
    page = client.get(reverse("history"), {"q": "clip"}).content.decode()
    assert "<html" in page and 'id="filters"' in page and 'id="results"' in page
    restore = client.get(reverse("history"), {"q": "clip"}, HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)
    assert "<html" in restore.content.decode()  # the back button after a cache miss needs the whole page


def test_it_keeps_the_filters_in_the_url_and_the_form(client_for, owner, team, teammate):
    quick(owner, team, "storm at sea", dialect="xai")
    html = (
        client_for(owner)
        .get(reverse("history"), {"q": "storm", "gateway": "xai", "member": "bob", "sort": "oldest"})
        .content.decode()
    )
    form = html[html.index('<form id="filters"') : html.index("</form>", html.index('<form id="filters"'))]
    assert 'method="get"' in form and f'action="{reverse("history")}"' in form
    assert 'hx-get="/history/"' in form and 'hx-push-url="true"' in form and 'hx-target="#results"' in form
    assert "keyup changed delay:" in form and "change" in form
    assert 'value="storm"' in form
    assert '<option value="xai" selected>' in form and '<option value="bob" selected>' in form
    assert '<option value="oldest" selected>' in form
    assert "Nothing matches these filters" in html  # bob made nothing


def test_it_works_without_javascript(client_for, owner, team):
    """A plain GET of the form (what a browser without JavaScript sends) filters the full page."""
    quick(owner, team, "A lighthouse", dialect="xai")
    quick(owner, team, "A boat", dialect="openai-preview")
    query = {
        "q": "",
        "gateway": "xai",
        "member": "",
        "since": "",
        "until": "",
        "state": "",
        "review": "",
        "sort": "newest",
    }
    response = client_for(owner).get(reverse("history"), query)
    assert response.status_code == 200 and "<html" in response.content.decode()
    assert listed(response) == ["A lighthouse"]


def test_it_ignores_invalid_filters_and_says_so(client_for, owner, team):
    quick(owner, team, "A lighthouse", dialect="xai")
    quick(owner, team, "A boat", dialect="openai-preview")
    client = client_for(owner)
    query = {"since": "2026-13-45", "state": "exploded", "review": "meh", "member": "nobody", "gateway": "xai"}
    response = client.get(reverse("history"), query)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ignored “From”" in html and "Ignored “State”" in html and "Ignored “Member”" in html
    assert listed(response) == ["A lighthouse"]  # the valid filter still applies
    backwards = client.get(reverse("history"), {"since": "2026-11-05", "until": "2026-11-01"})
    assert backwards.status_code == 200 and "is before" in backwards.content.decode()
    assert client.get(reverse("history"), {"q": "x" * 5000}, **HTMX).status_code == 200


def test_it_rejects_post_on_the_history_and_get_on_bulk(client_for, owner):
    client = client_for(owner)
    assert client.post(reverse("history")).status_code == 405
    assert client.get(reverse("bulk")).status_code == 405


def test_it_needs_a_login(client):
    for name in ("history", "bulk"):
        response = client.post(reverse(name)) if name == "bulk" else client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_an_outsider_sees_nothing_of_the_team_and_cannot_touch_it(client_for, owner, team, outsider):
    secret = quick(owner, team, "the team's secret clip", state=TaskState.COMPLETED)
    client = client_for(outsider)
    for query in ({}, {"q": "secret"}, {"member": "alice"}):
        response = client.get(reverse("history"), query)
        assert "secret clip" not in response.content.decode() and listed(response) == []
    for action in ("favorite", "review", "delete", "zip"):
        response = client.post(reverse("bulk"), {"action": action, "ids": [str(secret.uuid)], "confirm": "1"})
        assert response.status_code == 302
    secret.refresh_from_db()
    assert secret.review == Review.NONE and not secret.favorited_by.exists()
    assert not AuditEntry.objects.filter(
        team=team, action__in=["generation.deleted", "generations.downloaded"]
    ).exists()


# --- query counts --------------------------------------------------------------------------


def insert_rows(model, rows: list[dict]) -> None:
    """INSERT ``rows`` (field name → value; other fields take their defaults) with one
    ``executemany``. bulk_create spends ~0.13 ms of Python per row compiling SQL (13 s
    for 100,000 generations here); this takes about a second."""
    given = list(rows[0])
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) VALUES ({marks})"
    now = timezone.now()
    fixed = {}  # prepared once: the defaults that are the same for every row
    for f in fields:
        if f.name not in given and not (f.has_default() and callable(f.default)):
            value = now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
            fixed[f.name] = f.get_db_prep_save(value, connection)

    def prepared(row):
        return [
            fixed[f.name] if f.name in fixed else f.get_db_prep_save(row.get(f.name, f.get_default()), connection)
            for f in fields
        ]

    with connection.cursor() as cursor:
        cursor.executemany(sql, [prepared(row) for row in rows])


def fill(team, users, n: int, *, start: int = 0) -> None:
    """Insert generations ``start``…``start + n - 1`` with their tasks into ``team``.

    Every 3rd is completed with an asset, every 5th is of a lighthouse, every 7th a
    favorite of ``users[0]``, every 11th approved; gateways (4) and authors take
    turns; one a minute going back in time from now.
    """
    now = timezone.now()
    dialects = ("openai-preview", "xai", "reapi", "aijisu")
    insert_rows(
        Generation,
        [
            {
                "team": team.pk,
                "author": users[i % len(users)].pk,
                "dialect": dialects[i % 4],
                "model_name": "grok-imagine-video",
                "key_label": "Sandbox",
                "prompt": f"Clip {i}: a {'lighthouse' if i % 5 == 0 else 'boat'} at dusk",
                "review": Review.ACCEPTED if i % 11 == 0 else Review.NONE,
                "created_at": now - timedelta(minutes=i),
            }
            for i in range(start, start + n)
        ],
    )
    pks = list(Generation.objects.filter(team=team).order_by("-pk").values_list("pk", flat=True)[:n])[::-1]
    numbered = list(enumerate(pks, start))
    insert_rows(
        Task,
        [{"generation": pk, "state": TaskState.COMPLETED if i % 3 == 0 else TaskState.FAILED} for i, pk in numbered],
    )
    insert_rows(
        Asset,
        [
            {
                "generation": pk,
                "file": f"videos/x/{pk}.mp4",
                "poster": f"posters/x/{pk}.jpg",
                "duration_s": 1.0,
                "width": 848,
                "height": 480,
                "bytes": 1000,
                "sha256": "0" * 64,
            }
            for i, pk in numbered
            if i % 3 == 0
        ],
    )
    favorite = Generation.favorited_by.through
    insert_rows(favorite, [{"generation": pk, "user": users[0].pk} for i, pk in numbered if i % 7 == 0])
    if connection.vendor == "postgresql":
        # Planner statistics, as autovacuum keeps them on a live database (rows written
        # inside the test's transaction are invisible to it).
        with connection.cursor() as cursor:
            for model in (Generation, Task, Asset, favorite):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


#: Queries for History's htmx partial: session, user, membership (with team), the member
#: list, the team's boards (the Board filter), the page, the approximate total. The full page
#: adds what the layout needs (the unread-notifications badge and the header's team switcher).
PAGE_QUERIES = 7
LAYOUT_QUERIES = 2
FILTERED = {
    "q": "lighthouse",
    "gateway": "openai-preview",
    "state": "completed",
    "favorites": "on",
    "since": "2020-01-01",
}
DEEP = {"member": "bob", "sort": "oldest"}


def deep(team, member, page: int) -> dict:
    """``DEEP`` at its ``page``-th page (or as deep as the team goes): the cursor after the
    last row of the page before it, as the "Newer →" links would lead there."""
    rows = Generation.objects.for_team(team).filter(author=member).order_by("created_at", "pk")
    before = rows[min((page - 1) * history.PAGE_SIZE, rows.count()) - 1]
    return {**DEEP, "cursor": paging.make_cursor(paging.NEWER, before.created_at, before.pk)}


def test_it_renders_a_page_in_a_constant_number_of_queries(
    client_for, owner, team, teammate, django_assert_max_num_queries, django_assert_num_queries
):
    """The same queries, in number, for a team of 100 generations and one of 100,000."""
    fill(team, [owner, teammate], 100)
    views = [({}, {}), (FILTERED, {}), (deep(team, teammate, 40), {}), ({}, HTMX), (FILTERED, HTMX)]
    client = client_for(owner)
    client.get(reverse("history"))  # the session settles its current team
    counts = []
    for query, headers in views:
        with django_assert_max_num_queries(PAGE_QUERIES + (0 if headers else LAYOUT_QUERIES)) as captured:
            response = client.get(reverse("history"), query, **headers)
        assert response.status_code == 200
        counts.append(len(captured))
    assert len(listed(client.get(reverse("history")))) == history.PAGE_SIZE
    assert listed(client.get(reverse("history"), FILTERED)) == ["Clip 0: a lighthouse at dusk"]

    fill(team, [owner, teammate], 99_900, start=100)
    assert Generation.objects.filter(team=team).count() == 100_000
    views[2] = (deep(team, teammate, 40), {})
    for (query, headers), count in zip(views, counts, strict=True):
        with django_assert_num_queries(count):
            response = client.get(reverse("history"), query, **headers)
        assert response.status_code == 200
    assert len(listed(client.get(reverse("history"), FILTERED))) == history.PAGE_SIZE
    page_40 = listed(client.get(reverse("history"), views[2][0]))
    assert len(page_40) == history.PAGE_SIZE and page_40[0].startswith(
        f"Clip {99_999 - 2 * 39 * history.PAGE_SIZE}:"
    )  # bob: odd ones


# --- bulk actions ------------------------------------------------------------------------------


def test_it_favorites_and_unfavorites_in_bulk(client_for, owner, team):
    a, b = quick(owner, team, "one"), quick(owner, team, "two")
    client = client_for(owner)
    response = client.post(reverse("bulk") + "?q=o&page=1", {"action": "favorite", "ids": [str(a.uuid), str(b.uuid)]})
    assert response.status_code == 302 and response["Location"] == reverse("history") + "?q=o&page=1"
    assert set(owner.favorites.all()) == {a, b}
    client.post(reverse("bulk"), {"action": "unfavorite", "ids": [str(a.uuid)]})
    assert set(owner.favorites.all()) == {b}
    messages = [str(m) for m in client.get(reverse("history")).context["messages"]]
    assert any("Removed from your favorites: 1 video" in m for m in messages)


def test_it_sends_completed_unreviewed_videos_to_review(client_for, owner, team):
    done = quick(owner, team, "done", state=TaskState.COMPLETED)
    running = quick(owner, team, "running", state=TaskState.PROCESSING)
    approved = quick(owner, team, "approved", state=TaskState.COMPLETED, review=Review.ACCEPTED)
    ids = [str(g.uuid) for g in (done, running, approved)]
    response = client_for(owner).post(reverse("bulk"), {"action": "review", "ids": ids}, follow=True)
    assert "Sent to review: 1 video" in response.content.decode()
    assert [Generation.objects.get(pk=g.pk).review for g in (done, running, approved)] == [
        Review.AWAITING,
        Review.NONE,
        Review.ACCEPTED,
    ]
    entry = AuditEntry.objects.get(action="generation.sent_to_review")
    assert entry.actor == owner and entry.data == {"uuid": str(done.uuid)}


def test_it_asks_before_deleting_then_deletes_only_what_the_member_made(client_for, owner, team, teammate):
    own = quick(teammate, team, "bob's clip")
    other = quick(owner, team, "alice's clip")
    client = client_for(teammate)
    ids = [str(own.uuid), str(other.uuid)]
    confirm = client.post(reverse("bulk") + "?member=bob", {"action": "delete", "ids": ids})
    html = confirm.content.decode()
    assert confirm.status_code == 200 and "Delete 1 video?" in html and "will be kept" in html
    assert f'value="{own.uuid}"' in html and f'value="{other.uuid}"' not in html
    assert Generation.objects.count() == 2  # nothing deleted before the confirmation
    done = client.post(reverse("bulk") + "?member=bob", {"action": "delete", "ids": ids, "confirm": "1"})
    assert done["Location"] == reverse("history") + "?member=bob"
    assert list(Generation.objects.all()) == [other]
    assert AuditEntry.objects.filter(action="generation.deleted", actor=teammate).count() == 1


def test_an_owner_can_delete_anyones_videos_in_bulk(client_for, owner, team, teammate):
    clips = [quick(teammate, team, "bob's clip"), quick(owner, team, "alice's clip")]
    client_for(owner).post(reverse("bulk"), {"action": "delete", "ids": [str(g.uuid) for g in clips], "confirm": "1"})
    assert not Generation.objects.exists()


def test_a_viewer_cannot_delete_or_send_to_review_but_can_favorite(client_for, owner, team, viewer):
    clip = quick(owner, team, "alice's clip", state=TaskState.COMPLETED)
    client = client_for(viewer)
    assert "Send to review" not in client.get(reverse("history")).content.decode()
    for action in ("delete", "review"):
        response = client.post(reverse("bulk"), {"action": action, "ids": [str(clip.uuid)], "confirm": "1"})
        assert response.status_code == 403
    clip.refresh_from_db()
    assert clip.review == Review.NONE
    client.post(reverse("bulk"), {"action": "favorite", "ids": [str(clip.uuid)]})
    assert list(viewer.favorites.all()) == [clip]


def test_it_ignores_malformed_ids_and_refuses_too_many(client_for, owner, team):
    clip = quick(owner, team, "a clip")
    client = client_for(owner)
    client.post(reverse("bulk"), {"action": "favorite", "ids": ["not-a-uuid", str(clip.uuid)]})
    assert list(owner.favorites.all()) == [clip]
    many = [str(uuid.uuid4()) for _ in range(history.BULK_LIMIT + 1)]
    response = client.post(reverse("bulk"), {"action": "favorite", "ids": many}, follow=True)
    assert "at most" in response.content.decode()
    empty = client.post(reverse("bulk"), {"action": "zip"}, follow=True)
    assert "Tick at least one video" in empty.content.decode()
    unknown = client.post(reverse("bulk"), {"action": "explode", "ids": [str(clip.uuid)]}, follow=True)
    assert "Choose what to do" in unknown.content.decode() and Generation.objects.filter(pk=clip.pk).exists()


def test_it_streams_a_zip_of_the_archived_videos(client_for, owner, team, key, gateway, viewer):
    made = []
    for prompt in ("A paper boat on a rainy street at night", "A lighthouse in a storm"):
        generation = make_generation(owner, team, key, prompt=prompt)
        assert run_until_done(generation.task.pk).state == TaskState.COMPLETED
        made.append(Generation.objects.select_related("asset").get(pk=generation.pk))
    unfinished = quick(owner, team, "still rendering", state=TaskState.PROCESSING)
    ids = [str(g.uuid) for g in made] + [str(unfinished.uuid)]

    response = client_for(viewer).post(reverse("bulk"), {"action": "zip", "ids": ids})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="studio-')
    body = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        expected = {history.zip_entry_name(g): g for g in made}
        assert set(names) == set(expected) | {"manifest.csv", "left-out.txt"}  # the unfinished one is named there
        for name, generation in expected.items():
            assert archive.getinfo(name).compress_type == zipfile.ZIP_STORED
            with generation.asset.file.open("rb") as fh:
                assert archive.read(name) == fh.read()
    day = timezone.localdate(made[0].created_at).isoformat()
    assert history.zip_entry_name(made[0]) == f"{day}-a-paper-boat-on-a-rainy-{made[0].uuid.hex[:8]}.mp4"
    entry = AuditEntry.objects.get(action="generations.downloaded")
    assert entry.actor == viewer and entry.data["count"] == 2


def test_the_zip_is_built_from_chunks_not_whole_files(owner, team, key, gateway):
    generation = make_generation(owner, team, key)
    run_until_done(generation.task.pk)
    asset = Asset.objects.get(generation=generation)
    entry = zipstream.ZipEntry("clip.mp4", asset.file.storage, asset.file.name, asset.bytes, generation.created_at)
    chunks = list(zipstream.stream_zip([entry, dataclasses.replace(entry, name="again.mp4")], chunk_size=4096))
    assert len(chunks) > 2 * (asset.bytes // 4096)  # one piece per chunk read, never the whole file at once
    assert max(len(c) for c in chunks) < 4096 + 1024
    with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as archive:
        with asset.file.open("rb") as fh:
            original = fh.read()
        assert archive.read("clip.mp4") == archive.read("again.mp4") == original


def test_zip_of_nothing_archived_says_so(client_for, owner, team):
    clip = quick(owner, team, "still rendering", state=TaskState.PROCESSING)
    response = client_for(owner).post(reverse("bulk"), {"action": "zip", "ids": [str(clip.uuid)]}, follow=True)
    assert "None of the selected videos is ready" in response.content.decode()
    assert not AuditEntry.objects.filter(action="generations.downloaded").exists()


def test_history_lists_the_teams_generations_newest_first(
    client_for, owner, team, teammate, key, gateway, django_assert_max_num_queries
):
    bob_key = add_key(teammate, team, secret="sk-bob-key-0001", label="Bob's")
    for i in range(25):
        make_generation(teammate if i % 2 else owner, team, bob_key if i % 2 else key, prompt=f"prompt number {i}")
    client = client_for(teammate)
    client.get(reverse("studio"))  # a first visit also remembers the browser's language (one UPDATE, once)
    with django_assert_max_num_queries(12):
        html = client.get(reverse("history")).content.decode()
    assert html.index("prompt number 24") < html.index("prompt number 23")
    assert "prompt number 0" not in html  # on page 2
    assert "prompt number 0" in client.get(reverse("history"), {"cursor": next_cursor(html)}).content.decode()
    assert "alice" in html and "bob" in html
