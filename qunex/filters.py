"""Strict query parameters for the API: junk is a 400 naming the parameter, never ignored.

django-filter and DRF are lenient by default: `?active=x` filters nothing (a junk boolean
reads as "unknown"), `?asset_type=` means "no filter", `?page=` means page 1. The schema
(checked by schemathesis) promises a boolean, one of the choices, a page number, so:

- `StrictFilterSet`: an empty value, or a boolean that is not true/false/1/0, is refused;
- `StrictPageNumberPagination`: `page` must be a whole number >= 1 (or "last").
"""

from __future__ import annotations

import re

import django_filters
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

BOOLEAN_VALUES = {"true", "false", "1", "0"}
PAGE_RE = re.compile(r"^[1-9][0-9]{0,8}$")


class StrictFilterSet(django_filters.FilterSet):
    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name, filter_ in self.filters.items():
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else []
            for value in values:
                if value == "":
                    message = "Give a value, or leave the parameter out."
                elif isinstance(filter_, django_filters.BooleanFilter) and (
                    value.lower() not in BOOLEAN_VALUES
                ):
                    message = f"{value[:20]!r} is not a boolean: use true or false."
                else:
                    continue
                if name in self.form.fields:
                    self.form.add_error(name, message)
                valid = False
                break
        return valid


class StrictPageNumberPagination(PageNumberPagination):
    def paginate_queryset(self, queryset, request, view=None):
        for value in request.query_params.getlist(self.page_query_param):
            if value not in self.last_page_strings and not PAGE_RE.match(value):
                raise ValidationError(
                    {self.page_query_param: [f"{value[:20]!r} is not a page number (1, 2, ...)."]}
                )
        return super().paginate_queryset(queryset, request, view)


class StrictQuerySerializer(serializers.Serializer):
    """Query parameters validated by a serializer, where DRF would read `?x=` as "x not given"
    for a field that is not required: an empty value is refused, naming the parameter."""

    def validate(self, attrs):
        blank = [k for k in self.fields if k in self.initial_data and not self.initial_data[k]]
        if blank:
            raise ValidationError({k: ["Give a value, or leave the parameter out."] for k in blank})
        return super().validate(attrs)
