"""Stemming runs through PyStemmer's C build of the Snowball algorithms; the stems it gives are
those of snowballstemmer's pure Python, so the subscription index written by either stays valid."""

from __future__ import annotations

import importlib

import pytest

from broker.core.keywords import _stemmer, stem_words, words

TEXTS = {
    "english": ("en", "Low-mileage hatchbacks, running boards and ideally five doors; delivering quickly"),
    "french": ("fr", "Canapés d'angle livrés rapidement, tissus lavables et coussins déhoussables"),
    "german": ("de", "Gebrauchte Kleinwagen mit Klimaanlage, fünf Türen und geringer Laufleistung"),
    "spanish": ("es", "Sofás esquineros entregados rápidamente con fundas lavables"),
}


@pytest.mark.parametrize("algorithm", sorted(TEXTS))
def test_the_c_stemmer_gives_the_pure_python_stems(algorithm):
    language, text = TEXTS[algorithm]
    assert type(_stemmer(language)).__module__ == "Stemmer"  # PyStemmer, not the pure-Python fallback
    module = importlib.import_module(f"snowballstemmer.{algorithm}_stemmer")
    pure = getattr(module, f"{algorithm.capitalize()}Stemmer")()
    assert stem_words(text, language) == pure.stemWords(words(text))
