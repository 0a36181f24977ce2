"""The prompt search index (``videos/search.py``): SQLite FTS5 with the trigram tokenizer,
kept by triggers, or PostgreSQL's pg_trgm GIN index; both filled with the rows already
there (FTS5 ``rebuild``; a new index reads the table)."""

from django.db import migrations

from videos import search


def _run(statements_for):
    def run(apps, schema_editor):
        statements = statements_for.get(schema_editor.connection.vendor, [])
        for sql in statements:
            schema_editor.execute(sql)

    return run


create = _run({"sqlite": search.SQLITE_CREATE, "postgresql": search.POSTGRESQL_CREATE})
drop = _run({"sqlite": search.SQLITE_DROP, "postgresql": search.POSTGRESQL_DROP})


class Migration(migrations.Migration):
    dependencies = [
        ("videos", "0020_notes"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
