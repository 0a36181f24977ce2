"""The interface in Simplified Chinese: the catalog is complete for every string the code
marks, keeps each placeholder and tag, and the compiled catalog the studio loads is the one
the translators wrote (``locale/zh_Hans/LC_MESSAGES``; see README "Translations")."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

ROOT = Path(settings.BASE_DIR)
CATALOG = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"
SOURCES = ("accounts", "videos", "project", "templates", "static", "manage.py")

#: ``%(name)s``, ``%(n)d``, ``%s`` and ``{name}``: what Python fills in after translation.
PLACEHOLDER = re.compile(r"%\([a-z_0-9]+\)[sdfr]|%[sdfr]|\{[a-z_0-9]+\}")
TAG = re.compile(r"</?[a-z][a-z0-9]*")


def fresh_catalog(tmp_path: Path) -> polib.POFile:
    """The catalog as ``makemessages`` makes it from the code now, merged with the shipped
    translations: a string the code marks that the shipped catalog lacks comes out
    untranslated, and one whose English changed comes out fuzzy."""
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        if os.environ.get("CI"):
            pytest.fail("GNU gettext (xgettext, msgmerge) is needed to check the catalog; .ci/run installs it")
        pytest.skip("GNU gettext is not installed here (apt-get install gettext)")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
        else:
            shutil.copy(source, tmp_path / name)
    shutil.copytree(ROOT / "locale", tmp_path / "locale")
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--locale", "zh_Hans", "--no-obsolete", "--verbosity", "0"],
        cwd=tmp_path,
        env={**os.environ, "DEBUG": "true", "DJANGO_SETTINGS_MODULE": "project.settings"},
        check=True,
        capture_output=True,
    )
    return polib.pofile(str(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))


def shipped() -> polib.POFile:
    return polib.pofile(str(CATALOG / "django.po"))


def missing(entry: polib.POEntry) -> bool:
    if entry.obsolete:
        return False
    if "fuzzy" in entry.flags:
        return True
    if entry.msgid_plural:
        return not entry.msgstr_plural or not all(entry.msgstr_plural.values())
    return not entry.msgstr


def where(entry: polib.POEntry) -> str:
    places = ", ".join(f"{path}:{line}" for path, line in entry.occurrences[:2])
    return f"{entry.msgid!r} ({places})"


def test_every_string_the_code_marks_has_a_chinese_translation(tmp_path):
    catalog = fresh_catalog(tmp_path)
    assert len(catalog) > 1000, "makemessages found almost nothing: is the catalog being read?"
    lacking = [where(entry) for entry in catalog if missing(entry)]
    assert not lacking, (
        f"{len(lacking)} strings lack a zh-Hans translation (run `make messages`, translate, "
        "and compile):\n" + "\n".join(lacking[:40])
    )


def translations(entry: polib.POEntry) -> list[tuple[str, str]]:
    """(English, Chinese) pairs of one entry: the singular, or the plural's one Chinese form
    against the English plural (which carries the same placeholders)."""
    if entry.msgid_plural:
        return [(entry.msgid_plural, text) for text in entry.msgstr_plural.values()]
    return [(entry.msgid, entry.msgstr)]


def test_each_translation_keeps_its_placeholders_and_tags():
    wrong = []
    for entry in shipped():
        if entry.obsolete or missing(entry):
            continue
        for english, chinese in translations(entry):
            if sorted(PLACEHOLDER.findall(english)) != sorted(PLACEHOLDER.findall(chinese)):
                wrong.append(f"placeholders differ: {english!r} → {chinese!r}")
            if sorted(TAG.findall(english)) != sorted(TAG.findall(chinese)):
                wrong.append(f"HTML tags differ: {english!r} → {chinese!r}")
    assert not wrong, "\n".join(wrong[:40])


def test_the_chinese_is_chinese():
    """A translation left in English (copied over to quiet the check) is not a translation:
    each one holds a Chinese character, unless the English is only names and symbols."""
    not_chinese = []
    for entry in shipped():
        if entry.obsolete or missing(entry):
            continue
        for english, chinese in translations(entry):
            words = [w for w in re.findall(r"[A-Za-z_]{4,}", PLACEHOLDER.sub(" ", english)) if w.lower() not in NAMES]
            if words and not re.search(r"[\u4e00-\u9fff]", chinese):
                not_chinese.append(f"{english!r} → {chinese!r}")
    assert not not_chinese, "\n".join(not_chinese[:40])


#: Words that stay as they are in Chinese: names, formats, and the gateways' field names.
NAMES = {"studio", "webhook", "webhooks", "english", "json", "https", "grok", "imagine", "request_id"}


def test_the_compiled_catalog_is_the_one_written():
    """``django.mo`` (what the studio loads) says what ``django.po`` says: compiled after
    the last edit (``make messages``)."""
    written = {(e.msgctxt, e.msgid): translations(e) for e in shipped() if not e.obsolete and not missing(e)}
    compiled = {(e.msgctxt, e.msgid): translations(e) for e in polib.mofile(str(CATALOG / "django.mo")) if e.msgid}
    stale = [msgid for key, msgid in ((k, k[1]) for k in written) if compiled.get(key) != written[key]]
    assert not stale, f"django.mo is out of date for {len(stale)} strings, e.g. {stale[:5]}"
    assert not set(compiled) - set(written), "django.mo holds strings the catalog no longer has"


def test_the_studio_loads_the_catalog():
    with translation.override("zh-hans"):
        assert translation.gettext("History") != "History"
        assert re.search(r"[\u4e00-\u9fff]", translation.gettext("History"))
    with translation.override("en"):
        assert translation.gettext("History") == "History"
