"""Strict query parameters for the API: junk is a 400 naming the parameter, never ignored.

django-filter and DRF are lenient by default: `?active=x` filters nothing (a junk boolean
reads as "unknown"), `?asset_type=` means "no filter", `?page=` means page 1. The schema
(checked by schemathesis) promises a boolean, one of the choices, a page number, so:

- `StrictFilterSet`: an empty value, or a boolean that is not true/false/1/0, is refused;
- `StrictPageNumberPagination`: `page` must be a whole number from 1 to PAGE_MAX (or "last"),
  `page_size` (where allowed) 1 to the view's maximum.
"""

from __future__ import annotations

import re

import django_filters
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.filters import SearchFilter
from rest_framework.pagination import PageNumberPagination

from qunex.params import PAGE_MAX, TEXT_MAX

SEARCH_WORDS = 10

BOOLEAN_VALUES = {"true", "false", "1", "0"}
PAGE_RE = re.compile(r"^[1-9][0-9]{0,8}$")  # ASCII digits only: "²" is not a page


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
                if name in self.form.fields:  # django-filter %-formats it: escape the value
                    self.form.add_error(name, message.replace("%", "%%"))
                valid = False
                break
        return valid


class StrictPageNumberPagination(PageNumberPagination):
    """The one API pagination: `page` is a whole number from 1 to PAGE_MAX (or "last") and
    `page_size`, where a view allows it, 1 to `max_page_size`; the schema states both
    bounds. Anything else is a 400 naming the parameter; a page past the last is DRF's 404."""

    def paginate_queryset(self, queryset, request, view=None):
        page = request.query_params.get(self.page_query_param)
        if page is not None and page not in self.last_page_strings:
            self._check(self.page_query_param, page, PAGE_MAX)
        if self.page_size_query_param:
            size = request.query_params.get(self.page_size_query_param)
            if size is not None:
                self._check(self.page_size_query_param, size, self.max_page_size)
        return super().paginate_queryset(queryset, request, view)

    @staticmethod
    def _check(name: str, raw: str, most: int) -> None:
        if not PAGE_RE.match(raw) or int(raw) > most:
            raise ValidationError({name: [f"{raw[:20]!r} is not a whole number from 1 to {most}."]})

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {self.page_query_param: PAGE_MAX, self.page_size_query_param: self.max_page_size}
        for parameter in parameters:
            most = bounds.get(parameter["name"])
            if most:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": most}
                parameter["description"] += f" (1 to {most})."
        return parameters


class BoundedSearchFilter(SearchFilter):
    """`search`: at most TEXT_MAX characters and SEARCH_WORDS words. Each word is one more
    LIKE per searched field: 1,500 words overflowed SQLite's expression depth (a 5xx)."""

    def get_search_terms(self, request):
        raw = request.query_params.get(self.search_param, "")
        if len(raw) > TEXT_MAX or len(raw.split()) > SEARCH_WORDS:
            raise ValidationError(
                {self.search_param: [f"At most {SEARCH_WORDS} words and {TEXT_MAX} characters."]}
            )
        return super().get_search_terms(request)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["maxLength"] = TEXT_MAX
            parameter["description"] += f" At most {SEARCH_WORDS} words."
        return parameters


class StrictQuerySerializer(serializers.Serializer):
    """Query parameters validated by a serializer, where DRF would read `?x=` as "x not given"
    for a field that is not required: an empty value is refused, naming the parameter."""

    def validate(self, attrs):
        blank = [k for k in self.fields if k in self.initial_data and not self.initial_data[k]]
        if blank:
            raise ValidationError({k: ["Give a value, or leave the parameter out."] for k in blank})
        return super().validate(attrs)
