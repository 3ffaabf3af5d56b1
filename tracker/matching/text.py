"""Text normalisation for matching: HTML stripping, tokens, stems, Swedish compounds.

Everything here is deterministic and free of I/O. Stemming uses the Snowball stemmers
for English and Swedish; stems are cached because funding-call texts repeat the same
few thousand words over and over, and the pure-Python stemmer is the hot path.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

Lang = str  # "en" | "sv"
LANGUAGES: tuple[Lang, ...] = ("en", "sv")

_TAG_RE = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)
_SPACE_RE = re.compile(r"\s+")
# Letters (any script) form words; digits are kept as their own tokens so that
# "2026" or "SE123" do not glue onto neighbouring words.
_TOKEN_RE = re.compile(r"[^\W\d_]+|\d+")


def wordset(words: str) -> frozenset[str]:
    """A set of words written as one space-separated string (easier to read and edit)."""
    return frozenset(words.split())


_EN_STOP = wordset(
    "the and of to in for with on is are be by this that from as an or will should "
    "which their at it its can have has not"
)
_SV_STOP = wordset(
    "och att det som en för med på är av till den de om inte har ska kan vi från "
    "eller ett när också samt sig"
)

# Swedish words that commonly appear as parts of compounds in funding texts. The
# profile's own Swedish vocabulary is added to this when a profile is compiled, so
# a new term such as "kulturskola" is split and matched without touching this list.
BASE_SWEDISH_LEXICON: frozenset[str] = wordset(
    """
    arbete arbets barn bygg bygd bostad bostäder by digital elev energi företag förening
    forskning fritid grund gymnasie hälsa handel hav ideell infrastruktur insats insatser
    integration klimat kommun kompetens kultur kust land lärande lärare ledning lokal
    marknad miljö mångfald musik natur näring omsorg person plan projekt region resurs
    samhälle samverkan skola social stad stöd system teknik transport turism ungdom ung
    utbildning utveckling vård vatten verksamhet äldre anpassning avfall cirkulär
    effektivisering demokrati deltagande medborgare inflytande kreativ konst scen
    innovation export handel student högskola universitet talang besök näringsliv
    omställning energieffektivisering förnybar sol vind laddning ladd lagring produktion
    hushåll folkhälsa funktionsnedsättning psykisk hemtjänst boende familj förskola
    vuxen yrke yrkes lärling språk nyanländ invandrare jämställdhet diskriminering
    investering investeringar satsning satsningar åtgärd åtgärder strategi nätverk
    program område frågor arbetet liv
    """
)


def strip_html(text: str) -> str:
    """Remove tags and entities and collapse whitespace."""
    if "<" in text:
        text = _TAG_RE.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    return _SPACE_RE.sub(" ", text).strip()


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a field: its normalised form and where it sits in the field text."""

    word: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """Lower-cased word tokens with their character spans."""
    return [Token(m.group().lower(), m.start(), m.end()) for m in _TOKEN_RE.finditer(text)]


def words_of(text: str) -> list[str]:
    """The words of a text as written (the tokens of `tokenize`, without positions)."""
    return _TOKEN_RE.findall(text)


_SWEDISH_LETTER_RE = re.compile("[åäö]")


def detect_language(text: str | Sequence[str]) -> Lang:
    """Guess English or Swedish from function words; on a tie (a title and a line have
    few of them), Swedish when a word in lower case has å, ä or ö (a capitalised one may
    be a place, "Malmö"), else English.

    Takes a text or its words (as from `words_of`).
    """
    words = words_of(text[:4000]) if isinstance(text, str) else text[:700]
    lowered = [w.lower() for w in words]
    en = sum(1 for w in lowered if w in _EN_STOP)
    sv = sum(1 for w in lowered if w in _SV_STOP)
    if sv == en:
        return "sv" if any(w.islower() and _SWEDISH_LETTER_RE.search(w) for w in words) else "en"
    return "sv" if sv > en else "en"


_STEMMERS = {
    "en": snowballstemmer.stemmer("english"),
    "sv": snowballstemmer.stemmer("swedish"),
}


@lru_cache(maxsize=200_000)
def stem(word: str, lang: Lang) -> str:
    """Snowball stem of one lower-case word (English -ize spellings as -ise)."""
    if len(word) <= 2 or word.isdigit():
        return word
    if lang == "en" and "iz" in word:
        word = normalise_spelling(word)
    result: str = _STEMMERS[lang].stemWord(word)
    return result


