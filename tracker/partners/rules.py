"""The partner rules of a call, read from its text and structured fields.

Each rule comes with the sentence it was read from. A rule the text does not state is
unknown (None): the reader only reports a number when a sentence says it in one of the usual
ways ("at least 3 applicants from 3 different eligible countries", "the consortium must be
composed of minimum 5 independent entities", "at least one partner from Poland and one from
Ukraine", "minst tre partner från minst två länder"), because an unknown number is better
than a wrong one. Sentences about demonstration sites, pilots, living labs or third parties
are not about the consortium and are left alone.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


class RuleKind(enum.StrEnum):
    MIN_PARTNERS = "min_partners"
    MIN_COUNTRIES = "min_countries"
    MAX_PARTNERS = "max_partners"
    ELIGIBLE_COUNTRIES = "eligible_countries"
    LEAD = "lead"
    PARTNER_TYPES = "partner_types"


NUMBER_KINDS = (RuleKind.MIN_PARTNERS, RuleKind.MIN_COUNTRIES, RuleKind.MAX_PARTNERS)
SET_KINDS = (RuleKind.ELIGIBLE_COUNTRIES, RuleKind.LEAD, RuleKind.PARTNER_TYPES)

# Country groups in eligible_countries, beside ISO 3166-1 alpha-2 codes.
EU = "EU"
EEA = "EEA"
ASSOCIATED = "ASSOCIATED"
GROUPS = (EU, EEA, ASSOCIATED)

EU_MEMBERS = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    }
)
EEA_MEMBERS = frozenset({"NO", "IS", "LI"})

# Organisation types in lead and partner_types.
PUBLIC = "public"
CIVIL_SOCIETY = "civil_society"
UNIVERSITY = "university"
SME = "sme"
INTERNATIONAL = "international"
ORGANISATION_TYPES = (PUBLIC, CIVIL_SOCIETY, UNIVERSITY, SME, INTERNATIONAL)


@dataclass(frozen=True)
class CallText:
    """What the reader looks at: the call's free texts and its structured eligible area."""

    description: str = ""
    conditions: str = ""
    eligible_applicants: str = ""
    programme: str = ""
    eligible_countries: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """One rule: its value (a number, or a sorted tuple of codes) or None when unknown, the
    sentence it came from and the field that sentence is in."""

    kind: RuleKind
    value: int | tuple[str, ...] | None = None
    evidence: str = ""
    origin: str = ""

    @property
    def is_known(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class PartnerRules:
    rules: Mapping[RuleKind, Rule] = field(default_factory=dict)

    def get(self, kind: RuleKind) -> Rule:
        return self.rules.get(kind) or Rule(kind)

    def number(self, kind: RuleKind) -> int | None:
        value = self.get(kind).value
        return value if isinstance(value, int) else None

    def codes(self, kind: RuleKind) -> tuple[str, ...] | None:
        value = self.get(kind).value
        return value if isinstance(value, tuple) else None

    def values(self) -> dict[str, Any]:
        """The known values by kind name, the form labels and the JSON export use."""
        out: dict[str, Any] = {}
        for kind in RuleKind:
            value = self.get(kind).value
            if value is not None:
                out[kind.value] = list(value) if isinstance(value, tuple) else value
        return out


# --- vocabulary ---------------------------------------------------------------------------------

_EN_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
}
_SV_NUMBERS = {
    "en": 1,
    "ett": 1,
    "två": 2,
    "tre": 3,
    "fyra": 4,
    "fem": 5,
    "sex": 6,
    "sju": 7,
    "åtta": 8,
    "nio": 9,
    "tio": 10,
    "elva": 11,
    "tolv": 12,
}
_NUM = r"(\d{1,2}|" + "|".join(_EN_NUMBERS) + r")(?:\s*\(\d{1,2}\))?"
_NUM_SV = r"(\d{1,2}|" + "|".join(_SV_NUMBERS) + r")"

