"""Runs the sandbox under gunicorn: a few processes with threads, sharing the SQLite file."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


class SandboxServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from vendor_sandbox.wsgi import application

        return application


def serve(host: str, port: int, workers: int, threads: int) -> None:
    SandboxServer(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": threads,
            "keepalive": 30,
            # Faults may hold a request for a while; the gthread worker keeps beating.
            "timeout": 300,
            "graceful_timeout": 5,
            "preload_app": True,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "proc_name": "vendor-sandbox",
        }
    ).run()
