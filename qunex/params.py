"""One parsing layer for query strings: bounded fields for every page and API parameter.

A query value reaches a view only through one of these fields (issue 20 §1), never through
`isdigit()` then `int()` by hand, so no value a person or a script can type is a 500:

- integers are ASCII digits within the database's range (`²` passes `isdigit()` and fails
  `int()`; 23 digits overflow a bigint); ids are 1..2**63-1;
- dates are YYYY-MM-DD between DATE_MIN and DATE_MAX, so `date + 1 day` (an inclusive
  "until") never overflows and a timezone-aware midnight of it always exists;
- decimals are finite (no NaN or inf) and bounded; text has a maximum length;
- a parameter given twice where one value is meant is refused, not silently narrowed.

Pages: `@query_form(SomeQuery)` parses `request.GET` with a `QueryForm` and passes the view
`query=` (a dict of every field: its cleaned value, or its default when absent or bad). A bad
value is ignored with a message naming the field (django messages, shown by base.html, unless
the view shows `query.problems` itself). Tests discover a page's parameters from the
`query_form` attribute the decorator leaves on the view (tests/core/test_hostile_params.py).

API: the `Api*` DRF fields below apply the same bounds in query serializers; django-filter
filters take the form fields as `field_class`. A bad value there is a 400 naming it.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import date
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.core.validators import MaxValueValidator, MinValueValidator
from rest_framework import serializers

DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2199, 12, 31)
INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # PostgreSQL integer
ID_MAX = 2**63 - 1  # bigint: every primary key (BigAutoField)
PAGE_MAX = 100_000
TEXT_MAX = 100
API_REPEATABLE: frozenset[str] = frozenset()  # no API query parameter takes several values
ASCII_INTEGER = re.compile(r"^[+-]?[0-9]{1,30}$")
TRUE, FALSE = {"true", "1", "on", "yes"}, {"false", "0", "off", "no"}
ONCE = "Give this parameter once."
DATE_RANGE = f"Enter a date from {DATE_MIN} to {DATE_MAX} (YYYY-MM-DD)."


def _integer(value: str) -> int:
    text = str(value).strip()
    if not ASCII_INTEGER.match(text):
        raise ValueError(text)
    return int(text)


# --- form fields: pages and django-filter -----------------------------------------------------


class IntegerParam(forms.IntegerField):
    """A whole number in ASCII digits within [min_value, max_value] (default: an integer
    column's range)."""

    def __init__(self, *, min_value: int = INT_MIN, max_value: int = INT_MAX, **kwargs):
        kwargs.setdefault("required", False)
        message = kwargs.pop("error_messages", {}).get("invalid") or (
            f"Enter a whole number from {min_value} to {max_value}."
        )
        kwargs["error_messages"] = dict.fromkeys(("invalid", "min_value", "max_value"), message)
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return _integer(value)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class IdParam(IntegerParam):
    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=ID_MAX, **kwargs)


class PageParam(IntegerParam):
    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=PAGE_MAX, **kwargs)


class DateParam(forms.DateField):
    """YYYY-MM-DD from DATE_MIN to DATE_MAX."""

    default_validators = [MinValueValidator(DATE_MIN), MaxValueValidator(DATE_MAX)]

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        kwargs.setdefault("error_messages", {"invalid": DATE_RANGE})
        super().__init__(**kwargs)

    def run_validators(self, value):
        try:
            super().run_validators(value)
        except forms.ValidationError:
            raise forms.ValidationError(DATE_RANGE, code="invalid") from None


