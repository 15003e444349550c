"""drf-spectacular post-processing: what every operation shares, stated once in the schema.

`ControlCharacterGuardMiddleware` answers 400 to any query or path parameter holding a
control character, for every route. So the contract (checked by schemathesis, see
tests/core/test_api_contract.py) says it:

1. every free-text string parameter (query or path; no enum, format or pattern of its own)
   gets `pattern: ^[^\\x00-\\x1f\\x7f]*$`;
2. every operation with parameters documents a 400 (its own when the view declares one,
   else the guard's `{"<parameter>": ["message"]}` shape);
3. `QueryStringGuardMiddleware` refuses, on every operation, an empty query value and a
   parameter given twice (400), and a request line over settings.REQUEST_LINE_LIMIT (414):
   every string query parameter gets `minLength: 1`, every date one its range
   (qunex.params.DATE_MIN..DATE_MAX) in words, every operation the 414;
4. every paginated list documents DRF's 404 for a page beyond the last, every operation on
   an object (a path parameter) its 404 (unknown, or another user's: never told apart),
   and every operation with a body DRF's 400 for an unreadable or invalid body, unless
   the view documents its own.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from qunex import params

NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]*$"
PARAMETER_ERROR = {
    "description": "A parameter is invalid (e.g. holds a control character such as NUL, is "
    "empty, or is given more than once); the body names it.",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            }
        }
    },
}


REQUEST_LINE_TOO_LONG = {
    "description": "The request line (method, address and query) is longer than "
    f"{settings.REQUEST_LINE_LIMIT} bytes. (A line over 8190 bytes is refused by the web "
    "server itself, with a plain-text 414.)",
    "content": {
        "application/json": {
            "schema": {"type": "object", "properties": {"detail": {"type": "string"}}}
        }
    },
}
DATE_RANGE = f" From {params.DATE_MIN} to {params.DATE_MAX}."
EMPTY_OR_REPEATED = " An empty query parameter, or one given more than once, is refused too."


PAGE_NOT_FOUND = {
    "description": "No such page: `page` is beyond the last page (or below 1).",
    "content": {
        "application/json": {
            "schema": {"type": "object", "properties": {"detail": {"type": "string"}}}
        }
    },
}


OBJECT_NOT_FOUND = {
    "description": "Not found: no such object, or it belongs to another user.",
    "content": {
        "application/json": {
            "schema": {"type": "object", "properties": {"detail": {"type": "string"}}}
        }
    },
}
BODY_ERROR = {
    "description": "The body is not valid JSON or a field is invalid; the body names each "
    "field (or `detail` for a body that cannot be read).",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "additionalProperties": {
                    "oneOf": [{"type": "string"}, {"type": "array"}, {"type": "object"}]
                },
            }
        }
    },
}


def guard_parameters(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict:
    for path_item in result.get("paths", {}).values():
        shared = path_item.get("parameters", [])
        for method, operation in path_item.items():
            if method == "parameters" or not isinstance(operation, dict):
                continue
            parameters = [*shared, *operation.get("parameters", [])]
            for parameter in parameters:
                schema = parameter.get("schema", {})
                if (
                    parameter.get("in") in ("query", "path")
                    and schema.get("type") == "string"
                    and not {"enum", "format", "pattern"} & schema.keys()
                ):
                    schema["pattern"] = NO_CONTROL_CHARACTERS
                if parameter.get("in") == "query" and schema.get("type") == "string":
                    schema.setdefault("minLength", 1)  # an empty value is a 400
                    if schema.get("format") == "date" and DATE_RANGE not in parameter.get(
                        "description", ""
                    ):
                        parameter["description"] = parameter.get("description", "") + DATE_RANGE
            if parameters:
                operation.setdefault("responses", {}).setdefault("400", PARAMETER_ERROR)
            responses = operation.setdefault("responses", {})
            responses.setdefault("414", REQUEST_LINE_TOO_LONG)
            if any(p.get("in") == "query" for p in parameters):
                refused = dict(responses["400"])  # a copy: components may be shared
                if EMPTY_OR_REPEATED not in refused.get("description", ""):
                    refused["description"] = refused.get("description", "") + EMPTY_OR_REPEATED
                responses["400"] = refused
            if any(p.get("in") == "query" and p.get("name") == "page" for p in parameters):
                responses.setdefault("404", PAGE_NOT_FOUND)
            if any(p.get("in") == "path" for p in parameters):
                responses.setdefault("404", OBJECT_NOT_FOUND)
            if "requestBody" in operation:
                responses.setdefault("400", BODY_ERROR)
    return result
