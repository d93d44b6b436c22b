"""Parsing of the short spec strings the CLI accepts: ``name`` or ``name:key=value,key=value``.

Values are parsed as int, float, bool or str according to the annotation of the factory's
keyword argument; nothing is ever evaluated.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, get_type_hints

from noprune.errors import UserError


def split_spec(spec: str) -> tuple[str, str]:
    """Split ``name:rest`` into (name, rest); rest is '' when absent."""
    name, _, rest = spec.partition(":")
    return name.strip().lower(), rest.strip()


def parse_kwargs(rest: str, factory: Callable[..., Any], *, what: str) -> dict[str, Any]:
    """Parse ``key=value,key=value`` against the keyword arguments of ``factory``."""
    if not rest:
        return {}
    hints = get_type_hints(factory)
    params = inspect.signature(factory).parameters
    allowed = [p for p in params if params[p].kind is inspect.Parameter.KEYWORD_ONLY]
    out: dict[str, Any] = {}
    for item in rest.split(","):
        key, eq, raw = item.partition("=")
        key = key.strip()
        if not eq or key not in allowed:
            raise UserError(
                f"bad option {item!r} for {what}; options are key=value with key one of: "
                f"{', '.join(allowed) or '(none)'}"
            )
        out[key] = convert(raw.strip(), hints.get(key, str), key=key, what=what)
    return out


def convert(raw: str, kind: Any, *, key: str, what: str) -> Any:
    """Convert one option value to int, float, bool or str."""
    try:
        if kind is bool:
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
    except ValueError:
        raise UserError(f"option {key}={raw!r} for {what} is not a valid {kind.__name__}") from None
    return raw
