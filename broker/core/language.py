"""The language a request is written in: the languages a customer can choose, her browser's
preference (``Accept-Language``) and detection from the text with ``py3langid`` (its model ships
with the package). Matching stems keywords in that language (``broker.core.keywords``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

DEFAULT_LANGUAGE = "en"
DETECT = "auto"

# ISO 639-1 codes a request may be written in, each named in its own language. Snowball stems
# all of them but Czech and Polish, whose words are only lower-cased.
REQUEST_LANGUAGES: list[tuple[str, str]] = [
    ("en", "English"),
    ("cs", "Čeština"),
    ("da", "Dansk"),
    ("de", "Deutsch"),
    ("es", "Español"),
    ("fr", "Français"),
    ("it", "Italiano"),
    ("hu", "Magyar"),
    ("nl", "Nederlands"),
    ("no", "Norsk"),
    ("pl", "Polski"),
    ("pt", "Português"),
    ("ro", "Română"),
    ("fi", "Suomi"),
    ("sv", "Svenska"),
    ("tr", "Türkçe"),
    ("el", "Ελληνικά"),
    ("ru", "Русский"),
]
LANGUAGE_CODES = frozenset(code for code, _ in REQUEST_LANGUAGES)


class _Identifier(Protocol):
    def classify(self, text: str) -> tuple[str, float]: ...


@lru_cache(maxsize=1)
def _identifier() -> _Identifier:
    """py3langid's model, restricted to the languages a request may be in (loaded once)."""
    identifier: _Identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(sorted(LANGUAGE_CODES))  # type: ignore[attr-defined]
    return identifier


def detect_language(text: str, default: str = DEFAULT_LANGUAGE) -> str:
    """The language ``text`` is most likely written in, of ``REQUEST_LANGUAGES``; ``default``
    when there is nothing to go on (no letters)."""
    if not any(character.isalpha() for character in text):
        return default
    code, _probability = _identifier().classify(text)
    return code if code in LANGUAGE_CODES else default


def preferred_language(accept_language: str, default: str = DEFAULT_LANGUAGE) -> str:
    """The first of the browser's languages (an ``Accept-Language`` header, by quality) that a
    request may be written in; ``default`` when none is."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        code = tag.strip().split("-")[0].lower()
        if code in {"nb", "nn"}:
            code = "no"
        if code in LANGUAGE_CODES and quality > 0:
            ranked.append((-quality, position, code))
    return min(ranked)[2] if ranked else default
