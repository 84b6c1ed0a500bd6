import unicodedata

import pytest

from app.core.text import TextAnalyzer, fold, get_analyzer, join_prefixes, words


def test_fold_keeps_swedish_letters_and_folds_other_accents():
    assert fold("Åsa Öberg ÄR Café Müller Ærø") == "åsa öberg är cafe muller ärö"
    assert len(fold("Crème brûlée")) == len("Crème brûlée")


def test_swedish_and_english_text_is_folded_without_the_character_table(monkeypatch):
    """Folding reads every word of every search result and indexed article: text that lower-casing alone folds
    (ASCII, å, ä, ö) does not go character by character through the table."""
    from app.core import text

    class Refusing(dict):
        def __missing__(self, codepoint):
            raise AssertionError(f"the table was asked for {chr(codepoint)!r}")

    monkeypatch.setattr(text, "_FOLD_TABLE", Refusing())
    written = "Semesterväxling ÅÄÖ: 25 dagar, IT-stöd och e-post."
    assert fold(written) == "semesterväxling åäö: 25 dagar, it-stöd och e-post."


@pytest.mark.parametrize("original", ["Café Müller", "Ærø", "ΟΔΟΣ", "İstanbul", "Straße", "ﬁl", "K", "é"])
def test_fold_is_one_character_for_one_whatever_the_letters(original):
    """Letters that lower-casing would not fold, or would turn into two characters (İ) or by their place (a
    final Σ), go through the table one by one, as every letter did before."""
    from app.core.text import _fold_char

    folded = fold(original)
    normalized = unicodedata.normalize("NFC", original)
    assert folded == "".join(_fold_char(c) for c in normalized)
    assert len(folded) == len(normalized)


def test_words_have_offsets_in_the_original_text():
    text = "IT-stöd, Lönespec!"
    found = words(text)
    assert [w.text for w in found] == ["it", "stöd", "lönespec"]
    assert text[found[2].start:found[2].end] == "Lönespec"


@pytest.mark.parametrize(("word", "lemma"), [
    ("lösenordet", "lösenord"), ("kvitton", "kvitto"), ("skolan", "skola"), ("varor", "vara"), ("löner", "lön"),
])
def test_lemmas_from_the_lexicon(word, lemma):
    assert get_analyzer().lemma(word) == lemma


@pytest.mark.parametrize(("a", "b"), [("lönen", "löner"), ("lösenordet", "lösenord"), ("semesterdagarna",
                                                                                      "semesterdag")])
def test_inflections_share_a_stem(a, b):
    analyzer = get_analyzer()
    assert analyzer.stem_sv(a) == analyzer.stem_sv(b)


@pytest.mark.parametrize(("compound", "parts"), [
    ("semesterväxlingen", ("semester", "växling")),
    ("lösenordsbyte", ("lösenord", "byte")),
    ("lönespecifikation", ("lön", "specifikation")),
    ("friskvårdsbidraget", ("friskvård", "bidrag")),
    ("arbetstid", ("arbete", "tid")),
    ("skolskjuts", ("skola", "skjuts")),
])
def test_compounds_split_into_their_parts(compound, parts):
    analyzer = get_analyzer()
    assert analyzer.compound_parts(compound) == tuple(analyzer.stem_sv(p) for p in parts)


@pytest.mark.parametrize("word", ["semester", "kontor", "kommunen", "medarbetare", "organisation"])
def test_simple_words_are_not_split(word):
    assert get_analyzer().compound_parts(word) == ()


def test_analyzer_works_with_a_small_lexicon_too():
    analyzer = TextAnalyzer(["bil", "ersättning", "semester"], ["och"])
    assert analyzer.compound_parts("bilersättning") == (analyzer.stem_sv("bil"), analyzer.stem_sv("ersättning"))
    assert [t.word.text for t in analyzer.tokens("bil och semester")] == ["bil", "semester"]


def test_terms_include_parts_for_swedish_only():
    analyzer = get_analyzer()
    sv = analyzer.terms("semesterväxling", "sv")
    assert analyzer.stem_sv("semester") in sv and analyzer.stem_sv("semesterväxling") in sv
    assert analyzer.terms("payslips", "en") == ["payslip"]


@pytest.mark.parametrize(("word", "lemma"), [
    ("cyklar", "cykel"), ("cykeln", "cykel"), ("nycklar", "nyckel"), ("regler", "regel"), ("fönstret", "fönster"),
    ("öknar", "öken"), ("förmånscyklar", "förmånscykel"),
])
def test_el_er_en_words_get_their_e_back(word, lemma):
    assert get_analyzer().lemma(word) == lemma


def test_a_compound_shares_its_stem_with_its_plural():
    analyzer = get_analyzer()
    assert analyzer.stem_sv("förmånscyklar") == analyzer.stem_sv("förmånscykel")
    assert analyzer.compound_parts("förmånscyklar") == analyzer.compound_parts("förmånscykel") == (
        analyzer.stem_sv("förmån"), analyzer.stem_sv("cykel"))


@pytest.mark.parametrize(("word", "lemma"), [("skrivarna", "skrivare"), ("datorerna", "dator")])
def test_inflected_simple_words_are_lemmatised_not_split(word, lemma):
    analyzer = get_analyzer()
    assert analyzer.lemma(word) == lemma
    assert analyzer.compound_parts(word) == ()
    assert analyzer.terms(word) == [analyzer.stem_sv(lemma)]


@pytest.mark.parametrize(("compound", "parts"), [
    ("skrivarinställningarna", ("skrivare", "inställning")), ("lönespecifikationerna", ("lön", "specifikation")),
])
def test_compounds_split_from_their_lemma(compound, parts):
    analyzer = get_analyzer()
    assert analyzer.compound_parts(compound) == tuple(analyzer.stem_sv(p) for p in parts)


def test_numerals_begin_compounds():
    analyzer = get_analyzer()
    assert analyzer.compound_parts("tvåfaktorsautentisering") == tuple(
        analyzer.stem_sv(p) for p in ("två", "faktor", "autentisering"))


def test_a_lone_letter_prefix_stays_with_its_word():
    assert [w.text for w in words("Byt e-postadressen i e-tjänsten")] == ["byt", "epostadress" + "en", "i",
                                                                         "etjänsten"]
    analyzer = get_analyzer()
    terms = analyzer.terms("e-postadressen")
    assert "e" not in terms and analyzer.stem_sv("epost") in terms
    assert analyzer.terms("e-post") == analyzer.terms("epost") == analyzer.terms("E-posten")
    assert [w.text for w in words("IT-stöd och 5G-nät")] == ["it", "stöd", "och", "5g", "nät"]


def test_plain_text_joins_lone_letter_prefixes_as_words_does():
    assert join_prefixes("byt e-postadress, it-stöd") == "byt epostadress, it-stöd"
    assert "etjänst" in get_analyzer().terms("e-tjänsten")
