"""The live refresh of an open studio page with 1, 50 and 200 running cards: requests per
minute the page makes, and server time and queries per refresh, nothing changed vs one
card changed.

    .venv/bin/python bench/refresh.py [--cards 1 50 200] [--requests 200] [--database-url …]

The page's one poller (``videos/web/live.py``) posts every running card's id and version
once per interval; before it, each card polled its own URL every 2 s, so the requests per
minute are the poller's 60 / FAST whatever the count (printed beside the old per-card
figure). In-process: Django's test Client against a throwaway SQLite file (WAL), no
network, no gunicorn, no browser; DEBUG off. Prints p50/p95 per refresh and the queries
per refresh; never asserts anything.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid as uuidlib
import warnings
from datetime import timedelta
from urllib.parse import urlencode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

OLD_INTERVAL = 2  # seconds: each running card polled its own URL this often


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cards", type=int, nargs="+", default=[1, 50, 200])
    parser.add_argument("--requests", type=int, default=200, help="refreshes per case (default 200)")
    parser.add_argument("--database-url", default="", help="a PostgreSQL server to make a throwaway database on")
    args = parser.parse_args()

    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: nothing collected
    _common.setup(database_url=args.database_url)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import Team, User
    from tests.test_history import insert_rows  # the suite's fast raw-executemany helper
    from videos.models import GatewayKey, Generation, Task, TaskState
    from videos.web import live
    from videos.web.versions import version

    print(_common.machine())
    print(f"how: in-process Django test Client (no network, no gunicorn), {_common.database()}, DEBUG off;")
    print(f"     {args.requests} refreshes per case after 5 warm-up ones; times are server time per refresh,")
    print("     wall clock and (in brackets) this thread's CPU time, which a busy machine disturbs less.")

    alice = User.objects.create_user(username="alice", password="pw-alice-bench-123")
    team = Team.create_personal(alice)
    key = GatewayKey(
        team=team, owner=alice, dialect="openai-preview", label="Bench", base_url="https://api.openai.com/v1"
    )
    key.set_secret("sk-bench-0001")
    key.save()
    client = Client()
    client.force_login(alice)
    # htmx posts the poller's form urlencoded (the test client's default is multipart).
    htmx = {"HTTP_HX_REQUEST": "true", "content_type": "application/x-www-form-urlencoded"}
    seen = [f"{name}.0" for name in live.BADGES]

    have = 0
    print(
        f"\n  {'running cards':>13}  {'req/min now':>11}  {'req/min before':>14}   "
        f"{'nothing changed: p50 / p95, queries':<56} {'one card changed: p50 / p95, queries'}"
    )
    for count in sorted(args.cards):
        now = timezone.now()
        insert_rows(
            Generation,
            [
                {
                    "team": team.pk,
                    "author": alice.pk,
                    "key": key.pk,
                    "dialect": "openai-preview",
                    "model_name": "grok-imagine-video-1.5",
                    "key_label": "Bench",
                    "prompt": f"Running clip {i}: a boat in the rain",
                    "options": {"duration": 6},
                    "created_at": now + timedelta(seconds=i),
                    "uuid": uuidlib.uuid4(),
                }
                for i in range(have, count)
            ],
        )
        new = Generation.objects.filter(team=team, task__isnull=True)
        insert_rows(
            Task,
            [{"generation": g.pk, "state": TaskState.PROCESSING, "progress": 40, "next_poll_at": now} for g in new],
        )
        have = count
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        cards = [f"{g.uuid}.{version(g)}" for g in Generation.objects.filter(team=team).select_related("task")]
        changed = [cards[0].split(".")[0] + ".stale", *cards[1:]]  # the page holds an older version of one

        def measure(posted, expect, old_card=None):
            posted = urlencode(posted, doseq=True)

            def ask():
                if old_card:  # the old way: one card's own poll
                    return client.get(f"/generations/{old_card}/card", HTTP_HX_REQUEST="true")
                return client.post("/live", posted, **htmx)

            for _ in range(5):
                ask()
            times, cpu, queries, statuses = [], [], [], set()
            for _ in range(args.requests):
                with CaptureQueriesContext(connection) as ctx:
                    t0, c0 = time.perf_counter(), time.thread_time()
                    response = ask()
                    cpu.append((time.thread_time() - c0) * 1000)
                    times.append((time.perf_counter() - t0) * 1000)
                queries.append(len(ctx.captured_queries))
                statuses.add(response.status_code)
            assert statuses == {expect}, statuses  # a wrong answer would make the figure meaningless
            qs = sorted(set(queries))
            qtext = str(qs[0]) if len(qs) == 1 else f"{qs[0]}–{qs[-1]}"
            return (
                f"{_common.pct(times, 50):5.2f} / {_common.pct(times, 95):5.2f} ms (CPU {_common.pct(cpu, 50):4.2f} / "
                f"{_common.pct(cpu, 95):4.2f}), {qtext:>2} queries"
            )

        if count == min(args.cards):
            old = measure({}, 200, old_card=cards[0].split(".")[0])
            print(f"  before, one card polling its own URL (per request): {old}")
        quiet = measure({"card": cards, "seen": seen, "every": str(live.FAST)}, 204)
        one = measure({"card": changed, "seen": seen, "every": str(live.FAST)}, 200)
        print(f"  {count:>13}  {60 // live.FAST:>11}  {count * 60 // OLD_INTERVAL:>14}   {quiet:<56} {one}")
    print(
        "\n  queries per refresh include the session, the user and the membership (3); the refresh's own are"
        "\n  one for the posted cards' versions and one for the nav badges; a changed card adds its own fetch."
    )


if __name__ == "__main__":
    main()
