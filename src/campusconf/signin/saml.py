"""The SAML 2.0 service provider: pysaml2's configuration, built from settings per request.

The IdP's metadata comes from a file, a URL, or an MDQ service (as academic federations
publish it); only one of them is needed. Building the configuration at request time
lets tests point the SP at the IdP they start.
"""

from typing import Any

import saml2
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from saml2.config import SPConfig

from campusconf.signin.events import REFUSAL_SESSION_KEY
from campusconf.signin.members import message_for


def _metadata() -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    if settings.CAMPUSCONF_SAML_IDP_METADATA_FILE:
        metadata["local"] = [settings.CAMPUSCONF_SAML_IDP_METADATA_FILE]
    if settings.CAMPUSCONF_SAML_IDP_METADATA_URL:
        remote: dict[str, Any] = {"url": settings.CAMPUSCONF_SAML_IDP_METADATA_URL}
        if settings.CAMPUSCONF_SAML_IDP_METADATA_CERT:
            remote["cert"] = settings.CAMPUSCONF_SAML_IDP_METADATA_CERT
        metadata["remote"] = [remote]
    if settings.CAMPUSCONF_SAML_MDQ_URL:
        metadata["mdq"] = [
            {
                "url": settings.CAMPUSCONF_SAML_MDQ_URL,
                "cert": settings.CAMPUSCONF_SAML_MDQ_CERT or None,
                "freshness_period": "P0Y0M0DT2H0M0S",
            }
        ]
    return metadata


def sp_settings(base_url: str) -> dict[str, Any]:
    acs = base_url.rstrip("/") + reverse("saml2_acs")
    config: dict[str, Any] = {
        "entityid": settings.CAMPUSCONF_SAML_SP_ENTITY_ID
        or base_url.rstrip("/") + reverse("saml2_metadata"),
        "xmlsec_binary": settings.CAMPUSCONF_SAML_XMLSEC_BINARY,
        "allow_unknown_attributes": True,
        "service": {
            "sp": {
                "name": settings.CAMPUSCONF_UNIVERSITY_NAME + " CampusConf",
                "endpoints": {"assertion_consumer_service": [(acs, saml2.BINDING_HTTP_POST)]},
                # Only answers to our own requests: an unsolicited or replayed response
                # has no outstanding request and is refused.
                "allow_unsolicited": False,
                "authn_requests_signed": bool(settings.CAMPUSCONF_SAML_SP_KEY_FILE),
                "want_assertions_signed": True,
                "want_response_signed": False,
                "idp": {},
            }
        },
        "metadata": _metadata(),
        "debug": False,
    }
    # Which IdPs answers are taken from is decided in signin.federation, whatever this
    # says: pysaml2 uses it only to pick where a request goes.
    if settings.CAMPUSCONF_SAML_IDP_ENTITY_IDS:
        config["service"]["sp"]["idp"] = dict.fromkeys(settings.CAMPUSCONF_SAML_IDP_ENTITY_IDS)
    if settings.CAMPUSCONF_SAML_SP_KEY_FILE:
        config["key_file"] = settings.CAMPUSCONF_SAML_SP_KEY_FILE
        config["cert_file"] = settings.CAMPUSCONF_SAML_SP_CERT_FILE
        config["encryption_keypairs"] = [
            {
                "key_file": settings.CAMPUSCONF_SAML_SP_KEY_FILE,
                "cert_file": settings.CAMPUSCONF_SAML_SP_CERT_FILE,
            }
        ]
    return config


def config_loader(request: HttpRequest | None = None) -> SPConfig:
    base_url = settings.CAMPUSCONF_SAML_BASE_URL
    if not base_url and request is not None:
        base_url = request.build_absolute_uri("/")
    conf = SPConfig()
    conf.load(sp_settings(base_url or "http://127.0.0.1:8000/"))
    return conf


def acs_failure(
    request: HttpRequest, exception: Exception | None = None, status: int = 403, **kwargs: Any
) -> HttpResponse:
    """Every refused SAML response ends on the same polite page, in the member's language:
    403 when we refused the person or their IdP, the library's status otherwise."""
    code = request.session.pop(REFUSAL_SESSION_KEY, "")
    if not code and isinstance(exception, PermissionDenied) and exception.args:
        code = str(exception.args[0])
    if code:
        status = 403
    return render(
        request,
        "signin/refused.html",
        {"message": message_for(code or "failed")},
        status=status,
    )
