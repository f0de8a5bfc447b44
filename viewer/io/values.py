"""Header values as Python numbers and strings, tolerant of what scanners write (multi-valued
strings, bad numbers, missing elements): None or an empty tuple instead of an exception."""
from __future__ import annotations

from typing import Any


def floats(value: Any) -> tuple[float, ...]:
    if value is None:
        return ()
    try:
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            return (float(value),)
        return tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return ()


def strings(value: Any) -> tuple[str, ...]:
    """A multi-valued text attribute as a tuple of stripped strings (empty when absent)."""
    if value is None or value == "":
        return ()
    if isinstance(value, (str, bytes)):
        value = str(value).split("\\")
    return tuple(str(v).strip() for v in value)


def first(value: Any) -> float | None:
    values = floats(value)
    return values[0] if values else None


def int_value(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
