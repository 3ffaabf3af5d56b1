"""Every string of the interface has a Swedish translation, and the compiled catalogue that
the app loads is up to date with it."""

from __future__ import annotations

import gettext
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "tracker" / "translations" / "sv" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")


def _extracted(tmp_path: Path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "msg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "--no-location",
            "--omit-header",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        return {str(m.id if isinstance(m.id, str) else m.id[0]) for m in read_po(handle) if m.id}


def test_every_interface_string_has_a_swedish_translation(tmp_path: Path) -> None:
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="sv")
    translated = {
        str(m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and m.string and "fuzzy" not in m.flags
    }
    missing = sorted(_extracted(tmp_path) - translated)
    assert missing == [], "run `make translations` and translate these in messages.po"


def test_compiled_catalogue_matches_the_po_file() -> None:
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="sv")
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [
        m.id
        for m in catalog
        if m.id and isinstance(m.id, str) and m.string and compiled.gettext(m.id) != m.string
    ]
    assert stale == [], "run `make translations` (pybabel compile) and commit messages.mo"
