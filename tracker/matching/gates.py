"""Eligibility gates: reasons why a call cannot be used, whatever its relevance.

Gates are checked before relevance and are reported with a code and a sentence a
member of staff can read ("Interreg Czechia-Poland: the programme area does not
include Östergötland"). They are deliberately conservative: a wrong gate hides a
call for good, a missed gate only shows one call too many.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from tracker.calltime import CallDates, deadlines_passed
from tracker.matching.call import CallInput
from tracker.matching.profile import Gates
from tracker.matching.regions import REGION_GATE, region_reason
from tracker.matching.text import snippet, strip_html, wordset

# Countries (and their adjectives) that a call may name when it is open to some
# countries only. The home country is taken from the profile and removed.
COUNTRIES: dict[str, tuple[str, ...]] = {
    "Austria": ("Austria", "Austrian"),
    "Belgium": ("Belgium", "Belgian"),
    "Bulgaria": ("Bulgaria", "Bulgarian"),
    "Croatia": ("Croatia", "Croatian"),
    "Cyprus": ("Cyprus", "Cypriot"),
    "Czechia": ("Czechia", "Czech Republic", "Czech"),
    "Denmark": ("Denmark", "Danish"),
    "Estonia": ("Estonia", "Estonian"),
    "Finland": ("Finland", "Finnish"),
    "France": ("France", "French"),
    "Germany": ("Germany", "German"),
    "Greece": ("Greece", "Greek"),
    "Hungary": ("Hungary", "Hungarian"),
    "Ireland": ("Ireland", "Irish"),
    "Italy": ("Italy", "Italian"),
    "Latvia": ("Latvia", "Latvian"),
    "Lithuania": ("Lithuania", "Lithuanian"),
    "Luxembourg": ("Luxembourg",),
    "Malta": ("Malta", "Maltese"),
    "Netherlands": ("Netherlands", "Dutch"),
    "Poland": ("Poland", "Polish", "Polska"),
    "Portugal": ("Portugal", "Portuguese"),
    "Romania": ("Romania", "Romanian"),
    "Slovakia": ("Slovakia", "Slovak"),
    "Slovenia": ("Slovenia", "Slovenian"),
    "Spain": ("Spain", "Spanish"),
    "Sweden": ("Sweden", "Swedish", "Sverige"),
    "Norway": ("Norway", "Norwegian"),
    "Iceland": ("Iceland", "Icelandic"),
    "Switzerland": ("Switzerland", "Swiss"),
    "Serbia": ("Serbia", "Serbian"),
    "Ukraine": ("Ukraine", "Ukrainian"),
    "Moldova": ("Moldova", "Moldovan"),
    "Albania": ("Albania", "Albanian"),
    "North Macedonia": ("North Macedonia", "Macedonian"),
    "Montenegro": ("Montenegro",),
    "Bosnia and Herzegovina": ("Bosnia",),
    "Kosovo": ("Kosovo",),
    "Türkiye": ("Türkiye", "Turkey", "Turkish"),
    "Georgia": ("Georgia", "Georgian"),
    "Armenia": ("Armenia", "Armenian"),
    "Somalia": ("Somalia", "Somali"),
}

# Sentences that open the call to a broad group are not restrictions.
_BROAD_RE = re.compile(
    r"\b(?:member states|EU countries|associated countries|participating countries|"
    r"programme countries|any country|all countries|EEA|European Union)\b",
    re.IGNORECASE,
)
# Applicants named by nationality in a title: "support to Slovenian and Croatian CSOs".
_APPLICANT_NOUNS = (
    r"(?:civil society )?(?:organi[sz]ations|CSOs|SCOs|NGOs|municipalities|authorities|"
    r"stakeholders|entities|applicants|companies|SMEs|schools|actors|partners|institutions)"
)
_INTERREG_RE = re.compile(r"\binterreg\b|\bURBACT\b|\bESPON\b|\bINTERACT\b", re.IGNORECASE)
EU_MEMBERS = wordset(
    "Austria Belgium Bulgaria Croatia Cyprus Czechia Denmark Estonia Finland France Germany "
    "Greece Hungary Ireland Italy Latvia Lithuania Luxembourg Malta Netherlands Poland "
    "Portugal Romania Slovakia Slovenia Spain Sweden"
)


@dataclass(frozen=True)
class GateHit:
    """Why a call was gated: a stable code and a sentence for people."""

    code: str
    reason: str
    snippet: str | None = None


_ESCAPE_RE = re.compile(r"\\.")


class TextPattern:
    """A case-insensitive pattern, searched fast.

    Python's `re` is slow with IGNORECASE and with a leading word boundary, both of
    which defeat its literal-prefix scan; gate patterns run over every description,
    so a pattern without upper-case letters is searched, case-sensitively, in the
    lower-cased text, and a leading ``\\b`` is checked by hand.
    """

    __slots__ = ("boundary", "on_lower", "regex")

    def __init__(self, pattern: str) -> None:
        body = pattern[2:] if pattern.startswith("\\b") else pattern
        self.boundary = body is not pattern
        self.on_lower = not any(c.isupper() for c in _ESCAPE_RE.sub("", body))
        self.regex = re.compile(body, 0 if self.on_lower else re.IGNORECASE)

    def search(self, text: str, lowered: str) -> re.Match[str] | None:
        target = lowered if self.on_lower else text
        m = self.regex.search(target)
        while m is not None and self.boundary and m.start() > 0 and _is_word(target[m.start() - 1]):
            m = self.regex.search(target, m.start() + 1)
        return m

    def finditer(self, text: str, lowered: str) -> Iterator[re.Match[str]]:
        target = lowered if self.on_lower else text
        for m in self.regex.finditer(target):
            if not (self.boundary and m.start() > 0 and _is_word(target[m.start() - 1])):
                yield m


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


@dataclass(frozen=True)
class CompiledRule:
    code: str
    reason: str
    patterns: tuple[TextPattern, ...]
    unless: tuple[TextPattern, ...]
    fields: tuple[str, ...]


@dataclass(frozen=True)
class CompiledGates:
    gates: Gates
    interreg: tuple[tuple[re.Pattern[str], str, bool, str], ...]
    rules: tuple[CompiledRule, ...]
    home_re: re.Pattern[str]
    countries_re: re.Pattern[str]
    country_of: dict[str, str]
    title_applicants_re: re.Pattern[str]
    title_place_re: re.Pattern[str]
    restriction_res: tuple[TextPattern, ...]


def compile_gates(gates: Gates) -> CompiledGates:
    """Pre-compile the regular expressions of a profile's gates."""
    home = {n.lower() for n in gates.home_names} | {gates.home_country.lower()}
    country_of: dict[str, str] = {}
    for country, names in COUNTRIES.items():
        if country.lower() in home:
            continue
        for name in names:
            if name.lower() not in home:
                country_of[name.lower()] = country
    names_alt = "|".join(sorted((re.escape(n) for n in country_of), key=len, reverse=True))
    outside = sorted(
        (re.escape(n) for n, c in country_of.items() if c not in EU_MEMBERS), key=len, reverse=True
    )
    home_alt = "|".join(re.escape(n) for n in sorted(home, key=len, reverse=True))
    return CompiledGates(
        gates=gates,
        interreg=tuple(
            (re.compile(p.pattern, re.IGNORECASE), p.name, p.includes_home, p.note)
            for p in gates.interreg
        ),
        rules=tuple(
            CompiledRule(
                code=r.code,
                reason=r.reason,
                patterns=tuple(TextPattern(p) for p in r.patterns),
                unless=tuple(TextPattern(p) for p in r.unless),
                fields=r.fields,
            )
            for r in gates.rules
        ),
        home_re=re.compile(rf"\b(?:{home_alt})\b", re.IGNORECASE),
        countries_re=re.compile(rf"\b(?:{names_alt})\b", re.IGNORECASE),
        country_of=country_of,
        title_applicants_re=re.compile(
            rf"\b(?:{names_alt})(?:(?:,| and| or) (?:{names_alt}))* (?:[\w-]+ ){{0,3}}"
            rf"{_APPLICANT_NOUNS}\b",
            re.IGNORECASE,
        ),
        title_place_re=re.compile(rf"\b(?:in|for) (?:{'|'.join(outside)})\b", re.IGNORECASE),
        restriction_res=(
            # "Only activities carried out in Poland are eligible."
            TextPattern(
                rf"\b(?<!not )(?:only|exclusively|solely)\b[^.;:]{{0,80}}?"
                rf"\b(?:from|in|established in|based in|located in|registered in)\s+"
                rf"(?:the\s+)?(?:{names_alt})\b"
            ),
            # "open only to Slovenian and Croatian organisations"
            TextPattern(
                rf"\b(?<!not )(?:only|exclusively|solely)\s+(?:to\s+|for\s+)?(?:{names_alt})"
                rf"(?:(?:,| and| or) (?:{names_alt}))* {_APPLICANT_NOUNS.lower()}\b"
            ),
            # "applicants must be established in Latvia or Lithuania"
            TextPattern(
                rf"\bmust be (?:established|located|based|registered) in\s+"
                rf"(?:the\s+)?(?:{names_alt})\b"
            ),
        ),
    )