_ADJ = r"(?:(?:independent|eligible|different|financing|financial|project|legal|partner)\s+)*"
_NOUN = (
    r"(?:partners?|entities|entity|organi[sz]ations?|applicants?|beneficiaries|"
    r"participants?|members|SMEs|bodies)\b"
)
_PARTNERS = _ADJ + _NOUN
_MIN = (
    r"(?:at\s+least|a\s+minimum\s+of|minimum(?:\s+of)?|min\.|no\s+fewer\s+than|not\s+less\s+than)"
)
_MAX = r"(?:a\s+maximum\s+of|maximum(?:\s+of)?|max\.|no\s+more\s+than|up\s+to)"
_COUNTRIES = (
    r"(?:different\s+)?(?:eligible\s+|participating\s+|EU\s+|European\s+)?"
    r"(?:countries|Member\s+States|states)"
)

_MIN_PARTNERS = re.compile(rf"\b{_MIN}\s+{_NUM}\s+{_PARTNERS}(?!\s+of\b)", re.I)
_CONSORTIUM_OF = re.compile(
    r"\b(?:consortium|consortia|partnership)\s+(?:must\s+|shall\s+|should\s+)?(?:be\s+)?"
    r"(?:includes?|including|composed\s+of|consisting\s+of|consist\s+of|of|involves?)"
    rf"[\s,]+(?:as\s+beneficiaries,\s+)?{_NUM}\s+{_PARTNERS}",
    re.I,
)
_FROM_COUNTRIES = re.compile(
    rf"\b(?:from|in)\s+(?:at\s+least\s+|a\s+minimum\s+of\s+|minimum\s+)?{_NUM}\s+{_COUNTRIES}",
    re.I,
)
_ESTABLISHED_IN_N = re.compile(
    rf"\b(?:established|located|based)\s+in\s+(?:at\s+least\s+)?{_NUM}\s+different\s+"
    r"(?:European\s+|EU\s+)?(?:countries|Member\s+States)",
    re.I,
)
_EACH_DIFFERENT = re.compile(
    rf"\b{_NUM}\s+{_PARTNERS}[^.]{{0,80}}?\beach\s+(?:established\s+|located\s+|based\s+)?"
    r"(?:in|from)\s+a\s+different\s+(?:country|Member\s+State)",
    re.I,
)
_EACH_FROM_DIFFERENT = re.compile(
    rf"\b(?:from\s+)?{_MIN}\s+{_NUM}\s+(?:cities|regions|municipalities)[^.]{{0,30}}?"
    r"\beach\s+(?:established\s+|located\s+)?(?:in|from)\s+a\s+different\s+(?:country|Member\s+State)",
    re.I,
)
_ONE_AND_ONE = re.compile(
    r"\bat\s+least\s+one\b[^.]{0,80}?\band\s+(?:at\s+least\s+)?one\b|"
    r"\bminst\s+en\b[^.]{0,80}?\boch\s+(?:minst\s+)?en\b",
    re.I,
)
_ONE_FROM_X_AND_Y = re.compile(
    r"\bat\s+least\s+one\s+(?:\w+\s+){0,2}?(?:partner|applicant|beneficiary)\s+from\s+"
    r"([A-Z][\w ]+?)\s+and\s+(?:the\s+)?([A-Z][\w ]+?)\b(?:\s+work|\s+must|\s*[,.;]|\s*$)",
)
_MINIMUM_IS = re.compile(
    rf"\bminimum\s+(?:requirement|partnership)\b[^.]{{0,40}}?\b(?:is|are)\s+(?:to\s+have\s+)?"
    rf"{_NUM}\s+{_PARTNERS}",
    re.I,
)
_MAX_PARTNERS = re.compile(rf"\b{_MAX}\s+{_NUM}\s+{_PARTNERS}", re.I)
_NUMBER_IS_MAX = re.compile(
    r"\b(?:maximum\s+)?number\s+of\s+(?:project\s+)?(?:partners|beneficiaries|participants)"
    rf"[^.]{{0,40}}?\b(?:is|will\s+be|shall\s+be|must\s+not\s+exceed)\s+(?:maximum\s+|at\s+most\s+)?{_NUM}",
    re.I,
)
_SV_MIN_PARTNERS = re.compile(
    rf"\bminst\s+{_NUM_SV}\s+(?:\w+\s+)?(?:partner|parter|organisationer|aktörer|sökande|deltagare)\b",
    re.I,
)
_SV_MIN_COUNTRIES = re.compile(
    rf"\bfrån\s+(?:minst\s+)?{_NUM_SV}\s+(?:olika\s+)?(?:länder|EU-länder|medlemsländer|medlemsstater)\b",
    re.I,
)
_SV_MAX_PARTNERS = re.compile(
    rf"\b(?:högst|max(?:imalt)?)\s+{_NUM_SV}\s+(?:partner|parter|organisationer|aktörer)\b", re.I
)
_SV_PARTNER_WORDS = re.compile(r"\b(?:partner|parter|konsorti|organisation|sökande)", re.I)

