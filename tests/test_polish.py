"""Polish for a team's first week: readable download names and the ZIP's manifest and
left-out list; the audit trail as sentences with links, a date filter and a CSV export."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from datetime import timedelta
from decimal import Decimal
from html import unescape
from urllib.parse import quote

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, strip_tags

from accounts.models import Role, Team
from tests.conftest import join
from videos.lib.csvtext import safe_cell
from videos.models import Asset, AuditEntry, Generation, Task, TaskState
from videos.web.downloads import MANIFEST_COLUMNS, download_name

pytestmark = pytest.mark.django_db


def clip(author, team, prompt, *, state=TaskState.COMPLETED, video: bytes | None = b"", cost=None, when=None):
    """A generation saved directly; ``video`` bytes become its archived MP4 (None: no asset)."""
    generation = Generation.objects.create(
        team=team,
        author=author,
        dialect="openai-preview",
        model_name="sora-2",
        key_label="Sandbox",
        prompt=prompt,
        options={"duration": 4, "aspect_ratio": "16:9", "resolution": "720p"},
        cost_usd=cost,
        created_at=when or timezone.now(),
    )
    Task.objects.create(generation=generation, state=state)
    if video is not None and state == TaskState.COMPLETED:
        data = video or f"mp4 bytes of {prompt}".encode()
        Asset.objects.create(
            generation=generation,
            file=ContentFile(data, name="video.mp4"),
            duration_s=4,
            width=1280,
            height=720,
            bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )
    return Generation.objects.select_related("asset", "task", "author").get(pk=generation.pk)


def download_zip(client, ids) -> zipfile.ZipFile:
    response = client.post(reverse("bulk"), {"action": "zip", "ids": ids})
    assert response.status_code == 200 and response.streaming, response
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def manifest(archive: zipfile.ZipFile) -> list[dict]:
    return list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode("utf-8-sig"))))


# --- downloads: names, manifest, left out ------------------------------------------------------


def test_the_zip_carries_a_manifest_row_per_video_with_every_column(client_for, owner, team):
    made = clip(owner, team, "Sunset over the sea, slow pan", cost=Decimal("0.40"))
    with download_zip(client_for(owner), [str(made.uuid)]) as archive:
        assert sorted(archive.namelist()) == sorted([download_name(made), "manifest.csv"])  # nothing left out
        rows = manifest(archive)
        assert (
            tuple(next(csv.reader(io.StringIO(archive.read("manifest.csv").decode("utf-8-sig"))))) == MANIFEST_COLUMNS
        )
        body = archive.read(download_name(made))
    assert rows == [
        {
            "file": download_name(made),
            "prompt": "Sunset over the sea, slow pan",
            "gateway": "OpenAI-format (grok-imagine-video-1.5-preview)",  # the gateway's name, not its code
            "model": "sora-2",
            "options": "aspect_ratio=16:9; duration=4; resolution=720p",
            "cost": "0.40",
            "author": "alice",
            "created": timezone.localtime(made.created_at).isoformat(timespec="seconds"),
            "sha256": hashlib.sha256(body).hexdigest(),
        }
    ]
    assert download_name(made).startswith(f"{timezone.localdate(made.created_at):%Y-%m-%d}-sunset-over-the-sea")


def test_a_chinese_prompt_keeps_its_name_in_the_zip_and_the_single_download(client_for, owner, team):
    made = clip(owner, team, "日落时的海边 慢慢推近")
    name = download_name(made)
    assert name == f"{timezone.localdate(made.created_at):%Y-%m-%d}-日落时的海边-慢慢推近-{made.uuid.hex[:8]}.mp4"
    client = client_for(owner)
    with download_zip(client, [str(made.uuid)]) as archive:
        assert name in archive.namelist()
        assert archive.getinfo(name).flag_bits & 0x800  # the UTF-8 flag: unzips without mojibake
        assert manifest(archive)[0]["prompt"] == "日落时的海边 慢慢推近"
        assert archive.read("manifest.csv").startswith("\ufeff".encode())  # Excel reads it as UTF-8
    response = client.get(reverse("video_file", args=[made.uuid]) + "?download=1")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert disposition.endswith("filename*=UTF-8''" + quote(name, safe=""))
    assert disposition.encode("ascii")  # the header itself stays ASCII


def test_a_single_download_has_the_same_readable_name_as_its_zip_entry(client_for, owner, team):
    made = clip(owner, team, "A paper boat on a rainy street")
    response = client_for(owner).get(reverse("video_file", args=[made.uuid]) + "?download=1")
    assert response["Content-Disposition"] == f'attachment; filename="{download_name(made)}"'


def test_the_zip_says_what_it_left_out_and_why_never_revealing_another_teams_video(client_for, owner, team, outsider):
    done = clip(owner, team, "finished clip")
    running = clip(owner, team, "still rendering", state=TaskState.PROCESSING)
    failed = clip(owner, team, "went wrong", state=TaskState.FAILED)
    theirs = clip(outsider, Team.objects.get(memberships__user=outsider), "their secret plan")
    gone = clip(owner, team, "deleted since")
    gone_id = str(gone.uuid)
    gone.delete()
    ids = [str(done.uuid), str(running.uuid), str(failed.uuid), str(theirs.uuid), gone_id, "'; DROP TABLE--"]
    with download_zip(client_for(owner), ids) as archive:
        assert set(archive.namelist()) == {download_name(done), "manifest.csv", "left-out.txt"}
        left = archive.read("left-out.txt").decode("utf-8")
        assert [row["file"] for row in manifest(archive)] == [download_name(done)]
    assert f"{download_name(running)} “still rendering”: not finished yet (processing)" in left
    assert f"{download_name(failed)} “went wrong”: no video: it ended failed" in left
    assert f"{theirs.uuid}: not found" in left and f"{gone_id}: not found" in left
    assert "their secret plan" not in left and download_name(theirs) not in left
    assert "a malformed id: not found" in left and "DROP" not in left
    entry = AuditEntry.objects.get(action="generations.downloaded")
    assert entry.data["count"] == 1 and entry.data["left_out"] == 5


def test_a_video_the_store_lost_is_named_in_left_out_not_the_manifest(client_for, owner, team):
    kept, lost = clip(owner, team, "kept clip"), clip(owner, team, "lost clip")
    lost.asset.file.storage.delete(lost.asset.file.name)
    with download_zip(client_for(owner), [str(kept.uuid), str(lost.uuid)]) as archive:
        assert [row["file"] for row in manifest(archive)] == [download_name(kept)]
        assert (
            f"{download_name(lost)} “lost clip”: missing from the file store" in archive.read("left-out.txt").decode()
        )


@pytest.mark.parametrize("hostile", ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\t=1"])
def test_manifest_cells_cannot_run_as_spreadsheet_formulas(client_for, owner, team, hostile):
    made = clip(owner, team, hostile)
    with download_zip(client_for(owner), [str(made.uuid)]) as archive:
        assert manifest(archive)[0]["prompt"] == "'" + hostile
    assert safe_cell("a = b") == "a = b" and safe_cell(None) == ""


# --- the audit trail: sentences, links, dates, CSV ---------------------------------------------


def record(team, actor, action, target="", when=None, **data) -> AuditEntry:
    from videos.audit import record_action

    entry = record_action(team, actor, action, target, **data)
    if when is not None:
        AuditEntry.objects.filter(pk=entry.pk).update(created_at=when)
    return entry


SUNSET = "“sunset over the sea”"


@pytest.mark.parametrize(
    ("action", "data", "words"),
    [
        ("generation.submitted", {}, f"alice asked for {SUNSET}"),
        ("generation.approved", {}, f"alice approved spending on {SUNSET}"),
        ("generation.declined", {}, f"alice declined spending on {SUNSET}"),
        ("generation.retried", {}, f"alice retried {SUNSET}"),
        ("generation.cancelled", {}, f"alice cancelled {SUNSET}"),
        ("generation.deleted", {}, f"alice deleted {SUNSET}"),
        ("generation.resubmitted", {}, f"alice sent {SUNSET} to the gateway again"),
        ("generation.abandoned", {}, f"alice gave up on {SUNSET}"),
        ("generation.sent_to_review", {}, f"alice sent {SUNSET} to review"),
        ("generation.reviewed", {"decision": "accepted"}, f"alice accepted {SUNSET}"),
        ("generation.reviewed", {"decision": "rejected"}, f"alice rejected {SUNSET}"),
        ("generation.reviewed", {"decision": "changes"}, f"alice asked for changes to {SUNSET}"),
        ("generations.downloaded", {}, f"alice downloaded {SUNSET}"),
        ("key.added", {}, f"alice added the key {SUNSET}"),
        ("key.changed", {}, f"alice pointed the key {SUNSET} at another address"),
        ("key.replaced", {}, f"alice replaced the secret of the key {SUNSET}"),
        ("key.deleted", {}, f"alice deleted the key {SUNSET}"),
        ("member.invited", {"role": "viewer"}, "alice made an invitation link for a new viewer"),
        ("member.joined", {"role": "member"}, f"{SUNSET} joined the team"),
        ("member.role_changed", {"old": "member", "new": "admin"}, f"alice made {SUNSET} admin"),
        ("budget.changed", {}, f"alice changed the budgets of {SUNSET}"),
        ("something.new", {}, f"alice: something.new {SUNSET}"),
    ],
)
def test_each_audited_verb_reads_as_a_sentence_on_the_page_and_in_the_csv(
    client_for, owner, team, settings, action, data, words
):
    from videos.web.activity import sentence

    settings.STUDIO_AUDIT_STRICT = action != "something.new"  # a retired name still reads
    entry = record(team, owner, action, SUNSET, **data)
    assert sentence(entry, html=False) == words
    client = client_for(owner)
    html = client.get(reverse("audit_log")).content.decode()
    cell = html.split('<td class="audit-sentence">')[1].split("</td>")[0]
    assert unescape(strip_tags(cell)).strip() == words
    assert '<span class="actor">alice</span>' in cell or action == "member.joined"
    rows = list(
        csv.DictReader(io.StringIO(b"".join(client.get(reverse("audit_export")).streaming_content).decode("utf-8-sig")))
    )
    assert rows[0]["sentence"] == words and rows[0]["action"] == action


def test_a_sentence_escapes_what_people_typed_and_names_a_deleted_actor(client_for, owner, team, teammate):
    record(team, teammate, "generation.sent_to_review", "“<script>alert(1)</script>”")
    teammate.delete()
    html = client_for(owner).get(reverse("audit_log")).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<span class="actor">A deleted user</span> sent “&lt;script&gt;' in html


def test_targets_link_to_their_page_while_they_exist(client_for, owner, team, outsider, key):
    kept = clip(owner, team, "sunset over the sea")
    gone = clip(owner, team, "deleted since")
    theirs = clip(outsider, Team.objects.get(memberships__user=outsider), "their clip")
    record(team, owner, "generation.sent_to_review", "“sunset over the sea”", uuid=str(kept.uuid))
    record(team, owner, "generation.deleted", "“deleted since”", uuid=str(gone.uuid))
    record(team, owner, "generation.sent_to_review", "“forged”", uuid=str(theirs.uuid))  # never their page
    gone.delete()
    record(team, owner, "key.added", f"{key.label} ({key.masked})")
    record(team, owner, "member.role_changed", "alice", old="member", new="owner")
    html = client_for(owner).get(reverse("audit_log")).content.decode()
    assert f'<a href="{reverse("generation", args=[kept.uuid])}">“sunset over the sea”</a>' in html
    assert reverse("generation", args=[gone.uuid]) not in html and "“deleted since”" in html
    assert reverse("generation", args=[theirs.uuid]) not in html
    assert f'<a href="{reverse("keys")}">{key.label} ({key.masked})</a>' in html
    assert f'<a href="{reverse("teams")}">alice</a>' in html


def test_the_trail_filters_by_a_range_of_days(client_for, owner, team):
    today = timezone.localtime()
    record(team, owner, "key.added", "old key", when=today - timedelta(days=10))
    record(team, owner, "key.added", "recent key", when=today - timedelta(days=2))
    record(team, owner, "key.added", "new key", when=today)
    client = client_for(owner)

    def shown(**query):
        return client.get(reverse("audit_log"), query).content.decode()

    days_ago = lambda n: (today - timedelta(days=n)).date().isoformat()  # noqa: E731
    html = shown(since=days_ago(3))
    assert "recent key" in html and "new key" in html and "old key" not in html
    html = shown(since=days_ago(10), until=days_ago(2))  # both days included
    assert "old key" in html and "recent key" in html and "new key" not in html
    html = shown(until=days_ago(11))
    assert "No entries match these filters." in html
    assert 'value="' + days_ago(11) + '"' in html  # the form keeps what was asked


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"since": "2026-13-45"}, "Enter a valid date."),
        ({"until": "yesterday'; --"}, "Enter a valid date."),
        ({"since": "2026-12-02", "until": "2026-12-01"}, "“To” is before “From”."),
        ({"until": "9999-12-31"}, "That day is out of range."),
        ({"since": "0001-01-01"}, "That day is out of range."),  # before year 1 once shifted to UTC
    ],
)
def test_a_bad_date_is_a_message_in_the_form_not_an_error(client_for, owner, team, settings, query, message):
    settings.TIME_ZONE = "Asia/Shanghai"  # ahead of UTC: the first day's midnight is in year 0
    record(team, owner, "key.added", "a key")
    client = client_for(owner)
    response = client.get(reverse("audit_log"), query)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<ul class="errorlist' in html and escape(message) in html
    assert "a key" in html  # the filters that did validate still apply; the bad one does not
    export = client.get(reverse("audit_export"), query)
    assert export.status_code == 302 and export["Location"].startswith(reverse("audit_log") + "?")


def test_the_csv_export_streams_the_filtered_entries_safely(client_for, owner, team, teammate):
    record(team, owner, "key.added", '=HYPERLINK("http://evil.example","click")')
    record(team, teammate, "key.added", "bob's key")
    record(team, owner, "member.invited", "Invitation link as viewer", role="viewer")
    client = client_for(owner)
    response = client.get(reverse("audit_export"), {"action": "key.added", "actor": "alice"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["when", "who", "action", "sentence", "target", "details"]
    assert len(rows) == 2  # only alice's key.added
    assert rows[1][1:3] == ["alice", "key.added"]
    assert rows[1][4] == '\'=HYPERLINK("http://evil.example","click")'  # shown as text, never run
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    everything = client.get(reverse("audit_export"))
    assert len(list(csv.reader(io.StringIO(b"".join(everything.streaming_content).decode("utf-8-sig"))))) == 4
    page = client.get(reverse("audit_log"), {"actor": "alice"}).content.decode()
    assert f'href="{reverse("audit_export")}?actor=alice"' in page


def test_another_teams_entries_never_appear_on_the_page_or_in_the_csv(client_for, owner, team, outsider):
    record(team, owner, "key.added", "alice's secret key")
    client = client_for(outsider)
    assert "alice&#x27;s secret key" not in client.get(reverse("audit_log")).content.decode()
    assert "alice's secret key" not in b"".join(client.get(reverse("audit_export")).streaming_content).decode()
    assert "alice's secret key" not in client.get(reverse("audit_log"), {"actor": "alice"}).content.decode()


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_members_who_cannot_manage_get_no_export(client_for, owner, team, role):
    record(team, owner, "key.added", "alice's secret key")
    user, _ = join(team, "erin", role)
    response = client_for(user).get(reverse("audit_export"))
    assert response.status_code == 403 and b"secret key" not in response.content
