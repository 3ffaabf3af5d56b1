"""``tracker offices add|list`` and the config's ``[[offices]]``: a fresh install gets its
offices without the admin pages, and can take a project log at once."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import TrackerCli


def _offices(runner: TrackerCli) -> list[dict[str, object]]:
    result = runner("offices", "list", "--json")
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.output)
    return rows


def test_offices_add_and_list(runner: TrackerCli) -> None:
    result = runner(
        "offices",
        "add",
        "kultur",
        "--name-sv",
        "Kultur- och fritidskontoret",
        "--name-en",
        "Culture and Leisure",
        "--mailbox",
        "kultur@norrkoping.test",
    )
    assert result.exit_code == 0, result.output
    assert runner("offices", "add", "skola", "--name-sv", "Utbildningskontoret").exit_code == 0

    assert _offices(runner) == [
        {
            "slug": "kultur",
            "name_sv": "Kultur- och fritidskontoret",
            "name_en": "Culture and Leisure",
            "mailbox": "kultur@norrkoping.test",
            "active": True,
        },
        {
            "slug": "skola",
            "name_sv": "Utbildningskontoret",
            "name_en": "Utbildningskontoret",
            "mailbox": None,
            "active": True,
        },
    ]
    text = runner("offices", "list").output
    assert "kultur" in text and "Utbildningskontoret" in text


def test_offices_add_refuses_bad_input_in_one_line(runner: TrackerCli) -> None:
    runner("offices", "add", "kultur", "--name-sv", "Kultur")
    for args, message in [
        (["kultur", "--name-sv", "Igen"], "already exists"),
        (["Kultur Kontoret", "--name-sv", "Kultur"], "lower-case letters, digits and dashes"),
        (["miljo", "--name-sv", "Miljö", "--mailbox", "not-an-address"], "not an email address"),
    ]:
        result = runner("offices", "add", *args)
        assert result.exit_code == 1, args
        assert message in result.output
        assert "Traceback" not in result.output
    assert runner("offices", "add", "miljo").exit_code == 2  # --name-sv is required
    assert [row["slug"] for row in _offices(runner)] == ["kultur"]


def test_setup_loads_the_configs_offices_once_and_keeps_staff_edits(runner: TrackerCli) -> None:
    runner.config_file.write_text(
        runner.config_file.read_text(encoding="utf-8")
        + '[[offices]]\nslug = "kultur"\nname_sv = "Kulturkontoret"\nname_en = "Culture"\n'
        + '[[offices]]\nslug = "miljo"\nname_sv = "Miljökontoret"\n'
        + 'mailbox = "miljo@norrkoping.test"\n',
        encoding="utf-8",
    )
    assert runner("setup").exit_code == 0
    first = _offices(runner)
    assert [(r["slug"], r["name_en"], r["mailbox"]) for r in first] == [
        ("kultur", "Culture", None),
        ("miljo", "Miljökontoret", "miljo@norrkoping.test"),
    ]
    assert runner("setup").exit_code == 0
    assert _offices(runner) == first


def test_a_fresh_install_imports_a_project_log_after_offices_add(
    runner: TrackerCli, tmp_path: Path
) -> None:
    log = tmp_path / "projects.csv"
    log.write_text(
        "title,lead_office,programme,status,submitted_on,currency,eu_grant\n"
        "Music bridges across the Baltic,kultur,Creative Europe,awarded,2024-02-01,EUR,96000\n"
        "Young voices in Europe,kultur,CERV,submitted,2024-03-10,EUR,36000\n",
        encoding="utf-8",
    )
    assert runner("setup").exit_code == 0
    refused = runner("projects", "import", str(log))
    assert refused.exit_code == 1  # no office yet: nothing is written
    assert "kultur" in refused.output

    assert runner("offices", "add", "kultur", "--name-sv", "Kulturkontoret").exit_code == 0
    result = runner("projects", "import", str(log))
    assert result.exit_code == 0, result.output

    projects = json.loads(runner("projects", "list", "--json").output)
    assert sorted((p["title"], p["lead_office"]) for p in projects) == [
        ("Music bridges across the Baltic", "kultur"),
        ("Young voices in Europe", "kultur"),
    ]
