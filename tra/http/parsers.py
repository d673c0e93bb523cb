"""The API's JSON body parser: strict about what a JSON body is.

django-ninja's default parser runs `json.loads` on any body, whatever its
Content-Type, and hands the result to the schema; a ninja `Schema` reads a
non-object through attribute access, so the JSON string "abc" was accepted as a
chat session titled "Abc" (`str.title()`). Here a body must be declared as JSON,
parse as strict JSON (no NaN/Infinity), and be an object. Each refusal is an
ApplicationError; ninja wraps parser errors in a 400 HttpError, and tra/api.py
unwraps them so the client gets the precise status and code.
"""

import json

from django.http import HttpRequest
from ninja.parser import Parser

from tra.errors import ApplicationError, UnsupportedMediaType


class InvalidJson(ApplicationError):
    status_code = 400
    code = "invalid_json"


JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"} | {
    type(None): "null"
}


def _reject_constant(name: str):
    raise InvalidJson(f"the JSON body contains {name}, which is not JSON")


def is_json(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


class JsonObjectParser(Parser):
    def parse_body(self, request: HttpRequest):
        if not is_json(request.content_type or ""):
            raise UnsupportedMediaType(
                f"send the body as application/json, not {request.content_type or 'no Content-Type'}",
                extra={"content_type": request.content_type or ""},
            )
        try:
            data = json.loads(request.body, parse_constant=_reject_constant)
        except RecursionError:
            raise InvalidJson("the JSON body is nested too deeply") from None
        except UnicodeDecodeError:
            raise InvalidJson("the JSON body is not valid UTF-8") from None
        except ValueError as error:  # JSONDecodeError
            raise InvalidJson(f"the body is not valid JSON: {error}") from None
        if not isinstance(data, dict):
            raise InvalidJson(f"the JSON body must be an object, not {JSON_TYPES.get(type(data), 'a value')}")
        return data
