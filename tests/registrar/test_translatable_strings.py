"""Strings wrapped for translation must reach the catalogue: ``makemessages`` (xgettext) finds only
calls of ``_`` and the gettext functions under their own names, so ``gettext_lazy as _lazy`` hid
"You have already signed this request…", "Submitted from/until" and the import form's labels from
the translators and they showed in English in the Chinese UI."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("registrar", "students", "statuschange", "grades", "graduation", "correspondence")
#: the names xgettext extracts from Python with the keywords Django's makemessages passes
EXTRACTED = {
    "_",
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
    "npgettext_lazy",
}
#: django/core/management/commands/makemessages.py, domain "django"
XGETTEXT_KEYWORDS = [
    "--keyword=gettext_noop",
    "--keyword=gettext_lazy",
    "--keyword=ngettext_lazy:1,2",
    "--keyword=pgettext:1c,2",
    "--keyword=npgettext:1c,2,3",
    "--keyword=pgettext_lazy:1c,2",
    "--keyword=npgettext_lazy:1c,2,3",
]


def _sources() -> list[Path]:
    return sorted(p for app in APPS for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts)


def test_translation_functions_keep_names_makemessages_extracts():
    hidden = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
                for alias in node.names:
                    local = alias.asname or alias.name
                    if "gettext" in alias.name and local not in EXTRACTED:
                        hidden.append(f"{path.relative_to(ROOT)}: {alias.name} as {local}")
    assert not hidden, "makemessages would not extract these strings: " + "; ".join(hidden)


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="xgettext (Debian package gettext) is not installed")
def test_the_strings_seen_in_english_are_extracted():
    files = [
        ROOT / "registrar/approvals/views.py",
        ROOT / "statuschange/views.py",
        ROOT / "grades/views/imports.py",
        ROOT / "grades/forms/imports.py",
        ROOT / "grades/services/stations.py",
    ]
    out = subprocess.run(
        ["xgettext", "--language=Python", "--from-code=UTF-8", *XGETTEXT_KEYWORDS, "--output=-", *map(str, files)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for msgid in (
        "You have already signed this request; it is now at “%(state)s”.",
        "Submitted from",
        "Submitted until",
        "All types",
        "What the file holds",
        "Excel file",
        "The file was uploaded; the import runs in the background.",
        "Make-up grade sheet",
    ):
        assert f'msgid "{msgid}"' in out, msgid