_PARTNER_WORDS = re.compile(
    r"\b(?:partners?|partnership|consorti(?:um|a)|applicants?|beneficiar(?:y|ies)|entit(?:y|ies)|"
    r"organi[sz]ations?|participants?)\b",
    re.I,
)
# Sentences about where activities happen, or about money passed on, are not about the
# consortium even when they count countries.
_NOT_CONSORTIUM = re.compile(
    r"\b(?:demonstrat\w*|pilots?|living\s+labs?|sites?|third\s+part(?:y|ies)|replicat\w*|"
    r"financial\s+support|indicativ\w*|recommended|encourag\w*|foremost|preferabl\w*|ideally|"
    r"prime\s+target)\b",
    re.I,
)
_SOFT = re.compile(
    r"\b(?:encourag\w*|recommend\w*|welcome\w*|advis\w*|may\s+not|can\s*not)\b", re.I
)

_ELIGIBLE_TRIGGER = re.compile(
    r"\b(?:eligible\s+countr(?:y|ies)|established\s+in|be\s+established|headquarters\s+in|"
    r"registered\s+in|incorporated\s+in|(?:may|can)\s+apply|following\s+countries|"
    r"etablerade\s+i|sökande\s+från)\b",
    re.I,
)
_EU = re.compile(
    r"\b(?:EU\s+Member\s+States?|Member\s+States?\s+of\s+the\s+European\s+Union|"
    r"European\s+(?:Union\s+)?Member\s+States?|EU\s+countries|EU-länder|EU:s\s+medlemsländer)",
    re.I,
)
_ASSOCIATED = re.compile(
    r"\b(?:countr(?:y|ies)\s+associated\s+(?:to|with)|associated\s+countries|"
    r"(?:third\s+)?countries\s+associated|associerade\s+länder)",
    re.I,
)
_NOT_ASSOCIATED = re.compile(r"\bnon-associated|not\s+associated", re.I)
_EEA = re.compile(r"\bEEA\b|\bEES\b", re.I)

_LEAD = re.compile(
    r"\b(?:lead\s+(?:partner|applicant|beneficiary|project\s+participant)s?|coordinators?|"
    r"main\s+applicant|huvudsökande|lead\s+partner\s+principle)\b",
    re.I,
)
_LEAD_RESTRICTION = re.compile(
    r"\b(?:lead\s+(?:partner|applicant|beneficiary|project\s+participant)s?|coordinators?|"
    r"main\s+applicant|huvudsökande)\b[^.]{0,60}?\b(?:may\s+only|can\s+only|must|shall|only|"
    r"kan\s+(?:bara|endast)|måste)\b|\bonly\b[^.]{0,60}?\b(?:may|can)\s+(?:assume|act|be)\b"
    r"[^.]{0,40}?\blead|\b(?:types\s+of\s+entities|following)\b[^.]{0,40}?\b(?:can|may)\s+be\s+"
    r"lead|\bto\s+act\s+as\s+(?:a\s+)?lead\s+partner",
    re.I,
)
_TYPE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        PUBLIC,
        re.compile(
            r"\bpublic\s+(?:bod|organi[sz]ation|authorit|law|administration|entit)|[\"“”']public[\"“”']|"
            r"\b(?:local|regional)(?:,\s+\w+)?\s+(?:and\s+\w+\s+)?authorities|\bmunicipalit|"
            r"\boffentlig|\bkommun",
            re.I,
        ),
    ),
    (
        CIVIL_SOCIETY,
        re.compile(
            r"\bcivil\s+society|\bnon-governmental|\bNGOs?\b|\bnon-profit|\bideell|\bcivilsamhälle",
            re.I,
        ),
    ),
    (
        UNIVERSITY,
        re.compile(
            r"\buniversit|\bhigher\s+education|\bresearch\s+organi[sz]ation|\bhögskol|\blärosäte",
            re.I,
        ),
    ),
    (SME, re.compile(r"\bSMEs?\b|\bsmå\s+och\s+medelstora", re.I)),
    (INTERNATIONAL, re.compile(r"\binternational\s+organi[sz]ations?\b", re.I)),
)
_REQUIRED_TYPE = re.compile(
    r"\b(?:at\s+least\s+(?:one|two|three|\d)|must\s+(?:include|involve)|expected\s+to\s+include|"
    r"minst\s+(?:en|ett|två|\d))\b",
    re.I,
)

