"""Bodies refused by their declared size, before anything reads or parses them."""

import io
import socket

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.core.conftest import Platform

MB = 1024 * 1024


def raw_post(port: int, path: str, declared: int, sent: int) -> bytes:
    """Declare ``declared`` bytes of multipart body, send only ``sent`` of them, and read
    the answer. A server that waited for the whole body would never answer: the read
    would time out and the test fail."""
    boundary = "campusconf-boundary"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {declared}\r\n\r\n"
    ).encode()
    part = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="roster"; filename="a.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(head + part + b"x" * (sent - len(part)))
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
    return answer


def test_a_60_mb_anonymous_multipart_post_is_refused_unread(platform: Platform):
    port = platform.instances[0].port
    answer = raw_post(port, "/staff/directory/roster/", declared=60 * MB, sent=64 * 1024)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    # The server still serves: the refused request cost it nothing lasting.
    answer = raw_post(port, "/signin/", declared=61 * MB, sent=1024)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert "request body refused" in platform.instances[0].log.read_text()


class Unreadable(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def read(self, size: int = -1) -> bytes:
        raise AssertionError("the body was read")

    readinto = read  # type: ignore[assignment]


def post_declaring(client: Client, path: str, length: int, language: str = "en"):
    return client.generic(
        "POST",
        path,
        data=b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(length),
        HTTP_ACCEPT_LANGUAGE=language,
        **{"wsgi.input": Unreadable()},
    )


@pytest.mark.django_db
def test_the_limit_is_checked_before_csrf_parses_the_body(settings):
    answer = post_declaring(Client(), "/my/inquiries/new/", settings.CAMPUSCONF_MAX_BODY_BYTES + 1)
    assert answer.status_code == 413
    assert "too large: at most 1,048,576 bytes" in answer.content.decode()
    japanese = post_declaring(Client(), "/my/inquiries/new/", 2**30, language="ja")
    assert "大きすぎます" in japanese.content.decode()


@pytest.mark.django_db
def test_uploads_are_larger_for_someone_signed_in_only(settings):
    roster = "/staff/directory/roster/"
    size = settings.CAMPUSCONF_MAX_BODY_BYTES + 1
    assert size <= settings.CAMPUSCONF_MAX_UPLOAD_BYTES
    assert post_declaring(Client(), roster, size).status_code == 413
    staff = get_user_model().objects.create_user("staffer", password="pw-unused", is_staff=True)
    signed_in = Client()
    signed_in.force_login(staff)
    # Past the size check: the (empty) body reaches the view, which finds no file.
    answer = signed_in.post(roster, {"reason": "test"})
    assert answer.status_code == 200
    too_big = post_declaring(signed_in, roster, settings.CAMPUSCONF_MAX_UPLOAD_BYTES + 1)
    assert too_big.status_code == 413


@pytest.mark.django_db
def test_scim_answers_its_own_limit_in_scim_format(settings):
    # SCIM reads at most one byte past its limit and says so as a SCIM error.
    answer = Client().generic(
        "POST",
        "/scim/v2/Users",
        data=b"{" * (settings.CAMPUSCONF_SCIM_MAX_BODY_BYTES + 10),
        content_type="application/scim+json",
    )
    assert answer.status_code == 413
    assert answer["Content-Type"] == "application/scim+json"
    assert "maxPayloadSize" in answer.json()["detail"]
