"""Strategy profiles: focus areas, their vocabulary, priors, thresholds and gates.

A profile is plain data. It is written by hand as TOML (the default ships in
``tracker/data/default_profile.toml``), stored in the database as the JSON-able dict
of :func:`profile_to_dict`, and edited by admins in the UI. :func:`profile_from_dict`
validates both forms and names the offending key in its ``ValueError``.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from tracker.matching.regions import DEFAULT_REGION, is_nuts_code

LANGS = ("en", "sv", "any")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DEFAULT_THRESHOLD = 50.0


@dataclass(frozen=True)
class Term:
    """A word or phrase; weight says how specific it is for the area (or context)."""

    text: str
    weight: float = 1.0
    lang: str = "en"


@dataclass(frozen=True)
class ProgrammePrior:
    """A programme's pull towards (weight > 0) or away from (< 0) an area.

    ``label`` is a case-insensitive regular expression searched in the programme's
    name; ``code`` is a case-insensitive glob matched against the programme code or
    topic identifier (``HORIZON-MISS-*-CIT-*``). At least one of them is given.
    """

    weight: float
    label: str | None = None
    code: str | None = None
    note: str = ""


@dataclass(frozen=True)
class FocusArea:
    slug: str
    name_sv: str
    name_en: str
    description_sv: str = ""
    description_en: str = ""
    terms: tuple[Term, ...] = ()
    negative_terms: tuple[Term, ...] = ()
    programme_priors: tuple[ProgrammePrior, ...] = ()
    threshold: float = DEFAULT_THRESHOLD


@dataclass(frozen=True)
class Context:
    """Profile-wide signals of who a call is for, applied to every area.

    ``applicant_terms`` say that a municipality, its schools or local civil society
    can take part (local authorities, schools, NGOs); ``exclusion_terms`` say that
    the call is for industrial R&D consortia, research infrastructures, defence or
    narrow technology development. ``programme_priors`` apply to every area.
    ``neutral_terms`` count for nothing and hide the words inside them: names of
    programmes ("Citizens, Equality, Rights and Values") that would otherwise read as
    topics. Their weight is ignored.
    """

    applicant_terms: tuple[Term, ...] = ()
    exclusion_terms: tuple[Term, ...] = ()
    neutral_terms: tuple[Term, ...] = ()
    programme_priors: tuple[ProgrammePrior, ...] = ()


@dataclass(frozen=True)
class InterregProgramme:
    """An Interreg programme and whether its area includes the home region."""

    name: str
    pattern: str
    includes_home: bool
    note: str = ""


@dataclass(frozen=True)
class GateRule:
    """A text rule that makes a call ineligible whatever its relevance.

    ``kind`` is "geography" or "applicant"; the rule fires when one of ``patterns``
    (case-insensitive regular expressions) matches the call's text, unless one of
    ``unless`` matches too (e.g. "Sweden" named next to the restricted countries).
    """

    code: str
    kind: str
    reason: str
    patterns: tuple[str, ...]
    unless: tuple[str, ...] = ()
    fields: tuple[str, ...] = ("title", "description")


@dataclass(frozen=True)
class Gates:
    """Eligibility gates. ``home_region`` is the municipality's NUTS code (Östergötland
    is SE123): a call whose eligible area, given as NUTS codes, does not contain it is
    gated (see ``tracker.matching.regions``)."""

    home_country: str = "Sweden"
    home_region: str = DEFAULT_REGION
    home_names: tuple[str, ...] = ("Sweden", "Sverige", "Swedish", "Östergötland", "SE123")
    interreg: tuple[InterregProgramme, ...] = ()
    gate_unknown_interreg: bool = True
    restricted_countries: bool = True
    rules: tuple[GateRule, ...] = ()
    closed_calls: bool = True


@dataclass(frozen=True)
class Profile:
    name: str
    version: int
    areas: tuple[FocusArea, ...]
    gates: Gates = field(default_factory=Gates)
    context: Context = field(default_factory=Context)

    def area(self, slug: str) -> FocusArea:
        for a in self.areas:
            if a.slug == slug:
                return a
        raise KeyError(slug)

    @property
    def slugs(self) -> tuple[str, ...]:
        return tuple(a.slug for a in self.areas)


# --------------------------------------------------------------------------- loading


def load_profile(path: str | Path) -> Profile:
    """Read a profile from a .toml or .json file."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read profile {p}: {exc.strerror}") from exc
    try:
        data = json.loads(raw) if p.suffix.lower() == ".json" else tomllib.loads(raw.decode())
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"profile {p} is not valid {p.suffix.lstrip('.') or 'TOML'}: {exc}"
        ) from exc
    return profile_from_dict(data)


