"""The API's JSON parser: JSON, minus NUL characters, and nested at most ``API_MAX_JSON_DEPTH``
levels deep, checked without recursion before the text is parsed (Python's ``json`` recurses and
would fail with a RecursionError, a 500, on a thousand opening brackets)."""

import codecs
import re

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

# A JSON string, with its escapes; what is inside one is text, never nesting.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def too_deep(text: str, limit: int) -> bool:
    """Whether the JSON ``text`` opens more than ``limit`` arrays or objects inside each other."""
    depth = 0
    for bracket in _BRACKETS.findall(_STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


class StrictJSONParser(JSONParser):
    """JSON, minus NUL characters: PostgreSQL cannot store them in text, so refuse them at the door
    with a 400 rather than fail deep inside a query."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(stream.read() if stream is not None else b"", encoding)
        except (UnicodeDecodeError, LookupError) as error:
            raise ParseError(f"JSON parse error - {error}") from None
        limit = int(settings.API_MAX_JSON_DEPTH)
        if too_deep(text, limit):
            raise ParseError(f"JSON must not be nested more than {limit} levels deep.")
        try:
            data = json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None
        if _has_nul(data):
            raise ParseError("Text must not contain NUL (\\u0000) characters.")
        return data