# English and Swedish names and adjectives of the countries that appear in European calls.
_COUNTRY_NAMES: dict[str, str] = {
    "austria": "AT",
    "austrian": "AT",
    "österrike": "AT",
    "belgium": "BE",
    "belgian": "BE",
    "belgien": "BE",
    "bulgaria": "BG",
    "bulgarian": "BG",
    "bulgarien": "BG",
    "croatia": "HR",
    "croatian": "HR",
    "kroatien": "HR",
    "cyprus": "CY",
    "czech republic": "CZ",
    "czechia": "CZ",
    "czech": "CZ",
    "tjeckien": "CZ",
    "denmark": "DK",
    "danish": "DK",
    "danmark": "DK",
    "estonia": "EE",
    "estonian": "EE",
    "estland": "EE",
    "finland": "FI",
    "finnish": "FI",
    "france": "FR",
    "french": "FR",
    "frankrike": "FR",
    "germany": "DE",
    "german": "DE",
    "tyskland": "DE",
    "greece": "GR",
    "greek": "GR",
    "grekland": "GR",
    "hungary": "HU",
    "hungarian": "HU",
    "ungern": "HU",
    "ireland": "IE",
    "irish": "IE",
    "irland": "IE",
    "italy": "IT",
    "italian": "IT",
    "italien": "IT",
    "latvia": "LV",
    "latvian": "LV",
    "lettland": "LV",
    "lithuania": "LT",
    "lithuanian": "LT",
    "litauen": "LT",
    "luxembourg": "LU",
    "malta": "MT",
    "netherlands": "NL",
    "dutch": "NL",
    "nederländerna": "NL",
    "poland": "PL",
    "polish": "PL",
    "polen": "PL",
    "portugal": "PT",
    "portuguese": "PT",
    "romania": "RO",
    "romanian": "RO",
    "rumänien": "RO",
    "slovakia": "SK",
    "slovak": "SK",
    "slovakien": "SK",
    "slovenia": "SI",
    "slovenian": "SI",
    "slovenien": "SI",
    "spain": "ES",
    "spanish": "ES",
    "spanien": "ES",
    "sweden": "SE",
    "swedish": "SE",
    "sverige": "SE",
    "norway": "NO",
    "norwegian": "NO",
    "norge": "NO",
    "iceland": "IS",
    "island": "IS",
    "liechtenstein": "LI",
    "switzerland": "CH",
    "schweiz": "CH",
    "ukraine": "UA",
    "ukrainian": "UA",
    "ukraina": "UA",
    "serbia": "RS",
    "serbian": "RS",
    "serbien": "RS",
    "moldova": "MD",
    "albania": "AL",
    "montenegro": "ME",
    "north macedonia": "MK",
    "bosnia and herzegovina": "BA",
    "kosovo": "XK",
    "turkey": "TR",
    "türkiye": "TR",
    "georgia": "GE",
    "armenia": "AM",
    "united kingdom": "GB",
    "israel": "IL",
    "tunisia": "TN",
    "morocco": "MA",
    "egypt": "EG",
    "canada": "CA",
    "japan": "JP",
    "new zealand": "NZ",
    "republic of korea": "KR",
    "south korea": "KR",
    "korea": "KR",
    "faroe islands": "FO",
    "kenya": "KE",
    "china": "CN",
}
_COUNTRY = re.compile(
    r"\b("
    + "|".join(sorted((re.escape(n) for n in _COUNTRY_NAMES), key=len, reverse=True))
    + r")\b",
    re.I,
)