def default_profile() -> Profile:
    """The profile shipped with tracker: the nine focus areas of Norrköping."""
    text = resources.files("tracker").joinpath("data/default_profile.toml").read_text("utf-8")
    return profile_from_dict(tomllib.loads(text))


# ----------------------------------------------------------------- dict round trip


def profile_to_dict(profile: Profile) -> dict[str, Any]:
    """JSON-serialisable form (what the database stores); inverse of profile_from_dict."""
    return {
        "name": profile.name,
        "version": profile.version,
        "areas": [_area_to_dict(a) for a in profile.areas],
        "gates": _gates_to_dict(profile.gates),
        "context": {
            "applicant_terms": _terms_to_list(profile.context.applicant_terms),
            "exclusion_terms": _terms_to_list(profile.context.exclusion_terms),
            "neutral_terms": _terms_to_list(profile.context.neutral_terms),
            "programme_priors": [_prior_to_dict(p) for p in profile.context.programme_priors],
        },
    }


def area_to_dict(area: FocusArea) -> dict[str, Any]:
    return _area_to_dict(area)


def area_from_dict(data: Mapping[str, Any], where: str = "area") -> FocusArea:
    return _area(data, where)


def _area_to_dict(a: FocusArea) -> dict[str, Any]:
    return {
        "slug": a.slug,
        "name_sv": a.name_sv,
        "name_en": a.name_en,
        "description_sv": a.description_sv,
        "description_en": a.description_en,
        "threshold": a.threshold,
        "terms": _terms_to_list(a.terms),
        "negative_terms": _terms_to_list(a.negative_terms),
        "programme_priors": [_prior_to_dict(p) for p in a.programme_priors],
    }


def _terms_to_list(terms: Sequence[Term]) -> list[dict[str, Any]]:
    return [{"text": t.text, "weight": t.weight, "lang": t.lang} for t in terms]


def _prior_to_dict(p: ProgrammePrior) -> dict[str, Any]:
    out: dict[str, Any] = {"weight": p.weight}
    if p.label is not None:
        out["label"] = p.label
    if p.code is not None:
        out["code"] = p.code
    if p.note:
        out["note"] = p.note
    return out


def _gates_to_dict(g: Gates) -> dict[str, Any]:
    return {
        "home_country": g.home_country,
        "home_region": g.home_region,
        "home_names": list(g.home_names),
        "gate_unknown_interreg": g.gate_unknown_interreg,
        "restricted_countries": g.restricted_countries,
        "closed_calls": g.closed_calls,
        "interreg": [
            {"name": i.name, "pattern": i.pattern, "includes_home": i.includes_home, "note": i.note}
            for i in g.interreg
        ],
        "rules": [
            {
                "code": r.code,
                "kind": r.kind,
                "reason": r.reason,
                "patterns": list(r.patterns),
                "unless": list(r.unless),
                "fields": list(r.fields),
            }
            for r in g.rules
        ],
    }


def profile_from_dict(data: Mapping[str, Any]) -> Profile:
    """Build and validate a profile; ValueError names the offending key."""
    _expect_mapping(data, "profile")
    _no_unknown(data, {"name", "version", "areas", "gates", "context"}, "profile")
    name = _str(data, "name", "profile")
    version = data.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError("profile.version must be a positive integer")
    areas_raw = data.get("areas")
    if not isinstance(areas_raw, list) or not areas_raw:
        raise ValueError("profile.areas must be a non-empty list")
    areas = tuple(_area(a, f"areas[{i}]") for i, a in enumerate(areas_raw))
    seen: set[str] = set()
    for i, a in enumerate(areas):
        if a.slug in seen:
            raise ValueError(f"areas[{i}].slug {a.slug!r} is used twice")
        seen.add(a.slug)
    gates = _gates(data.get("gates", {}), "gates")
    context = _context(data.get("context", {}), "context")
    return Profile(name=name, version=version, areas=areas, gates=gates, context=context)


