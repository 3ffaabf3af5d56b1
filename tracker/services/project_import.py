"""Moving an office's spreadsheet of projects into the tracker: every row checked, then all
of them written, or none (the file's shape and reading it are in ``project_sheets``).

Nothing is written unless every row is valid. A row whose title and lead office match a
project already in the log updates that project: the columns the file has replace its values
(a blank cell clears the field), partners in the file are added (none are removed). Other
rows create projects.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from tracker.i18n import Message, msg
from tracker.models import (
    Currency,
    Office,
    Organisation,
    Project,
    ProjectPartner,
    ProjectRole,
    ProjectStatus,
    User,
)
from tracker.services.audit import audit_values, record_events
from tracker.services.fields import (
    FieldError,
    clean,
    parse_amount,
    parse_choice,
    parse_date,
)
from tracker.services.organisations import ensure_partner, parse_partner_list
from tracker.services.project_sheets import (
    AMOUNT_COLUMNS,
    COLUMNS,
    DATE_COLUMNS,
    MAX_ROWS,
    REQUIRED_COLUMNS,
    ImportFileError,
    RowError,
    Table,
    export_projects,
    list_for_export,
    read_csv,
    read_table,
    read_xlsx,
)
from tracker.services.projects import (
    ProjectData,
    active_focus_areas,
    add_partner,
    check_project,
    create_projects,
    find_office,
    update_project,
)
from tracker.services.strategy import active_profile

# Callers read and write files through this module as well as through project_sheets.
__all__ = [
    "COLUMNS",
    "MAX_ROWS",
    "ImportFileError",
    "ImportResult",
    "Progress",
    "RowError",
    "Table",
    "check_table",
    "export_projects",
    "import_projects",
    "list_for_export",
    "parse_code",
    "read_csv",
    "read_table",
    "read_xlsx",
]

# The Swedish words an office's spreadsheet may use for the codes (the English codes work too).
SWEDISH_CODES: dict[type[Any], dict[str, Any]] = {
    ProjectStatus: {
        "idé": ProjectStatus.IDEA,
        "ide": ProjectStatus.IDEA,
        "förbereds": ProjectStatus.PREPARING,
        "under förberedelse": ProjectStatus.PREPARING,
        "inskickad": ProjectStatus.SUBMITTED,
        "inlämnad": ProjectStatus.SUBMITTED,
        "beviljad": ProjectStatus.AWARDED,
        "beviljat": ProjectStatus.AWARDED,
        "avslagen": ProjectStatus.REJECTED,
        "avslaget": ProjectStatus.REJECTED,
        "återdragen": ProjectStatus.WITHDRAWN,
        "tillbakadragen": ProjectStatus.WITHDRAWN,
        "pågående": ProjectStatus.RUNNING,
        "pågår": ProjectStatus.RUNNING,
        "avslutad": ProjectStatus.CLOSED,
        "avslutat": ProjectStatus.CLOSED,
    },
    ProjectRole: {
        "koordinator": ProjectRole.LEAD,
        "huvudsökande": ProjectRole.LEAD,
        "projektägare": ProjectRole.LEAD,
        "ledare": ProjectRole.LEAD,
        "partner": ProjectRole.PARTNER,
        "associerad": ProjectRole.ASSOCIATED,
        "associerad partner": ProjectRole.ASSOCIATED,
    },
}


def parse_code(value: object, choices: type[Any]) -> Any:
    """A code written in English (``awarded``) or Swedish (``beviljad``), any case."""
    swedish = SWEDISH_CODES.get(choices, {}).get(clean(value).casefold())
    if swedish is not None:
        return swedish
    try:
        return parse_choice(value, choices)
    except FieldError:
        words = ", ".join(m.value for m in choices)
        synonyms = ", ".join(SWEDISH_CODES.get(choices, {}))
        raise FieldError(
            msg(
                "%(value)r is not one of: %(allowed)s (in Swedish: %(swedish)s)",
                value=clean(value),
                allowed=words,
                swedish=synonyms,
            )
        ) from None


# Told how far an import is: (phase, rows done, rows in all), phase "checking" or "writing".
Progress = Callable[[str, int, int], None]


def _no_progress(_phase: str, _done: int, _total: int) -> None:
    pass


# Where a rule broken by a project field is reported in the file.
_FIELD_TO_COLUMN = {
    "own_contribution_cash": "own_contribution",
    "own_contribution_in_kind": "own_contribution",
}


@dataclass
class ImportResult:
    rows: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    new_partners: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run


# --- checking and writing -------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    data: ProjectData
    existing: Project | None
    partners: list[tuple[str, str | None]]


class _Lookups:
    """What checking thousands of rows asks for again and again, read once: offices,
    organisations, the projects already in the log, the active focus areas. Names are
    compared case-insensitively in Python (SQLite's lower() leaves Å, Ä and Ö alone)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.focus_area_slugs = {a.slug for a in active_focus_areas(session)}
        self._area_names: dict[str, str] | None = None
        self._offices: dict[str, Office | None] = {}
        self._organisations: dict[tuple[str, str | None], Organisation] = {}
        for organisation in session.scalars(select(Organisation).order_by(Organisation.id)):
            key = (organisation.name.casefold(), organisation.country_code)
            self._organisations.setdefault(key, organisation)
        self._projects: dict[tuple[str, int], Project] = {}
        projects = session.scalars(
            select(Project)
            .options(selectinload(Project.partners).selectinload(ProjectPartner.organisation))
            .order_by(Project.id)
        )
        for project in projects:
            self._projects.setdefault((project.title.casefold(), project.lead_office_id), project)

    def area_names(self) -> dict[str, str]:
        if self._area_names is None:
            self._area_names = _area_names(self.session)
        return self._area_names

    def office(self, key: str) -> Office | None:
        if key not in self._offices:
            self._offices[key] = find_office(self.session, key)
        return self._offices[key]

    def organisation(self, name: str, country: str | None) -> Organisation | None:
        return self._organisations.get((name.strip().casefold(), country))

    def partner(
        self, name: str, country: str, *, actor: User | None, now: datetime
    ) -> Organisation:
        """The organisation, registered (audited) the first time a row names it."""
        found = self.organisation(name, country)
        if found is None:
            found, _created = ensure_partner(self.session, name, country, actor=actor, now=now)
            self._organisations[(name.strip().casefold(), country)] = found
        return found

    def existing(self, title: str, office_id: int) -> Project | None:
        return self._projects.get((title.casefold(), office_id))


def _read_cells(
    lookups: _Lookups,
    number: int,
    cells: Mapping[str, object],
    errors: list[RowError],
    *,
    decimal_comma: bool = False,
) -> tuple[dict[str, Any], list[tuple[str, str | None]]] | None:
    """Typed values of the cells of one row, or None after adding its errors."""
    found: list[RowError] = []
    values: dict[str, Any] = {}

    def fail(column: str, message: Message) -> None:
        found.append(RowError(number, column, message))

    if "title" in cells:
        values["title"] = clean(cells["title"])
        if not values["title"]:
            fail("title", msg("a title is required"))
    for key in ("acronym", "programme"):
        if key in cells:
            values[key] = clean(cells[key]) or None
    defaults: tuple[tuple[str, type[Any], Any], ...] = (
        ("role", ProjectRole, ProjectRole.PARTNER),
        ("status", ProjectStatus, ProjectStatus.IDEA),
    )
    for key, choice_type, default in defaults:
        if key in cells:
            try:
                cell = cells[key]
                values[key] = parse_code(cell, choice_type) if clean(cell) else default
            except FieldError as exc:
                fail(key, exc.message)
    office_key = clean(cells.get("lead_office"))
    office = lookups.office(office_key) if office_key else None
    if office is None:
        message = (
            msg("no office %(office)r (use its short name)", office=office_key)
            if office_key
            else msg("the lead office is required")
        )
        fail("lead_office", message)
    else:
        values["lead_office_id"] = office.id
    for key in DATE_COLUMNS:
        if key in cells:
            try:
                values[key] = parse_date(cells[key])
            except FieldError as exc:
                fail(key, exc.message)
    for key in AMOUNT_COLUMNS:
        if key in cells:
            try:
                values[key] = parse_amount(cells[key], lenient=decimal_comma)
            except FieldError as exc:
                fail(key, exc.message)
    if "currency" in cells:
        if clean(cells["currency"]):
            try:
                values["currency"] = parse_choice(cells["currency"], Currency)
            except FieldError as exc:
                fail("currency", exc.message)
        elif any(values.get(key) is not None for key in AMOUNT_COLUMNS):
            fail("currency", msg("say whether the amounts are in EUR or SEK"))
        else:
            values["currency"] = Currency.EUR
    elif any(values.get(key) is not None for key in AMOUNT_COLUMNS):
        fail("currency", msg("say whether the amounts are in EUR or SEK"))
    if "focus_areas" in cells:
        try:
            values["focus_areas"] = _focus_areas(lookups.area_names(), clean(cells["focus_areas"]))
        except FieldError as exc:
            fail("focus_areas", exc.message)
    partners: list[tuple[str, str | None]] = []
    if "partners" in cells:
        try:
            partners = parse_partner_list(clean(cells["partners"]))
        except FieldError as exc:
            fail("partners", exc.message)
        for name, country in partners:
            if country is None and lookups.organisation(name, None) is None:
                fail(
                    "partners",
                    msg(
                        "%(partner)r lacks its country: write Name (CC), e.g. Riga (LV)",
                        partner=name,
                    ),
                )
    if found:
        errors.extend(found)
        return None
    return values, partners


def _area_names(session: Session) -> dict[str, str]:
    """Each active focus area's short, Swedish and English name (case-folded) -> its slug."""
    profile = active_profile(session)
    known: dict[str, str] = {}
    for area in profile.areas if profile is not None else []:
        for name in (area.slug, area.name_sv, area.name_en):
            known[name.casefold()] = area.slug
    return known


def _focus_areas(known: Mapping[str, str], text: str) -> tuple[str, ...]:
    """The focus areas of a cell such as ``culture-music; Utbildning och lärande``: each by
    its short name or its Swedish or English name, separated by ``;`` or ``,``."""
    slugs: list[str] = []
    for part in re.split(r"[;,]", text):
        name = part.strip()
        if not name:
            continue
        slug = known.get(name.casefold())
        if slug is None:
            raise FieldError(
                msg(
                    "%(area)r is not a focus area; use one of: %(areas)s",
                    area=name,
                    areas=", ".join(sorted(set(known.values()))),
                )
            )
        slugs.append(slug)
    return tuple(dict.fromkeys(slugs))


def _project_data(
    values: dict[str, Any], existing: Project | None, *, has_own_contribution: bool
) -> ProjectData:
    own = values.pop("own_contribution", None)
    base = (
        ProjectData.from_project(existing)
        if existing is not None
        else ProjectData(title="", lead_office_id=0)
    )
    data = dataclasses.replace(base, **values)
    if has_own_contribution:
        data = _with_own_contribution(data, own)
    return data


def _with_own_contribution(data: ProjectData, total: Decimal | None) -> ProjectData:
    """Spread the file's single own-contribution figure over cash and in kind, keeping the
    in-kind part already recorded when the total still allows it."""
    if total is None:
        return dataclasses.replace(data, own_contribution_cash=None, own_contribution_in_kind=None)
    in_kind = data.own_contribution_in_kind or Decimal(0)
    if in_kind > total:
        in_kind = Decimal(0)
    return dataclasses.replace(
        data,
        own_contribution_cash=total - in_kind,
        own_contribution_in_kind=in_kind if in_kind else None,
    )


def check_table(
    session: Session,
    table: Table,
    lookups: _Lookups | None = None,
    progress: Progress = _no_progress,
) -> tuple[list[_Row], ImportResult]:
    """Read and check every row without writing anything."""
    lookups = lookups or _Lookups(session)
    total = len(table.rows)
    result = ImportResult(rows=len(table.rows))
    result.extra_columns = [c for c in table.header if c not in COLUMNS]
    result.missing_columns = [c for c in COLUMNS if c not in table.header]
    absent = [c for c in REQUIRED_COLUMNS if c not in table.header]
    if absent:
        raise ImportFileError(
            msg("the header lacks the column(s) %(columns)s", columns=", ".join(absent))
        )
    checked: list[_Row] = []
    first_row_of: dict[tuple[str, int], int] = {}
    for done, (number, cells) in enumerate(table.rows):
        progress("checking", done, total)
        known = {k: v for k, v in cells.items() if k in COLUMNS}
        read = _read_cells(lookups, number, known, result.errors, decimal_comma=table.decimal_comma)
        if read is None:
            continue
        values, partners = read
        key = (values["title"].casefold(), values["lead_office_id"])
        if key in first_row_of:
            result.errors.append(
                RowError(
                    number,
                    "title",
                    msg("the same project as row %(row)d", row=first_row_of[key]),
                )
            )
            continue
        first_row_of[key] = number
        existing = lookups.existing(values["title"], values["lead_office_id"])
        data = _project_data(values, existing, has_own_contribution="own_contribution" in known)
        problems = check_project(session, data, focus_area_slugs=lookups.focus_area_slugs)
        for field_name, message in problems.items():
            column = _FIELD_TO_COLUMN.get(field_name, field_name)
            result.errors.append(RowError(number, column if column in COLUMNS else None, message))
        checked.append(_Row(number, data, existing, partners))
    progress("checking", total, total)
    return checked, result


def import_projects(
    session: Session,
    table: Table,
    *,
    actor: User | None,
    now: datetime,
    dry_run: bool = False,
    progress: Progress = _no_progress,
) -> ImportResult:
    """Create or update one project per row. Nothing is written when any row is invalid or
    when ``dry_run``; the result says what was (or would be) done, ``progress`` how far it
    is. The caller commits."""
    lookups = _Lookups(session)
    rows, result = check_table(session, table, lookups, progress)
    result.dry_run = dry_run
    if result.errors:
        return result
    seen_partners: set[tuple[str, str | None]] = set()
    for row in rows:
        for name, country in row.partners:
            if (
                country is not None
                and (name.lower(), country) not in seen_partners
                and lookups.organisation(name, country) is None
            ):
                seen_partners.add((name.lower(), country))
                result.new_partners.append(f"{name} ({country})")
    for row in rows:
        label = row.data.title
        if row.existing is None:
            result.created.append(label)
        elif ProjectData.from_project(row.existing) != row.data or _missing_partners(row):
            result.updated.append(label)
        else:
            result.unchanged.append(label)
    if dry_run:
        return result
    with session.begin_nested():
        _write_rows(session, rows, lookups, actor=actor, now=now, progress=progress)
    return result


def _write_rows(
    session: Session,
    rows: list[_Row],
    lookups: _Lookups,
    *,
    actor: User | None,
    now: datetime,
    progress: Progress = _no_progress,
) -> None:
    """New projects in bulk (a few flushes for thousands of rows); changed ones one by one."""
    new_rows = [row for row in rows if row.existing is None]
    progress("writing", 0, len(rows))
    created = create_projects(
        session, [row.data for row in new_rows], actor=actor, now=now, source="import"
    )
    links: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for row, project_id in zip(new_rows, created, strict=True):
        linked: set[int] = set()
        for name, country in row.partners:
            organisation = _partner(lookups, name, country, actor=actor, now=now)
            if organisation.id in linked:
                continue
            linked.add(organisation.id)
            links.append(
                {
                    "project_id": project_id,
                    "organisation_id": organisation.id,
                    "role": ProjectRole.PARTNER,
                }
            )
            events.append(
                audit_values(
                    "project.partner_added",
                    "project",
                    project_id,
                    actor=actor,
                    now=now,
                    details={"partner": organisation.label, "role": ProjectRole.PARTNER.value},
                )
            )
    if links:
        session.execute(insert(ProjectPartner), links)
    record_events(session, events)
    done = len(new_rows)
    progress("writing", done, len(rows))
    for row in rows:
        if row.existing is None:
            continue
        done += 1
        progress("writing", done, len(rows))
        project = row.existing
        if ProjectData.from_project(project) != row.data:
            update_project(
                session, project, row.data, actor=actor, now=now, source="import", checked=True
            )
        for name, country in _missing_partners(row, project):
            organisation = _partner(lookups, name, country, actor=actor, now=now)
            add_partner(session, project, organisation, ProjectRole.PARTNER, actor=actor, now=now)


def _partner(
    lookups: _Lookups, name: str, country: str | None, *, actor: User | None, now: datetime
) -> Organisation:
    if country is None:
        organisation = lookups.organisation(name, None)
        assert organisation is not None  # checked by _read_cells
        return organisation
    return lookups.partner(name, country, actor=actor, now=now)


def _missing_partners(row: _Row, project: Project | None = None) -> list[tuple[str, str | None]]:
    target = project or row.existing
    if target is None:
        return list(row.partners)
    present = {(p.organisation.name.lower(), p.organisation.country_code) for p in target.partners}
    return [(n, c) for n, c in row.partners if (n.lower(), c) not in present]
