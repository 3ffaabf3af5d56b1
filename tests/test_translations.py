"""Every string of the interface has a Swedish translation, and the compiled catalogue that
the app loads is up to date with it."""

from __future__ import annotations

import gettext
import re
import subprocess
import sys
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.factories import login
from tests.ui.world import World, main_pages, populate
from tracker.matching.profile_texts import PROFILE_TEXTS
from tracker.models import User

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
        if m.id
        and isinstance(m.id, str)
        and m.string
        and (compiled.pgettext(m.context, m.id) if m.context else compiled.gettext(m.id))
        != m.string
    ]
    assert stale == [], "run `make translations` (pybabel compile) and commit messages.mo"


# --- one language per screen -------------------------------------------------------------------

# Shorter strings are too often words both languages share ("Horizon Europe", "Erasmus+").
MIN_LENGTH = 12
_PLACEHOLDER = re.compile(r"%\(\w+\)[sdifg]|%%|%[sd]")
# Proper names and data that are the same in both languages or are not the interface's.
ALLOWED = {
    "Europe/Stockholm",
}


class _Text(HTMLParser):
    """The words a reader meets: text outside scripts and styles, and the labels read out
    by a screen reader (aria-label, title, placeholder, alt)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("aria-label", "title", "placeholder", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def page_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _fragments(text: str) -> set[str]:
    """The parts of a message between its placeholders, long enough to tell a language."""
    return {
        " ".join(part.split())
        for part in _PLACEHOLDER.split(text)
        if len(" ".join(part.split())) >= MIN_LENGTH and " " in part.strip()
    }


def foreign_strings() -> dict[str, set[str]]:
    """Per language, the strings that belong only to the other: for a Swedish page every
    English msgid whose translation differs, for an English page every such translation."""
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="sv")
    english: set[str] = set()
    swedish: set[str] = set()
    for m in catalog:
        if not m.id or not m.string:
            continue
        ids = [m.id] if isinstance(m.id, str) else list(m.id)
        strings = [m.string] if isinstance(m.string, str) else list(m.string)
        en = set().union(*(_fragments(i) for i in ids))
        sv = set().union(*(_fragments(s) for s in strings))
        english |= en - sv
        swedish |= sv - en
    return {"sv": english - ALLOWED, "en": swedish - ALLOWED}


@pytest.fixture()
def populated(session: Session, client: FlaskClient) -> World:
    world = populate(session)
    session.commit()
    return world


@pytest.mark.parametrize("language", ["sv", "en"])
def test_every_main_page_speaks_one_language(
    session: Session, client: FlaskClient, populated: World, language: str
) -> None:
    admin = session.get(User, populated.admin_id)
    assert admin is not None
    admin.language = language
    session.commit()
    login(client, admin)
    foreign = foreign_strings()[language]
    found: dict[str, list[str]] = {}
    for path in main_pages(populated):
        response = client.get(path)
        assert response.status_code == 200, path
        text = page_text(response.get_data(as_text=True))
        hits = sorted(s for s in foreign if s in text)
        if hits:
            found[path] = hits
    shown = "\n".join(f"{path}: {hits}" for path, hits in found.items())
    assert found == {}, f"strings of the other language on {language} pages:\n{shown}"


def test_the_default_profiles_texts_are_in_the_catalogue() -> None:
    """Every English text of the default profile that pages show (its name, programme-prior
    and Interreg notes, gate reasons) is listed for translation."""
    data = tomllib.loads((ROOT / "tracker" / "data" / "default_profile.toml").read_text("utf-8"))
    texts = {data["name"]}
    for area in data["areas"]:
        texts |= {p["note"] for p in area.get("programme_priors", []) if p.get("note")}
    for entries in data.get("context", {}).values():
        if isinstance(entries, list):
            texts |= {p["note"] for p in entries if isinstance(p, dict) and p.get("note")}
    gates = data.get("gates", {})
    texts |= {p["note"] for p in gates.get("interreg", []) if p.get("note")}
    texts |= {r["reason"] for r in gates.get("rules", []) if r.get("reason")}
    assert texts - {str(t) for t in PROFILE_TEXTS} == set()
