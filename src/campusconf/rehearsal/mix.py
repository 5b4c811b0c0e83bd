"""The mix of simulated members: read from a TOML file the staff can edit, checked."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

DEFAULT_MIX = Path(__file__).with_name("default_mix.toml")


class MixError(ValueError):
    """The mix file is missing, unreadable or has a value out of range; says which."""


@dataclass(frozen=True)
class Mix:
    student_share: float
    student_after_cutoff_share: float
    alias_share: float
    zoom_only_share: float
    within_hours_share: float
    within_hours: tuple[float, float]
    days_later_share: float
    days_later: tuple[float, float]
    never_first_share: float
    look_every_days: tuple[float, float]
    resends_before_inquiry: int
    zoom_google_share: float
    personal_account_share: float
    change_address_share: float
    change_to_alias_share: float
    not_activated_share: float
    error_rate: float
    timeout_rate: float
    timeout_seconds: float
    consistency_delay_seconds: float
    consistency_rate: float
    days: int
    tick_minutes: int

    def sandbox_faults(self) -> dict[str, float]:
        return {
            "error_rate": self.error_rate,
            "timeout_rate": self.timeout_rate,
            "timeout_seconds": self.timeout_seconds,
            "consistency_delay_seconds": self.consistency_delay_seconds,
            "consistency_rate": self.consistency_rate,
        }


def load_mix(path: Path | None = None) -> Mix:
    source = path or DEFAULT_MIX
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise MixError(f"cannot read the mix {source}: {error}") from error
    return parse_mix(text, source)


def parse_mix(text: str, source: Path | str = "(the mix)") -> Mix:
    """The mix in ``text``, every value checked; ``source`` names it in the errors (a
    file, or the back office's upload)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise MixError(f"cannot read the mix {source}: {error}") from error
    flat: dict[str, Any] = {}
    for section in data.values():
        if isinstance(section, dict):
            flat.update(section)
    values: dict[str, Any] = {}
    for f in fields(Mix):
        if f.name not in flat:
            raise MixError(f"the mix {source} lacks {f.name!r}")
        values[f.name] = _checked(source, f.name, flat[f.name])
    mail = values["within_hours_share"] + values["days_later_share"] + values["never_first_share"]
    if abs(mail - 1.0) > 1e-6:
        raise MixError(f"the mix {source}: the three [mail] shares add up to {mail:g}, not 1")
    return Mix(**values)


def _checked(source: Path | str, name: str, value: Any) -> Any:
    if name.endswith(("_share", "_rate")):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise MixError(f"the mix {source}: {name} must be a share between 0 and 1")
        return float(value)
    if name in {"within_hours", "days_later", "look_every_days"}:
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, int | float) and v >= 0 for v in value)
            or value[0] > value[1]
        ):
            raise MixError(f"the mix {source}: {name} must be [low, high] with 0 <= low <= high")
        return (float(value[0]), float(value[1]))
    if name in {"resends_before_inquiry", "days", "tick_minutes"}:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise MixError(f"the mix {source}: {name} must be a whole number of at least 1")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise MixError(f"the mix {source}: {name} must be a number of at least 0")
    return float(value)