def check_gates(
    compiled: CompiledGates,
    call: CallInput,
    *,
    now: datetime | None,
    texts: dict[str, str] | None = None,
) -> GateHit | None:
    """The first gate that excludes `call`, or None when it is eligible.

    `texts` may carry the call's already cleaned fields (title, keywords,
    description, programme) to save stripping HTML twice.
    """
    g = compiled.gates
    if texts is None:
        texts = call_texts(call)

    if call.is_withdrawn:
        return GateHit("withdrawn", "Withdrawn: the sources no longer list this call.")

    dates = CallDates.of(
        opens_at=None, deadlines=call.deadlines, deadline_model=call.deadline_model
    )
    if g.closed_calls and now is not None and deadlines_passed(dates, now):
        last = max(call.deadlines)
        return GateHit(
            "closed", f"Closed: the last deadline ({last.date().isoformat()}) has passed."
        )

    hit = _check_region(call, g.home_region)
    if hit is None and not call.eligible_nuts:  # names only where the area is not data
        hit = _check_interreg(compiled, texts)
    if hit is not None:
        return hit

    if call.eligible_countries:
        names = " ".join(call.eligible_countries)
        if not compiled.home_re.search(names):
            shown = ", ".join(call.eligible_countries[:6])
            return GateHit(
                "geography.countries",
                f"Open only to applicants from {shown}; {g.home_country} is not eligible.",
            )
    if call.eligible_regions and not call.eligible_countries:
        names = " ".join(call.eligible_regions)
        if not compiled.home_re.search(names):
            shown = ", ".join(call.eligible_regions[:4])
            return GateHit(
                "geography.regions",
                f"Open only to the regions {shown}…; Östergötland is not among them.",
            )

    lowered: dict[str, str] = {}
    for rule in compiled.rules:
        for field in rule.fields:
            text = texts.get(field, "")
            if not text:
                continue
            low = lowered.get(field)
            if low is None:
                low = lowered[field] = text.lower()
            for pattern in rule.patterns:
                m = pattern.search(text, low)
                if m is None:
                    continue
                if any(u.search(text, low) for u in rule.unless):
                    break
                return GateHit(rule.code, rule.reason, snippet(text, m.start(), m.end()))

    if g.restricted_countries:
        return _check_named_countries(compiled, texts, lowered)
    return None


