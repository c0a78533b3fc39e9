"""Keyword stems, so that "hatchbacks" matches "hatchback" in the intent's language.

Stemming uses the Snowball stemmers (``snowballstemmer``, which runs them through PyStemmer's C
build of the same algorithms: the same stems, tens of times faster than its pure Python, and an
intent's text is stemmed on every match); the language is an ISO 639-1 code mapped to its
Snowball algorithm through ``pycountry``. An unknown language falls back to
lower-casing, which still makes matching case-insensitive.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

import pycountry
import snowballstemmer

WORD = re.compile(r"\w+", re.UNICODE)
MAX_STEM = 64


class Stemmer(Protocol):
    """The part of a ``snowballstemmer`` stemmer used here (the package has no type information)."""

    def stemWords(self, words: Sequence[str]) -> list[str]: ...  # noqa: N802 (the package's name)


@lru_cache(maxsize=64)
def _stemmer(language: str) -> Stemmer | None:
    record = pycountry.languages.get(alpha_2=language.split("-")[0].lower()) if language else None
    name = record.name.lower() if record else ""
    if name in snowballstemmer.algorithms():
        stemmer: Stemmer = snowballstemmer.stemmer(name)
        return stemmer
    return None


def words(text: str) -> list[str]:
    return [word.casefold() for word in WORD.findall(text)]


def stem_words(text: str, language: str) -> list[str]:
    stemmer = _stemmer(language)
    tokens = words(text)
    stems = stemmer.stemWords(tokens) if stemmer else tokens
    return [stem[:MAX_STEM] for stem in stems]


def text_stems(text: str, language: str) -> set[str]:
    """Every stem in an intent's title and details."""
    return set(stem_words(text, language))


def keyword_stems(keyword: str, language: str) -> tuple[str, ...]:
    """The stems of one keyword (a word or a phrase). A phrase matches when all its stems occur."""
    return tuple(dict.fromkeys(stem_words(keyword, language)))


def index_stem(stems: tuple[str, ...]) -> str:
    """The stem a keyword is indexed under: its longest, which is usually its rarest."""
    return max(stems, key=lambda stem: (len(stem), stem))
