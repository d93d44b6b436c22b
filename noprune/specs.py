"""Parsing of the short spec strings the CLI accepts: ``name`` or ``name:key=value,key=value``.

Values are parsed as int, float, bool or str according to the annotation of the factory's
keyword argument; nothing is ever evaluated.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, get_type_hints

from noprune.errors import UserError


def split_spec(spec: str) -> tuple[str, str]:
    """Split ``name:rest`` into (name, rest); rest is '' when absent."""
    name, _, rest = spec.partition(":")
    return name.strip().lower(), rest.strip()


def options_of(factory: Callable[..., Any], exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """{name: type} of the keyword-only arguments of ``factory``: the annotation, else the
    type of the default (a plugin's ``n=40`` is an int), else str."""
    hints = get_type_hints(factory)
    params = inspect.signature(factory).parameters
    return {
        name: hints.get(name, type(p.default) if p.default not in (inspect.Parameter.empty, None) else str)
        for name, p in params.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and name not in exclude
    }


def parse_kwargs(rest: str, options: Mapping[str, Any], *, what: str) -> dict[str, Any]:
    """Parse ``key=value,key=value`` against ``options`` ({name: int, float, bool or str})."""
    if not rest:
        return {}
    out: dict[str, Any] = {}
    for item in rest.split(","):
        key, eq, raw = item.partition("=")
        key = key.strip()
        if not eq or key not in options:
            raise UserError(
                f"bad option {item!r} for {what}; options are key=value with key one of: "
                f"{', '.join(options) or '(none)'}"
            )
        out[key] = convert(raw.strip(), options[key], key=key, what=what)
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
