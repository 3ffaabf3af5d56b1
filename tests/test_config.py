from __future__ import annotations

import re
from pathlib import Path

import pytest

from tracker.config import EXAMPLE_CONFIG, ConfigError, load_settings, parse_interval


def test_example_config_loads_with_its_documented_defaults() -> None:
    settings = load_settings(EXAMPLE_CONFIG, environ={})
    assert settings.app.default_language == "sv"
    assert settings.app.timezone == "Europe/Stockholm"
    assert {s.kind for s in settings.sources} >= {"ft-search", "ft-bulk", "vinnova"}
    assert [(o.slug, o.name_en) for o in settings.offices] == [
        ("international", "International Office")
    ]


def test_a_relative_sqlite_path_is_inside_the_instance_folder(tmp_path: Path) -> None:
    config = tmp_path / "etc" / "config.toml"
    config.parent.mkdir()
    config.write_text(EXAMPLE_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    settings = load_settings(config, environ={})
    assert settings.instance_path == tmp_path / "etc" / "instance"
    assert settings.database.url == f"sqlite:///{tmp_path}/etc/instance/tracker.db"
    moved = load_settings(config, environ={"TRACKER_INSTANCE": str(tmp_path / "var")})
    assert moved.database.url == f"sqlite:///{tmp_path}/var/tracker.db"
    # The old default spelled the instance folder out: it still means the instance folder.
    legacy = tmp_path / "instance" / "config.toml"
    legacy.parent.mkdir()
    legacy.write_text('[database]\nurl = "sqlite:///instance/tracker.db"\n', encoding="utf-8")
    assert load_settings(legacy, environ={}).database.url == (
        f"sqlite:///{tmp_path}/instance/tracker.db"
    )


def test_offices_need_a_swedish_name_and_a_unique_slug(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[[offices]]\nslug = "kultur"\nname_sv = "Kultur"\n'
        '[[offices]]\nslug = "kultur"\nname_sv = "Kultur 2"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=re.escape("offices[1].slug: duplicate office 'kultur'")):
        load_settings(path, environ={})
    path.write_text('[[offices]]\nslug = "kultur"\nname_sv = " "\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape("offices[0].name_sv")):
        load_settings(path, environ={})


def test_every_key_of_the_example_is_documented_by_a_comment() -> None:
    lines = EXAMPLE_CONFIG.read_text(encoding="utf-8").splitlines()
    in_sources = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("[["):
            in_sources = True
        elif stripped.startswith("["):
            in_sources = False
        if "=" in stripped and not stripped.startswith("#") and not in_sources:
            previous = lines[i - 1].strip()
            assert previous.startswith("#") or "=" in previous, f"undocumented key: {stripped}"


def test_environment_overrides_any_key_and_converts_its_type() -> None:
    settings = load_settings(
        EXAMPLE_CONFIG,
        environ={
            "TRACKER_MAIL_PORT": "2525",
            "TRACKER_MAIL_SECURITY": "starttls",
            "TRACKER_SCHEDULER_ENABLED": "false",
            "TRACKER_DATABASE_URL": "postgresql+psycopg://db/tracker",
            "TRACKER_SECRET_KEY": "s3cret",
        },
    )
    assert settings.mail.port == 2525
    assert settings.mail.security == "starttls"
    assert settings.scheduler.enabled is False
    assert settings.database.url == "postgresql+psycopg://db/tracker"
    assert settings.app.secret_key == "s3cret"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[mail]\nprot = 25\n", "unknown key 'prot' in [mail]"),
        ("[mailer]\nport = 25\n", "unknown section [mailer]"),
        ("[mail]\nport = 'twenty'\n", "mail.port: expected a whole number"),
        ("[mail]\nsecurity = 'tls'\n", "mail.security: 'tls' is not one of"),
        ("[app]\ntimezone = 'Mars/Olympus'\n", "app.timezone: unknown time zone"),
        ("[[sources]]\nname = 'x'\nkind = 'rss'\nurl = 'ftp://x'\n", "sources[0].url"),
        (
            "[[sources]]\nname = 'x'\nkind = 'rss'\nurl = 'https://x'\nevery = 'often'\n",
            "sources[0].every",
        ),
        ("[[sources]]\nkind = 'rss'\n", "lacks required key 'name'"),
    ],
)
def test_bad_config_stops_with_a_message_naming_the_key(
    tmp_path: Path, toml: str, message: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(
        ConfigError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")
    ):
        load_settings(path, environ={})


def test_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TRACKER_WEB_PORT"):
        load_settings(EXAMPLE_CONFIG, environ={"TRACKER_WEB_PORT": "eighty"})
    with pytest.raises(ConfigError, match="TRACKER_MAIL_PROT"):
        load_settings(EXAMPLE_CONFIG, environ={"TRACKER_MAIL_PROT": "25"})


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_intervals() -> None:
    assert parse_interval("30m") == 1800
    assert parse_interval("6h") == 21600
    assert parse_interval("1d") == 86400
    with pytest.raises(ValueError):
        parse_interval("0h")


def test_the_example_lists_every_key_of_every_section() -> None:
    import dataclasses
    import tomllib
    import typing

    from tracker.config import Settings

    raw = tomllib.loads(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    hints = typing.get_type_hints(Settings)
    missing = [
        f"{section.name}.{key.name}"
        for section in dataclasses.fields(Settings)
        if section.name not in ("sources", "offices", "instance_path")
        for key in dataclasses.fields(hints[section.name])
        if key.name not in raw.get(section.name, {})
    ]
    assert missing == []
