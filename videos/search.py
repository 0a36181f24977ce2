"""Prompt search through an index on both databases, in English and in Chinese.

``search(queryset, query)`` keeps the generations of ``queryset`` whose prompt holds
every term of ``query``: each whitespace-separated word, and each "quoted phrase" as
it stands, in any order, ignoring case. It never changes the order (History lists
the matches newest first unless sorted otherwise) and never raises for what a person
typed: the query is data, never syntax (FTS operators, quotes, ``%``/``_``, SQL
quotes are matched as the characters they are).

The index (migration ``0021_prompt_search``) matches substrings, so a Chinese word is
found inside a sentence that has no spaces:

- **SQLite**: an FTS5 table ``videos_generation_fts`` with the ``trigram`` tokenizer,
  external content (the prompt is stored once, in ``videos_generation``), kept by
  three triggers on insert, update of the prompt and delete. Terms of 3 characters or
  more become one ``MATCH`` (each a quoted FTS string, all required). SQLite's planner
  cannot tell a rare word from a common one, so a probe (``FTS_PROBE_ROWS``) decides:
  a rare match is looked up through the index; a common one is a ``LIKE`` on the rows
  the newest-first index walks, which meets a page of them within a few hundred rows.
- **PostgreSQL**: a ``pg_trgm`` GIN index on the prompt; each term of 3 characters or
  more is a ``prompt ILIKE '%term%'`` the index serves, when the same probe finds the
  match rare; a common or short term is a ``strpos(lower(prompt), term) > 0`` checked
  as the newest-first index walks the team's rows (see ``Contains``).

A trigram index cannot look up a term shorter than 3 characters (it has no trigram;
common in Chinese: 灯塔, 黄昏). Such a term is checked with ``LIKE`` (``strpos`` on
PostgreSQL) on the rows the
other terms found through the index, or, when every term is short, on the team's rows
as its newest-first index walks them, stopping at the page's last row (cheap when the
term is common, a scan of the team's rows when it is rare). ``bench/search.py``
measures both; README's benchmark section has the figures.

``ensure_index`` restores the SQLite triggers (and rebuilds the index) should a later
migration rebuild ``videos_generation`` (SQLite drops a table's triggers with it); it
runs after every ``migrate``.
"""

from __future__ import annotations

import json
import re

from django.db import connection as default_connection
from django.db.models import F, Lookup, QuerySet
from django.db.models.expressions import RawSQL

#: Trigram indexes look up terms of at least this many characters.
MIN_INDEXED = 3
#: At most this many terms are used (the rest of a longer query is ignored).
MAX_TERMS = 12
#: Each term is cut to this many characters.
MAX_TERM_CHARS = 200

FTS_TABLE = "videos_generation_fts"
#: Words matching more prompts than this are checked one row at a time as the team's
#: newest-first index walks them (a page of common words is met within a few hundred rows),
#: fewer through the FTS index (each match looked up, then sorted).
FTS_PROBE_ROWS = 2_000

_TOKEN = re.compile(r'"([^"]*)"?|([^\s"]+)')
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def terms(query: str) -> list[str]:
    """The terms of ``query``, lower-cased, without repeats, at most ``MAX_TERMS``:
    each "quoted phrase" (an unclosed quote runs to the end; inner whitespace is
    collapsed) and each other word. Control characters and lone surrogates are dropped;
    an empty query has no terms."""
    out: list[str] = []
    for phrase, word in _TOKEN.findall(_UNSAFE.sub("", query or "")):
        term = " ".join((phrase or word).split()).lower()[:MAX_TERM_CHARS]
        if term and term not in out:
            out.append(term)
        if len(out) == MAX_TERMS:
            break
    return out


class ILike(Lookup):
    """``lhs ILIKE rhs`` (PostgreSQL), usable as a filter expression."""

    lookup_name = "studio_ilike"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} ILIKE {rhs}", [*lhs_params, *rhs_params]


