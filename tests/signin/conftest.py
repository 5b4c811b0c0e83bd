import pytest


@pytest.fixture
def still_limiter_clock(monkeypatch):
    """The sign-in limiter counts in fixed windows: attempts that straddle a window's
    end land in two (it happened once in CI). Hold its clock still; a live server's
    thread reads the same module."""
    from types import SimpleNamespace

    from campusconf.signin import ratelimit

    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_700_000_030.0))
