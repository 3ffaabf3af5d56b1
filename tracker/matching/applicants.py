"""Who may apply: applicant types and levels read from a call's text and fields.

A call's topic says what it funds; who may apply says whether a municipality can take
part. This module reads the second from three places: a structured list of applicant
types (F&T's eligible applicants, Interreg's target audiences such as "Local public
authority; National public authority; NGO"), the sentences of the description that say
who is eligible, and the title. The result is a few typed signals, each with the
sentence it rests on, that the engine turns into points and evidence:

* ``national-only``: the call is for national authorities or national bodies (national
  hubs, platforms, coordination centres, contact points), not for local ones;
* ``one-country``: a re-granting (financial support to third parties) for the
  organisations of one named country other than the home country;
* ``local-actors``: local or regional authorities, municipalities or cities take part,
  or the work runs in living labs or local pilots.

Signals are conservative: a sentence must say it, a single word does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tracker.matching.text import snippet

NATIONAL_ONLY = "national-only"
ONE_COUNTRY = "one-country"
LOCAL_ACTORS = "local-actors"

# Applicant types as structured lists name them (F&T, Interreg target audiences).
_TYPE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        (
            "local",
            r"\b(?:local|municipal|regional)\b.{0,20}\b(?:authorit|bod|government|admin)"
            r"|\bmunicipalit|\bcities\b|\bkommun",
        ),
        ("national", r"\bnational\b.{0,20}\b(?:authorit|bod|government|admin|agenc|ministr)"),
        ("public", r"\bpublic\b.{0,20}\b(?:authorit|bod|equivalent|administration|sector)"),
        ("ngo", r"\bNGOs?\b|non-governmental|non-profit|civil society|\bassociations?\b"),
        ("company", r"\bcompan|\bSMEs?\b|\benterprise|\bbusiness"),
        ("research", r"\buniversit|\bresearch\b|\bhigher education|\bacademi"),
    )
)

_NATIONAL_BODY = (
    r"national (?:public )?(?:authorit(?:y|ies)|bod(?:y|ies)|agenc(?:y|ies)|administrations?|"
    r"ministr(?:y|ies)|hubs?|platforms?|coordination cent(?:re|er)s?|contact points?|"
    r"competent authorit(?:y|ies)|focal points?|governments?)"
)
_NATIONAL_BODY_RE = re.compile(rf"\b{_NATIONAL_BODY}\b", re.IGNORECASE)
# The patterns below run over every description: they are written in lower case and
# searched in the lower-cased text, which `re` does much faster than IGNORECASE.
# A sentence restricting applicants to national bodies: "only national authorities",
# "applicants must be national public authorities", "designated by the Member States".
_NATIONAL_BODY_LOWER_RE = re.compile(rf"{_NATIONAL_BODY}\b")
_RESTRICTED_BEFORE_RE = re.compile(
    r"\b(?:only|exclusively|solely|must be|limited to|reserved (?:to|for))\b[^.;]{0,60}$"
)
_BY_BEFORE_RE = re.compile(r"\bby(?: the| their| its)?\s*$")
_DESIGNATED_RE = re.compile(
    r"\b(?:designated|nominated|appointed) by (?:the |their |its )?(?:member states?|"
    r"national governments?|participating countries)\b"
)
_LOCAL_LEVEL_RE = re.compile(
    r"\b(?:local|regional|municipal|city|cities|municipalit(?:y|ies)|towns?)\b"
)
_REGRANTING_RE = re.compile(
    r"\b(?:financial support to third parties|fstp|sub-?grant(?:s|ing)?|re-?grant(?:s|ing)?|"
    r"cascade funding|small grants? (?:scheme|programme|facility)|grant scheme)\b"
)
_ELIGIBILITY_WORD_RE = re.compile(
    r"\b(?:eligib\w*|applicants?|may apply|can apply|open to|beneficiar\w*|targeted at|"
    r"aimed at|addressed to|target groups?)\b"
)
_LOCAL_ACTORS_RE = re.compile(
    r"\b(?:local (?:and regional |or regional )?(?:public )?(?:authorit(?:y|ies)|governments?|"
    r"administrations?)|regional and local authorit(?:y|ies)|municipalit(?:y|ies)|"
    r"city administrations?|pilot (?:cities|municipalities|sites?|regions?)|living labs?|"
    r"local pilots?|real-life settings?|kommuner(?:na)?)\b"
)


@dataclass(frozen=True)
class ApplicantSignal:
    """One reading of who may apply: a stable code, a sentence for staff, the quote."""

    code: str
    text: str
    snippet: str | None = None


@dataclass(frozen=True)
class ApplicantReading:
    """The applicant types a call names and the signals read from them."""

    types: frozenset[str]
    signals: tuple[ApplicantSignal, ...]

    def signal(self, code: str) -> ApplicantSignal | None:
        return next((s for s in self.signals if s.code == code), None)


def applicant_types(text: str) -> frozenset[str]:
    """The kinds of applicant a structured list names ("Local public authority; NGO")."""
    found: set[str] = set()
    for part in re.split(r"[;\n,|]+", text):
        for name, pattern in _TYPE_PATTERNS:
            if pattern.search(part):
                found.add(name)
    return frozenset(found)


def read_applicants(
    title: str,
    description: str,
    eligible_applicants: str,
    *,
    foreign_country: re.Pattern[str],
    home: re.Pattern[str],
) -> ApplicantReading:
    """Read who may apply from a call's title, description and applicant list.

    `foreign_country` finds names of countries other than the home country, `home`
    the home country's names (from the profile's gates).
    """
    types = applicant_types(eligible_applicants) if eligible_applicants else frozenset()
    signals: list[ApplicantSignal] = []

    lowered = description.lower()
    national = _national_only(title, description, lowered, eligible_applicants, types)
    if national is not None:
        signals.append(national)
    one_country = _one_country(title, description, lowered, foreign_country, home)
    if one_country is not None:
        signals.append(one_country)
    if national is None:
        local = _local_actors(title, description, lowered, eligible_applicants, types)
        if local is not None:
            signals.append(local)
    return ApplicantReading(types, tuple(signals))


def _national_restrictions(lowered: str) -> Iterator[re.Match[str]]:
    """Where a lower-cased text restricts applicants to national bodies."""
    for m in _NATIONAL_BODY_LOWER_RE.finditer(lowered):
        if m.start() > 0 and lowered[m.start() - 1].isalnum():
            continue
        before = lowered[max(0, m.start() - 80) : m.start()]
        # "recognised by the national authority" names a national body, not the applicant.
        if _RESTRICTED_BEFORE_RE.search(before) and not _BY_BEFORE_RE.search(before):
            yield m
    if " by " in lowered:
        yield from _DESIGNATED_RE.finditer(lowered)


def _national_only(
    title: str, description: str, lowered: str, eligible: str, types: frozenset[str]
) -> ApplicantSignal | None:
    if types and "national" in types and "local" not in types:
        return ApplicantSignal(
            NATIONAL_ONLY,
            "applicants are national authorities, not local or regional ones",
            eligible[:160],
        )
    m = _NATIONAL_BODY_RE.search(title)
    if m is not None and not _LOCAL_LEVEL_RE.search(title.lower()):
        return ApplicantSignal(
            NATIONAL_ONLY, "the call is for national bodies", snippet(title, m.start(), m.end())
        )
    for m in _national_restrictions(lowered):
        lo, hi = _sentence_bounds(lowered, m.start(), m.end())
        sentence = lowered[lo:hi]
        if _ELIGIBILITY_WORD_RE.search(sentence) and not _LOCAL_LEVEL_RE.search(sentence):
            return ApplicantSignal(
                NATIONAL_ONLY,
                "only national authorities or bodies may apply",
                snippet(description, m.start(), m.end()),
            )
    return None


def _one_country(
    title: str,
    description: str,
    lowered: str,
    foreign_country: re.Pattern[str],
    home: re.Pattern[str],
) -> ApplicantSignal | None:
    """A re-granting scheme for the organisations of one other country."""
    if not _REGRANTING_RE.search(f"{title.lower()} {lowered[:600]}"):
        return None
    head = f"{title} {description[:600]}"
    if home.search(head):
        return None
    named = {m.group().lower() for m in foreign_country.finditer(title)}
    if len(named) != 1:
        return None
    m = foreign_country.search(title)
    assert m is not None
    return ApplicantSignal(
        ONE_COUNTRY,
        "re-granting to the organisations of one other country",
        snippet(title, m.start(), m.end()),
    )


def _local_actors(
    title: str, description: str, lowered: str, eligible: str, types: frozenset[str]
) -> ApplicantSignal | None:
    if "local" in types:
        return ApplicantSignal(
            LOCAL_ACTORS, "local or regional authorities may apply", eligible[:160]
        )
    for text, low in ((title, title.lower()), (description, lowered)):
        m = _LOCAL_ACTORS_RE.search(low)
        if m is not None:
            return ApplicantSignal(
                LOCAL_ACTORS,
                "local authorities, cities, living labs or local pilots take part",
                snippet(text, m.start(), m.end()),
            )
    return None


def _sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence (up to ., ; or a line break) around text[start:end]."""
    lo = max(text.rfind(c, 0, start) for c in ".;\n") + 1
    ends = [i for i in (text.find(c, end) for c in ".;\n") if i != -1]
    return lo, min(ends) if ends else len(text)
