"""Personal data in the text of a request, found before it is cast.

A request goes to every matching vendor, anonymously; an email address, a phone number, a
postcode, a street address or her own name typed into the title or the details would undo that.
``find_personal_data`` finds them (a pure function: the website warns her and highlights them);
``redact`` replaces them, for her to review before she posts.

Postcodes: the UK's are distinctive enough to look for everywhere. A five-digit code (France,
Germany, the US) is an ordinary number too ("budget 65000"), so it counts only in the country
of the request and next to what makes it an address: a town after it ("75011 Paris") or a state
before it ("NY 10001").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers


class Kind:
    EMAIL = "email"
    PHONE = "phone"
    POSTCODE = "postcode"
    ADDRESS = "address"
    NAME = "name"


LABELS = {
    Kind.EMAIL: "an email address",
    Kind.PHONE: "a phone number",
    Kind.POSTCODE: "a postcode",
    Kind.ADDRESS: "a street address",
    Kind.NAME: "your name",
}
REPLACEMENTS = {
    Kind.EMAIL: "[email removed]",
    Kind.PHONE: "[phone removed]",
    Kind.POSTCODE: "[postcode removed]",
    Kind.ADDRESS: "[address removed]",
    Kind.NAME: "[name removed]",
}


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: its kind and where it is (``text[start:end]``)."""

    kind: str
    start: int
    end: int
    text: str

    @property
    def label(self) -> str:
        return LABELS[self.kind]


EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
UK_POSTCODE = re.compile(r"\b(?:GIR ?0AA|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][ABD-HJLNP-UW-Z]{2})\b", re.IGNORECASE)
# A town's name: a capital and lower case letters, not a unit or a currency ("25000 Euro").
TOWN = r"(?!(?:Euro|Euros|Dollar|Dollars|Pfund|Kilometer|Km|Meilen|Miles)\b)[A-ZÀ-Ý][a-zà-ÿß][\w'-]*"
POSTCODES_BY_COUNTRY = {
    # five digits before a town: France, Germany, Spain, Italy
    "FR": re.compile(rf"\b\d{{5}}\s+{TOWN}"),
    "DE": re.compile(rf"\b\d{{5}}\s+{TOWN}"),
    "ES": re.compile(rf"\b\d{{5}}\s+{TOWN}"),
    "IT": re.compile(rf"\b\d{{5}}\s+{TOWN}"),
    # Poland writes 00-950 Warszawa; the Netherlands 1012 AB
    "PL": re.compile(r"\b\d{2}-\d{3}\b"),
    "NL": re.compile(r"\b\d{4} ?[A-Z]{2}\b"),
    # a state's abbreviation, then the ZIP code
    "US": re.compile(r"\b[A-Z]{2},? \d{5}(?:-\d{4})?\b"),
}
STREET_WORDS = (
    "road|rd|street|st|avenue|ave|lane|ln|close|drive|dr|way|place|pl|court|ct|crescent|terrace|"
    "gardens|grove|square|sq|boulevard|blvd|mews|row|parade|walk|hill"
)
# "12 Acacia Avenue", "Flat 3, 14 High St": a house number, up to three words, a street word.
ENGLISH_ADDRESS = re.compile(
    rf"\b\d{{1,4}}[A-Za-z]?,?\s+(?:[A-Z][\w'-]*\s+){{1,3}}(?:{STREET_WORDS})\b\.?", re.UNICODE | re.IGNORECASE
)
# "12 rue de la Paix", "5 avenue Foch"; "Hauptstraße 5", "ul. Długa 7".
FRENCH_ADDRESS = re.compile(
    r"\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|boulevard|bd|place|chemin|allée|impasse|quai)\s+"
    r"(?:(?:de|du|des|la|le|l')\s*)*[\w'-]+",
    re.IGNORECASE | re.UNICODE,
)
GERMAN_ADDRESS = re.compile(r"\b[\w-]+(?:straße|strasse|weg|platz|gasse|allee)\s+\d{1,4}[a-z]?\b", re.IGNORECASE)
POLISH_ADDRESS = re.compile(r"\b(?:ul\.|ulica|al\.|aleja)\s*[\w-]+(?:\s+[\w-]+)?\s+\d{1,4}[a-z]?\b", re.IGNORECASE)
ADDRESSES = (ENGLISH_ADDRESS, FRENCH_ADDRESS, GERMAN_ADDRESS, POLISH_ADDRESS)
MIN_NAME = 2


def find_personal_data(text: str, *, country: str = "GB", names: Iterable[str] = ()) -> list[Finding]:
    """Every piece of personal data in ``text``, in order, without overlaps (the longer of two
    overlapping finds wins). ``country`` is the request's ISO 3166-1 country (phone numbers
    without a +code are read as its numbers; its postcodes are looked for); ``names`` are her
    first and last names, found as whole words in any case."""
    if not text:
        return []
    country = (country or "GB").split("-")[0].upper()
    found: list[Finding] = []

    def add(kind: str, start: int, end: int) -> None:
        found.append(Finding(kind, start, end, text[start:end]))

    for match in EMAIL.finditer(text):
        add(Kind.EMAIL, match.start(), match.end())
    region = country if country in phonenumbers.SUPPORTED_REGIONS else "GB"
    for number in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
        add(Kind.PHONE, number.start, number.end)
    for match in UK_POSTCODE.finditer(text):
        add(Kind.POSTCODE, match.start(), match.end())
    local = POSTCODES_BY_COUNTRY.get(country)
    if local is not None:
        for match in local.finditer(text):
            add(Kind.POSTCODE, match.start(), match.end())
    for pattern in ADDRESSES:
        for match in pattern.finditer(text):
            add(Kind.ADDRESS, match.start(), match.end())
    for name in {n.strip() for n in names if n and len(n.strip()) >= MIN_NAME}:
        for match in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE):
            add(Kind.NAME, match.start(), match.end())
    return _without_overlaps(found)


def _without_overlaps(found: list[Finding]) -> list[Finding]:
    kept: list[Finding] = []
    for finding in sorted(found, key=lambda f: (f.start, -(f.end - f.start))):
        if kept and finding.start < kept[-1].end:
            if finding.end - finding.start > kept[-1].end - kept[-1].start:
                kept[-1] = finding
            continue
        kept.append(finding)
    return kept


def redact(text: str, findings: Iterable[Finding]) -> str:
    """``text`` with each finding replaced by a bracketed note of what was there."""
    out, position = [], 0
    for finding in sorted(findings, key=lambda f: f.start):
        out.append(text[position : finding.start])
        out.append(REPLACEMENTS[finding.kind])
        position = finding.end
    out.append(text[position:])
    return "".join(out)


def kinds_found(findings: Iterable[Finding]) -> list[str]:
    """The labels of the kinds found, in a fixed order, each once ("an email address", ...)."""
    kinds = {f.kind for f in findings}
    return [label for kind, label in LABELS.items() if kind in kinds]
