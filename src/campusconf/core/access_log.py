"""gunicorn's access log, without the lines a person watching the console skips.

``campusconf serve --quiet-static`` (the demo uses it) leaves out static files served
without error: a page's stylesheet, script and images would otherwise bury the
application's and the worker's own lines. Errors on static files are still logged.
gunicorn loads this class in its master before Django is set up, so the prefix comes
from the environment, which ``serve`` fills from ``STATIC_URL``.
"""

import os
from typing import Any

from gunicorn.glogging import Logger

QUIET_PREFIX_ENV = "CAMPUSCONF_ACCESS_LOG_QUIET_PREFIX"


class QuietStaticLogger(Logger):  # type: ignore[misc,unused-ignore]  # gunicorn is untyped
    def __init__(self, cfg: Any) -> None:
        super().__init__(cfg)
        self.quiet_prefix = os.environ.get(QUIET_PREFIX_ENV, "")

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        path = environ.get("PATH_INFO", "")
        status = getattr(resp, "status_code", None) or 500
        if self.quiet_prefix and path.startswith(self.quiet_prefix) and status < 400:
            return
        super().access(resp, req, environ, request_time)
