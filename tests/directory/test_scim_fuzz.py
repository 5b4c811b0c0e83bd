"""schemathesis against /scim/v2, from our own OpenAPI description of it
(campusconf.directory.scim.openapi): no 5xx, and every answer — result or SCIM error —
has a status, media type and shape the description allows, whatever the request."""

import json
import re

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from campusconf.directory.scim.openapi import SCHEMA
from campusconf.directory.tokens import create_scim_client
from campusconf.wsgi import application
from tests.directory.conftest import user_payload

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_dict(SCHEMA)
schema.app = application
schema.config.update(base_url="http://testserver/scim/v2")
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], with_security_parameters=False
)
schema.config.phases.coverage.enabled = True
# What an HTTP server lets through in a header value (gunicorn answers 500 for the rest).
HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")


def headers_a_server_can_send(ctx, response, case):
    """A Location repeating a control character from the path was a 500 behind gunicorn."""
    for name, values in response.headers.items():
        for value in values:
            if not HEADER_VALUE.fullmatch(value):
                raise AssertionError(f"header {name} cannot be sent: {value!r}")


# Whether a given body is a valid SCIM resource is scim2-models' judgment (RFC 7643's
# schemas, not this loose description), so the checks that compare acceptance with the
# description are left out; what is checked is that every answer is described.
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    unsupported_method,
    headers_a_server_can_send,
]


@pytest.fixture
def keep_test_connection():
    """Like Django's test client: a request must not close the test's DB connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def directory(client):
    token = create_scim_client("fuzz", ["read", "write", "deactivate"])[1]
    for common_id in ("1000000001", "1000000002"):
        response = client.post(
            "/scim/v2/Users",
            data=json.dumps(user_payload(common_id)),
            content_type="application/scim+json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert response.status_code == 201
    return token


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_scim_answers_every_request_as_described(case, directory, keep_test_connection):
    case.call_and_validate(headers={"Authorization": f"Bearer {directory}"}, checks=CHECKS)
