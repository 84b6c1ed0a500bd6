import pytest

from app.core.text import TextAnalyzer, fold, get_analyzer, words


def test_fold_keeps_swedish_letters_and_folds_other_accents():
    assert fold("Åsa Öberg ÄR Café Müller Ærø") == "åsa öberg är cafe muller ärö"
    assert len(fold("Crème brûlée")) == len("Crème brûlée")


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
