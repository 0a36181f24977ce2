"""Polish for a team's first week: readable download names and the ZIP's manifest and
left-out list; the audit trail as sentences with links, a date filter and a CSV export."""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
import zipfile
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role, Team
from tests.conftest import make_user
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
    return list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode("utf-8"))))


# --- downloads: names, manifest, left out ------------------------------------------------------


def test_the_zip_carries_a_manifest_row_per_video_with_every_column(client_for, owner, team):
    made = clip(owner, team, "Sunset over the sea, slow pan", cost=Decimal("0.40"))
    with download_zip(client_for(owner), [str(made.uuid)]) as archive:
        assert sorted(archive.namelist()) == sorted([download_name(made), "manifest.csv"])  # nothing left out
        rows = manifest(archive)
        assert tuple(next(csv.reader(io.StringIO(archive.read("manifest.csv").decode())))) == MANIFEST_COLUMNS
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
