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