# --- reading ------------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÅÄÖ0-9•\-–(])|\n\s*\n|\n(?=\s*[•\-–*])")


def sentences(text: str) -> Iterator[str]:
    """The text's sentences, whitespace collapsed (";" does not end one: EU calls write
    "at least 3 applicants (beneficiaries; not affiliated entities) from 3 countries")."""
    pending = ""
    for part in _SENTENCE_END.split(text or ""):
        sentence = " ".join(part.split())
        if not sentence:
            continue
        pending = f"{pending} {sentence}".strip()
        # A list ("eligible countries, i.e.: EU Member States ...") belongs to the sentence
        # that introduces it.
        if (pending[-1] in ".!?" and not pending.endswith(("i.e.", "e.g."))) or len(pending) > 600:
            yield pending
            pending = ""
    if pending:
        yield pending


def _number(text: str) -> int:
    word = text.lower()
    if word.isdigit():
        return int(word)
    return _EN_NUMBERS.get(word) or _SV_NUMBERS.get(word, 0)


def _countries_in(sentence: str) -> list[str]:
    codes: list[str] = []
    for match in _COUNTRY.finditer(sentence):
        code = _COUNTRY_NAMES[match.group(1).lower()]
        if code not in codes:
            codes.append(code)
    return codes


@dataclass
class _Found:
    value: int | tuple[str, ...]
    evidence: str
    origin: str


def _consortium_sentence(sentence: str) -> bool:
    return bool(_PARTNER_WORDS.search(sentence)) and not _NOT_CONSORTIUM.search(sentence)


def _minimums(sentence: str) -> tuple[list[int], list[int]]:
    """(partner counts, country counts) the sentence sets as minimums."""
    partners: list[int] = []
    countries: list[int] = []
    if _consortium_sentence(sentence):
        partners += [_number(m.group(1)) for m in _MIN_PARTNERS.finditer(sentence)]
        partners += [_number(m.group(1)) for m in _CONSORTIUM_OF.finditer(sentence)]
        partners += [_number(m.group(1)) for m in _MINIMUM_IS.finditer(sentence)]
        countries += [_number(m.group(1)) for m in _FROM_COUNTRIES.finditer(sentence)]
        countries += [_number(m.group(1)) for m in _ESTABLISHED_IN_N.finditer(sentence)]
        for match in _EACH_DIFFERENT.finditer(sentence):
            countries.append(_number(match.group(1)))
            partners.append(_number(match.group(1)))
        countries += [_number(m.group(1)) for m in _EACH_FROM_DIFFERENT.finditer(sentence)]
        if _two_sides(sentence) is not None:
            partners.append(2)
            countries.append(2)
    if _SV_PARTNER_WORDS.search(sentence) and not _NOT_CONSORTIUM.search(sentence):
        partners += [_number(m.group(1)) for m in _SV_MIN_PARTNERS.finditer(sentence)]
        countries += [_number(m.group(1)) for m in _SV_MIN_COUNTRIES.finditer(sentence)]
    # "At least one partner" sets nothing; a minimum of one country neither.
    return [n for n in partners if n >= 2], [n for n in countries if n >= 2]


def _two_sides(sentence: str) -> list[str] | None:
    """The countries of "at least one partner from X and one from Y" (cross-border
    programmes); an empty list when a side is a region, None when the sentence is no such."""
    if _SOFT.search(sentence):
        return None
    match = _ONE_FROM_X_AND_Y.search(sentence)
    if match is not None:
        sides = [_COUNTRY_NAMES.get(g.strip().lower()) for g in match.groups()]
        if all(sides) and len(set(sides)) == 2:
            return [s for s in sides if s]
    match = _ONE_AND_ONE.search(sentence)
    if match is None or not re.search(
        r"\b(?:partner|applicant|beneficiar|PPs?\b|sökande|part\b|parter)", sentence, re.I
    ):
        return None
    span = sentence[match.start() : match.end() + 60]
    left, _, right = span.partition(" och " if span.lower().startswith("minst") else " and ")
    # Each side must name a place ("one Polish", "one partner from Brandenburg"); "one SME
    # and one university" is about types, not countries.
    if not (_places(left) and _places(right)):
        return None
    codes = _countries_in(left + " " + right)
    return codes if len(codes) == 2 else []


