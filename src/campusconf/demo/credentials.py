"""The sandbox's credentials as the demo's services look for them, from ``var/sandbox.json``.

The demo's services name environment variables for their secrets, as production does.
The demo passes them to the processes it starts; a command typed in another shell while
the demo runs finds them here instead (``campusconf.cli``, development settings only),
so nobody copies secrets by hand.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

FILE = "sandbox.json"


def environment(credentials: dict[str, Any]) -> dict[str, str]:
    """The variables the demo's services name (demo/sample.py), with the sandbox's values."""
    webex, zoom = credentials.get("webex", {}), credentials.get("zoom", {})
    pairs = {
        "CAMPUSCONF_WEBEX_ACCESS_TOKEN": webex.get("access_token"),
        "CAMPUSCONF_WEBEX_REFRESH_TOKEN": webex.get("refresh_token"),
        "CAMPUSCONF_WEBEX_CLIENT_ID": webex.get("client_id"),
        "CAMPUSCONF_WEBEX_CLIENT_SECRET": webex.get("client_secret"),
        "CAMPUSCONF_ZOOM_ACCOUNT_ID": zoom.get("account_id"),
        "CAMPUSCONF_ZOOM_CLIENT_ID": zoom.get("client_id"),
        "CAMPUSCONF_ZOOM_CLIENT_SECRET": zoom.get("client_secret"),
        "CAMPUSCONF_ZOOM_WEBHOOK_SECRET": zoom.get("webhook_secret_token"),
    }
    return {name: str(value) for name, value in pairs.items() if value}


def read(var_dir: Path) -> dict[str, Any] | None:
    """The credentials the demo's sandbox wrote, or None when there are none (yet)."""
    try:
        data = json.loads((var_dir / FILE).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def fill_environment(var_dir: Path) -> list[str]:
    """Set each variable the environment lacks from ``var_dir/sandbox.json``; the names set.
    A variable already set wins: someone chose it."""
    credentials = read(var_dir)
    if credentials is None:
        return []
    filled = []
    for name, value in environment(credentials).items():
        if not os.environ.get(name):
            os.environ[name] = value
            filled.append(name)
    return filled
