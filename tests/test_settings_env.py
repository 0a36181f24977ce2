"""The typed environment helpers refuse values that do not parse."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from project.env import env_bool, env_int, env_list, env_url


@pytest.mark.parametrize("raw, expected", [("true", True), ("0", False), ("Yes", True), ("off", False)])
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("X_FLAG", raw)
    assert env_bool("X_FLAG", not expected) is expected


def test_env_bool_refuses_anything_else(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env_bool("X_FLAG", False)


def test_env_int_checks_type_and_range(monkeypatch):
    monkeypatch.setenv("X_N", "12")
    assert env_int("X_N", 1, minimum=1, maximum=20) == 12
    monkeypatch.setenv("X_N", "twelve")
    with pytest.raises(ImproperlyConfigured, match="integer"):
        env_int("X_N", 1)
    monkeypatch.setenv("X_N", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("X_N", 1, minimum=1)


def test_env_url_wants_http(monkeypatch):
    monkeypatch.setenv("X_URL", "ftp://host")
    with pytest.raises(ImproperlyConfigured):
        env_url("X_URL")
    monkeypatch.setenv("X_URL", "https://studio.example/")
    assert env_url("X_URL") == "https://studio.example"


def test_env_list_splits_on_commas(monkeypatch):
    monkeypatch.setenv("X_L", " a, b ,,c")
    assert env_list("X_L") == ["a", "b", "c"]
    monkeypatch.delenv("X_L")
    assert env_list("X_L", ["d"]) == ["d"]


# --- scale-out settings ----------------------------------------------------------------------

import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from project.env import env_choice, env_database, env_redis_url  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def test_a_database_url_becomes_django_settings_for_postgresql(monkeypatch):
    monkeypatch.setenv("X_DB", "postgres://studio:s%40cret@db.internal:6432/studio")
    config = env_database("X_DB", conn_max_age=60)
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["USER"], config["PASSWORD"]) == ("studio", "studio", "s@cret")
    assert (config["HOST"], config["PORT"]) == ("db.internal", 6432)
    assert config["CONN_MAX_AGE"] == 60 and config["CONN_HEALTH_CHECKS"] is True
    monkeypatch.delenv("X_DB")
    assert env_database("X_DB", conn_max_age=60) is None


@pytest.mark.parametrize("url", ["mongodb://u:hunter2@host/db", "postgres://u:hunter2@host"])
def test_a_database_url_it_cannot_use_is_refused_without_showing_the_password(monkeypatch, url):
    monkeypatch.setenv("X_DB", url)
    with pytest.raises(ImproperlyConfigured, match="X_DB") as refused:
        env_database("X_DB", conn_max_age=0)
    assert "hunter2" not in str(refused.value)


def test_redis_urls_and_choices_are_checked(monkeypatch):
    monkeypatch.setenv("X_REDIS", "rediss://:pw@cache.internal:6380/1")
    assert env_redis_url("X_REDIS") == "rediss://:pw@cache.internal:6380/1"
    monkeypatch.setenv("X_REDIS", "http://cache.internal")
    with pytest.raises(ImproperlyConfigured, match="redis://"):
        env_redis_url("X_REDIS")
    monkeypatch.setenv("X_MODE", "Signed")
    assert env_choice("X_MODE", "studio", ("studio", "signed")) == "signed"
    monkeypatch.setenv("X_MODE", "cdn")
    with pytest.raises(ImproperlyConfigured, match="studio, signed"):
        env_choice("X_MODE", "studio", ("studio", "signed"))


def production_settings(**env) -> subprocess.CompletedProcess:
    """Load project.settings in a fresh interpreter with ``env`` (and DEBUG on), and print
    what the scale-out variables turned into."""
    script = (
        "import json; from project import settings as s; print(json.dumps({"
        "'db': s.DATABASES['default']['ENGINE'], 'q': s.Q_CLUSTER, 'storage': s.STORAGES['default']['BACKEND'], "
        "'bucket': s.STORAGES['default'].get('OPTIONS', {}).get('bucket_name'), "
        "'media_src': [str(v) for v in s.SECURE_CSP['media-src']], 'img_src': [str(v) for v in s.SECURE_CSP['img-src']]}))"
    )
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DEBUG": "true"}
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60
    )


def test_the_scale_out_is_configuration_only():
    plain = production_settings()
    assert plain.returncode == 0, plain.stderr
    embedded = json.loads(plain.stdout)
    assert embedded["db"] == "django.db.backends.sqlite3" and embedded["q"]["orm"] == "default"
    assert embedded["storage"] == "django.core.files.storage.FileSystemStorage"
    scaled = production_settings(
        DATABASE_URL="postgres://studio:pw@db.internal:5432/studio",
        REDIS_URL="redis://cache.internal:6379/0",
        S3_BUCKET="studio-media",
        S3_ENDPOINT_URL="https://minio.internal:9000",
        STUDIO_MEDIA_DELIVERY="signed",
    )
    assert scaled.returncode == 0, scaled.stderr
    out = json.loads(scaled.stdout)
    assert out["db"] == "django.db.backends.postgresql"
    assert out["q"]["redis"] == "redis://cache.internal:6379/0" and "orm" not in out["q"]
    assert out["storage"] == "videos.lib.storage.BucketStorage" and out["bucket"] == "studio-media"
    # Browsers load the presigned links from the bucket: the CSP must allow its origin.
    assert "https://minio.internal:9000" in out["media_src"] and "https://minio.internal:9000" in out["img_src"]
    on_aws = production_settings(S3_BUCKET="studio-media", S3_REGION="eu-west-1", STUDIO_MEDIA_DELIVERY="signed")
    assert on_aws.returncode == 0, on_aws.stderr
    assert "https://studio-media.s3.eu-west-1.amazonaws.com" in json.loads(on_aws.stdout)["media_src"]


def test_signed_delivery_without_a_bucket_stops_start_up_with_the_reason():
    refused = production_settings(STUDIO_MEDIA_DELIVERY="signed")
    assert refused.returncode != 0 and "STUDIO_MEDIA_DELIVERY=signed needs S3_BUCKET" in refused.stderr