def _area(data: Any, where: str) -> FocusArea:
    _expect_mapping(data, where)
    _no_unknown(
        data,
        {
            "slug",
            "name_sv",
            "name_en",
            "description_sv",
            "description_en",
            "threshold",
            "terms",
            "negative_terms",
            "programme_priors",
        },
        where,
    )
    slug = _str(data, "slug", where)
    if not SLUG_RE.match(slug):
        raise ValueError(f"{where}.slug {slug!r} must be lower-case words joined by '-'")
    threshold = data.get("threshold", DEFAULT_THRESHOLD)
    if not _is_number(threshold) or not 0 <= threshold <= 100:
        raise ValueError(f"{where}.threshold must be a number from 0 to 100")
    return FocusArea(
        slug=slug,
        name_sv=_str(data, "name_sv", where),
        name_en=_str(data, "name_en", where),
        description_sv=_str(data, "description_sv", where, required=False),
        description_en=_str(data, "description_en", where, required=False),
        threshold=float(threshold),
        terms=_terms(data.get("terms", []), f"{where}.terms", positive=True),
        negative_terms=_terms(
            data.get("negative_terms", []), f"{where}.negative_terms", positive=True
        ),
        programme_priors=_priors(data.get("programme_priors", []), f"{where}.programme_priors"),
    )


def _context(data: Any, where: str) -> Context:
    _expect_mapping(data, where)
    _no_unknown(
        data, {"applicant_terms", "exclusion_terms", "neutral_terms", "programme_priors"}, where
    )
    return Context(
        applicant_terms=_terms(data.get("applicant_terms", []), f"{where}.applicant_terms", True),
        exclusion_terms=_terms(data.get("exclusion_terms", []), f"{where}.exclusion_terms", True),
        neutral_terms=_terms(data.get("neutral_terms", []), f"{where}.neutral_terms", True),
        programme_priors=_priors(data.get("programme_priors", []), f"{where}.programme_priors"),
    )


def _terms(raw: Any, where: str, positive: bool) -> tuple[Term, ...]:
    """Terms come one per entry ({text, weight, lang}) or grouped ({texts: [...], ...})."""
    if not isinstance(raw, list):
        raise ValueError(f"{where} must be a list")
    out: list[Term] = []
    for i, entry in enumerate(raw):
        w = f"{where}[{i}]"
        _expect_mapping(entry, w)
        _no_unknown(entry, {"text", "texts", "weight", "lang"}, w)
        weight = entry.get("weight", 1.0)
        if not _is_number(weight) or (positive and weight <= 0) or weight > 10:
            raise ValueError(f"{w}.weight must be a number above 0 and at most 10")
        lang = entry.get("lang", "en")
        if lang not in LANGS:
            raise ValueError(f"{w}.lang must be one of {', '.join(LANGS)}")
        if "texts" in entry:
            texts = entry["texts"]
            if "text" in entry or not isinstance(texts, list) or not texts:
                raise ValueError(f"{w}.texts must be a non-empty list (and no 'text' beside it)")
        else:
            texts = [entry.get("text")]
        for j, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                key = f"{w}.texts[{j}]" if "texts" in entry else f"{w}.text"
                raise ValueError(f"{key} must be a non-empty string")
            out.append(Term(text=text.strip(), weight=float(weight), lang=lang))
    return tuple(out)


def _priors(raw: Any, where: str) -> tuple[ProgrammePrior, ...]:
    if not isinstance(raw, list):
        raise ValueError(f"{where} must be a list")
    out: list[ProgrammePrior] = []
    for i, entry in enumerate(raw):
        w = f"{where}[{i}]"
        _expect_mapping(entry, w)
        _no_unknown(entry, {"weight", "label", "code", "note"}, w)
        weight = entry.get("weight")
        if not _is_number(weight) or not -10 <= weight <= 10:
            raise ValueError(f"{w}.weight must be a number from -10 to 10")
        label = entry.get("label")
        code = entry.get("code")
        if label is None and code is None:
            raise ValueError(f"{w} needs a 'label' pattern or a 'code' glob")
        if label is not None:
            if not isinstance(label, str) or not label:
                raise ValueError(f"{w}.label must be a non-empty string")
            _check_regex(label, f"{w}.label")
        if code is not None and (not isinstance(code, str) or not code):
            raise ValueError(f"{w}.code must be a non-empty string")
        note = entry.get("note", "")
        if not isinstance(note, str):
            raise ValueError(f"{w}.note must be a string")
        out.append(ProgrammePrior(weight=float(weight), label=label, code=code, note=note))
    return tuple(out)