_PLACE = re.compile(
    r"\b(?:from|in)\s+(?:the\s+)?[A-Z]\w+|\bfrom\s+one\s+of\s+the\s+Member\s+States"
)


def _places(side: str) -> bool:
    return bool(_countries_in(side)) or bool(_PLACE.search(side))


def _maximums(sentence: str) -> list[int]:
    if not _PARTNER_WORDS.search(sentence) and not _SV_PARTNER_WORDS.search(sentence):
        return []
    if _NOT_CONSORTIUM.search(sentence) or re.search(r"\bper\b|\bnot\s+limited\b", sentence, re.I):
        return []
    found = [_number(m.group(1)) for m in _MAX_PARTNERS.finditer(sentence)]
    found += [_number(m.group(1)) for m in _NUMBER_IS_MAX.finditer(sentence)]
    found += [_number(m.group(1)) for m in _SV_MAX_PARTNERS.finditer(sentence)]
    return [n for n in found if n >= 1]


def _eligible(sentence: str) -> list[str]:
    if not _ELIGIBLE_TRIGGER.search(sentence):
        return []
    codes: list[str] = []
    if _EU.search(sentence):
        codes.append(EU)
    if _EEA.search(sentence):
        codes.append(EEA)
    if _ASSOCIATED.search(_NOT_ASSOCIATED.sub("", sentence)):
        codes.append(ASSOCIATED)
    if not codes:
        named = _countries_in(sentence)
        if len(named) >= 2 and re.search(
            r"\b(?:headquarters|following\s+countries)\b", sentence, re.I
        ):
            codes += named
    return codes


def _types(sentence: str) -> list[str]:
    return [name for name, pattern in _TYPE_PATTERNS if pattern.search(sentence)]


# A lead defined by an earlier selection or award is narrower than any organisation type.
_NARROWER_THAN_A_TYPE = re.compile(
    r"\b(?:pre-?)?selected\b|\bstep\s*(?:1|one)\b|\bfirst\s+stage\b|\bawarded\b", re.I
)
# "... may only be Polish or Saxon project partners": the alternatives the lead is chosen from.
_LEAD_ALTERNATIVES = re.compile(
    r"\b(?:may\s+only|can\s+only|must)\s+be\s+(.{1,160}?)"
    r"(?=\s+(?:project\s+)?partners?\b|\s+organi[sz]ations?\b|\s+entit|[.;:(]|$)",
    re.I,
)
# "The partners must nominate a lead partner. Only public bodies may assume this function."
_THIS_FUNCTION = re.compile(
    r"\bonly\b[^.]{0,80}?\b(?:may|can)\s+(?:assume|take\s+on|hold|perform|exercise|have)\s+"
    r"(?:this|that|the\s+same)\s+(?:function|role|task)\b",
    re.I,
)


def _lead(sentence: str, previous: str = "") -> list[str]:
    """The types (or countries) the lead must be of, when the sentence restricts who may
    lead. Whatever the reader cannot fully express (an alternative it does not know, a lead
    chosen by an earlier selection) gives no reading: an unknown is better than a half
    answer."""
    if _THIS_FUNCTION.search(sentence) and _LEAD.search(previous) and not _LEAD.search(sentence):
        return [] if _NARROWER_THAN_A_TYPE.search(sentence) else _types(sentence)
    if not _LEAD.search(sentence) or not _LEAD_RESTRICTION.search(sentence):
        return []
    if re.search(r"\b(?:may\s+not|cannot|can\s+not)\s+be\s+lead", sentence, re.I):
        return []
    if _NARROWER_THAN_A_TYPE.search(sentence):
        return []
    codes = _types(sentence)
    if re.search(r"\b(?:may\s+only|can\s+only|must)\s+be\b", sentence, re.I):
        codes += _countries_in(sentence)
    for match in _LEAD_ALTERNATIVES.finditer(sentence):
        alternatives = [a.strip() for a in re.split(r",|\bor\b|\band\b", match.group(1))]
        named = [a for a in alternatives if a and (_countries_in(a) or _types(a))]
        if named and len(named) < len([a for a in alternatives if a]):
            return []
    return codes


