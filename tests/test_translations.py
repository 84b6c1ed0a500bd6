"""Every UI text has a Swedish translation, and the catalog holds every text the code uses."""

import subprocess
import sys

from babel.messages.pofile import read_po


def _catalog(project_root):
    with (project_root / "app/translations/sv/LC_MESSAGES/messages.po").open("rb") as fh:
        return read_po(fh)


def test_swedish_catalog_is_complete(project_root):
    def translated(message) -> bool:
        return all(message.string) if isinstance(message.string, tuple) else bool(message.string)

    untranslated = [m.id for m in _catalog(project_root) if m.id and (not translated(m) or m.fuzzy)]
    assert untranslated == [], "run 'make translations-update' and translate these"


def test_every_text_in_the_code_is_in_the_catalog(project_root, tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
                    "--ignore-dirs=.* __pycache__",
                    "-o", str(pot), "app", "templates"], cwd=project_root, check=True, capture_output=True)
    with pot.open("rb") as fh:
        extracted = {m.id for m in read_po(fh) if m.id}
    known = {m.id for m in _catalog(project_root)}
    assert sorted(extracted - known) == [], "run 'make translations-update' and translate these"


def test_shared_macros_are_translated(client):
    from flask import render_template_string

    html = render_template_string('{% import "_macros/forms.html" as f %}{{ f.error_summary(form) }}',
                                  form=type("F", (), {"errors": {"x": ["y"]}, "__iter__": lambda self: iter([])})())
    assert "Rätta följande" in html
