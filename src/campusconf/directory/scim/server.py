"""The SCIM 2.0 endpoint at /scim/v2: Django in front of scim2-server's handler.

The view turns a Django request into a ``ScimRequest``, authenticates the client's
bearer token, and lets scim2-server's handler do the protocol over our storage.
"""

from __future__ import annotations

import functools
import json
import logging
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.encoding import iri_to_uri
from django.views.decorators.csrf import csrf_exempt
from scim2_models import (
    AuthenticationScheme,
    ForbiddenException,
    ResourceType,
    SCIMException,
    ScimProvider,
    ServiceProviderConfig,
    UnauthorizedException,
)
from scim2_server.applications.base import BaseApplication
from scim2_server.handler import ScimHandler
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from scim2_server.routing import Operation, Target
from scim2_server.service import ScimService

from campusconf.directory.models import ScimClient
from campusconf.directory.scim.context import ScimCall, current, scim_call
from campusconf.directory.scim.guard import record_hold
from campusconf.directory.scim.schema import resource_types, schemas
from campusconf.directory.scim.storage import DirectoryStorage
from campusconf.directory.tokens import authenticate_scim_client

logger = logging.getLogger(__name__)


def service_provider_config() -> ServiceProviderConfig:
    return ServiceProviderConfig.model_validate(
        {
            "documentationUri": "https://github.com/campusconf/campusconf/blob/main/docs/directory.md",
            "patch": {"supported": True},
            "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": True, "maxResults": 1000},
            "changePassword": {"supported": False},
            "sort": {"supported": True},
            "etag": {"supported": True},
            "authenticationSchemes": [
                {
                    "type": AuthenticationScheme.Type.oauthbearertoken,
                    "name": "Bearer token",
                    "description": "A token per client, from `campusconf scim-token create`.",
                    "primary": True,
                }
            ],
        }
    )


# The right each operation needs; discovery (schemas, resource types) needs only a
# valid token, and /ServiceProviderConfig not even that (RFC 7643 §5).
READS = {Operation.query, Operation.search, Operation.search_with_body}
WRITES = {Operation.create, Operation.replace, Operation.patch, Operation.delete}


class DirectoryService(ScimService):
    def authorize(self, request: ScimRequest, target: Target, resource_type: ResourceType) -> None:
        client: ScimClient = request.subject
        if target.operation in READS and not client.can_read:
            raise ForbiddenException(detail=f"the token of {client.name} may not read")
        if target.operation in WRITES and not client.can_write:
            raise ForbiddenException(detail=f"the token of {client.name} may not write")
        # Making a member leave needs "deactivate" too: only the storage knows when a
        # write does that (guard.py).


class DirectoryApplication(BaseApplication):
    def __init__(self) -> None:
        provider = ScimProvider.from_discovery(
            schemas(),
            resource_types(),
            config=service_provider_config(),
        )
        super().__init__(provider, DirectoryService(provider))
        self.handler = ScimHandler(self.service, DirectoryStorage(self.service))

    def check_auth(self, request: ScimRequest) -> None:
        header = request.header("Authorization") or ""
        scheme, _, token = header.partition(" ")
        client = authenticate_scim_client(token.strip()) if scheme.lower() == "bearer" else None
        if client is None:
            raise UnauthorizedException(detail="a valid bearer token is needed")
        request.subject = client
        current().client = client

    def serve(self, request: ScimRequest) -> ScimResponse:
        try:
            if self.service.match(request).operation is not Operation.service_provider_config:
                self.check_auth(request)
            response = self.handler.handle(request)
        except SCIMException as exception:
            response = self.handle_exception(request, exception)
        except Exception as exception:  # a bug: logged with its traceback, still a SCIM error
            logger.exception("SCIM request failed: %s %s", request.method, request.path)
            response = self.handle_exception(request, exception)
        return self.finalize_response(request, response)


@functools.cache
def application() -> DirectoryApplication:
    return DirectoryApplication()


@csrf_exempt
def scim_view(request: HttpRequest, path: str = "") -> HttpResponse:
    with scim_call(ScimCall()) as call:
        response = _serve(request, path)
        if call.held is not None:
            # After the request's transaction rolled back: the hold must outlive it.
            record_hold(call.client, call.held)
    return response


def _content_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def _serve(request: HttpRequest, path: str) -> HttpResponse:
    app = application()
    scim_request = ScimRequest(
        method=request.method or "GET",
        base_url=request.build_absolute_uri("/scim/v2"),
        path="/" + path,
        query={key: request.GET[key] for key in request.GET},
        headers=dict(request.headers.items()),
    )
    limit: int = settings.CAMPUSCONF_SCIM_MAX_BODY_BYTES
    length = _content_length(request)
    # Never read more than one byte past the limit, whatever the client claims.
    scim_request.body = request.read(min(length, limit + 1)) if length else b""
    if len(scim_request.body) > limit:
        too_large = app.service.error_response(app.service.payload_too_large(limit))
        return _django_response(app.finalize_response(scim_request, too_large))
    try:
        if scim_request.method.upper() in ("GET", "HEAD"):
            # Reads take no transaction: with SQLite's IMMEDIATE mode it would take
            # the write lock that the engine's workers need.
            response = app.serve(scim_request)
        else:
            with transaction.atomic():
                response = app.serve(scim_request)
                if response.status >= HTTPStatus.BAD_REQUEST:
                    transaction.set_rollback(True)  # an error stores nothing
    except Exception:
        logger.exception("SCIM request failed outside the handler")
        response = app.service.error_response(RuntimeError("internal error"))
    return _django_response(response)


def _django_response(response: ScimResponse) -> HttpResponse:
    body: Any = b"" if response.body is None else json.dumps(response.body).encode()
    django_response = HttpResponse(body, status=int(response.status))
    for name, value in response.headers.items():
        # scim2-server's Location repeats the request's path, decoded: a control or
        # non-ASCII character there is not allowed in a header (gunicorn answers 500).
        django_response[name] = iri_to_uri(value) if name.lower() == "location" else value
    # Explicit, so keep-alive clients know where the answer ends.
    django_response["Content-Length"] = str(len(body))
    return django_response