def _required_types(sentence: str) -> list[str]:
    if _SOFT.search(sentence) or not _REQUIRED_TYPE.search(sentence):
        return []
    if _LEAD_RESTRICTION.search(sentence):
        return []
    # The type must follow the requirement closely, not be anywhere in a long sentence.
    found: list[str] = []
    for match in _REQUIRED_TYPE.finditer(sentence):
        window = sentence[match.start() : match.end() + 90]
        found += [t for t in _types(window) if t != INTERNATIONAL and t not in found]
    return found


# A sentence that names none of these says no partner rule; most of a call's text is skipped.
_RELEVANT = re.compile(
    r"partner|parter|consorti|konsorti|countr|länder|member\s+state|applicant|sökande|entit|"
    r"organi[sz]ation|beneficiar|participant|lead|coordinator|eligible|established|headquarter|"
    r"SMEs?\b|bodies|authorit|this\s+(?:function|role)|högst|minst",
    re.I,
)


def _fields(call: CallText) -> Iterator[tuple[str, str]]:
    yield "conditions", call.conditions
    yield "eligible_applicants", call.eligible_applicants
    yield "description", call.description


def read_partner_rules(call: CallText) -> PartnerRules:
    """Every partner rule the call's texts and fields state, each with its evidence."""
    best: dict[RuleKind, _Found] = {}

    def keep_number(kind: RuleKind, value: int, sentence: str, origin: str, larger: bool) -> None:
        current = best.get(kind)
        if current is None or (
            isinstance(current.value, int)
            and (value > current.value if larger else value < current.value)
        ):
            best[kind] = _Found(value, sentence, origin)

    def keep_codes(kind: RuleKind, codes: Iterable[str], sentence: str, origin: str) -> None:
        values = tuple(sorted(set(codes)))
        if values and kind not in best:
            best[kind] = _Found(values, sentence, origin)

    for origin, text in _fields(call):
        previous = ""
        for sentence in sentences(text):
            before, previous = previous, sentence
            if not _RELEVANT.search(sentence):
                continue
            partners, countries = _minimums(sentence)
            for n in partners:
                keep_number(RuleKind.MIN_PARTNERS, n, sentence, origin, larger=True)
            for n in countries:
                keep_number(RuleKind.MIN_COUNTRIES, n, sentence, origin, larger=True)
            for n in _maximums(sentence):
                keep_number(RuleKind.MAX_PARTNERS, n, sentence, origin, larger=False)
            sides = _two_sides(sentence) if _consortium_sentence(sentence) else None
            keep_codes(RuleKind.ELIGIBLE_COUNTRIES, sides or _eligible(sentence), sentence, origin)
            keep_codes(RuleKind.LEAD, _lead(sentence, before), sentence, origin)
            if origin != "eligible_applicants":
                keep_codes(RuleKind.PARTNER_TYPES, _required_types(sentence), sentence, origin)
    if RuleKind.ELIGIBLE_COUNTRIES not in best and call.eligible_countries:
        codes = [c.upper()[:2] for c in call.eligible_countries if c]
        keep_codes(RuleKind.ELIGIBLE_COUNTRIES, codes, ", ".join(codes), "eligible_area")
    return PartnerRules(
        {
            kind: Rule(kind, found.value, found.evidence, found.origin)
            for kind, found in best.items()
        }
    )


def country_is_eligible(country_code: str | None, eligible: Iterable[str] | None) -> bool | None:
    """Whether an organisation's country satisfies the eligible countries; None when the call
    does not say (or the organisation has no country, as an international network)."""
    if eligible is None or country_code is None:
        return None
    allowed = set(eligible)
    code = country_code.upper()
    if code in allowed or (EU in allowed and code in EU_MEMBERS):
        return True
    if EEA in allowed and code in EEA_MEMBERS:
        return True
    if ASSOCIATED in allowed and code not in EU_MEMBERS:
        # The list of associated countries changes by programme and year: a non-EU country
        # may be one, so it is not ruled out.
        return None
    return False
