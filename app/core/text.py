"""Swedish and English text analysis shared by search and routing.

What it does to a text, in order:
- normalises: lower case, Unicode NFC, accents folded except the Swedish letters å, ä, ö (é -> e, ü -> u;
  the Danish/Norwegian æ, ø become ä, ö);
- splits into words and drops stop words;
- Swedish: reduces each word to a lemma with the help of a lexicon (``lösenordet`` -> ``lösenord``,
  ``kvitton`` -> ``kvitto``), then to its Snowball stem; splits compounds into their parts with the same
  lexicon (``semesterväxlingen`` -> ``semester`` + ``växling``, ``lösenordsbyte`` -> ``lösenord`` + ``byte``),
  honouring the linking letters Swedish puts between parts (``löne-``, ``arbets-``, ``skol-``);
- English: Snowball stem.

The lexicon is the Swedish Hunspell word list (Debian ``hunspell-sv-se``) plus Lotsen's own additions in
``text_data/lexicon.txt``; without Hunspell the additions alone still give stemming and some splitting.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import NamedTuple

import snowballstemmer

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "text_data"
HUNSPELL_DICTIONARIES = (Path("/usr/share/hunspell/sv_SE.dic"), Path("/usr/share/hunspell/sv_FI.dic"))

# A lone letter joined by a hyphen to a word is one word (e-post, e-tjänst, A-kassa): read apart, the letter is
# noise and the rest means something else (postadress). Longer prefixes (IT-stöd, 5G-nät) stay words of their own.
WORD_RE = re.compile(r"(?<![^\W_])[^\W\d_]-[^\W_]{2,}|[^\W_]+")
PREFIX_HYPHEN_RE = re.compile(r"(?<=(?<![^\W_])[^\W\d_])-(?=[^\W_]{2})")
KEEP_LETTERS = {"å", "ä", "ö"}
LETTER_MAP = {"æ": "ä", "ø": "ö"}

# Endings that Swedish inflection adds to a lemma, longest first, each with the lemma endings it may replace
# (varor -> vara, skolan -> skola, pojkar -> pojke), tried in order; "" means the ending is simply added.
SV_ENDINGS: tuple[tuple[str, tuple[str, ...]], ...] = tuple(sorted((
    ("arnas", ("", "e")), ("ernas", ("",)), ("ornas", ("a", "")), ("andes", ("a",)), ("arna", ("", "e")),
    ("erna", ("",)), ("orna", ("a", "")), ("ande", ("a",)), ("ades", ("a",)), ("ens", ("", "e")), ("ets", ("",)),
    ("ars", ("", "e")), ("ers", ("",)), ("ors", ("a", "")), ("ans", ("a", "")), ("ade", ("a",)), ("are", ("a", "")),
    ("ast", ("",)), ("na", ("", "e")), ("ar", ("", "e")), ("er", ("", "e")), ("or", ("a", "")), ("en", ("", "e")),
    ("et", ("",)), ("an", ("a", "")), ("at", ("a",)), ("ns", ("",)), ("ts", ("",)), ("n", ("",)), ("t", ("",)),
    ("s", ("",)), ("e", ("",)), ("a", ("",)),
), key=lambda rule: -len(rule[0])))
# Endings after which an -el/-er/-en lemma loses its e (cykel -> cyklar, cykeln -> cykelns, fönster -> fönstret,
# öken -> öknar, regel -> regler): the e is put back before the last consonant and the result looked up.
SYNCOPE_ENDINGS = frozenset({"arnas", "ernas", "arna", "erna", "ars", "ers", "ets", "ens", "ar", "er", "et", "en",
                             "na", "a", "e"})
VOWELS = frozenset("aeiouyåäö")
# Cardinal numbers begin compounds (tvåfaktorsautentisering, tremånadersperiod) however short they are.
NUMERALS = frozenset({"en", "ett", "två", "tre", "fyra", "fem", "sex", "sju", "åtta", "nio", "tio", "elva", "tolv",
                      "hundra", "tusen"})
# Letters Swedish may put between the parts of a compound (arbetstid, lönespecifikation, gatubelysning).
LINKING_LETTERS = ("s", "e", "a", "u", "o")
MIN_PART = 3
MIN_COMPOUND = 6
# Three-letter words that commonly begin or end Swedish compounds; other three-letter parts are not trusted.
SHORT_PARTS = frozenset({"lön", "tid", "bil", "kod", "dag", "år", "hem", "mil", "vab", "mat", "rum", "väg", "lås",
                         "bok", "fil", "app", "fel", "lag", "mål", "råd", "kök", "tak", "ort", "typ", "ben",
                         "sms", "pdf", "nät", "jul", "ved", "sol", "bad", "buss", "tåg", "vår", "ljus", "post"})


# Unicode category Cc: line breaks, tabs, NUL and the like have no place in one-line text (subjects, titles)
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def is_one_line(text: str) -> bool:
    """Whether ``text`` holds no control characters (a line break in a subject would end up in mail headers)."""
    return CONTROL_CHARACTERS.search(text) is None


def as_one_line(text: str) -> str:
    """``text`` with control characters replaced and runs of white space made one space."""
    return " ".join(CONTROL_CHARACTERS.sub(" ", text).split())


def _read_word_file(name: str) -> list[str]:
    path = DATA_DIR / name
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _fold_char(char: str) -> str:
    lower = char.lower()
    if len(lower) != 1:
        return char
    if lower in KEEP_LETTERS or lower.isascii():
        return lower
    if lower in LETTER_MAP:
        return LETTER_MAP[lower]
    base = [c for c in unicodedata.normalize("NFD", lower) if not unicodedata.combining(c)]
    return base[0] if len(base) == 1 else lower


class _FoldTable(dict):
    """``str.translate`` table of ``_fold_char``, filled as characters are first met (a few hundred at most)."""

    def __missing__(self, codepoint: int) -> str:
        folded = self[codepoint] = _fold_char(chr(codepoint))
        return folded


_FOLD_TABLE = _FoldTable()
_FOLDED_BY_TABLE_RE = re.compile(r"[^\x00-\x7fåäö]")  # after lower-casing: the letters lower() alone does not fold


def fold(text: str) -> str:
    """Lower-case and fold accents, keeping å, ä and ö as the letters of their own they are in Swedish.

    One character in, one character out, so offsets into the folded text are offsets into the original. Text that
    lower-cases one character for one into ASCII, å, ä and ö (nearly all Swedish and English) is folded by
    ``str.lower`` alone, five times as fast as the character table, which any other letter still goes through.
    """
    text = unicodedata.normalize("NFC", text)
    lowered = text.lower()
    if len(lowered) == len(text) and not _FOLDED_BY_TABLE_RE.search(lowered):
        return lowered
    return text.translate(_FOLD_TABLE)


class Word(NamedTuple):
    """One word of a text: its folded surface form and where it stands in the original (a named tuple: a snippet
    reads every word of ten articles, and a tuple is made in half the time of a frozen dataclass)."""

    text: str
    start: int
    end: int


def join_prefixes(folded: str) -> str:
    """``folded`` with each lone letter joined to the word it prefixes (``e-post`` -> ``epost``), as ``words`` reads
    it, for matching words in plain text."""
    return PREFIX_HYPHEN_RE.sub("", folded)


@dataclass(frozen=True)
class Token:
    """An analysed word: Swedish and English stems, and the stems of its compound parts (Swedish)."""

    word: Word
    sv: str
    en: str
    parts: tuple[str, ...]


def words(text: str) -> list[Word]:
    """The words of ``text``, folded, with their character offsets (``IT-stöd`` is two words, ``e-post`` one,
    written ``epost``)."""
    return [Word(m.group().replace("-", ""), m.start(), m.end()) for m in WORD_RE.finditer(fold(text))]


class TextAnalyzer:
    """Stems, lemmas and compound parts for Swedish and English (see the module docstring)."""

    def __init__(self, lexicon: Iterable[str], stopwords: Iterable[str] = (), compound_only: Iterable[str] = ()):
        self.lexicon = frozenset(fold(w) for w in lexicon if len(w) >= 2)
        # forms that only begin compounds (Hunspell's ONLYINCOMPOUND: skrivar-, hemsid-): parts, never lemmas
        self.compound_only = frozenset(fold(w) for w in compound_only if len(w) >= MIN_PART) - self.lexicon
        self.stopwords = frozenset(fold(w) for w in stopwords)
        self._sv = snowballstemmer.stemmer("swedish")
        self._en = snowballstemmer.stemmer("english")
        self.lemma = lru_cache(maxsize=200_000)(self._lemma)
        self.stem_sv = lru_cache(maxsize=200_000)(self._stem_sv)
        self.stem_en = lru_cache(maxsize=200_000)(self._stem_en)
        self.compound_parts = lru_cache(maxsize=200_000)(self._compound_parts)
        self._split = lru_cache(maxsize=200_000)(self._best_split)

    def _lemma(self, word: str) -> str:
        """The lexicon form of ``word``; a compound not in the lexicon gets the lemma of its last part
        (``förmånscyklar`` -> ``förmånscykel``); an unknown word stays as it is."""
        simple = self._simple_lemma(word)
        if simple is not None:
            return simple
        split = self._split(word)
        if split is not None:
            lemmas, heads = split
            return word[: -heads[-1]] + lemmas[-1]
        return word

    def _simple_lemma(self, word: str) -> str | None:
        """The lexicon word that ``word`` inflects, found by its ending, or None."""
        if word in self.lexicon or len(word) <= 3:
            return word
        for ending, replacements in SV_ENDINGS:
            if not word.endswith(ending) or len(word) - len(ending) < MIN_PART - 1:
                continue
            stem = word[: -len(ending)]
            for replacement in replacements:
                if len(stem + replacement) >= MIN_PART and stem + replacement in self.lexicon:
                    return stem + replacement
        for ending, _ in SV_ENDINGS:  # then the e that -el/-er/-en words drop before an ending (cyklar -> cykel)
            if ending not in SYNCOPE_ENDINGS or not word.endswith(ending):
                continue
            stem = word[: -len(ending)]
            if len(stem) >= MIN_PART and stem[-1] in "lrn" and stem[-2] not in VOWELS and any(
                    c in VOWELS for c in stem[:-2]):
                restored = stem[:-1] + "e" + stem[-1]
                if restored in self.lexicon:
                    return restored
        return None

    def _stem_sv(self, word: str) -> str:
        return self._sv.stemWord(self.lemma(word))

    def _stem_en(self, word: str) -> str:
        return self._en.stemWord(word)

    def _first_part_lemma(self, part: str) -> tuple[str, int] | None:
        """The lemma of a non-final compound part and how much it was bent to fit (0 = as is)."""
        if part in self.lexicon or part in self.compound_only:
            return part, 0
        if part[-1] in LINKING_LETTERS and len(part) > MIN_PART and (
                part[:-1] in self.lexicon or part[:-1] in self.compound_only):
            return part[:-1], 1
        for suffix in ("a", "e"):
            if part + suffix in self.lexicon:
                return part + suffix, 1
        return None

    def _last_part_lemma(self, part: str) -> tuple[str, int] | None:
        lemma = self._simple_lemma(part)
        return (lemma, 0) if lemma is not None and lemma in self.lexicon else None

    def _compound_parts(self, word: str) -> tuple[str, ...]:
        """Stems of the parts of a Swedish compound, or () when the word does not split.

        The word is lemmatised first (``skrivarna`` -> ``skrivare``, ``datorerna`` -> ``dator``): a word whose
        lemma is in the lexicon as a simple word is not split from its inflected surface. Among the splits into
        known words, the one with the fewest parts wins, then the one that bends fewest parts with linking
        letters, then the one with the longest last part (the head of a Swedish compound). Three-letter parts
        count only when they are common compound members (``lön``, ``tid``, ``bil``) or numerals (``två``).
        """
        if len(word) < MIN_COMPOUND or not word.isalpha():
            return ()
        lemma = self.lemma(word)
        if lemma != word:
            if len(lemma) < MIN_COMPOUND:
                return ()
            word = lemma
        split = self._split(word)
        if split is None:
            return ()
        return tuple(self.stem_sv(lemma) for lemma in split[0])

    def _best_split(self, word: str) -> tuple[tuple[str, ...], tuple[int, ...]] | None:
        """The best split of ``word`` into lexicon lemmas and the surface length of each part, or None."""
        if len(word) < MIN_COMPOUND or not word.isalpha():
            return None
        n = len(word)
        # best[i]: (rank, lemmas, lengths) of the best split of word[i:], rank = (parts, bent, -head length)
        best: dict[int, tuple[tuple[int, int, int], tuple[str, ...], tuple[int, ...]] | None] = {
            n: ((0, 0, 0), (), ())}
        for start in range(n - MIN_PART, -1, -1):
            best[start] = None
            for end in range(start + MIN_PART, n + 1):
                rest = best.get(end)
                if rest is None or (start == 0 and end == n):  # the whole word is not a split
                    continue
                found = self._last_part_lemma(word[start:]) if end == n else self._first_part_lemma(word[start:end])
                if found is None:
                    continue
                lemma, bent = found
                if min(len(lemma), end - start) <= MIN_PART and lemma not in SHORT_PARTS and not (
                        start == 0 and end < n and lemma in NUMERALS):
                    continue
                (parts, bent_rest, head), lemmas, lengths = rest
                rank = (parts + 1, bent_rest + bent, head if parts else -len(lemma))
                if best[start] is None or rank < best[start][0]:
                    best[start] = (rank, (lemma, *lemmas), (end - start, *lengths))
        split = best.get(0)
        if split is None or split[0][0] < 2:
            return None
        return split[1], split[2]

    def tokens(self, text: str, keep_stopwords: bool = False) -> list[Token]:
        """Every non-stop word of ``text`` analysed for both languages."""
        return [
            Token(word, self.stem_sv(word.text), self.stem_en(word.text), self.compound_parts(word.text))
            for word in words(text)
            if keep_stopwords or word.text not in self.stopwords
        ]

    def terms(self, text: str, lang: str = "sv") -> list[str]:
        """A bag of index terms: stems in ``lang``, plus compound parts for Swedish."""
        out: list[str] = []
        for token in self.tokens(text):
            if lang == "en":
                out.append(token.en)
            else:
                out.append(token.sv)
                out.extend(p for p in token.parts if p != token.sv)
        return out

    def stems(self, phrase: str) -> tuple[str, ...]:
        """Swedish stems of a short phrase (for matching synonyms), stop words kept out."""
        return tuple(token.sv for token in self.tokens(phrase))


def _hunspell_words(path: Path) -> Iterator[str]:
    """The plain words of a Hunspell dictionary as it lists them (the search benchmark draws its vocabulary here)."""
    with path.open(encoding="utf-8", errors="replace") as fh:
        next(fh, None)  # the first line is the entry count
        for line in fh:
            word = line.split("/", 1)[0].strip()
            if word and word.isalpha():
                yield word


def _hunspell_entries(path: Path) -> Iterator[tuple[str, bool]]:
    """The words of a Hunspell dictionary (hyphens dropped: ``e-post`` -> ``epost``), each with whether the
    affix file marks it as a form that only occurs inside compounds."""
    only_in_compound = ""
    aff = path.with_suffix(".aff")
    if aff.exists():
        for line in aff.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("ONLYINCOMPOUND"):
                only_in_compound = line.split()[1]
    with path.open(encoding="utf-8", errors="replace") as fh:
        next(fh, None)  # the first line is the entry count
        for line in fh:
            word, _, flags = line.strip().partition("/")
            word = word.strip()
            if "-" in word and word.count("-") == 1 and not word.startswith("-") and not word.endswith("-"):
                word = word.replace("-", "")
            flags = flags.split()[0] if flags.strip() else ""
            # Z-like flag: only inside compounds (skrivar-); digits only with 3: the genitives that follow a
            # numeral (tvåfaktors-, femdagars-), not words of their own
            inside_only = bool(only_in_compound and only_in_compound in flags) or (flags.isdigit() and "3" in flags)
            if word and word.isalpha():
                yield word, inside_only


@cache
def get_analyzer() -> TextAnalyzer:
    """The process-wide analyzer (the lexicon is loaded once, about 0.3 s)."""
    lexicon: set[str] = set(_read_word_file("lexicon.txt"))
    compound_only: set[str] = set()
    for path in HUNSPELL_DICTIONARIES:
        if path.exists():
            for word, only_in_compound in _hunspell_entries(path):
                (compound_only if only_in_compound else lexicon).add(word)
            break
    else:
        log.warning("no Swedish Hunspell dictionary (apt install hunspell-sv-se): compound splitting is weaker")
    lexicon.difference_update(_read_word_file("not_parts.txt"))
    stopwords = _read_word_file("stopwords_sv.txt") + _read_word_file("stopwords_en.txt")
    return TextAnalyzer(lexicon, stopwords, compound_only)
