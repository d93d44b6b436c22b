"""Typed run configurations (open_lth style): frozen dataclasses, a canonical JSON form that
omits defaults, and a run key hashed from it.

Adding a field with a default never changes an existing key, because defaults are left out of
the canonical form; ``tests/test_config.py`` pins a few keys so they cannot drift.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Union

from noprune.errors import UserError
from noprune.specs import convert
from noprune.training import TrainConfig


@dataclass(frozen=True)
class PruneConfig:
    """How to prune. ``pretrain_epochs``: the training imp does per round and magnitude_after
    does dense, before ranking; ``rewind_step``: imp's rewind point in steps (0 = init);
    ``biases``: prune the biases of Linear and Conv layers too (density counts them);
    ``synflow_rounds``: SynFlow's pruning rounds (Tanaka et al. 2020 use 100)."""

    pruner: str = "random"
    density: float = 1.0
    scope: str = "global"
    ablation: str | None = None
    batch_per_class: int = 10
    pretrain_epochs: int = 10
    rewind_step: int = 0
    biases: bool = False
    synflow_rounds: int = 100


@dataclass(frozen=True)
class InfoConfig:
    """How the information experiments draw the data variable (SCIENCE.md section 4).

    ``draws``: how many times the data variable is drawn with the init held fixed (K label
    vectors in ``mask_information``; draws sampled for the plug-in estimate in
    ``exact_toy_information``); ``points``: how many training inputs carry the drawn labels
    (0 = all; ``mask_information`` only); ``alpha``: one minus the confidence of the bounds;
    ``repetitions`` and ``replicates``: independent repetitions of a synthetic case, and masks
    per draw in the draws design (``information_calibration`` only).
    """

    draws: int = 64
    points: int = 0
    alpha: float = 0.05
    repetitions: int = 1
    replicates: int = 2


@dataclass(frozen=True)
class ExperimentConfig:
    """One run: an experiment applied to a data set, a model, a pruning and a training.

    ``seed`` is the only seed: data, initialization, scoring batch, pruner and training order
    all derive from it. ``data`` and ``model`` are the specs of ``noprune list``; ``init`` the
    initializer of the model's weights (``noprune.models.INITS``).
    """

    experiment: str = "accuracy"
    data: str = "digits"
    model: str = "lenet_300_100"
    init: str = "kaiming_normal"
    seed: int = 0
    prune: PruneConfig = field(default_factory=PruneConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    info: InfoConfig = field(default_factory=InfoConfig)


def canonical(config: Any) -> dict[str, Any]:
    """The config as a nested dict with every field at its default left out."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            nested = canonical(value)
            if nested:
                out[f.name] = nested
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        if value != default:
            out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def canonical_json(config: Any) -> str:
    return json.dumps(canonical(config), sort_keys=True, separators=(",", ":"))


def run_key(config: Any) -> str:
    """16 hex digits of SHA-256 over the canonical JSON: the address of a run's result."""
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()[:16]


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    """The resolved annotations of a config class (cached: suites expand thousands of configs)."""
    return typing.get_type_hints(cls)


def _coerce(value: Any, kind: Any, path: str) -> Any:
    """Check and normalise one value against its annotation (ints become floats for float
    fields, so 1 and 1.0 give the same key; lists become tuples)."""
    origin = typing.get_origin(kind)
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        if value is None and type(None) in typing.get_args(kind):
            return None
        return _coerce(value, options[0], path)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise UserError(f"config field {path} takes a list, got {value!r}")
        inner = typing.get_args(kind)[0]
        return tuple(_coerce(v, inner, path) for v in value)
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is bool and isinstance(value, bool):
        return value
    if kind is str and isinstance(value, str):
        return value
    raise UserError(f"config field {path} takes a {getattr(kind, '__name__', kind)}, got {value!r}")


def from_dict(data: dict[str, Any], cls: type = ExperimentConfig, prefix: str = "") -> Any:
    """Build a config from a nested dict (TOML or JSON), rejecting unknown fields."""
    types_ = _field_types(cls)
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        path = f"{prefix}{name}"
        if name not in types_:
            raise UserError(f"unknown config field {path!r}; known: {', '.join(known_fields(cls, prefix))}")
        kind = types_[name]
        if dataclasses.is_dataclass(kind):
            if not isinstance(value, dict):
                raise UserError(f"config field {path} is a table of fields, got {value!r}")
            kwargs[name] = from_dict(value, kind, f"{path}.")
        else:
            kwargs[name] = _coerce(value, kind, path)
    return cls(**kwargs)


def known_fields(cls: type = ExperimentConfig, prefix: str = "") -> list[str]:
    """Every settable dotted field path, e.g. ``prune.density``."""
    out = []
    for name, kind in _field_types(cls).items():
        if dataclasses.is_dataclass(kind):
            out += known_fields(kind, f"{prefix}{name}.")
        else:
            out.append(f"{prefix}{name}")
    return out


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """{"prune.density": 0.1} -> {"prune": {"density": 0.1}}."""
    out: dict[str, Any] = {}
    for path, value in flat.items():
        node = out
        *parents, leaf = path.split(".")
        for p in parents:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise UserError(f"config field {path} conflicts with a value set for {p}")
        node[leaf] = value
    return out


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Inverse of :func:`nest`; tuples become lists, as in JSON."""
    out: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = list(v) if isinstance(v, tuple) else v
    return out


def parse_assignment(text: str) -> tuple[str, Any]:
    """``field=value`` from ``--set``, the value parsed by the field's type; never evaluated."""
    path, eq, raw = text.partition("=")
    path = path.strip()
    if not eq:
        raise UserError(f"--set takes field=value, got {text!r}")
    fields = known_fields()
    if path not in fields:
        raise UserError(f"unknown config field {path!r} in --set; known: {', '.join(fields)}")
    kind = _leaf_type(path)
    raw = raw.strip()
    if typing.get_origin(kind) in (Union, types.UnionType):
        if raw.lower() in ("none", "null", ""):
            return path, None
        kind = next(a for a in typing.get_args(kind) if a is not type(None))
    if typing.get_origin(kind) is tuple:
        inner = typing.get_args(kind)[0]
        return path, [convert(v.strip(), inner, key=path, what="--set") for v in raw.split(",") if v.strip()]
    return path, convert(raw, kind, key=path, what="--set")


def _leaf_type(path: str) -> Any:
    cls: Any = ExperimentConfig
    *parents, leaf = path.split(".")
    for p in parents:
        cls = _field_types(cls)[p]
    return _field_types(cls)[leaf]