class DecimalParam(forms.DecimalField):
    """A finite decimal (no NaN or infinity) of at most `max_digits` digits."""

    def __init__(self, *, max_digits: int = 16, decimal_places: int = 2, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(max_digits=max_digits, decimal_places=decimal_places, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            number = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            raise forms.ValidationError("Enter a number.", code="invalid") from None
        if not number.is_finite():
            raise forms.ValidationError("Enter a finite number.", code="invalid")
        return number


class TextParam(forms.CharField):
    def __init__(self, *, max_length: int = TEXT_MAX, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(max_length=max_length, **kwargs)


class ChoiceParam(forms.ChoiceField):
    def __init__(self, *, choices, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(choices=choices, **kwargs)


class Checkbox(forms.CheckboxInput):
    """A checkbox that hands the raw value to BooleanParam (CheckboxInput reads junk as on)."""

    def __init__(self, attrs=None):
        super().__init__(attrs, check_test=lambda v: str(v).strip().lower() in TRUE)

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class BooleanParam(forms.Field):
    """true/false, 1/0, on/off, yes/no (any case); anything else is an error, not "no"."""

    widget = Checkbox

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise forms.ValidationError("Enter true or false.", code="invalid")


class IdListParam(forms.Field):
    """A parameter that may repeat (`?id=1&id=2`): each an id; junk values are dropped."""

    multiple = True

    def __init__(self, *, max_count: int = 100, **kwargs):
        kwargs.setdefault("required", False)
        self.max_count = max_count
        super().__init__(**kwargs)

    def to_python(self, value):
        ids = []
        for raw in value or []:
            try:
                number = _integer(raw)
            except ValueError:
                continue
            if 1 <= number <= ID_MAX:
                ids.append(number)
        return ids[: self.max_count]


# --- pages -------------------------------------------------------------------------------------


class QueryForm(forms.Form):
    """A page's GET parameters. An empty value means "not given" (an HTML form sends empty
    fields); a bad or repeated value is dropped and named in `problems`."""

    def __init__(self, data):
        self.raw = data
        super().__init__(data=_single(data, self.base_fields))

    def full_clean(self):
        super().full_clean()
        for name, field in self.fields.items():
            if not getattr(field, "multiple", False) and len(_values(self.raw, name)) > 1:
                self.cleaned_data.pop(name, None)
                if name not in self._errors:
                    self.add_error(name, ONCE)

    @property
    def problems(self) -> dict[str, str]:
        return {name: " ".join(errors) for name, errors in self.errors.items()}

    def values(self) -> dict:
        """Every field: its cleaned value, or its initial (default) when absent or bad."""
        self.is_valid()
        return {
            name: self.cleaned_data[name]
            if self.cleaned_data.get(name) not in (None, "", [])
            else field.initial
            for name, field in self.fields.items()
        }

    def describe(self, name: str, message: str) -> str:
        shown = (_values(self.raw, name) or [""])[-1][:30]
        return f"Ignored {name} ({shown!r}): {message}"


class Query(dict):
    """The parsed parameters of a page; `problems` names each ignored one, `form` is the
    bound form (for a template that renders the filters)."""

    problems: dict[str, str]
    form: QueryForm


def _values(data, name: str) -> list[str]:
    return data.getlist(name) if hasattr(data, "getlist") else [data[name]] if name in data else []


def _single(data, fields) -> dict:
    """QueryDict -> plain dict (the last value of each single field, the list of a multiple
    one), so a form field never sees a list it did not ask for."""
    out = {}
    for name, field in fields.items():
        values = _values(data, name)
        if values:
            out[name] = values if getattr(field, "multiple", False) else values[-1]
    return out


def parse(request, form_class: type[QueryForm], *, announce: bool = True) -> Query:
    """`request.GET` through `form_class`: each bad value ignored, with a message naming it."""
    form = form_class(request.GET)
    query = Query(form.values())
    query.problems = form.problems
    query.form = form
    if announce:
        for name, message in query.problems.items():
            messages.warning(request, form.describe(name, message))
    return query


def query_form(form_class: type[QueryForm], *, announce: bool = True):
    """Decorate a page view: it is called with `query=` (the parsed parameters); the form is
    left on the view as `query_form` for the tests that discover every page's parameters."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            return view(
                request, *args, query=parse(request, form_class, announce=announce), **kwargs
            )

        wrapper.query_form = form_class
        return wrapper

    return decorate


# --- DRF fields: API query serializers ---------------------------------------------------------


class ApiInteger(serializers.IntegerField):
    def __init__(self, *, min_value: int = INT_MIN, max_value: int = INT_MAX, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_internal_value(self, data):
        try:
            value = _integer(data)
        except ValueError:
            self.fail("invalid")
        return value


class ApiDate(serializers.DateField):
    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        if not DATE_MIN <= day <= DATE_MAX:
            raise serializers.ValidationError(DATE_RANGE)
        return day


class ApiDecimal(serializers.DecimalField):
    def __init__(self, *, max_digits: int = 16, decimal_places: int = 2, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(max_digits=max_digits, decimal_places=decimal_places, **kwargs)


def finite(value: float) -> float:
    if not math.isfinite(value):
        raise serializers.ValidationError("Enter a finite number.")
    return value
