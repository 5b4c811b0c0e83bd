"""A real SAML 2.0 IdP for tests: pysaml2's Server behind a tiny WSGI app on 127.0.0.1.

Keys and certificates are generated per test run into a temporary directory; none is
ever committed. The person the IdP signs in is chosen by the test (``idp.user``), as
if they had typed their password at the university's login page.

Several IdPs can share one metadata file (``write_federation``), as a federation's
aggregate lists every member institution's IdP, each with its own key and
``shibmd:Scope``.
"""

import datetime
import html
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import saml2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import samlp
from saml2.authn_context import PASSWORD
from saml2.config import IdPConfig
from saml2.metadata import (
    create_metadata_string,
    entities_descriptor,
    entity_descriptor,
    metadata_tostring_fix,
)
from saml2.s_utils import decode_base64_and_inflate
from saml2.server import Server

XMLSEC = "/usr/bin/xmlsec1"


def make_keypair(directory: Path, name: str) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} (test only)")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class UniversityIdP:
    def __init__(
        self,
        directory: Path,
        *,
        name: str = "idp",
        scopes: tuple[str, ...] = ("utac.example.ac.jp",),
        hostile: bool = False,
    ) -> None:
        self.directory = directory
        self.name = name
        # A hostile IdP answers any request it is shown, whichever IdP it was meant for.
        self.hostile = hostile
        self.scopes = scopes
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.entity_id = f"{self.base}/idp/metadata"
        self.key, self.cert = make_keypair(directory, name)
        self.user: dict[str, list[str]] = {}
        self.server: Server | None = None

    def config(self, sp_metadata: Path | None) -> dict[str, Any]:
        return {
            "entityid": self.entity_id,
            "xmlsec_binary": XMLSEC,
            "key_file": str(self.key),
            "cert_file": str(self.cert),
            "service": {
                "idp": {
                    "name": f"Test IdP {self.name}",
                    "scope": list(self.scopes),
                    "endpoints": {
                        "single_sign_on_service": [
                            (f"{self.base}/sso/redirect", saml2.BINDING_HTTP_REDIRECT)
                        ]
                    },
                    "name_id_format": [saml2.saml.NAMEID_FORMAT_TRANSIENT],
                    "sign_assertion": True,
                    "policy": {
                        "default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None}
                    },
                }
            },
            "metadata": {"local": [str(sp_metadata)]} if sp_metadata else {},
        }

    def idp_config(self) -> IdPConfig:
        conf = IdPConfig()
        conf.load(self.config(None))
        return conf

    def write_metadata(self) -> Path:
        path = self.directory / f"{self.name}-metadata.xml"
        path.write_text(create_metadata_string(None, config=self.idp_config(), valid=1).decode())
        return path

    def trust(self, sp_metadata_xml: str) -> None:
        path = self.directory / f"sp-metadata-for-{self.name}.xml"
        path.write_text(sp_metadata_xml)
        conf = IdPConfig()
        conf.load(self.config(path))
        self.server = Server(config=conf)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        assert self.server is not None
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if environ.get("PATH_INFO") != "/sso/redirect" or "SAMLRequest" not in query:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        if self.hostile:
            xml = decode_base64_and_inflate(query["SAMLRequest"][0])
            request = samlp.authn_request_from_string(xml)
        else:
            request = self.server.parse_authn_request(
                query["SAMLRequest"][0], saml2.BINDING_HTTP_REDIRECT
            ).message
        destination = request.assertion_consumer_service_url
        response = self.server.create_authn_response(
            identity=self.user,
            in_response_to=request.id,
            destination=destination,
            sp_entity_id=request.issuer.text,
            name_id_policy=request.name_id_policy,
            userid="test-user",
            authn={"class_ref": PASSWORD, "authn_auth": self.entity_id},
            sign_assertion=True,
        )
        args = self.server.apply_binding(
            saml2.BINDING_HTTP_POST,
            str(response),
            destination,
            query.get("RelayState", [""])[0],
            response=True,
        )
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [args["data"].encode()]

    @contextmanager
    def serving(self) -> Iterator[None]:
        server = make_server("127.0.0.1", self.port, self, WSGIServer, QuietHandler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield
        finally:
            server.shutdown()
            server.server_close()


def write_federation(directory: Path, idps: list[UniversityIdP]) -> Path:
    """One metadata file listing every IdP, like a federation's aggregate."""
    descriptors = [entity_descriptor(idp.idp_config()) for idp in idps]
    entities, _xml = entities_descriptor(descriptors, 1, "test-federation", None, False, None)
    path = directory / "federation-metadata.xml"
    text = metadata_tostring_fix(entities, {"xs": "http://www.w3.org/2001/XMLSchema"}, None)
    path.write_text(text.decode() if isinstance(text, bytes) else text)
    return path


def posted_form(page: str) -> tuple[str, dict[str, str]]:
    """The action and fields of the auto-submitting form the IdP returns."""
    action = html.unescape(re.search(r'action="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    fields = {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', page)
    }
    return action, fields
