"""Settings: one TOML file parsed into frozen dataclasses.

The file is named by ``TRACKER_CONFIG`` (default ``config.toml`` in the instance folder, see
``tracker.paths``). Every key can be overridden by an environment variable
``TRACKER_<SECTION>_<KEY>``; ``TRACKER_DATABASE_URL`` and ``TRACKER_SECRET_KEY`` are short forms
for the two secrets most deployments set that way. Unknown keys and values of the wrong type
stop start-up with a message that names the key. A relative SQLite path in the database URL
is inside the instance folder, so no path depends on the working directory.
"""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
import shutil
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url

from tracker.paths import EXAMPLE_CONFIG as EXAMPLE_CONFIG
from tracker.paths import (
    INSTANCE_FOLDER_NAME,
    SHIPPED_ROOT,
    default_config_path,
    default_instance_folder,
    instance_folder_for,
)

# The folder holding templates/, migrations/ and config.example.toml: the checkout, or the
# copy inside an installed wheel.
PROJECT_ROOT = SHIPPED_ROOT


class ConfigError(Exception):
    """The configuration cannot be used; the message names the offending key."""


@dataclass(frozen=True)
class AppSettings:
    secret_key: str = ""
    default_language: Literal["sv", "en"] = "sv"
    timezone: str = "Europe/Stockholm"
    session_cookie_secure: bool = False
    login_attempts_per_15_minutes: int = 10


@dataclass(frozen=True)
class DatabaseSettings:
    # A relative SQLite path is inside the instance folder.
    url: str = "sqlite:///tracker.db"
    echo: bool = False


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 5000


@dataclass(frozen=True)
class SchedulerSettings:
    enabled: bool = True
    lease_seconds: int = 900
    misfire_grace_seconds: int = 3600


@dataclass(frozen=True)
class FetchSettings:
    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 60.0
    max_response_bytes: int = 200_000_000
    max_retries: int = 3
    user_agent: str = "tracker/0.1 (EU funding opportunity tracker; Norrkoping municipality)"


@dataclass(frozen=True)
class MailSettings:
    host: str = "localhost"
    port: int = 25
    security: Literal["none", "starttls", "ssl"] = "none"
    username: str = ""
    password: str = ""
    sender: str = "tracker@localhost"
    base_url: str = "http://127.0.0.1:5000"
    timeout_seconds: float = 30.0


@dataclass(frozen=True)
class DigestSettings:
    enabled: bool = True
    # Five crontab fields (minute hour day month day-of-week) in the app's time zone.
    cron: str = "0 7 * * mon"
    retry_every: str = "5m"
    retry_backoff_minutes: int = 5
    max_attempts: int = 8


@dataclass(frozen=True)
class ReportSettings:
    sek_per_eur: float = 11.5


@dataclass(frozen=True)
class SourceSettings:
    name: str
    kind: Literal["ft-search", "ft-bulk", "rss", "vinnova", "manual"]
    url: str = ""
    every: str = "24h"
    enabled: bool = True


@dataclass(frozen=True)
class OfficeSettings:
    slug: str
    name_sv: str
    name_en: str = ""
    mailbox: str = ""


