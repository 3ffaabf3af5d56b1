"""Defaults for the projects area: the networks Norrköping belongs to, its sister cities and
closest partners, and the co-financing sources offices most often combine.

The networks, Riga, Esslingen, Linz, Xuzhou and Linköping University come from the
municipality's own pages (../shared/strategy/focus-areas.md); the Nordic sister cities are the
Nordic twin-town ring Norrköping belongs to (Kópavogur, Odense, Tampere, Trondheim). The
funders' rules are the ones staff check first; the texts are short reminders, not the
funders' terms. Descriptions are stored in Swedish, the language staff work in, each with an
English version that the English interface shows (``seeded_in_language``) while nobody has
edited it. Staff edit all of it in the app; the loader only adds what is missing.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.models import (
    Funder,
    FunderKind,
    Organisation,
    OrganisationKind,
    SisterCityRelation,
    Source,
)
from tracker.services.financing import FunderData, create_funder
from tracker.services.organisations import (
    OrganisationData,
    create_organisation,
    find_organisation,
    set_membership,
    set_sister_city,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NetworkSeed:
    name: str
    url: str | None
    since_year: int | None
    focus_areas: tuple[str, ...]
    description: str
    description_en: str


NETWORKS = (
    NetworkSeed(
        "UNESCO Creative Cities Network",
        "https://www.unesco.org/en/creative-cities",
        2017,
        ("culture-music",),
        "Norrköping är UNESCO City of Music sedan 2017. Mål: stärka skapande, produktion, "
        "spridning och förmedling av kultur; öka tillgången till och deltagandet i "
        "kulturlivet, särskilt för marginaliserade och utsatta grupper; integrera kulturen i "
        "planerna för hållbar utveckling.",
        "Norrköping has been a UNESCO City of Music since 2017. Aims: to strengthen the "
        "creation, production, distribution and sharing of culture; to widen access to and "
        "participation in cultural life, especially for marginalised and vulnerable groups; to "
        "make culture part of the plans for sustainable development.",
    ),
    NetworkSeed(
        "EUniverCities",
        "https://eunivercities.eu",
        2012,
        ("knowledge-city", "regional-development", "business-trade"),
        "Tillsammans med Linköping och Linköpings universitet sedan 2012. Fem områden: lokal "
        "och regional ekonomi, internationalisering, studenter och staden, attraktivitet och "
        "marknadsföring, teknik och samhälle.",
        "Together with Linköping and Linköping University since 2012. Five areas: the local "
        "and regional economy, internationalisation, students and the city, attractiveness "
        "and marketing, technology and society.",
    ),
    NetworkSeed(
        "SERN – Sweden Emilia-Romagna Network",
        "https://www.sern.eu",
        None,
        (
            "education",
            "energy-environment",
            "regional-development",
            "health-welfare",
            "inclusion-migration",
        ),
        "Fem områden: utbildning och lärande, energi och miljö, lokal och regional "
        "utveckling, hälsa och välfärd, social inkludering och migration. Teman: tjänster för "
        "den växande äldre befolkningen, ökat medborgarinflytande, unga och personer med "
        "utländsk bakgrund i ideellt arbete. Underlättar deltagande i EU-projekt.",
        "Five areas: education and learning, energy and environment, local and regional "
        "development, health and welfare, social inclusion and migration. Themes: services for "
        "the growing older population, more say for citizens, young people and people with a "
        "foreign background in voluntary work. Makes taking part in EU projects easier.",
    ),
    NetworkSeed(
        "Nordic City Network",
        None,
        None,
        ("regional-development",),
        "Stadsutveckling och planering i omställningen från industristad till kunskapsstad.",
        "Urban development and planning in the change from an industrial city to a knowledge city.",
    ),
)


@dataclass(frozen=True)
class CitySeed:
    name: str
    country: str
    relation: SisterCityRelation
    topics: str = ""
    topics_en: str = ""


SISTER_CITIES = (
    CitySeed("Riga", "LV", SisterCityRelation.TWIN_TOWN),
    CitySeed("Esslingen am Neckar", "DE", SisterCityRelation.TWIN_TOWN),
    CitySeed("Linz", "AT", SisterCityRelation.TWIN_TOWN),
    CitySeed("Kópavogur", "IS", SisterCityRelation.TWIN_TOWN, "Nordisk vänort", "Nordic twin town"),
    CitySeed("Odense", "DK", SisterCityRelation.TWIN_TOWN, "Nordisk vänort", "Nordic twin town"),
    CitySeed("Tampere", "FI", SisterCityRelation.TWIN_TOWN, "Nordisk vänort", "Nordic twin town"),
    CitySeed("Trondheim", "NO", SisterCityRelation.TWIN_TOWN, "Nordisk vänort", "Nordic twin town"),
    CitySeed(
        "Xuzhou",
        "CN",
        SisterCityRelation.PLANNED,
        "Framtida samarbete (Jiangsu, Kina)",
        "Future cooperation (Jiangsu, China)",
    ),
)

PARTNERS = (
    OrganisationData(
        "Linköpings universitet",
        OrganisationKind.UNIVERSITY,
        "SE",
        "Norrköping",
        "https://liu.se",
        "Campus Norrköping; partner i EUniverCities.",
    ),
    OrganisationData(
        "Linköpings kommun",
        OrganisationKind.MUNICIPALITY,
        "SE",
        "Linköping",
        "https://www.linkoping.se",
        "Partner i EUniverCities.",
    ),
    OrganisationData(
        "Region Östergötland",
        OrganisationKind.REGION,
        "SE",
        "Linköping",
        "https://www.regionostergotland.se",
    ),
)

# The partners' notes in English, for the English interface.
PARTNER_NOTES_EN = {
    "Campus Norrköping; partner i EUniverCities.": "Campus Norrköping; partner in EUniverCities.",
    "Partner i EUniverCities.": "Partner in EUniverCities.",
}


@dataclass(frozen=True)
class FunderSeed:
    data: FunderData
    # The configured source whose calls this funder publishes.
    source_name: str | None = None


FUNDERS = (
    FunderSeed(
        FunderData(
            "Norrköpings kommun – egen budget",
            FunderKind.OWN_BUDGET,
            rules_text="Kommunens egna medel (kontant) och arbetstid (in natura). Kräver beslut "
            "i den nämnd eller styrelse som äger budgeten.",
        )
    ),
    FunderSeed(
        FunderData(
            "Tillväxtverket – Europeiska regionala utvecklingsfonden (ERUF)",
            FunderKind.EU_SHARED,
            programmes=(
                "Regionalfondsprogram Östra Mellansverige 2021–2027",
                "Nationellt regionalfondsprogram 2021–2027",
            ),
            typical_max_rate=Decimal("40"),
            forbids_double_eu_funding=True,
            rules_text="EU-medel: får inte medfinansiera kostnader som redan finansieras av "
            "ett annat EU-program. Stödet täcker högst 40 % i mer utvecklade regioner; resten "
            "ska vara offentlig eller privat medfinansiering.",
            url="https://tillvaxtverket.se",
        )
    ),
    FunderSeed(
        FunderData(
            "ESF-rådet – Europeiska socialfonden+ (ESF+)",
            FunderKind.EU_SHARED,
            programmes=("Socialfondsprogrammet ESF+ 2021–2027",),
            forbids_double_eu_funding=True,
            rules_text="EU-medel: får inte medfinansiera kostnader som redan finansieras av "
            "ett annat EU-program.",
            url="https://www.esf.se",
        )
    ),
    FunderSeed(
        FunderData(
            "Kulturrådet",
            FunderKind.NATIONAL_AGENCY,
            programmes=("Internationellt kulturutbyte och samverkan",),
            rules_text="Söks främst av kulturaktörer och kulturinstitutioner; kommunala "
            "institutioner kan söka vissa bidrag. Läs villkoren för varje bidrag.",
            url="https://www.kulturradet.se",
        )
    ),
    FunderSeed(
        FunderData(
            "Nordplus",
            FunderKind.NORDIC,
            programmes=(
                "Nordplus Junior",
                "Nordplus Vuxen",
                "Nordplus Högre utbildning",
                "Nordplus Horisontal",
                "Nordplus Nordiska språk",
            ),
            rules_text="Nordiska rådets utbildningsprogram; skolor, kommuner och "
            "organisationer i minst tre nordiska eller baltiska länder.",
            url="https://www.nordplusonline.org",
        )
    ),
    FunderSeed(
        FunderData(
            "Svenska institutet",
            FunderKind.NATIONAL_AGENCY,
            programmes=("Östersjösamarbete",),
            rules_text="Stöd till samarbete i Östersjöregionen och närområdet.",
            url="https://si.se",
        )
    ),
    FunderSeed(
        FunderData(
            "Region Östergötland – regionala utvecklingsmedel",
            FunderKind.REGION,
            programmes=("Regionala utvecklingsmedel",),
            excludes_ordinary_municipal_tasks=True,
            rules_text="Medfinansierar utvecklingsinsatser, även EU-projekt, men inte "
            "kommunens ordinarie verksamhet.",
            url="https://www.regionostergotland.se",
        )
    ),
    FunderSeed(
        FunderData(
            "Allmänna arvsfonden",
            FunderKind.FOUNDATION,
            programmes=("Projektstöd", "Lokalstöd"),
            municipalities_may_apply=False,
            requires_civil_society_partner=True,
            excludes_ordinary_municipal_tasks=True,
            rules_text="Sökande är en ideell förening eller annan organisation i det civila "
            "samhället; kommunen kan vara samarbetspartner men inte söka själv. Finansierar "
            "inte ordinarie kommunal verksamhet.",
            url="https://www.arvsfonden.se",
        )
    ),
    FunderSeed(
        FunderData(
            "Sparbanksstiftelser",
            FunderKind.FOUNDATION,
            excludes_ordinary_municipal_tasks=True,
            rules_text="Lokala sparbanksstiftelser stöder allmännyttiga projekt i sitt "
            "område men aldrig det som är kommunens ordinarie uppgifter.",
        )
    ),
    FunderSeed(
        FunderData(
            "Vinnova",
            FunderKind.NATIONAL_AGENCY,
            rules_text="Sveriges innovationsmyndighet; villkoren skiljer sig mellan utlysningarna.",
            url="https://www.vinnova.se",
        ),
        source_name="vinnova",
    ),
    FunderSeed(
        FunderData(
            "Nordisk kulturfond",
            FunderKind.NORDIC,
            rules_text="Stöder nordiskt kultursamarbete med deltagare från minst tre nordiska "
            "länder.",
            url="https://www.nordiskkulturfond.org",
        )
    ),
    FunderSeed(
        FunderData(
            "Interreg Baltic Sea Region",
            FunderKind.INTERREG,
            programmes=("Interreg Baltic Sea Region 2021–2027",),
            typical_max_rate=Decimal("80"),
            forbids_double_eu_funding=True,
            rules_text="EU-medel (ERUF): får inte kombineras med andra EU-medel för samma kostnad.",
            url="https://interreg-baltic.eu",
        )
    ),
    FunderSeed(
        FunderData(
            "Interreg Europe",
            FunderKind.INTERREG,
            programmes=("Interreg Europe 2021–2027",),
            typical_max_rate=Decimal("80"),
            forbids_double_eu_funding=True,
            rules_text="EU-medel (ERUF): får inte kombineras med andra EU-medel för samma kostnad.",
            url="https://www.interregeurope.eu",
        )
    ),
    FunderSeed(
        FunderData(
            "Kreativa Europa (EACEA)",
            FunderKind.EU_DIRECT,
            programmes=("Creative Europe – Culture",),
            typical_max_rate=Decimal("80"),
            forbids_double_eu_funding=True,
            rules_text="Samarbetsprojekt: högst 80 % (små), 70 % (medelstora) eller 60 % "
            "(stora) av kostnaderna.",
            url="https://culture.ec.europa.eu/creative-europe",
        )
    ),
)

# The funders' rules in English, for the English interface, by funder.
FUNDER_RULES_EN = {
    "Norrköpings kommun – egen budget": "The municipality's own money (cash) and working "
    "time (in kind). Needs a decision of the committee or board that owns the budget.",
    "Tillväxtverket – Europeiska regionala utvecklingsfonden (ERUF)": "EU money: may not "
    "co-finance costs that another EU programme already funds. The grant covers at most 40% "
    "in more developed regions; the rest must be public or private co-financing.",
    "ESF-rådet – Europeiska socialfonden+ (ESF+)": "EU money: may not co-finance costs that "
    "another EU programme already funds.",
    "Kulturrådet": "Mainly for cultural organisations and institutions; municipal "
    "institutions may apply for some grants. Read the terms of each grant.",
    "Nordplus": "The Nordic Council of Ministers' education programme; schools, "
    "municipalities and organisations in at least three Nordic or Baltic countries.",
    "Svenska institutet": "Support for cooperation in the Baltic Sea region and the "
    "neighbouring area.",
    "Region Östergötland – regionala utvecklingsmedel": "Co-finances development work, EU "
    "projects too, but not the municipality's ordinary activities.",
    "Allmänna arvsfonden": "The applicant is a non-profit association or another "
    "civil-society organisation; the municipality may be a partner but cannot apply itself. "
    "Does not fund ordinary municipal activities.",
    "Sparbanksstiftelser": "Local savings-bank foundations support projects for the public "
    "good in their area, but never what is the municipality's ordinary task.",
    "Vinnova": "Sweden's innovation agency; the terms differ from call to call.",
    "Nordisk kulturfond": "Supports Nordic cultural cooperation with participants from at "
    "least three Nordic countries.",
    "Interreg Baltic Sea Region": "EU money (ERDF): may not be combined with other EU money "
    "for the same cost.",
    "Interreg Europe": "EU money (ERDF): may not be combined with other EU money for the "
    "same cost.",
    "Kreativa Europa (EACEA)": "Cooperation projects: at most 80% (small), 70% (medium) or "
    "60% (large) of the costs.",
}


@lru_cache(maxsize=1)
def _seeded_english() -> dict[str, str]:
    """Every Swedish text the defaults seed, with its English version."""
    english = {n.description: n.description_en for n in NETWORKS}
    english |= {c.topics: c.topics_en for c in SISTER_CITIES if c.topics}
    english |= PARTNER_NOTES_EN
    english |= {f.data.rules_text: FUNDER_RULES_EN[f.data.name] for f in FUNDERS}
    return english


def seeded_in_language(text: str | None, language: str) -> str:
    """``text`` as the reader's ``language`` shows it: a text these defaults seeded (in
    Swedish) in English for the English interface; any other text, and a seeded one that
    staff have edited, as written."""
    if not text:
        return ""
    if language == "en":
        return _seeded_english().get(text.strip(), text)
    return text


def load_project_defaults(session: Session, settings: Settings, now: datetime) -> None:
    """Add the default networks, sister cities, partners and funders that are missing;
    what staff have changed is left alone."""
    del settings  # part of the loader signature; nothing here depends on it
    created = 0
    for network in NETWORKS:
        organisation = find_organisation(session, network.name, None)
        if organisation is None:
            organisation = create_organisation(
                session,
                OrganisationData(network.name, OrganisationKind.NETWORK, url=network.url),
                actor=None,
                now=now,
            )
            created += 1
        if organisation.membership is None and organisation.kind is OrganisationKind.NETWORK:
            set_membership(
                session,
                organisation,
                since_year=network.since_year,
                focus_areas=list(network.focus_areas),
                description=network.description,
                actor=None,
                now=now,
            )
    for city in SISTER_CITIES:
        organisation = _ensure(
            session,
            OrganisationData(city.name, OrganisationKind.MUNICIPALITY, city.country, city.name),
            now,
        )
        if organisation.sister_city is None and organisation.kind is OrganisationKind.MUNICIPALITY:
            set_sister_city(
                session,
                organisation,
                relation=city.relation,
                topics=city.topics,
                actor=None,
                now=now,
            )
    for partner in PARTNERS:
        _ensure(session, partner, now)
    existing = {name.lower() for name in session.scalars(select(Funder.name))}
    for seed in FUNDERS:
        if seed.data.name.lower() in existing:
            continue
        data = seed.data
        if seed.source_name is not None:
            source_id = session.scalar(select(Source.id).where(Source.name == seed.source_name))
            data = dataclasses.replace(data, source_id=source_id)
        create_funder(session, data, actor=None, now=now)
        created += 1
    if created:
        log.info("loaded %d default networks and funders", created)


def _ensure(session: Session, data: OrganisationData, now: datetime) -> Organisation:
    organisation = find_organisation(session, data.name, data.country_code)
    if organisation is None:
        organisation = create_organisation(session, data, actor=None, now=now)
    return organisation