def _gates(data: Any, where: str) -> Gates:
    _expect_mapping(data, where)
    _no_unknown(
        data,
        {
            "home_country",
            "home_region",
            "home_names",
            "interreg",
            "gate_unknown_interreg",
            "restricted_countries",
            "rules",
            "closed_calls",
        },
        where,
    )
    defaults = Gates()
    home_names = data.get("home_names", list(defaults.home_names))
    if not isinstance(home_names, list) or not all(isinstance(n, str) and n for n in home_names):
        raise ValueError(f"{where}.home_names must be a list of non-empty strings")
    interreg: list[InterregProgramme] = []
    raw_interreg = data.get("interreg", [])
    if not isinstance(raw_interreg, list):
        raise ValueError(f"{where}.interreg must be a list")
    for i, entry in enumerate(raw_interreg):
        w = f"{where}.interreg[{i}]"
        _expect_mapping(entry, w)
        _no_unknown(entry, {"name", "pattern", "includes_home", "note"}, w)
        pattern = _str(entry, "pattern", w)
        _check_regex(pattern, f"{w}.pattern")
        includes = entry.get("includes_home")
        if not isinstance(includes, bool):
            raise ValueError(f"{w}.includes_home must be true or false")
        interreg.append(
            InterregProgramme(
                name=_str(entry, "name", w),
                pattern=pattern,
                includes_home=includes,
                note=_str(entry, "note", w, required=False),
            )
        )
    rules: list[GateRule] = []
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        raise ValueError(f"{where}.rules must be a list")
    codes: set[str] = set()
    for i, entry in enumerate(raw_rules):
        w = f"{where}.rules[{i}]"
        _expect_mapping(entry, w)
        _no_unknown(entry, {"code", "kind", "reason", "patterns", "unless", "fields"}, w)
        code = _str(entry, "code", w)
        if code in codes:
            raise ValueError(f"{w}.code {code!r} is used twice")
        codes.add(code)
        kind = _str(entry, "kind", w)
        if kind not in ("geography", "applicant"):
            raise ValueError(f"{w}.kind must be 'geography' or 'applicant'")
        patterns = _regex_list(entry.get("patterns"), f"{w}.patterns", required=True)
        unless = _regex_list(entry.get("unless", []), f"{w}.unless", required=False)
        fields = entry.get("fields", ["title", "description"])
        if (
            not isinstance(fields, list)
            or not fields
            or not all(f in ("title", "keywords", "description", "programme") for f in fields)
        ):
            raise ValueError(
                f"{w}.fields must list some of title, keywords, description, programme"
            )
        rules.append(
            GateRule(
                code=code,
                kind=kind,
                reason=_str(entry, "reason", w),
                patterns=patterns,
                unless=unless,
                fields=tuple(fields),
            )
        )
    flags = {}
    for key in ("gate_unknown_interreg", "restricted_countries", "closed_calls"):
        value = data.get(key, getattr(defaults, key))
        if not isinstance(value, bool):
            raise ValueError(f"{where}.{key} must be true or false")
        flags[key] = value
    home_region = data.get("home_region", defaults.home_region)
    if not isinstance(home_region, str) or not is_nuts_code(home_region):
        raise ValueError(
            f"{where}.home_region must be a NUTS code: two capital letters and up to "
            "three letters or digits, e.g. SE123"
        )
    return Gates(
        home_country=_str(data, "home_country", where, required=False) or defaults.home_country,
        home_region=home_region,
        home_names=tuple(home_names),
        interreg=tuple(interreg),
        rules=tuple(rules),
        **flags,
    )


# ------------------------------------------------------------------------- helpers


def _expect_mapping(data: Any, where: str) -> None:
    if not isinstance(data, Mapping):
        raise ValueError(f"{where} must be a table/object")


def _no_unknown(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValueError(f"{where}.{unknown[0]} is not a known key")


def _str(data: Mapping[str, Any], key: str, where: str, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValueError(f"{where}.{key} must be a non-empty string")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_regex(pattern: str, where: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{where} is not a valid regular expression: {exc}") from exc


def _regex_list(raw: Any, where: str, required: bool) -> tuple[str, ...]:
    if not isinstance(raw, list) or (required and not raw):
        raise ValueError(f"{where} must be a {'non-empty ' if required else ''}list of patterns")
    for i, p in enumerate(raw):
        if not isinstance(p, str) or not p:
            raise ValueError(f"{where}[{i}] must be a non-empty string")
        _check_regex(p, f"{where}[{i}]")
    return tuple(raw)