@dataclass(frozen=True)
class Settings:
    app: AppSettings = field(default_factory=AppSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    web: WebSettings = field(default_factory=WebSettings)
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    fetch: FetchSettings = field(default_factory=FetchSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    digest: DigestSettings = field(default_factory=DigestSettings)
    reports: ReportSettings = field(default_factory=ReportSettings)
    sources: tuple[SourceSettings, ...] = ()
    offices: tuple[OfficeSettings, ...] = ()
    # Not a section of the file: the folder of the SQLite database and the generated key.
    instance_path: Path = field(default_factory=default_instance_folder)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.app.timezone)


_SHORT_ENV = {
    "TRACKER_DATABASE_URL": ("database", "url"),
    "TRACKER_SECRET_KEY": ("app", "secret_key"),
}


# Sections written as arrays of tables ([[sources]]), and the type of each entry.
_ARRAYS: dict[str, Any] = {"sources": SourceSettings, "offices": OfficeSettings}
# Fields of Settings that are not sections of the file.
_NOT_SECTIONS = frozenset({"instance_path"})


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    """The config file: ``TRACKER_CONFIG``, or config.toml in the instance folder."""
    return default_config_path(environ)


def ensure_config_file(path: Path) -> bool:
    """Create ``path`` from config.example.toml when it does not exist; True if created."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(EXAMPLE_CONFIG, path)
    return True


def load_settings(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Settings:
    """Read the TOML file at ``path`` (or the one ``TRACKER_CONFIG`` names), apply environment
    overrides and then ``overrides`` (used by tests), and validate everything."""
    env = os.environ if environ is None else environ
    path = config_path(env) if path is None else path
    try:
        raw: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return settings_from_dict(
        raw, env, overrides, origin=str(path), instance_path=instance_folder_for(path, env)
    )


def settings_from_dict(
    raw: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    origin: str = "config",
    instance_path: Path | None = None,
) -> Settings:
    """Settings from parsed TOML. ``instance_path`` defaults to ``TRACKER_INSTANCE`` (from
    ``environ``) or the default instance folder."""
    env = {} if environ is None else environ
    if instance_path is None:
        instance_path = instance_folder_for(default_config_path(env), env)
    data: dict[str, Any] = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in raw.items()}
    section_types = {
        name: type_ for name, type_ in _field_types(Settings).items() if name not in _NOT_SECTIONS
    }
    for name, value in env.items():
        if not name.startswith("TRACKER_") or name == "TRACKER_CONFIG":
            continue
        target = _SHORT_ENV.get(name) or _env_target(name, section_types)
        if target is None:
            continue
        section, key = target
        data.setdefault(section, {})[key] = _EnvValue(name, value)
    for section, values in (overrides or {}).items():
        data.setdefault(section, {}).update(values)

    kwargs: dict[str, Any] = {}
    for section, value in data.items():
        if section not in section_types:
            raise ConfigError(f"{origin}: unknown section [{section}]")
        if section in _ARRAYS:
            if not isinstance(value, list):
                raise ConfigError(f"{origin}: [[{section}]] must be a list of tables")
            kwargs[section] = tuple(
                _build(_ARRAYS[section], item, f"{section}[{i}]", origin)
                for i, item in enumerate(value)
            )
        else:
            if not isinstance(value, Mapping):
                raise ConfigError(f"{origin}: [{section}] must be a table")
            kwargs[section] = _build(section_types[section], value, section, origin)
    settings = Settings(**kwargs)
    _validate(settings, origin)
    database = dataclasses.replace(
        settings.database, url=_sqlite_in_instance(settings.database.url, instance_path)
    )
    return dataclasses.replace(settings, database=database, instance_path=instance_path)


def _sqlite_in_instance(url: str, instance_path: Path) -> str:
    """Put a relative SQLite path inside the instance folder. Config files copied from older
    examples say ``instance/tracker.db``, meaning the instance folder's tracker.db."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return url
    if database.startswith("file:") or Path(database).is_absolute():
        return url
    parts = Path(database).parts
    if len(parts) > 1 and parts[0] == INSTANCE_FOLDER_NAME:
        parts = parts[1:]
    return parsed.set(database=str(instance_path.joinpath(*parts))).render_as_string(
        hide_password=False
    )


@dataclass(frozen=True)
class _EnvValue:
    """A value that came from an environment variable: a string to convert to the key's type."""

    variable: str
    text: str


def _env_target(name: str, section_types: Mapping[str, Any]) -> tuple[str, str] | None:
    rest = name[len("TRACKER_") :].lower()
    for section, section_type in section_types.items():
        if section in _ARRAYS or not rest.startswith(section + "_"):
            continue
        key = rest[len(section) + 1 :]
        if key in _field_types(section_type):
            return section, key
        raise ConfigError(f"environment variable {name}: [{section}] has no key {key!r}")
    return None


def _field_types(cls: Any) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _build(cls: Any, values: Mapping[str, Any], where: str, origin: str) -> Any:
    types_ = _field_types(cls)
    kwargs = {}
    for key, value in values.items():
        if key not in types_:
            raise ConfigError(f"{origin}: unknown key {key!r} in [{where}]")
        kwargs[key] = _convert(value, types_[key], f"{where}.{key}", origin)
    missing = [
        f.name
        for f in dataclasses.fields(cls)
        if f.name not in kwargs
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{origin}: [{where}] lacks required key {missing[0]!r}")
    return cls(**kwargs)


def _convert(value: Any, type_: Any, key: str, origin: str) -> Any:
    source = f"{origin}: {key}"
    if isinstance(value, _EnvValue):
        source = f"environment variable {value.variable}"
        value = _from_text(value.text, type_, source)
    origin_type = typing.get_origin(type_)
    if origin_type is Literal:
        allowed = typing.get_args(type_)
        if value not in allowed:
            choices = ", ".join(repr(a) for a in allowed)
            raise ConfigError(f"{source}: {value!r} is not one of {choices}")
        return value
    if origin_type in (types.UnionType, typing.Union):
        raise ConfigError(f"{source}: unsupported type")
    if type_ is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: expected true or false, got {value!r}")
        return value
    if type_ is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{source}: expected a whole number, got {value!r}")
        return value
    if type_ is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{source}: expected a number, got {value!r}")
        return float(value)
    if type_ is str:
        if not isinstance(value, str):
            raise ConfigError(f"{source}: expected a string, got {value!r}")
        return value
    raise ConfigError(f"{source}: unsupported type {type_!r}")


def _from_text(text: str, type_: Any, source: str) -> Any:
    if type_ is bool:
        lowered = text.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{source}: expected true or false, got {text!r}")
    if type_ is int:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{source}: expected a whole number, got {text!r}") from None
    if type_ is float:
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"{source}: expected a number, got {text!r}") from None
    return text


def parse_interval(text: str) -> int:
    """Seconds in an interval such as ``30m``, ``6h``, ``1d``; ValueError when malformed."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    text = text.strip().lower()
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit() or int(text[:-1]) <= 0:
        raise ValueError(f"{text!r} is not an interval like 30m, 6h or 1d")
    return int(text[:-1]) * units[text[-1]]


CRON_FIELDS = ("minute", "hour", "day", "month", "day_of_week")
_CRON_FIELD = re.compile(r"^[A-Za-z0-9*/,-]+$")


def cron_trigger_args(expression: str) -> dict[str, str]:
    """APScheduler cron keywords for a five-field crontab line (minute hour day month
    day-of-week); ValueError when malformed. Days of the week must be names (mon..sun):
    cron numbers Sunday 0 but APScheduler numbers Monday 0, so digits would mislead."""
    fields = expression.split()
    if len(fields) != len(CRON_FIELDS) or not all(_CRON_FIELD.match(f) for f in fields):
        raise ValueError(f"{expression!r} is not five crontab fields like '0 7 * * mon'")
    if any(ch.isdigit() for ch in fields[4].split("/")[0]):
        raise ValueError(f"{expression!r}: write the day of the week as a name (mon..sun)")
    return dict(zip(CRON_FIELDS, fields, strict=True))


def _validate(settings: Settings, origin: str) -> None:
    try:
        ZoneInfo(settings.app.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{origin}: app.timezone: unknown time zone {settings.app.timezone!r}"
        ) from None
    if not (0 < settings.web.port < 65536):
        raise ConfigError(f"{origin}: web.port: {settings.web.port} is not a TCP port")
    if not (0 < settings.mail.port < 65536):
        raise ConfigError(f"{origin}: mail.port: {settings.mail.port} is not a TCP port")
    if not settings.database.url.split(":", 1)[0].startswith(("sqlite", "postgresql")):
        raise ConfigError(f"{origin}: database.url: only sqlite and postgresql URLs are supported")
    if settings.reports.sek_per_eur <= 0:
        raise ConfigError(f"{origin}: reports.sek_per_eur: must be positive")
    try:
        cron_trigger_args(settings.digest.cron)
    except ValueError as exc:
        raise ConfigError(f"{origin}: digest.cron: {exc}") from None
    try:
        parse_interval(settings.digest.retry_every)
    except ValueError as exc:
        raise ConfigError(f"{origin}: digest.retry_every: {exc}") from None
    if settings.digest.max_attempts < 1 or settings.digest.retry_backoff_minutes < 1:
        raise ConfigError(
            f"{origin}: digest.max_attempts and digest.retry_backoff_minutes must be at least 1"
        )
    if settings.scheduler.lease_seconds < 10:
        raise ConfigError(f"{origin}: scheduler.lease_seconds: must be at least 10")
    seen: set[str] = set()
    for i, source in enumerate(settings.sources):
        where = f"{origin}: sources[{i}]"
        if source.name in seen:
            raise ConfigError(f"{where}.name: duplicate source name {source.name!r}")
        seen.add(source.name)
        try:
            parse_interval(source.every)
        except ValueError as exc:
            raise ConfigError(f"{where}.every: {exc}") from None
        if source.kind != "manual" and not source.url.startswith(
            ("http://", "https://", "file://")
        ):
            raise ConfigError(f"{where}.url: must start with http://, https:// or file://")
    slugs: set[str] = set()
    for i, office in enumerate(settings.offices):
        if office.slug in slugs:
            raise ConfigError(f"{origin}: offices[{i}].slug: duplicate office {office.slug!r}")
        slugs.add(office.slug)
        if not office.name_sv.strip():
            raise ConfigError(f"{origin}: offices[{i}].name_sv: a Swedish name is required")


def generate_secret_key() -> str:
    return secrets.token_urlsafe(48)


def signing_key(settings: Settings) -> str:
    """The key that signs session cookies and the one-click links in mails: the configured
    one, or one generated once and kept in the instance folder. The web app, the scheduler
    and the CLI must agree on it, so all of them take it from here."""
    return settings.app.secret_key or _instance_secret_key(settings.instance_path)


def _instance_secret_key(instance_path: Path) -> str:
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate_secret_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key
