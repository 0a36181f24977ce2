"""Prompt search and History's keyset pages, with 100,000 and 1,000,000 generations in
one team, on SQLite or PostgreSQL (issue 16).

    .venv/bin/python bench/search.py [--sizes 100000 1000000] [--requests 40] [--database-url …]

In-process: Django's test Client against a throwaway database; no network. For each
size it prints, per request of History (server time, p50/p95, queries per request):
search for an English word, a Chinese word (2 characters, under the trigram size, and
3), two words, a phrase, a rare word; pages 1, 100 and 10,000 (or the deepest there is).
Then the cost the index adds to creating a generation (one INSERT with and without the
index), and the ratios against the goals. Never asserts anything.

Prompts are half English, half Chinese, made of a subject, a place, a time of day and a
camera move from small pools (each subject in ~1/40 of the rows), plus a number.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid as uuidlib
import warnings
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

EN = {
    "subject": [
        "a lighthouse",
        "a paper boat",
        "a red kite",
        "an old tram",
        "a fox",
        "a street dancer",
        "a glass whale",
        "two cyclists",
        "a tea house",
        "a robot gardener",
        "a night market",
        "a desert caravan",
        "a koi pond",
        "a snow owl",
        "a jazz trio",
        "a steam train",
        "a sunflower field",
        "a windmill",
        "a city bus",
        "a violinist",
    ],
    "place": ["by the sea", "on a rainy street", "in the mountains", "over the city", "in a forest", "on a rooftop"],
    "time": ["at dusk", "at dawn", "at noon", "at night", "in the fog", "in the snow"],
    "camera": [
        "the camera slowly pushes in",
        "a slow pan left",
        "handheld, close up",
        "aerial shot",
        "dolly zoom",
        "static wide shot",
    ],
}
ZH = {
    "subject": [
        "灯塔",
        "纸船",
        "红色风筝",
        "老式电车",
        "狐狸",
        "街头舞者",
        "玻璃鲸鱼",
        "两个骑车人",
        "茶馆",
        "机器人园丁",
        "夜市",
        "沙漠驼队",
        "锦鲤池",
        "雪鸮",
        "爵士三重奏",
        "蒸汽火车",
        "向日葵田",
        "风车",
        "城市公交",
        "小提琴手",
    ],
    "place": ["海边的", "雨中街道上的", "山间的", "城市上空的", "森林里的", "屋顶上的"],
    "time": ["黄昏", "黎明", "正午", "深夜", "雾中", "雪中"],
    "camera": ["镜头缓慢推进", "缓慢左摇", "手持特写", "航拍", "滑动变焦", "固定广角"],
}
RARE_EVERY = 1_000  # "zeppelin" in one prompt of this many

SEARCHES = [
    ("English word  q=lighthouse", {"q": "lighthouse"}),
    ("Chinese word, 2 chars  q=灯塔", {"q": "灯塔"}),
    ("Chinese word, 3 chars  q=向日葵", {"q": "向日葵"}),
    ("two Chinese words  q=黄昏 灯塔", {"q": "黄昏 灯塔"}),
    ("two words  q=lighthouse dusk", {"q": "lighthouse dusk"}),
    ('phrase  q="slowly pushes in"', {"q": '"slowly pushes in"'}),
    ("rare word  q=zeppelin", {"q": "zeppelin"}),
]


def prompt(i: int, rng: random.Random) -> str:
    pools = ZH if i % 2 else EN
    subject = pools["subject"][(i // 2) % len(pools["subject"])]
    place, when, camera = (rng.choice(pools[k]) for k in ("place", "time", "camera"))
    extra = " zeppelin" if i % RARE_EVERY == 7 else ""
    if pools is ZH:
        return f"{place}{subject}，{when}，{camera}{extra} #{i}"
    return f"{subject.capitalize()} {place} {when}, {camera}{extra} #{i}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--requests", type=int, default=40, help="requests per measurement (default 40)")
    parser.add_argument("--explain", action="store_true", help="print each measurement's slowest query and its plan")
    parser.add_argument(
        "--reuse-sqlite", default="", help="measure again on a SQLite file a run left (its rows are kept; no insert)"
    )
    parser.add_argument("--database-url", default="", help="a PostgreSQL server to make a throwaway database on")
    args = parser.parse_args()
    sizes = sorted(args.sizes)

    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: nothing collected
    tmp = _common.setup(
        {"SQLITE_PATH": args.reuse_sqlite} if args.reuse_sqlite else None, database_url=args.database_url
    )
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import Team, User
    from tests.test_history import insert_rows  # the suite's fast raw-executemany helper
    from videos import search
    from videos.lib import paging
    from videos.models import Generation, Task, TaskState
    from videos.web.history import PAGE_SIZE

    print(_common.machine())
    print(f"how: in-process Django test Client, {_common.database()}, DEBUG off; {args.requests} requests per")
    print("     measurement after 3 warm-up requests; server time per request of History (its htmx partial).")

    alice = User.objects.filter(username="alice").first()
    if alice is None:
        alice = User.objects.create_user(username="alice", password="pw-alice-bench-123")
        Team.create_personal(alice)
    team = alice.teams.get()
    rng = random.Random(16)
    now = timezone.now()
    vendor = connection.vendor

    def index_off() -> None:
        with connection.cursor() as cursor:
            for sql in search.SQLITE_DROP[:3] if vendor == "sqlite" else search.POSTGRESQL_DROP:
                cursor.execute(sql)

    def index_on() -> None:
        with connection.cursor() as cursor:
            if vendor == "sqlite":
                search.ensure_index(connection)
            else:
                for sql in search.POSTGRESQL_CREATE:
                    cursor.execute(sql)
            # As autovacuum leaves a live database: statistics, and the visibility map that
            # lets an index-only scan (the capped count) skip the table.
            cursor.execute("VACUUM ANALYZE" if vendor == "postgresql" else "ANALYZE")

    def fill(start: int, stop: int) -> None:
        for lo in range(start, stop, 50_000):
            hi = min(stop, lo + 50_000)
            insert_rows(
                Generation,
                [
                    {
                        "team": team.pk,
                        "author": alice.pk,
                        "dialect": "openai-preview",
                        "model_name": "sora-2",
                        "key_label": "Bench",
                        "prompt": prompt(i, rng),
                        "created_at": now - timedelta(seconds=i),
                        "uuid": uuidlib.uuid4(),
                    }
                    for i in range(lo, hi)
                ],
            )
            pks = Generation.objects.filter(team=team).order_by("-pk").values_list("pk", flat=True)[: hi - lo]
            insert_rows(Task, [{"generation": pk, "state": TaskState.COMPLETED} for pk in pks])

    client = Client()
    client.force_login(alice)
    htmx = {"HTTP_HX_REQUEST": "true"}
    client.get("/history/")

    def measure(query: dict) -> tuple[float, float, int, int]:
        for _ in range(3):
            client.get("/history/", query, **htmx)
        times, queries, db = [], [], []
        for _ in range(args.requests):
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                response = client.get("/history/", query, **htmx)
                times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.status_code
            queries.append(len(ctx.captured_queries))
            db.append(sum(1000 * float(q["time"]) for q in ctx.captured_queries))
        rows = response.content.decode().count('class="tile ')
        if args.explain:
            slowest = sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))[:2]
            for q in slowest:
                print(f"      {1000 * float(q['time']):.1f} ms: {q['sql'][:300]}")
                with connection.cursor() as cursor:
                    cursor.execute(("EXPLAIN QUERY PLAN " if vendor == "sqlite" else "EXPLAIN ") + q["sql"])
                    for row in cursor.fetchall():
                        print("         ", row[-1])
        return _common.pct(times, 50), _common.pct(times, 95), max(queries), rows, _common.pct(db, 95)

    def insert_cost(n: int = 200) -> float:
        """ms per ORM INSERT of one generation (median of n), as create_generation saves it."""
        times = []
        for i in range(n):
            t0 = time.perf_counter()
            Generation.objects.create(
                team=team,
                author=alice,
                dialect="openai-preview",
                model_name="sora-2",
                key_label="Bench",
                prompt=prompt(10_000_000 + i, rng),
                created_at=now + timedelta(seconds=1 + i),
            )
            times.append((time.perf_counter() - t0) * 1000)
        Generation.objects.filter(created_at__gt=now).delete()
        return _common.median(times)

    results: dict[int, dict[str, tuple]] = {}
    have = Generation.objects.filter(team=team).count()
    for size in sizes:
        t0 = time.perf_counter()
        if size > have:
            index_off()
            fill(have, size)
        t1 = time.perf_counter()
        if size > have:
            index_on()
        have = max(have, size)
        t2 = time.perf_counter()
        count = Generation.objects.filter(team=team).count()
        print(
            f"\n== {count:,} generations in one team (rows inserted in {t1 - t0:.0f} s; "
            f"index built over them in {t2 - t1:.0f} s)"
        )
        results[size] = {}
        ordered = Generation.objects.filter(team=team).order_by("-created_at", "-pk")
        pages = {}
        for number in (1, 100, 10_000):
            deepest = min(number, -(-count // PAGE_SIZE))
            name = f"History page {number:,}" + (f" (the last: {deepest:,})" if deepest != number else "")
            if deepest == 1:
                pages[name] = {}
            else:
                before = ordered[(deepest - 1) * PAGE_SIZE - 1]
                pages[name] = {"cursor": paging.make_cursor(paging.OLDER, before.created_at, before.pk)}
        for name, query in [*SEARCHES, *pages.items()]:
            p50, p95, queries, rows, db95 = measure(query)
            results[size][name.split(" (")[0]] = (p50, p95, queries, db95)
            print(
                f"  {name:<42} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   (in the database: p95 {db95:6.1f} ms)   "
                f"queries/request {queries}   tiles {rows}"
            )
        # Three rounds of (with, without), so drift on a shared machine falls on both sides.
        rounds = []
        for _ in range(3):
            with_index = insert_cost()
            index_off()
            without = insert_cost()
            index_on()
            rounds.append((with_index, without))
        with_index = _common.median([w for w, _ in rounds])
        without = _common.median([o for _, o in rounds])
        results[size]["insert"] = (with_index, without)
        print(
            f"  one INSERT of a generation: {with_index:.3f} ms with the index, {without:.3f} ms without "
            f"(+{with_index - without:.3f} ms; medians of 3 rounds of 200, each round's difference: "
            + ", ".join(f"{w - o:+.3f}" for w, o in rounds)
            + " ms)"
        )

    if len(sizes) >= 2:
        small, big = sizes[0], sizes[-1]
        print(f"\n== goals at {big:,} (search p95 < 50 ms and within 1.5× of {small:,}; page 10,000 within 1.5× of 1)")
        for name, _ in SEARCHES:
            s, b = results[small][name], results[big][name]
            ratio = b[1] / s[1] if s[1] else float("nan")
            print(
                f"  {name:<42} p95 {s[1]:6.1f} → {b[1]:6.1f} ms = {ratio:4.2f}×  "
                f"[{_common.verdict(ratio <= 1.5)}]  < 50 ms: [{_common.verdict(b[1] < 50)}]   "
                f"database p95 {s[3]:6.1f} → {b[3]:6.1f} ms"
            )
        first, deep = results[big]["History page 1"], results[big]["History page 10,000"]
        ratio = deep[1] / first[1]
        print(
            f"  page 10,000 vs page 1 at {big:,}: {deep[1]:.1f} / {first[1]:.1f} ms = {ratio:.2f}× [{_common.verdict(ratio <= 1.5)}]"
        )
        added = results[big]["insert"][0] - results[big]["insert"][1]
        print(f"  index cost per created generation at {big:,}: +{added:.3f} ms [{_common.verdict(added < 2)}]")
    if not args.reuse_sqlite:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
