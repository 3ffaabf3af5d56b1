"""The default profile, its dict form, and validation messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tracker.matching.profile import (
    Profile,
    load_profile,
    profile_from_dict,
    profile_to_dict,
)

FOCUS_AREAS = {
    "education",
    "energy-environment",
    "regional-development",
    "health-welfare",
    "inclusion-migration",
    "culture-music",
    "participation-democracy",
    "business-trade",
    "knowledge-city",
}


def test_default_profile_has_the_nine_focus_areas_in_two_languages(profile: Profile) -> None:
    assert set(profile.slugs) == FOCUS_AREAS
    for area in profile.areas:
        assert area.name_sv and area.name_en and area.description_sv and area.description_en
        langs = {t.lang for t in area.terms}
        assert {"en", "sv"} <= langs, f"{area.slug} needs English and Swedish vocabulary"
        assert 0 < area.threshold < 100


def test_dict_form_round_trips_through_json(profile: Profile) -> None:
    data = json.loads(json.dumps(profile_to_dict(profile)))
    assert profile_from_dict(data) == profile


def test_load_profile_reads_json_and_toml(profile: Profile, tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(profile_to_dict(profile)), encoding="utf-8")
    assert load_profile(path) == profile
    toml = tmp_path / "p.toml"
    toml.write_text(
        'name = "x"\nversion = 2\n[[areas]]\nslug = "a"\nname_sv = "A"\nname_en = "A"\n'
        '[[areas.terms]]\nweight = 2\ntexts = ["school", "teachers"]\n',
        encoding="utf-8",
    )
    loaded = load_profile(toml)
    assert loaded.version == 2
    assert [t.text for t in loaded.areas[0].terms] == ["school", "teachers"]


def _minimal() -> dict[str, Any]:
    return {"name": "p", "version": 1, "areas": [{"slug": "a", "name_sv": "A", "name_en": "A"}]}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["areas"][0].update(threshold=120), "areas[0].threshold"),
        (lambda d: d["areas"][0].update(slug="Bad Slug"), "areas[0].slug"),
        (
            lambda d: d["areas"][0].update(terms=[{"text": "x", "weight": -1}]),
            "areas[0].terms[0].weight",
        ),
        (
            lambda d: d["areas"][0].update(terms=[{"text": "x", "lang": "de"}]),
            "areas[0].terms[0].lang",
        ),
        (lambda d: d["areas"][0].update(colour="red"), "areas[0].colour"),
        (lambda d: d["areas"].append(dict(d["areas"][0])), "areas[1].slug"),
        (
            lambda d: d["areas"][0].update(programme_priors=[{"weight": 1}]),
            "areas[0].programme_priors[0]",
        ),
        (lambda d: d["areas"][0].update(programme_priors=[{"weight": 1, "label": "("}]), "label"),
        (
            lambda d: d.update(
                gates={"rules": [{"code": "x", "kind": "other", "reason": "r", "patterns": ["a"]}]}
            ),
            "gates.rules[0].kind",
        ),
        (lambda d: d.update(version=0), "profile.version"),
    ],
)
def test_validation_names_the_offending_key(mutate: Any, message: str) -> None:
    data = _minimal()
    mutate(data)
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        profile_from_dict(data)


def test_unreadable_or_broken_profile_files_give_value_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        load_profile(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("name = ", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid"):
        load_profile(broken)
