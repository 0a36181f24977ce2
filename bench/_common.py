"""Shared set-up for the benchmarks: a throwaway environment, machine facts, percentiles.

Not a test module (the suite collects ``tests/`` only); imported by the bench scripts,
which are run by hand: ``.venv/bin/python bench/<name>.py``.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def throwaway_database(server_url: str) -> str:
    """Create an empty database ``studio_bench_<hex>`` on the PostgreSQL server of
    ``server_url`` (a DATABASE_URL whose user may create databases), dropped at exit.
    Returns its URL."""
    import atexit
    import secrets
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    name = f"studio_bench_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    atexit.register(drop)
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


def setup(extra_env: dict[str, str] | None = None, *, database_url: str = "") -> str:
    """Point Django at a throwaway database (a SQLite file, or with ``database_url`` a new
    PostgreSQL database on that server) and media folder, set up, migrate.
    Returns the temp dir (removed by the caller if it wishes)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    tmp = tempfile.mkdtemp(prefix="studio-bench-")
    from cryptography.fernet import Fernet

    env = {
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
        "STUDIO_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SQLITE_PATH": os.path.join(tmp, "db.sqlite3"),
        "MEDIA_ROOT": os.path.join(tmp, "media"),
        "STATIC_MANIFEST": "false",
        "ALLOWED_HOSTS": "testserver",
        "SECURE_COOKIES": "false",
        "DATABASE_URL": throwaway_database(database_url) if database_url else "",
        "REDIS_URL": "",
        "S3_BUCKET": "",
        **(extra_env or {}),
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return tmp


def machine() -> str:
    import django

    return (
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()} ({platform.machine()}), "
        f"Django {django.get_version()}, {database()}, "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}"
    )


def database() -> str:
    """The database in use and its version, e.g. "PostgreSQL 15.18" or "SQLite 3.40.1 (WAL)"."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
    return f"SQLite {__import__('sqlite3').sqlite_version} (WAL)"


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"
