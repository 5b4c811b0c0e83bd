"""A signed-in session handed to a browser, for browser tests about what staff do
after signing in; the ways of signing in have their own tests in tests/signin."""

from django.conf import settings
from django.test import Client


def sign_in_browser_as(page: object, base_url: str, user: object) -> None:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(  # type: ignore[attr-defined]
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": base_url}]
    )