_TOKEN_STEMS: dict[str, dict[str, str]] = {"en": {}, "sv": {}}
_TOKEN_CACHE_SIZE = 300_000


def stem_token(word: str, lang: Lang) -> str:
    """Stem of a word as written in a text (any case); cached, as texts repeat words."""
    cache = _TOKEN_STEMS[lang]
    result = cache.get(word)
    if result is None:
        result = stem(word.lower(), lang)
        if len(cache) < _TOKEN_CACHE_SIZE:
            cache[word] = result
    return result


def normalise_spelling(word: str) -> str:
    """American -ize/-ization spellings in their British -ise/-isation form."""
    for us, gb in (("ization", "isation"), ("izing", "ising"), ("ized", "ised"), ("izes", "ises")):
        if word.endswith(us):
            return word[: -len(us)] + gb
    if word.endswith("ize"):
        return word[:-3] + "ise"
    return word


class CompoundSplitter:
    """Split Swedish compounds ("klimatanpassning" -> klimat + anpassning).

    A word is split when it can be cut into known words, optionally joined by the
    linking letters -s- or -e- (arbets|marknad, äldre|omsorg). Known words are the
    splitter's lexicon; parts come back stemmed so that they compare with stemmed terms.
    """

    MIN_PART = 3

    def __init__(self, lexicon: Iterable[str]) -> None:
        # Snowball's Swedish stemmer is not idempotent ("marknaden" -> "marknad" but
        # "marknad" -> "markn"), so every known word, and every stem of one, maps to
        # one canonical stem; parts and whole words then compare reliably.
        canon: dict[str, str] = {}
        for w in sorted({w.lower() for w in lexicon if len(w) >= self.MIN_PART}):
            c = stem(w, "sv")
            canon.setdefault(w, c)
            canon.setdefault(c, c)
        self._canon = canon
        self._cache: dict[str, tuple[str, ...] | None] = {}

    def canonical(self, word: str) -> str | None:
        """The canonical stem of a known word (or of a known word's inflection)."""
        c = self._canon.get(word)
        if c is None:
            c = self._canon.get(stem(word, "sv"))
        if c is None and word.endswith("an") and len(word) > 5:
            # Snowball leaves the definite -n of -a nouns: "skolan", "forskarskolan".
            c = self._canon.get(word[:-1])
        if c is None and word.endswith("t") and len(word) > 5:
            # Nor the neuter -t of adjectives: "cirkulärt", "hållbart", "lokalt".
            c = self._canon.get(word[:-1])
        return c

    def stem(self, word: str) -> str:
        """Swedish stem, made consistent with the lexicon where the word is known."""
        return self.canonical(word) or stem(word, "sv")

    def split(self, word: str) -> tuple[str, ...] | None:
        """Canonical stems of a compound's parts, or None when it is not a known compound."""
        if word in self._cache:
            return self._cache[word]
        result = self._split(word, depth=0, whole_ok=False)
        parts = None if result is None or len(result) < 2 else tuple(result)
        if len(self._cache) < 100_000:
            self._cache[word] = parts
        return parts

    def _split(self, word: str, depth: int, whole_ok: bool) -> list[str] | None:
        # A known word deeper in the recursion is a part; at the top we still try to
        # cut it, so that the term "äldreomsorg" and the text "omsorg" meet on "omsorg".
        if whole_ok:
            known = self.canonical(word)
            if known is not None:
                return [known]
        if depth > 3 or len(word) < 2 * self.MIN_PART:
            return None
        # Longest known head first: "stadsutveckling" is stad+s+utveckling, not st+...
        for cut in range(len(word) - self.MIN_PART, self.MIN_PART - 1, -1):
            head, tail = word[:cut], word[cut:]
            heads = [head]
            if head.endswith(("s", "e")) and len(head) > self.MIN_PART:
                heads.append(head[:-1])
            for h in heads:
                known = self._canon.get(h)
                if known is None:
                    continue
                rest = self._split(tail, depth + 1, whole_ok=True)
                if rest is not None:
                    # A known head may itself be a compound ("klimatanpassning|s|arbete"):
                    # use its parts, as for the same compound standing alone.
                    head_parts = self._split(h, depth + 1, whole_ok=False)
                    if head_parts is None or len(head_parts) < 2:
                        head_parts = [known]
                    return [*head_parts, *rest]
        return None


