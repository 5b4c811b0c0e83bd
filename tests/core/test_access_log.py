"""The demo console's access log: static files served fine are left out, nothing else."""

import datetime
import types

import pytest
from gunicorn.config import Config

from campusconf.core.access_log import QUIET_PREFIX_ENV, QuietStaticLogger


@pytest.fixture
def logged(tmp_path, monkeypatch):
    monkeypatch.setenv(QUIET_PREFIX_ENV, "/static/")
    path = tmp_path / "access.log"
    cfg = Config()
    cfg.set("accesslog", str(path))
    logger = QuietStaticLogger(cfg)

    def request(uri: str, status: int) -> str:
        resp = types.SimpleNamespace(
            status=f"{status} X", status_code=status, sent=10, headers=[("Content-Length", "10")]
        )
        req = types.SimpleNamespace(headers=[], method="GET", uri=uri, version=(1, 1))
        environ = {
            "PATH_INFO": uri,
            "REQUEST_METHOD": "GET",
            "RAW_URI": uri,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "QUERY_STRING": "",
            "REMOTE_ADDR": "127.0.0.1",
        }
        logger.access(resp, req, environ, datetime.timedelta(milliseconds=3))
        for handler in logger.access_log.handlers:
            handler.flush()
        return path.read_text()

    return request


def test_static_files_served_fine_are_left_out(logged):
    assert logged("/static/portal/site.css", 200) == ""
    assert logged("/static/portal/site.css", 304) == ""


def test_pages_and_static_errors_are_still_logged(logged):
    assert "GET /my/" in logged("/my/", 200)
    assert "/static/missing.css" in logged("/static/missing.css", 404)
