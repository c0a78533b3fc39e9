"""Before a request is cast (posted or amended), its text is checked for personal data
(``intents.privacy``). Found, the form comes back with the spans highlighted and the kinds
named, and two choices: "Remove them for me" (the text redacted, shown again for review) or
"Post anyway" (her explicit confirmation). Nothing found, or "Post anyway": it goes out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.http import HttpRequest, QueryDict
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from broker.website.forms import PersonalDataChoice
from intents.privacy import Finding, find_personal_data, kinds_found, redact

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass
class PersonalDataWarning:
    """What was found, field by field, ready for the template."""

    kinds: list[str]
    fields: list[tuple[str, SafeString]] = field(default_factory=list)


@dataclass
class Check:
    """The outcome of the check: ``proceed`` (nothing found, or she chose to post anyway), a
    ``warning`` to show, or ``redacted`` data to show again for review."""

    proceed: bool
    warning: PersonalDataWarning | None = None
    redacted: QueryDict | None = None


def highlighted(text: str, findings: list[Finding]) -> SafeString:
    """``text`` as HTML with each finding in a ``<mark>`` that names its kind."""
    parts: list[str] = []
    position = 0
    for finding in findings:
        parts.append(escape(text[position : finding.start]))
        parts.append(f'<mark title="{escape(finding.label)}">{escape(finding.text)}</mark>')
        position = finding.end
    parts.append(escape(text[position:]))
    return mark_safe("".join(parts))  # noqa: S308 - every piece of her text is escaped above


def check_request_text(
    request: HttpRequest, *, texts: dict[str, tuple[object, str]], country: str, customer: User
) -> Check:
    """Check ``texts`` (field name: (label, text)) in the request's ``country`` against her
    name, and act on the choice she posted, if any."""
    choice = request.POST.get(PersonalDataChoice.FIELD, "")
    if choice == PersonalDataChoice.POST_ANYWAY:
        return Check(proceed=True)
    names = [customer.first_name, customer.last_name]
    found = {
        name: (str(label), text, find_personal_data(text, country=country, names=names))
        for name, (label, text) in texts.items()
    }
    if not any(findings for _label, _text, findings in found.values()):
        return Check(proceed=True)
    if choice == PersonalDataChoice.REDACT:
        data = request.POST.copy()
        data.pop(PersonalDataChoice.FIELD, None)
        for name, (_label, text, findings) in found.items():
            if findings:
                data[name] = redact(text, findings)
        return Check(proceed=False, redacted=data)
    warning = PersonalDataWarning(kinds=kinds_found(f for _l, _t, findings in found.values() for f in findings))
    warning.fields = [(label, highlighted(text, findings)) for label, text, findings in found.values() if findings]
    return Check(proceed=False, warning=warning)
