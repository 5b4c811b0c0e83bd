"""The staff API's HTTP side: every path, method and error answered in JSON, in the
caller's language, and every request checked against the OpenAPI description first.

- Language: ``Accept-Language`` alone (the API reads no cookies); English when it names
  neither English nor Japanese.
- Order: OPTIONS (the ``Allow`` list) → the bearer token (401/403) → the method (405 with
  ``Allow``) → the query, path and body against the operation's schemas (400, 413, 415) →
  the view. So a view only ever sees what the description promises it.
- Bodies: JSON objects, nested at most ``MAX_DEPTH`` deep, no NUL anywhere; read only
  after the token is known, and never more than Django's upload limit.
"""

import json
import logging
import re
from collections.abc import Callable
from typing import Any

import jsonschema_rs
from django.contrib.auth.models import User
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views.decorators.csrf import csrf_exempt

from campusconf.backoffice.api_errors import describe
from campusconf.backoffice.api_schema import SCHEMA
from campusconf.backoffice.tokens import user_for_token
from campusconf.core.staff_access import is_staff_user

logger = logging.getLogger(__name__)

# The deepest body the API describes is three levels; a hundred levels is an attack.
MAX_DEPTH = 16
INTEGER = re.compile(r"-?[0-9]{1,20}")
LANGUAGES = ("en", "ja")

# A view gets the request, the token's user, the validated body (or None), and the
# path's values.
Handler = Callable[..., JsonResponse]


class Refusal(Exception):
    """An answer that is not the view's: the error text and the status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def language_of(request: HttpRequest) -> str:
    """The first of English or Japanese the caller accepts; English if neither."""
    # parse_accept_lang_header is what Django's own LocaleMiddleware reads the header
    # with; LocaleMiddleware itself would fall back to the site's Japanese.
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        base = code.lower().split("-")[0]
        if base in LANGUAGES:
            return base
    return "en"


def _validator(schema: dict[str, Any]) -> Any:
    return jsonschema_rs.Draft4Validator(schema, validate_formats=True)


class Operation:
    """One method of one path of the description, its validators compiled once."""

    def __init__(self, spec: dict[str, Any], handler: Handler) -> None:
        self.handler = handler
        self.query = {
            p["name"]: (p["schema"], _validator(p["schema"]))
            for p in spec.get("parameters", [])
            if p["in"] == "query"
        }
        self.path = {
            p["name"]: _validator(p["schema"])
            for p in spec.get("parameters", [])
            if p["in"] == "path"
        }
        body = spec.get("requestBody", {}).get("content", {}).get("application/json")
        self.body_schema = body["schema"] if body else None
        self.body = _validator(body["schema"]) if body else None

    def check_path(self, kwargs: dict[str, Any]) -> None:
        names = {"pk": "id"}
        for key, value in kwargs.items():
            validator = self.path.get(names.get(key, key))
            if validator is not None and not validator.is_valid(value):
                raise Refusal(_("Nothing is at this address."), 404)

    def check_query(self, request: HttpRequest) -> None:
        for name, (schema, validator) in self.query.items():
            values = request.GET.getlist(name)
            if not values:
                continue
            if len(values) > 1:
                raise Refusal(_("%(name)s: give it once.") % {"name": name}, 400)
            value: Any = values[0]
            if schema.get("type") == "integer":
                if not INTEGER.fullmatch(value):
                    raise Refusal(_("%(name)s: a whole number.") % {"name": name}, 400)
                value = int(value)
            problem = next(validator.iter_errors(value), None)
            if problem is not None:
                raise Refusal(describe(problem, schema, name), 400)

    def read_body(self, request: HttpRequest) -> dict[str, Any] | None:
        if self.body is None:
            return None
        if request.content_type != "application/json":
            raise Refusal(_("Send a JSON object with Content-Type: application/json."), 415)
        try:
            raw = request.body
        except RequestDataTooBig:
            raise Refusal(_("The body is too large."), 413) from None
        try:
            data = json.loads(raw.decode("utf-8") or "{}")
        except (UnicodeDecodeError, ValueError):
            raise Refusal(_("The body is not JSON."), 400) from None
        except RecursionError:  # the C decoder's own limit, far past ours
            raise Refusal(_("The body is nested too deeply."), 400) from None
        _check_shape(data)
        problem = next(self.body.iter_errors(data), None)
        if problem is not None:
            raise Refusal(describe(problem, self.body_schema or {}, ""), 400)
        return dict(data)


def _check_shape(data: Any) -> None:
    """Depth and NUL, without recursion: the validator after this would recurse."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Refusal(_("The body is nested too deeply."), 400)
        if isinstance(value, str) and "\x00" in value:
            raise Refusal(_("Text may not contain NUL characters."), 400)
        if isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    raise Refusal(_("Text may not contain NUL characters."), 400)
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)


def _authenticate(request: HttpRequest) -> User:
    scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
    user = user_for_token(token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        raise Refusal(_("A valid bearer token is required."), 401)
    if not is_staff_user(user):
        raise Refusal(_("This token's user has no staff rights."), 403)
    return user


def _allow(methods: list[str]) -> str:
    implied = ["HEAD"] if "GET" in methods else []
    return ", ".join([*methods, *implied, "OPTIONS"])


def translated(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Run ``view`` in the caller's language, and say which one it answered in."""

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        language = language_of(request)
        with translation.override(language):
            response = view(request, *args, **kwargs)
        response["Content-Language"] = language
        patch_vary_headers(response, ["Accept-Language"])
        return response

    wrapped.__name__ = getattr(view, "__name__", "api_view")
    wrapped.__doc__ = view.__doc__
    return wrapped


def endpoint(template: str, **handlers: Handler) -> Callable[..., HttpResponse]:
    """The view of one path of the description: ``endpoint("/campaigns", get=…, post=…)``.

    Every method of the path in the description needs a handler, and no other.
    """
    described = SCHEMA["paths"][template]
    if set(described) != set(handlers):
        raise ValueError(f"{template}: handlers {sorted(handlers)} ≠ described {sorted(described)}")
    operations = {m.upper(): Operation(described[m], h) for m, h in handlers.items()}
    methods = sorted(operations)
    if "GET" in operations:
        operations["HEAD"] = operations["GET"]

    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        method = (request.method or "GET").upper()
        if method == "OPTIONS":
            response = HttpResponse(status=204)
            response["Allow"] = _allow(methods)
            return response
        try:
            user = _authenticate(request)
            operation = operations.get(method)
            if operation is None:
                response = error(
                    _("This address does not take %(method)s.") % {"method": method}, 405
                )
                response["Allow"] = _allow(methods)
                return response
            if any("\x00" in value for value in request.GET.values()):
                raise Refusal(_("Query parameters may not contain NUL characters."), 400)
            operation.check_path(kwargs)
            operation.check_query(request)
            body = operation.read_body(request)
            request.user = user
            return operation.handler(request, body, **kwargs)
        except Refusal as refusal:
            response = error(refusal.message, refusal.status)
            if refusal.status == 401:
                response["WWW-Authenticate"] = "Bearer"
            return response
        except Exception:  # a bug: logged with its traceback, still a JSON answer
            logger.exception("staff API: %s %s failed", method, request.path)
            return error(
                _("Something went wrong on our side; nothing is known to have changed."), 500
            )

    view.__name__ = f"api{template.replace('/', '_').replace('{', '').replace('}', '')}"
    return csrf_exempt(translated(view))


@csrf_exempt  # no session is read, and a POST deserves the same JSON 404
@translated
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any address under the API that the description does not have."""
    return error(_("Nothing is at this address."), 404)