class StemStream:
    """A field as a flat sequence of stems, each pointing back to its word.

    Character spans of the words are only needed for snippets and acronym checks,
    so they are found when first asked for.
    """

    __slots__ = ("_spans", "stems", "text", "token_of", "words")

    def __init__(
        self, text: str, words: Sequence[str], stems: Sequence[str], token_of: Sequence[int]
    ) -> None:
        self.text = text
        self.words = tuple(words)
        self.stems = tuple(stems)
        self.token_of = tuple(token_of)
        self._spans: list[tuple[int, int]] | None = None

    def spans(self) -> list[tuple[int, int]]:
        """Character spans of the words."""
        if self._spans is None:
            self._spans = [m.span() for m in _TOKEN_RE.finditer(self.text)]
        return self._spans

    def word_span(self, index: int) -> tuple[int, int]:
        return self.spans()[index]

    def span(self, first: int, last: int) -> tuple[int, int]:
        """Character span covered by stems first..last (inclusive)."""
        spans = self.spans()
        return spans[self.token_of[first]][0], spans[self.token_of[last]][1]


def stem_stream(
    text: str,
    lang: Lang,
    splitter: CompoundSplitter | None = None,
    words: Sequence[str] | None = None,
) -> StemStream:
    """Tokenise and stem a field; Swedish compounds expand into their parts."""
    if words is None:
        words = words_of(text)
    if lang == "en" or splitter is None:
        cache = _TOKEN_STEMS[lang]
        stems = [cache.get(w) or stem_token(w, lang) for w in words]
        return StemStream(text, words, stems, range(len(words)))
    out: list[str] = []
    token_of: list[int] = []
    for i, raw in enumerate(words):
        word = raw.lower()
        parts = splitter.split(word) if len(word) >= 6 else None
        if parts:
            out.extend(parts)
            token_of.extend([i] * len(parts))
        else:
            out.append(splitter.stem(word))
            token_of.append(i)
    return StemStream(text, words, out, token_of)


def stem_phrase(
    phrase: str, lang: Lang, splitter: CompoundSplitter | None = None
) -> tuple[str, ...]:
    """The stem sequence a vocabulary term must match (same treatment as documents)."""
    return stem_stream(phrase, lang, splitter).stems


def snippet(text: str, start: int, end: int, width: int = 100) -> str:
    """About `width` characters of `text` around start..end, cut at word boundaries."""
    pad = max(0, (width - (end - start)) // 2)
    lo = max(0, start - pad)
    hi = min(len(text), end + pad)
    if lo > 0:
        space = text.find(" ", lo, start)
        lo = space + 1 if space != -1 else lo
    if hi < len(text):
        space = text.rfind(" ", end, hi)
        hi = space if space != -1 else hi
    piece = _SPACE_RE.sub(" ", text[lo:hi]).strip()
    return ("…" if lo > 0 else "") + piece + ("…" if hi < len(text) else "")


def _inflection_base(word: str) -> str:
    """A noun without its plural or possessive ending: cities -> city, policies -> policy."""
    if word.endswith("'s") or word.endswith("’s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and word[:-2].endswith(("s", "x", "z", "ch", "sh")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@lru_cache(maxsize=100_000)
def same_word(term_word: str, doc_word: str) -> bool:
    """Whether a text word (as written) is an inflection of a vocabulary word.

    Called for words with the same stem. Snowball conflates derivations
    ("integration" and "integrity", "education" and "educators", "electricity" and
    "electric"); a vocabulary term should only find its own singular and plural.
    Other forms are listed in the vocabulary.
    """
    doc_word = normalise_spelling(doc_word.lower())
    return term_word == doc_word or _inflection_base(term_word) == _inflection_base(doc_word)


def is_acronym(word: str) -> bool:
    """Short upper-case terms (VET, TRL, NEET) only match upper-case text."""
    return 2 <= len(word) <= 6 and word.isupper()


def find_phrase(stems: Sequence[str], phrase: Sequence[str]) -> int:
    """Index of the first occurrence of `phrase` in `stems`, or -1."""
    n = len(phrase)
    if n == 0:
        return -1
    first = phrase[0]
    for i, s in enumerate(stems):
        if s == first and tuple(stems[i : i + n]) == tuple(phrase):
            return i
    return -1
