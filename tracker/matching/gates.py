"""Eligibility gates: reasons why a call cannot be used, whatever its relevance.

Gates are checked before relevance and are reported with a code and a sentence a
member of staff can read ("Interreg Czechia-Poland: the programme area does not
include Östergötland"). They are deliberately conservative: a wrong gate hides a
call for good, a missed gate only shows one call too many.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from tracker.matching.call import CallInput
from tracker.matching.profile import Gates
from tracker.matching.text import snippet, strip_html

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

# A sentence restricting eligibility: the cue must come before the country names
# ("only Slovenian and Croatian organisations", "applicants must be established in").
_RESTRICT_RE = re.compile(
    r"\b(?:only|exclusively|solely|restricted to|limited to|reserved for|"
    r"must be (?:established|located|based|registered) in|eligible countries are)\b",
    re.IGNORECASE,
)
# Sentences that open the call to a broad group are not restrictions.
_BROAD_RE = re.compile(
    r"\b(?:member states|EU countries|associated countries|participating countries|"
    r"programme countries|any country|all countries|EEA|European Union)\b",
    re.IGNORECASE,
)
_SENTENCE_RE = re.compile(r"[^.;!?\n]+")


@dataclass(frozen=True)
class GateHit:
    """Why a call was gated: a stable code and a sentence for people."""

    code: str
    reason: str
    snippet: str | None = None


@dataclass(frozen=True)
class CompiledRule:
    code: str
    reason: str
    patterns: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]
    fields: tuple[str, ...]


@dataclass(frozen=True)
class CompiledGates:
    gates: Gates
    interreg: tuple[tuple[re.Pattern[str], str, bool, str], ...]
    rules: tuple[CompiledRule, ...]
    home_re: re.Pattern[str]
    countries_re: re.Pattern[str]
    country_of: dict[str, str]


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
                patterns=tuple(re.compile(p, re.IGNORECASE) for p in r.patterns),
                unless=tuple(re.compile(p, re.IGNORECASE) for p in r.unless),
                fields=r.fields,
            )
            for r in gates.rules
        ),
        home_re=re.compile(rf"\b(?:{home_alt})\b", re.IGNORECASE),
        countries_re=re.compile(rf"\b(?:{names_alt})\b", re.IGNORECASE),
        country_of=country_of,
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

    if g.closed_calls and now is not None and call.deadlines:
        if all(d < now for d in call.deadlines):
            last = max(call.deadlines)
            return GateHit(
                "closed", f"Closed: the last deadline ({last.date().isoformat()}) has passed."
            )

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

    for rule in compiled.rules:
        for field in rule.fields:
            text = texts.get(field, "")
            if not text:
                continue
            for pattern in rule.patterns:
                m = pattern.search(text)
                if m is None:
                    continue
                if any(u.search(text) for u in rule.unless):
                    break
                return GateHit(rule.code, rule.reason, snippet(text, m.start(), m.end()))

    if g.restricted_countries:
        return _check_named_countries(compiled, texts)
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


def _check_interreg(compiled: CompiledGates, texts: dict[str, str]) -> GateHit | None:
    programme = texts.get("programme", "")
    title = texts.get("title", "")
    haystack = programme if "interreg" in programme.lower() else title
    if "interreg" not in haystack.lower():
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


def _check_named_countries(compiled: CompiledGates, texts: dict[str, str]) -> GateHit | None:
    for field in ("title", "description"):
        text = texts.get(field, "")
        for sentence in _SENTENCE_RE.finditer(text):
            s = sentence.group()
            cue = _RESTRICT_RE.search(s)
            if cue is None:
                continue
            after = s[cue.start() :]
            countries = {compiled.country_of[m.group().lower()] for m in compiled.countries_re.finditer(after)}
            if not countries or compiled.home_re.search(s) or _BROAD_RE.search(after):
                continue
            shown = " and ".join(sorted(countries)[:4])
            return GateHit(
                "geography.countries",
                f"Open only to applicants from {shown}; {compiled.gates.home_country} is not eligible.",
                snippet(text, sentence.start() + cue.start(), sentence.end()),
            )
    return None
