from tests.fixtures.browser import browser, page  # noqa: F401
from tests.fixtures.sandbox import sandbox, sandbox_server, smtp_capture  # noqa: F401
