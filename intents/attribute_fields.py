"""Form inputs for the attributes of a category's schema (``intents.attributes``): the customer's
request form (``broker.website.forms``) and the vendor's subscription and offer forms
(``broker.vendor_site.work_forms``) build their inputs with these, so a schema reads the same on
both sides. They parse only; the schema's rules are checked by the services."""

from __future__ import annotations

from django import forms

from intents.attributes import bounds_text, enum_choices, resolve_unit

# The value of "No preference" / "Not stated" in a select.
UNSPECIFIED = ""


def enum_field_choices(definition: dict) -> list:
    """An enum's choices for a select; those that depend on another attribute are grouped by its
    values (models under their make), with any others after them."""
    if not definition.get("choices_by"):
        return [(c, c) for c in definition["choices"]]
    grouped = [(str(parent), [(c, c) for c in group]) for parent, group in definition["choices_by"].items()]
    listed = {c for group in definition["choices_by"].values() for c in group}
    others = [(c, c) for c in enum_choices(definition) if c not in listed]
    return grouped + ([("Other", others)] if others else [])


def attribute_field(definition: dict, country: str = "") -> forms.Field:
    label = definition.get("label") or definition["name"].replace("_", " ").capitalize()
    if definition.get("compare") == "at_most":
        label = f"{label}, at most"
    elif definition.get("compare") == "at_least":
        label = f"{label}, at least"
    unit = resolve_unit(definition.get("unit") or "", country)
    if unit:
        label = f"{label} ({unit})"
    kind = definition["type"]
    required = bool(definition.get("required"))
    limits = bounds_text(definition) if kind in ("number", "range") else ""
    help_text = f"{limits[0].upper()}{limits[1:]}." if limits else ""
    if kind == "enum":
        choices = enum_field_choices(definition)
        if definition.get("multiple"):
            return forms.MultipleChoiceField(
                label=label, choices=choices, required=required, widget=forms.CheckboxSelectMultiple
            )
        return forms.ChoiceField(label=label, choices=[(UNSPECIFIED, "No preference")] + choices, required=required)
    if kind == "boolean":
        return forms.ChoiceField(
            label=label,
            choices=[(UNSPECIFIED, "No preference"), ("true", "Yes"), ("false", "No")],
            required=required,
        )
    if kind == "number":
        return forms.CharField(
            label=label,
            required=required,
            help_text=help_text,
            widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        )
    if kind == "range":
        return RangeField(label=label, required=required, help_text=help_text)
    return forms.CharField(label=label, required=required, max_length=200)


class RangeWidget(forms.MultiWidget):
    def __init__(self, attrs=None):
        number = {"inputmode": "decimal"}
        super().__init__(
            [
                forms.TextInput(attrs={**number, "placeholder": "from"}),
                forms.TextInput(attrs={**number, "placeholder": "to"}),
            ],
            attrs,
        )

    def decompress(self, value):
        return [value.get("min"), value.get("max")] if isinstance(value, dict) else [None, None]


class RangeField(forms.MultiValueField):
    """Two numbers, "from" and "to"; either may be left empty (an open-ended range)."""

    widget = RangeWidget

    def __init__(self, **kwargs):
        super().__init__(
            fields=[forms.CharField(required=False), forms.CharField(required=False)],
            require_all_fields=False,
            **kwargs,
        )

    def compress(self, values):
        low, high = (values or [None, None])[:2]
        bounds = {k: v for k, v in (("min", low), ("max", high)) if v not in (None, "")}
        return bounds or None
