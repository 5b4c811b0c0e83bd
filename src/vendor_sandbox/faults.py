"""Run-time fault injection, drawn from a seeded source so a run can be repeated.

The n-th draw of a run is ``Random(f"{seed}:{n}:{fault}")``; n comes from a counter in
the shared DB, so the sequence is the same whichever worker process serves a request.
Setting faults through the admin API restarts the sequence.
"""

from __future__ import annotations

import json
import random
from typing import Any, NamedTuple

from django.db import connection

from vendor_sandbox import variants, writelock
from vendor_sandbox.conf import CONFIG

DEFAULTS: dict[str, Any] = {
    "seed": CONFIG.fault_seed,
    "scope": "all",  # all | webex | zoom: which vendor API the faults apply to
    "error_rate": 0.0,  # share of API requests answered 500/502/503 before doing anything
    "latency_ms": 0,  # added to every API request
    "timeout_rate": 0.0,  # share of requests held timeout_seconds before being served
    "timeout_seconds": 30.0,
    "lost_response_rate": 0.0,  # share of writes committed, then the connection dropped
    "webex_400_after_create_rate": 0.0,  # Webex POST /people creates, then answers 400
    # Webex PUT /people/{id} writes part of the person (the single-valued fields as sent,
    # the lists — licences, roles, … — emptied), then answers 500: "a failed PUT may
    # have changed some fields" (docs/vendors.md, W-d; which fields is the sandbox's model).
    "webex_put_partial_rate": 0.0,
    "consistency_delay_seconds": 0.0,  # a new user is invisible for this long ...
    "consistency_rate": 1.0,  # ... with this probability
}
_FLOATS = {k for k, v in DEFAULTS.items() if isinstance(v, float)}
_RATES = {k for k in DEFAULTS if k.endswith("_rate")}


class State(NamedTuple):
    faults: dict[str, Any]
    offset: float
    webhook_url: str
    variants: dict[str, str]


STATE_SQL = (
    "SELECT faults, clock_offset, webhook_url, variants "
    "FROM vendor_sandbox_sandboxstate WHERE id = 1"
)


def load() -> State:
    """Fault settings, clock offset, webhook URL and variants, in one read of the state row."""
    with connection.cursor() as cur:
        cur.execute(STATE_SQL)
        row = cur.fetchone()
    return from_row(row)


def from_row(row: tuple[Any, ...] | None) -> State:
    if row is None:
        return State(dict(DEFAULTS), 0.0, CONFIG.webhook_url, variants.merged({}))
    stored = json.loads(row[0]) if row[0] else {}
    chosen = json.loads(row[3]) if row[3] else {}
    return State(
        {**DEFAULTS, **stored},
        float(row[1]),
        row[2] or CONFIG.webhook_url,
        variants.merged(chosen),
    )


def validate(update: dict[str, Any]) -> dict[str, Any]:
    """Check an admin update; returns the cleaned values or raises ValueError."""
    clean: dict[str, Any] = {}
    for key, value in update.items():
        if key not in DEFAULTS:
            raise ValueError(f"unknown fault setting: {key}")
        if key == "scope":
            if value not in {"all", "webex", "zoom"}:
                raise ValueError("scope must be all, webex or zoom")
            clean[key] = value
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{key} must be a number")
        if key in _RATES and not 0 <= value <= 1:
            raise ValueError(f"{key} must be between 0 and 1")
        if value < 0:
            raise ValueError(f"{key} must not be negative")
        clean[key] = float(value) if key in _FLOATS else int(value)
    return clean


def applies(faults: dict[str, Any], vendor: str) -> bool:
    return faults["scope"] in ("all", vendor)


def draw(faults: dict[str, Any], name: str) -> random.Random | None:
    """The seeded source of this draw if the fault fires, else None."""
    rate = float(faults.get(name, 0.0))
    if rate <= 0:
        return None
    with writelock.held(), connection.cursor() as cur:
        cur.execute(
            "UPDATE vendor_sandbox_sandboxstate SET fault_draws = fault_draws + 1 "
            "WHERE id = 1 RETURNING fault_draws"
        )
        n = cur.fetchone()[0]
    rng = random.Random(f"{faults['seed']}:{n}:{name}")
    return rng if rng.random() < rate else None