def call_texts(call: CallInput) -> dict[str, str]:
    """The cleaned text fields the gates look at."""
    title = strip_html(" ".join(p for p in (call.title, call.call_title) if p))
    return {
        "title": title,
        "keywords": strip_html(" ; ".join((*call.keywords, *call.tags))),
        "description": strip_html(call.description),
        "programme": strip_html(" ".join(p for p in (call.programme, call.programme_code) if p)),
    }


def _check_region(call: CallInput, region: str) -> GateHit | None:
    reason = region_reason(
        call.eligible_nuts,
        region,
        programme=call.programme or call.title,
        countries=call.eligible_countries,
    )
    return GateHit(REGION_GATE, reason) if reason is not None else None


def _check_interreg(compiled: CompiledGates, texts: dict[str, str]) -> GateHit | None:
    programme = texts.get("programme", "")
    title = texts.get("title", "")
    haystack = programme if _INTERREG_RE.search(programme) else title
    if not _INTERREG_RE.search(haystack):
        return None
    for pattern, name, includes_home, note in compiled.interreg:
        if pattern.search(haystack):
            if includes_home:
                return None
            reason = f"{name}: the programme area does not include Östergötland."
            if note:
                reason = f"{reason} {note}"
            return GateHit("geography.interreg", reason)
    if compiled.gates.gate_unknown_interreg:
        label = programme or title
        return GateHit(
            "geography.interreg",
            f"{label[:80]}: not a programme whose area includes Östergötland.",
        )
    return None


def _check_named_countries(
    compiled: CompiledGates, texts: dict[str, str], lowered: dict[str, str]
) -> GateHit | None:
    title = texts.get("title", "")
    for regex in (compiled.title_applicants_re, compiled.title_place_re):
        m = regex.search(title)
        if m is not None and not compiled.home_re.search(title):
            shown = _countries_named(compiled, m.group())
            return GateHit(
                "geography.countries",
                f"For applicants or work in {shown} only; "
                f"{compiled.gates.home_country} is not eligible.",
                snippet(title, m.start(), m.end()),
            )
    for field in ("title", "description"):
        text = texts.get(field, "")
        low = lowered.get(field)
        if low is None:
            low = lowered[field] = text.lower()
        for pattern in compiled.restriction_res:
            for m in pattern.finditer(text, low):
                sentence = _sentence_around(text, m.start(), m.end())
                if compiled.home_re.search(sentence) or _BROAD_RE.search(sentence):
                    continue
                shown = _countries_named(compiled, m.group())
                return GateHit(
                    "geography.countries",
                    f"Open only to applicants or activities in {shown}; "
                    f"{compiled.gates.home_country} is not eligible.",
                    snippet(text, m.start(), m.end()),
                )
    return None


def _countries_named(compiled: CompiledGates, text: str) -> str:
    """The countries `text` names, for a message: "Denmark and Norway" (at most four)."""
    countries = {
        compiled.country_of[c.group().lower()] for c in compiled.countries_re.finditer(text)
    }
    return " and ".join(sorted(countries)[:4])


def _sentence_around(text: str, start: int, end: int) -> str:
    lo = max(text.rfind(".", 0, start), text.rfind("\n", 0, start)) + 1
    hi_candidates = [i for i in (text.find(".", end), text.find("\n", end)) if i != -1]
    hi = min(hi_candidates) if hi_candidates else len(text)
    return text[lo:hi]
