"""Tokens, Snowball stems, Swedish compounds, phrases and snippets."""

from __future__ import annotations

from tracker.matching.text import (
    BASE_SWEDISH_LEXICON,
    CompoundSplitter,
    detect_language,
    same_word,
    snippet,
    stem,
    stem_stream,
    strip_html,
)


def test_strip_html_removes_tags_entities_and_scripts() -> None:
    html = "<p>Energy &amp; climate</p><script>alert(1)</script>\n<b>plans</b>"
    assert strip_html(html) == "Energy & climate plans"


def test_english_plural_and_singular_share_a_stem() -> None:
    assert stem("municipalities", "en") == stem("municipality", "en")
    assert stem("schools", "en") == stem("school", "en")


def test_american_spelling_is_read_as_british() -> None:
    assert stem("decarbonization", "en") == stem("decarbonisation", "en")


def test_same_word_accepts_inflections_but_not_derivations() -> None:
    assert same_word("cities", "city")
    assert same_word("policy", "policies")
    assert not same_word("integration", "integrity")
    assert not same_word("education", "educators")
    assert not same_word("participation", "participants")


def test_swedish_stemming_matches_inflections() -> None:
    assert stem("kommunerna", "sv") == stem("kommuner", "sv")
    assert stem("ungdomar", "sv") == stem("ungdom", "sv")


def test_swedish_compounds_are_split_into_known_words() -> None:
    splitter = CompoundSplitter(BASE_SWEDISH_LEXICON | {"anpassning"})
    assert splitter.split("klimatanpassning") == (
        splitter.stem("klimat"),
        splitter.stem("anpassning"),
    )
    assert splitter.split("äldreomsorgen") == (splitter.stem("äldre"), splitter.stem("omsorg"))
    # Linking -s-: stad|s|utveckling
    assert splitter.split("stadsutveckling") == (splitter.stem("stad"), splitter.stem("utveckling"))
    # Not a compound of known words
    assert splitter.split("ungefär") is None


def test_swedish_definite_forms_reach_the_lexicon_word() -> None:
    splitter = CompoundSplitter({"forskarskola"})
    assert splitter.stem("forskarskolan") == splitter.stem("forskarskola")


def test_swedish_neuter_adjectives_reach_the_lexicon_word() -> None:
    splitter = CompoundSplitter({"cirkulär", "hållbar"})
    assert splitter.stem("cirkulärt") == splitter.stem("cirkulär")
    assert splitter.stem("hållbart") == splitter.stem("hållbar")


def test_a_compound_in_the_text_contains_its_parts_as_a_phrase() -> None:
    splitter = CompoundSplitter(BASE_SWEDISH_LEXICON | {"anpassning"})
    stream = stem_stream("Kommunens klimatanpassningsarbete", "sv", splitter)
    phrase = stem_stream("klimat anpassning", "sv", splitter).stems
    assert phrase[0] in stream.stems
    i = stream.stems.index(phrase[0])
    assert stream.stems[i : i + 2] == phrase
    # Both parts point back to the same word, for snippets.
    assert stream.token_of[i] == stream.token_of[i + 1]


def test_language_detection() -> None:
    assert (
        detect_language("Kommunen ska stärka arbetet med integration och att det blir bra") == "sv"
    )
    assert detect_language("The call supports cities and their partners in the transition") == "en"


def test_a_short_swedish_record_without_function_words_is_read_as_swedish() -> None:
    assert detect_language("Cirkulärt byggande. Bostadsbolag återbrukar byggmaterial.") == "sv"
    # A place name alone does not make an English title Swedish.
    assert detect_language("Malmö: sustainable mobility") == "en"


def test_snippet_is_about_a_hundred_characters_around_the_hit() -> None:
    text = "word " * 60 + "town twinning" + " word" * 60
    start = text.index("town twinning")
    s = snippet(text, start, start + len("town twinning"))
    assert "town twinning" in s
    assert s.startswith("…") and s.endswith("…")
    assert 80 <= len(s) <= 110
