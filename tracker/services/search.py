"""Search that understands Swedish and English: calls indexed as stems, queries expanded
through a bilingual vocabulary, results ranked title hits first.

A call's texts are stored as stems (``CallSearchTerms``): English texts with the English
Snowball stemmer, Swedish texts with the Swedish one and their compounds split
(*klimatanpassningsarbete* -> klimat anpass arbet), titles with both because a title is too
short to tell its language. A query is cut into groups, one per word or known phrase; each
group may be found as any of its alternatives: its own stems in either language and, when
the words are in the vocabulary, the same concept in the other language
(``tracker/data/search_glossary.toml`` plus the strategy profile's bilingual area names and
descriptions). A call is found when every group is found in it; calls with every group in
the title come first.

The database does the looking up: an FTS5 table on SQLite and a weighted ``tsvector`` with a
GIN index on PostgreSQL, both over ``call_terms`` (migration ``officer_01``), and on
PostgreSQL a GIN index of the title stems alone (``officer_02``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    SQLColumnExpression,
    TextualSelect,
    bindparam,
    delete,
    event,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.orm import Session

from tracker.matching.text import (
    BASE_SWEDISH_LEXICON,
    CompoundSplitter,
    Lang,
    detect_language,
    normalise_spelling,
    stem,
    strip_html,
    words_of,
    wordset,
)
from tracker.models import CallSearchTerms, FocusArea, FundingCall, StrategyProfile

# Words of a description beyond this many add little to finding a call and cost space.
MAX_BODY_WORDS = 4000
# A query phrase found in the vocabulary has at most this many words.
MAX_PHRASE_WORDS = 5
# Groups beyond this many are ignored (a pasted paragraph is not a query).
MAX_GROUPS = 12
REFRESH_CHUNK = 500

_STOP_WORDS = wordset(
    "the and of to in for with on is are be by a an or at as from this that it its "
    "och att i på för med av till en ett som är om den det de"
)

Phrase = tuple[str, ...]


# --- the vocabulary ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ring:
    """Words and phrases that mean the same, in Swedish and English."""

    sv: tuple[str, ...]
    en: tuple[str, ...]


@lru_cache(maxsize=1)
def glossary() -> tuple[Ring, ...]:
    """The rings of ``tracker/data/search_glossary.toml``."""
    raw = resources.files("tracker").joinpath("data/search_glossary.toml").read_text("utf-8")
    data = tomllib.loads(raw)
    return tuple(
        Ring(tuple(entry.get("sv", ())), tuple(entry.get("en", ()))) for entry in data["same"]
    )


@lru_cache(maxsize=1)
def splitter() -> CompoundSplitter:
    """The compound splitter for indexed texts and queries alike; its lexicon is fixed (not
    the profile's) so that an index stays valid when the profile changes."""
    words: set[str] = set(BASE_SWEDISH_LEXICON)
    for ring in glossary():
        for phrase in ring.sv:
            words.update(w.lower() for w in words_of(phrase) if len(w) >= 3)
    return CompoundSplitter(words)


_WORD_STEMS: dict[Lang, dict[str, tuple[str, ...]]] = {"en": {}, "sv": {}}
_WORD_CACHE_SIZE = 300_000


def _word_stems(word: str, lang: Lang) -> tuple[str, ...]:
    """One word as written: its stem, or a Swedish compound's parts."""
    cache = _WORD_STEMS[lang]
    found = cache.get(word)
    if found is not None:
        return found
    lower = word.lower()
    if lang == "en" or lower.isdigit():
        found = (stem(normalise_spelling(lower), "en") if lang == "en" else lower,)
    else:
        split = splitter()
        parts = split.split(lower) if len(lower) >= 6 else None
        found = parts if parts else (split.stem(lower),)
    if len(cache) < _WORD_CACHE_SIZE:
        cache[word] = found
    return found


def _stems(words: Sequence[str], lang: Lang) -> Phrase:
    """The stems of words as the index writes them (texts repeat words: cached per word)."""
    return tuple(part for word in words for part in _word_stems(word, lang))


def phrase_stems(phrase: str, lang: Lang) -> Phrase:
    return _stems(words_of(phrase), lang)


@dataclass(frozen=True)
class Vocabulary:
    """Stemmed rings: for a phrase's stems (in either language), every way to write it."""

    alternatives: dict[Phrase, frozenset[Phrase]]

    def lookup(self, words: Sequence[str]) -> frozenset[Phrase] | None:
        found: set[Phrase] = set()
        for lang in ("en", "sv"):
            hit = self.alternatives.get(_stems(words, lang))
            if hit:
                found |= hit
        return frozenset(found) if found else None


def build_vocabulary(rings: Iterable[Ring]) -> Vocabulary:
    """Index rings by the stems of each member; a phrase in several rings gets them all."""
    members: dict[Phrase, set[Phrase]] = {}
    for ring in rings:
        stems = {phrase_stems(p, "sv") for p in ring.sv} | {phrase_stems(p, "en") for p in ring.en}
        stems.discard(())
        for key in stems:
            members.setdefault(key, set()).update(stems)
    return Vocabulary({key: frozenset(value) for key, value in members.items()})


def _split_items(description: str) -> list[str]:
    return [item.strip(" .") for item in description.replace(";", ",").split(",") if item.strip()]


def profile_rings(areas: Iterable[tuple[str, str, str, str]]) -> list[Ring]:
    """Rings from a profile's areas (Swedish name, English name, Swedish and English
    description): the names, and the descriptions' items when both list as many."""
    rings = []
    for name_sv, name_en, description_sv, description_en in areas:
        rings.append(Ring((name_sv,), (name_en,)))
        items_sv, items_en = _split_items(description_sv), _split_items(description_en)
        if items_sv and len(items_sv) == len(items_en):
            rings.extend(Ring((sv,), (en,)) for sv, en in zip(items_sv, items_en, strict=True))
    return rings


_VOCABULARIES: dict[tuple[tuple[Any, ...], ...], Vocabulary] = {}


def vocabulary(session: Session) -> Vocabulary:
    """The glossary and the active profile's bilingual texts (cached per set of texts)."""
    rows = session.execute(
        select(
            FocusArea.id,
            FocusArea.name_sv,
            FocusArea.name_en,
            FocusArea.description_sv,
            FocusArea.description_en,
        )
        .join(StrategyProfile, StrategyProfile.id == FocusArea.profile_id)
        .where(StrategyProfile.is_active, FocusArea.is_retired.is_(False))
        .order_by(FocusArea.id)
    ).all()
    key = tuple(tuple(row) for row in rows)
    found = _VOCABULARIES.get(key)
    if found is None:
        found = build_vocabulary(
            [*glossary(), *profile_rings((r[1], r[2], r[3], r[4]) for r in rows)]
        )
        if len(_VOCABULARIES) > 20:
            _VOCABULARIES.clear()
        _VOCABULARIES[key] = found
    return found


# --- queries ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchQuery:
    """A query as groups of alternatives: a call must contain one alternative of every group."""

    groups: tuple[frozenset[Phrase], ...]

    def __bool__(self) -> bool:
        return bool(self.groups)


def parse_query(q: str, vocab: Vocabulary | None = None) -> SearchQuery:
    """Cut ``q`` into groups: the longest runs of words the vocabulary knows, else single
    words; each with its stems in both languages and its translations."""
    vocab = vocab if vocab is not None else build_vocabulary(glossary())
    words = [w.lower() for w in words_of(q)]
    if not any(w.isalpha() for w in words):
        # Numbers and signs ("100%", "2027"): only the text as typed means anything.
        return SearchQuery(())
    meaningful = [w for w in words if w not in _STOP_WORDS]
    words = meaningful or words
    groups: list[frozenset[Phrase]] = []
    i = 0
    while i < len(words) and len(groups) < MAX_GROUPS:
        for j in range(min(len(words), i + MAX_PHRASE_WORDS), i, -1):
            span = words[i:j]
            known = vocab.lookup(span)
            if known is not None or j == i + 1:
                own = {_stems(span, "en"), _stems(span, "sv")}
                groups.append(frozenset(own | (known or frozenset())))
                i = j
                break
    return SearchQuery(tuple(g for g in groups if g and all(g)))


def _fts5_phrase(phrase: Phrase) -> str:
    return '"' + " ".join(phrase).replace('"', '""') + '"'


def fts5_expression(query: SearchQuery, *, title_only: bool = False) -> str:
    """The query in FTS5 syntax: every group, any alternative; phrases as phrases."""
    groups = [
        "(" + " OR ".join(_fts5_phrase(p) for p in sorted(group)) + ")" for group in query.groups
    ]
    expression = " AND ".join(groups)
    return f"title_terms : ({expression})" if title_only else expression


def _lexeme(stem_: str, weight: str) -> str:
    return "'" + stem_.replace("'", "''") + "'" + weight


def tsquery_expression(query: SearchQuery, *, title_only: bool = False) -> str:
    """The query as a PostgreSQL tsquery: & between groups, | between alternatives, <->
    within a phrase; title stems carry weight A."""
    weight = ":A" if title_only else ""
    groups = [
        "("
        + " | ".join(
            "(" + " <-> ".join(_lexeme(s, weight) for s in phrase) + ")" for phrase in sorted(group)
        )
        + ")"
        for group in query.groups
    ]
    return " & ".join(groups)


# On PostgreSQL the title stems as a tsvector, the expression that migration officer_02
# indexes (GIN) for the title-only lookups of ranking.
TITLE_VECTOR = "to_tsvector('simple', title_terms)"


def matching_ids(query: SearchQuery, dialect: str, *, title_only: bool = False) -> TextualSelect:
    """``SELECT call_id`` of the calls that contain every group of ``query`` (in the title
    only, if asked), for ``column.in_(...)``."""
    if dialect == "sqlite":
        statement = text(
            "SELECT rowid AS call_id FROM call_search_stems WHERE call_search_stems MATCH :expr"
        ).bindparams(bindparam("expr", fts5_expression(query, title_only=title_only), unique=True))
    elif title_only:
        # The titles' own index (migration officer_02): a weight in the query made
        # PostgreSQL read every candidate's whole vector to check the weights, 100 times
        # slower.
        statement = text(
            f"SELECT call_id FROM call_terms WHERE {TITLE_VECTOR} @@ to_tsquery('simple', :expr)"
        ).bindparams(bindparam("expr", tsquery_expression(query), unique=True))
    else:
        statement = text(
            "SELECT call_id FROM call_terms WHERE call_search_vector @@ to_tsquery('simple', :expr)"
        ).bindparams(bindparam("expr", tsquery_expression(query), unique=True))
    return statement.columns(call_id=Integer)


def found_condition(
    column: SQLColumnExpression[int], query: SearchQuery, dialect: str, *, title_only: bool = False
) -> ColumnElement[bool]:
    """``column`` (a call id) is one of the calls ``query`` finds."""
    subquery = matching_ids(query, dialect, title_only=title_only).subquery()
    return column.in_(select(subquery.c.call_id))


# --- the index ----------------------------------------------------------------------------------


def _text_language(call_language: str | None, words: Sequence[str]) -> Lang:
    if call_language in ("sv", "en"):
        return call_language
    return detect_language(words)


def index_terms(
    *,
    title: str,
    title_sv: str | None = None,
    call_title: str | None = None,
    identifier: str | None = None,
    programme: Sequence[str | None] = (),
    body: Sequence[str | None] = (),
    language: str | None = None,
) -> tuple[str, str]:
    """The title stems and the body stems of a call, as stored in ``call_terms``."""
    title_words = [
        *words_of(title),
        *words_of(call_title or ""),
        *words_of(identifier or ""),
        *(w for p in programme if p for w in words_of(p)),
    ]
    title_stems = [*_stems(title_words, "en"), *_stems(title_words, "sv")]
    if title_sv:
        title_stems.extend(_stems(words_of(title_sv), "sv"))
    body_words = [w for part in body if part for w in words_of(strip_html(part))]
    body_words = body_words[:MAX_BODY_WORDS]
    lang = _text_language(language, body_words or title_words)
    return " ".join(title_stems), " ".join(_stems(body_words, lang))


def _call_terms(call: Any) -> tuple[str, str]:
    return index_terms(
        title=call.title or "",
        title_sv=call.title_sv,
        call_title=call.call_title,
        identifier=call.identifier,
        programme=(call.programme_label, call.programme_code),
        body=(
            call.summary,
            call.description_text,
            " ".join(call.keywords or ()),
            " ".join(call.tags or ()),
            call.organiser,
        ),
        language=call.language,
    )


_INDEXED_COLUMNS = (
    FundingCall.id,
    FundingCall.title,
    FundingCall.title_sv,
    FundingCall.call_title,
    FundingCall.identifier,
    FundingCall.programme_label,
    FundingCall.programme_code,
    FundingCall.summary,
    FundingCall.description_text,
    FundingCall.keywords,
    FundingCall.tags,
    FundingCall.organiser,
    FundingCall.language,
)
_INDEXED_FIELDS = tuple(column.key for column in _INDEXED_COLUMNS if column.key != "id")


def _index(connection: Connection, ids: Sequence[int], now: datetime) -> int:
    count = 0
    for start in range(0, len(ids), REFRESH_CHUNK):
        chunk = ids[start : start + REFRESH_CHUNK]
        connection.execute(delete(CallSearchTerms).where(CallSearchTerms.call_id.in_(chunk)))
        rows = []
        for call in connection.execute(select(*_INDEXED_COLUMNS).where(FundingCall.id.in_(chunk))):
            title_terms, body_terms = _call_terms(call)
            rows.append(
                {
                    "call_id": call.id,
                    "title_terms": title_terms,
                    "body_terms": body_terms,
                    "refreshed_at": now,
                }
            )
        if rows:
            connection.execute(insert(CallSearchTerms), rows)
        count += len(rows)
    return count


def refresh_search_terms(
    session: Session, call_ids: Iterable[int] | None = None, *, now: datetime
) -> int:
    """Rebuild the search terms of ``call_ids`` (every call when None); returns how many
    calls were indexed. Ingestion calls this for the calls it stores; calls changed through
    the ORM are re-indexed when the session flushes them (below)."""
    session.flush()
    if call_ids is None:
        ids = list(session.scalars(select(FundingCall.id).order_by(FundingCall.id)))
        session.execute(delete(CallSearchTerms))
    else:
        ids = sorted(set(call_ids))
    return _index(session.connection(), ids, now)


def unindexed(session: Session, call_ids: Iterable[int], *, since: datetime) -> list[int]:
    """Those of ``call_ids`` whose terms were not rebuilt at or after ``since``."""
    ids = sorted(set(call_ids))
    fresh: set[int] = set()
    for start in range(0, len(ids), REFRESH_CHUNK):
        chunk = ids[start : start + REFRESH_CHUNK]
        fresh.update(
            session.scalars(
                select(CallSearchTerms.call_id).where(
                    CallSearchTerms.call_id.in_(chunk), CallSearchTerms.refreshed_at >= since
                )
            )
        )
    return [i for i in ids if i not in fresh]


# A call whose texts change through the ORM (staff editing a manual call, a test, ingestion
# merging sources) is re-indexed in the same flush, as the SQLite triggers do for call_search:
# the stems are computed in Python, so a database trigger cannot.
_PENDING = "search_terms_pending"


@event.listens_for(Session, "before_flush")
def _note_changed_calls(session: Session, flush_context: Any, instances: Any) -> None:
    pending: set[FundingCall] = session.info.setdefault(_PENDING, set())
    for obj in session.new:
        if isinstance(obj, FundingCall):
            pending.add(obj)
    for obj in session.dirty:
        if isinstance(obj, FundingCall) and _texts_changed(obj):
            pending.add(obj)


def _texts_changed(call: FundingCall) -> bool:
    state = inspect(call)
    return any(state.attrs[name].history.has_changes() for name in _INDEXED_FIELDS)


@event.listens_for(Session, "after_flush_postexec")
def _index_changed_calls(session: Session, flush_context: Any) -> None:
    pending: set[FundingCall] | None = session.info.pop(_PENDING, None)
    if not pending:
        return
    live = [c for c in pending if c in session and not inspect(c).was_deleted and c.id is not None]
    ids = sorted({c.id for c in live})
    if ids:
        # The call's own update time stands for "now": listeners have no clock.
        when = max(c.updated_at for c in live)
        _index(session.connection(), ids, when)


@event.listens_for(Session, "after_soft_rollback")
def _forget_changed_calls(session: Session, previous_transaction: Any) -> None:
    # A failed flush leaves nothing to index: the rows it wrote are gone.
    session.info.pop(_PENDING, None)
