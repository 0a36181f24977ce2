"""Server time and query count of the busiest pages, with 100 and with 100,000
generations in one team.

    .venv/bin/python bench/pages.py [--sizes 100 100000] [--requests 50]

In-process: Django's test Client against a throwaway SQLite file (WAL, as in
production settings); no network, no gunicorn, no browser. Prints p50/p95 per
request and the queries per request; never asserts anything.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid as uuidlib
import warnings
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

RUNNING = 50  # running cards on the studio page's progress refresh


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 100_000])
    parser.add_argument("--requests", type=int, default=50, help="requests per page (default 50)")
    parser.add_argument("--database-url", default="", help="a PostgreSQL server to make a throwaway database on")
    args = parser.parse_args()
    sizes = sorted(args.sizes)
    if sizes[0] < RUNNING:
        parser.error(f"sizes must be at least {RUNNING}")

    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: nothing collected
    _common.setup(database_url=args.database_url)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import Membership, Role, Team, User
    from tests.test_history import fill, insert_rows  # the suite's fast raw-executemany helpers
    from videos.models import GatewayKey, Generation, Task, TaskState

    print(_common.machine())
    print(f"how: in-process Django test Client (no network, no gunicorn), {_common.database()}, DEBUG off;")
    print(f"     {args.requests} requests per page after 3 warm-up requests; times are server time per request.")

    alice = User.objects.create_user(username="alice", password="pw-alice-bench-123")
    Team.create_personal(alice)
    team = alice.teams.get()
    bob = User.objects.create_user(username="bob", password="pw-bob-bench-123")
    Membership.objects.create(team=team, user=bob, role=Role.MEMBER)
    key = GatewayKey(
        team=team, owner=alice, dialect="openai-preview", label="Bench", base_url="https://api.openai.com/v1"
    )
    key.set_secret("sk-bench-0001")
    key.save()

    # The 50 running cards: the newest generations, alice's, PROCESSING.
    now = timezone.now()
    insert_rows(
        Generation,
        [
            {
                "team": team.pk,
                "author": alice.pk,
                "key": key.pk,
                "dialect": "openai-preview",
                "model_name": "sora-2",
                "key_label": "Bench",
                "prompt": f"Running clip {i}: a boat in the rain",
                "created_at": now + timedelta(seconds=i),
                "uuid": uuidlib.uuid4(),
            }
            for i in range(RUNNING)
        ],
    )
    running = list(Generation.objects.filter(team=team).order_by("pk"))
    insert_rows(
        Task,
        [
            {
                "generation": g.pk,
                "state": TaskState.PROCESSING,
                "external_id": f"video_{g.pk}",
                "submitted_at": now,
                "next_poll_at": now,
            }
            for g in running
        ],
    )
    running_uuids = [g.uuid for g in running]

    client = Client()
    client.force_login(alice)
    htmx = {"HTTP_HX_REQUEST": "true"}
    pages = [
        ("studio page  /", lambda: [("/", {})]),
        (
            f"card refresh ×{RUNNING} (per request)",
            lambda: [(f"/generations/{u}/card", htmx) for u in running_uuids],
        ),
        ("gallery  /history/", lambda: [("/history/", {})]),
        ("filtered gallery  ?gateway=openai-preview&q=boat", lambda: [("/history/?gateway=openai-preview&q=boat", {})]),
    ]

    def measure(urls):
        for url, extra in urls[:3]:  # warm-up
            client.get(url, **extra)
        times, queries, statuses = [], [], set()
        rounds = max(1, args.requests // len(urls)) if len(urls) > 1 else args.requests
        for _ in range(rounds):
            for url, extra in urls:
                with CaptureQueriesContext(connection) as ctx:
                    t0 = time.perf_counter()
                    response = client.get(url, **extra)
                    times.append((time.perf_counter() - t0) * 1000)
                queries.append(len(ctx.captured_queries))
                statuses.add(response.status_code)
        slowest.clear()
        for url, extra in urls[:1]:  # the slowest query of one request, to point at the cost
            with CaptureQueriesContext(connection) as ctx:
                client.get(url, **extra)
            slowest.append(max(ctx.captured_queries, key=lambda q: float(q["time"])))
        return times, queries, statuses

    slowest: list[dict] = []
    results: dict[int, dict[str, tuple]] = {}
    have = RUNNING
    for size in sizes:
        t0 = time.perf_counter()
        fill(team, [alice, bob], size - have, start=have)
        have = size
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        insert_s = time.perf_counter() - t0
        count = Generation.objects.filter(team=team).count()
        print(f"\n== {count:,} generations in the team (inserted in {insert_s:.1f} s, raw executemany + ANALYZE)")
        results[size] = {}
        for name, urls in pages:
            times, queries, statuses = measure(urls())
            p50, p95 = _common.pct(times, 50), _common.pct(times, 95)
            qs = sorted(set(queries))
            qtext = str(qs[0]) if len(qs) == 1 else f"{min(qs)}–{max(qs)}"
            results[size][name] = (p50, p95, max(queries))
            print(
                f"  {name:<52} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   queries/request {qtext:>5}   "
                f"n={len(times)} HTTP {sorted(statuses)}"
            )
            if size == sizes[-1] and slowest and float(slowest[0]["time"]) >= 0.005:
                q = slowest[0]
                sql = q["sql"]
                sql = "SELECT … " + sql[sql.index(" FROM ") :] if " FROM " in sql else sql
                print(f"      slowest query {1000 * float(q['time']):.1f} ms: {sql[:400]}")

    if len(sizes) >= 2:
        small, big = sizes[0], sizes[-1]
        print(f"\n== ratio {big:,} vs {small:,} (goal: within 1.5×; gallery p95 < 50 ms)")
        for name, _ in pages:
            s, b = results[small][name], results[big][name]
            ratio = b[1] / s[1] if s[1] else float("nan")
            line = (
                f"  {name:<52} p95 {s[1]:6.1f} → {b[1]:6.1f} ms = {ratio:4.2f}×  [{_common.verdict(ratio <= 1.5)}]"
                f"   queries {s[2]} → {b[2]}"
            )
            if name.startswith(("gallery", "filtered")):
                line += f"   p95 < 50 ms at {big:,}: [{_common.verdict(b[1] < 50)}]"
            print(line)


if __name__ == "__main__":
    main()