class Contains(Lookup):
    """``strpos(lower(lhs), lower(rhs)) > 0`` (PostgreSQL): ``rhs`` occurs in ``lhs``, any
    case, every character literal. No index serves it, and the planner, unable to guess
    how many rows it keeps, takes it for a common condition: it walks the newest-first
    index and stops at the page's last row instead of reading every row and sorting.
    The words it checks are short (no trigram) or common (the probe said so)."""

    lookup_name = "studio_contains"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"strpos(lower({lhs}), lower({rhs})) > 0", [*lhs_params, *rhs_params]


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_string(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _fts_is_selective(connection, match: str) -> bool:
    """Whether the FTS5 expression ``match`` matches at most ``FTS_PROBE_ROWS`` prompts (of
    every team): one query reading at most that many index entries."""
    with connection.cursor() as cursor:
        sql = f"SELECT count(*) FROM (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s LIMIT %s)"  # noqa: S608
        cursor.execute(sql, [match, FTS_PROBE_ROWS + 1])
        return cursor.fetchone()[0] <= FTS_PROBE_ROWS


def _pg_is_selective(connection, patterns: list[str]) -> bool:
    """Whether the planner expects at most ``FTS_PROBE_ROWS`` prompts (of every team) to be
    ``ILIKE`` every one of ``patterns``: an ``EXPLAIN``, which reads no row (it uses the
    table's statistics, which autovacuum keeps)."""
    where = " AND ".join(["prompt ILIKE %s"] * len(patterns))
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM videos_generation WHERE {where}", patterns)  # noqa: S608
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return plan[0]["Plan"]["Plan Rows"] <= FTS_PROBE_ROWS


def search(queryset: QuerySet, query: str, *, connection=None) -> QuerySet:
    """``queryset`` narrowed to the generations whose prompt holds every term of ``query``
    (see ``terms``); unchanged when it has none. Order and other filters are kept.

    When a term has 3 characters or more, one probe decides the plan (``FTS_PROBE_ROWS``):
    on SQLite the match stopped after that many rows, on PostgreSQL the planner's
    estimate (an ``EXPLAIN``)."""
    found = terms(query)
    if not found:
        return queryset
    connection = connection or default_connection
    vendor = connection.vendor
    long = [t for t in found if len(t) >= MIN_INDEXED]
    short = [t for t in found if len(t) < MIN_INDEXED]
    qs = queryset
    if vendor == "sqlite":
        if long:
            match = " AND ".join(_fts_string(t) for t in long)
            if _fts_is_selective(connection, match):
                sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"  # noqa: S608 (a constant)
                qs = qs.filter(pk__in=RawSQL(sql, (match,)))
            else:
                short = found  # common words: the newest-first walk meets a page of them at once
        for term in short:
            qs = qs.filter(prompt__icontains=term)
        return qs
    if vendor == "postgresql":
        if long and _pg_is_selective(connection, [_like_pattern(t) for t in long]):
            for term in long:
                qs = qs.filter(ILike(F("prompt"), _like_pattern(term)))
        else:
            short = found
        for term in short:
            qs = qs.filter(Contains(F("prompt"), term))
        return qs
    for term in found:
        qs = qs.filter(prompt__icontains=term)
    return qs


# --- the SQLite index's upkeep -----------------------------------------------------------

SQLITE_TRIGGERS = {
    f"{FTS_TABLE}_ai": f"""
        CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ai AFTER INSERT ON videos_generation BEGIN
            INSERT INTO {FTS_TABLE}(rowid, prompt) VALUES (new.id, new.prompt);
        END""",
    f"{FTS_TABLE}_ad": f"""
        CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ad AFTER DELETE ON videos_generation BEGIN
            INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, prompt) VALUES ('delete', old.id, old.prompt);
        END""",
    f"{FTS_TABLE}_au": f"""
        CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_au AFTER UPDATE OF prompt ON videos_generation BEGIN
            INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, prompt) VALUES ('delete', old.id, old.prompt);
            INSERT INTO {FTS_TABLE}(rowid, prompt) VALUES (new.id, new.prompt);
        END""",
}
SQLITE_CREATE = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "prompt, content='videos_generation', content_rowid='id', tokenize='trigram')",
    *SQLITE_TRIGGERS.values(),
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
]
SQLITE_DROP = [*(f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS), f"DROP TABLE IF EXISTS {FTS_TABLE}"]
POSTGRESQL_CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS gen_prompt_trgm ON videos_generation USING gin (prompt gin_trgm_ops)",
]
POSTGRESQL_DROP = ["DROP INDEX IF EXISTS gen_prompt_trgm"]


def ensure_index(connection=None) -> bool:
    """On SQLite, re-create any missing trigger of the prompt index and then rebuild it
    from the table (a table rebuild by a migration drops its triggers). Returns True if
    it had to; False when all was in place, the index table does not exist yet (before
    migration 0015) or the database is not SQLite."""
    connection = connection or default_connection
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT type, name FROM sqlite_master WHERE name LIKE %s", [f"{FTS_TABLE}%"])
        present = {name for _, name in cursor.fetchall()}
        if FTS_TABLE not in present or set(SQLITE_TRIGGERS) <= present:
            return False
        for sql in SQLITE_CREATE[1:]:
            cursor.execute(sql)
    return True
