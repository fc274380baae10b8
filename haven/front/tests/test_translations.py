"""Every app's interface is complete in Spanish and Italian, and each compiled .mo is current."""

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

HAVEN_DIR = Path(settings.BASE_DIR)
LANGUAGES = ("es", "it")
# A Python file with these has strings for people to read; templates always do.
TRANSLATABLE_CALL = re.compile(r"\b(gettext|gettext_lazy|ngettext|ngettext_lazy|pgettext)\b|\b_\(")


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> str:
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"


def parse_po(path: Path) -> list[Entry]:
    """A .po file's entries (obsolete `#~` ones left out), parsed without gettext's tools."""
    entries: list[Entry] = []
    flags: set[str] = set()
    field_name, index = "", 0
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#"):
            if line.startswith("#,"):
                flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith('"'):
            value = ast.literal_eval(line)
        else:
            keyword, _, rest = line.partition(" ")
            value = ast.literal_eval(rest)
            # An entry starts at its msgctxt, or at its msgid when it has no context.
            if keyword == "msgctxt" or (keyword == "msgid" and field_name != "msgctxt"):
                entries.append(Entry(flags=flags, line=number))
                flags = set()
            match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
            field_name, index = ("msgstr", int(match.group(1))) if match else (keyword, 0)
            if field_name not in ("msgctxt", "msgid", "msgid_plural", "msgstr") or not entries:
                raise AssertionError(f"{path}:{number}: cannot read {raw!r}")
            if field_name == "msgid":
                entries[-1].line = number
        entry = entries[-1]
        if field_name == "msgstr":
            entry.msgstr[index] = entry.msgstr.get(index, "") + value
        else:
            setattr(entry, field_name, (getattr(entry, field_name) or "") + value)
    return entries


def catalogs() -> list[Path]:
    found = sorted(HAVEN_DIR.glob("*/locale/*/LC_MESSAGES/django.po"))
    found += sorted(HAVEN_DIR.glob("locale/*/LC_MESSAGES/django.po"))
    return [path for path in found if path.parts[-3] in LANGUAGES]


def label(path: Path) -> str:
    return str(path.relative_to(HAVEN_DIR.parent))


def test_the_po_reader_understands_contexts_plurals_flags_and_continued_lines(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        '#: a.py:1\n#, python-format\nmsgid "Hello, "\n"%(name)s"\nmsgstr "Hola, %(name)s"\n\n'
        'msgctxt "month"\nmsgid "May"\nmsgstr "Mayo"\n\n'
        '#, fuzzy\nmsgid "one file"\nmsgid_plural "%(n)s files"\nmsgstr[0] "un archivo"\n'
        'msgstr[1] "%(n)s archivos"\n\n#~ msgid "gone"\n#~ msgstr "ido"\n',
        encoding="utf-8",
    )
    header, hello, month, files = parse_po(po)
    assert header.msgid == "" and "charset=UTF-8" in header.msgstr[0]
    assert (hello.msgid, hello.msgstr[0], hello.flags) == (
        "Hello, %(name)s",
        "Hola, %(name)s",
        {"python-format"},
    )
    assert month.key == "month\x04May"
    assert files.msgid_plural == "%(n)s files" and files.msgstr[1] == "%(n)s archivos"
    assert "fuzzy" in files.flags


@pytest.mark.parametrize("po", catalogs(), ids=label)
def test_every_entry_is_translated_and_none_is_fuzzy(po):
    problems = []
    for entry in parse_po(po):
        if entry.msgid == "" and entry.msgctxt is None:
            continue
        if "fuzzy" in entry.flags:
            problems.append(f"line {entry.line}: fuzzy {entry.msgid!r}")
        if not entry.msgstr or any(text == "" for text in entry.msgstr.values()):
            problems.append(f"line {entry.line}: not translated {entry.msgid!r}")
    assert problems == [], f"{label(po)}:\n" + "\n".join(problems)


@pytest.mark.parametrize("po", catalogs(), ids=label)
def test_the_compiled_mo_beside_each_po_gives_the_same_translations(po):
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{label(mo)} is missing: run `make messages`"
    with mo.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    stale = []
    for entry in parse_po(po):
        if entry.msgid == "" or "fuzzy" in entry.flags:
            continue
        if entry.msgid_plural is None:
            if catalog.get(entry.key) != entry.msgstr.get(0):
                stale.append(entry.msgid)
        else:
            for index, text in entry.msgstr.items():
                if catalog.get((entry.key, index)) != text:
                    stale.append(f"{entry.msgid} [{index}]")
    assert stale == [], f"{label(mo)} is older than its .po (run `make messages`): {stale}"


def apps_with_text() -> list[Path]:
    """Haven's apps that show people text: templates, or marked strings in their Python."""
    found = []
    for app in sorted(path.parent for path in HAVEN_DIR.glob("*/apps.py")):
        has_templates = any((app / "templates").glob("**/*.html"))
        has_strings = any(
            TRANSLATABLE_CALL.search(source.read_text(encoding="utf-8"))
            for source in app.glob("**/*.py")
            if "tests" not in source.relative_to(app).parts
            and "migrations" not in source.relative_to(app).parts
        )
        if has_templates or has_strings:
            found.append(app)
    return found


def test_every_app_with_text_has_spanish_and_italian_catalogs():
    apps = apps_with_text()
    assert HAVEN_DIR / "front" in apps
    missing = [
        f"{app.name}: {language}"
        for app in apps
        for language in LANGUAGES
        if not (app / "locale" / language / "LC_MESSAGES" / "django.po").exists()
    ]
    assert missing == [], (
        "apps without a catalog (cd haven/<app> && haven makemessages -l es -l it): "
        + ", ".join(missing)
    )
