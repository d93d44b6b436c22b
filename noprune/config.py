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
import math
import tomllib
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Union

import pruners
from noprune.errors import UserError
from noprune.specs import convert

SEED_LIMIT = 2**63
"""Seeds are in 0 .. 2^63 - 1 (torch's generators take 64-bit seeds; derived streams add to them)."""

OPTIMIZERS = ("sgd", "adam")
LR_SCHEDULES = ("constant", "cosine", "step")


@dataclass(frozen=True)
class TrainConfig:
    """How to train. ``steps`` > 0 overrides ``epochs``; ``batch_size`` 0 means full batch.

    ``milestones`` are epochs at which the ``step`` schedule multiplies the lr by ``gamma``.
    ``augment`` is random crop (padding 4) and horizontal flip, for CIFAR-style images.
    ``gradient_noise``: the std of Gaussian noise added to every gradient entry before each
    optimizer step (docs/SCIENCE.md E3); only the ``noise_correlation`` experiment's trainer adds it,
    :func:`fit` and ``fit_ensemble`` refuse a nonzero value.
    ``converge``: also stop at convergence as No Free Prune trains ("till convergence in loss to
    within 0.01, or until accuracy doesn't change for three consecutive epochs"): see
    :class:`Convergence`; the epochs (or steps) are then a budget.
    The seed of the data order is not part of the config: it is an argument of :func:`fit`.
    """

    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 0.0
    epochs: int = 10
    steps: int = 0
    batch_size: int = 128
    lr_schedule: str = "constant"
    milestones: tuple[int, ...] = ()
    gamma: float = 0.1
    augment: bool = False
    gradient_noise: float = 0.0
    converge: bool = False

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise UserError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise UserError(f"lr schedule must be one of {', '.join(LR_SCHEDULES)}, got {self.lr_schedule!r}")
        if self.epochs < 0 or self.steps < 0 or self.batch_size < 0 or not self.lr > 0:
            raise UserError("epochs, steps and batch size must be >= 0 and lr > 0")
        if not self.gradient_noise >= 0:
            raise UserError(f"gradient noise must be >= 0, got {self.gradient_noise}")

    def steps_per_epoch(self, n: int) -> int:
        return 1 if self.batch_size == 0 else math.ceil(n / self.batch_size)

    def batch_rows(self, n: int) -> int:
        """Rows in one minibatch of a training set of ``n`` (all ``n`` at full batch)."""
        return n if self.batch_size == 0 else min(self.batch_size, n)

    def total_steps(self, n: int) -> int:
        return self.steps or self.epochs * self.steps_per_epoch(n)


DERIVED_SETTINGS: dict[str, str] = {
    "train_steps": "prune.pretrain_epochs",
    "rewind_step": "prune.rewind_step",
}
"""Pruner fields that noprune fills from other config fields (the training steps per round
from ``prune.pretrain_epochs`` and the data size), never from ``prune.settings``."""

Settings = tuple[tuple[str, Any], ...]


def pruner_settings(pruner: str) -> dict[str, Any]:
    """{setting: default} of a registered pruner: its dataclass fields but the derived ones."""
    cls = pruners.PRUNERS[pruner]
    return {
        f.name: f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        for f in dataclasses.fields(cls)
        if f.name not in DERIVED_SETTINGS
    }


def normalize_settings(pruner: str, settings: Settings | dict[str, Any]) -> Settings:
    """``settings`` checked against the pruner's own fields (names, types), those at their
    defaults left out, sorted by name. A pruner that is not registered (a plugin missing here)
    keeps its settings as given."""
    items = dict(settings)
    if pruner not in pruners.PRUNERS:
        return tuple(sorted(items.items()))
    own = pruner_settings(pruner)
    hints = _settings_types(pruners.PRUNERS[pruner])
    out = []
    for name, value in sorted(items.items()):
        if name in DERIVED_SETTINGS:
            raise UserError(f"prune.settings.{name} is set through {DERIVED_SETTINGS[name]}")
        if name not in own:
            known = ", ".join(own) or "none"
            raise UserError(f"pruner {pruner} has no setting {name!r}; its settings: {known}")
        if name in hints:
            value = _coerce(value, hints[name], f"prune.settings.{name}")
        if value != own[name]:
            out.append((name, value))
    return tuple(out)


@functools.cache
def _settings_types(cls: type) -> dict[str, Any]:
    """A pruner class's resolved annotations (cached: reading a runs.csv builds thousands of
    configs); {} for a plugin's that cannot be resolved, whose values are then taken as given."""
    try:
        return typing.get_type_hints(cls)
    except (NameError, TypeError):
        return {}


def legacy_names(pruner: str) -> dict[str, str]:
    """{setting: the prune field it was stored as before settings existed} (run keys of stored
    runs hash those names, so they are kept in the canonical form)."""
    cls = pruners.PRUNERS.get(pruner)
    return dict(getattr(cls, "legacy_settings", {}) or {})


@dataclass(frozen=True)
class PruneConfig:
    """How to prune. ``pretrain_epochs``: the training imp does per round and magnitude_after
    does dense, before ranking; ``rewind_step``: imp's rewind point in steps (0 = init);
    ``biases``: prune the biases of Linear and Conv layers too (density counts them);
    ``settings``: the pruner's own settings, its dataclass fields (SynFlow's ``rounds``, GraSP's
    ``temperature``, ...), as (name, value) pairs; those at the pruner's defaults are left out,
    so they enter the run key only when they differ from them."""

    pruner: str = "random"
    density: float = 1.0
    scope: str = "global"
    ablation: str | None = None
    batch_per_class: int = 10
    pretrain_epochs: int = 10
    rewind_step: int = 0
    biases: bool = False
    settings: Settings = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings", normalize_settings(self.pruner, self.settings))

    def pruner_settings(self) -> dict[str, Any]:
        return dict(self.settings)

    def canonical_settings(self) -> dict[str, Any]:
        """The settings as they enter the canonical form: each under ``settings``, or under the
        prune field it had before settings existed (SynFlow's rounds: ``synflow_rounds``)."""
        legacy = legacy_names(self.pruner)
        out: dict[str, Any] = {}
        for name, value in self.settings:
            value = list(value) if isinstance(value, tuple) else value
            if name in legacy:
                out[legacy[name]] = value
            else:
                out.setdefault("settings", {})[name] = value
        return out


@dataclass(frozen=True)
class InfoConfig:
    """How the information experiments draw the data variable (docs/SCIENCE.md section 4).

    ``draws``: how many times the data variable is drawn with the init held fixed (K label
    vectors in ``mask_information``; draws sampled for the plug-in estimate in
    ``exact_toy_information``); ``points``: how many training inputs carry the drawn labels
    (0 = all; ``mask_information`` only); ``fit_draws``: how many of the ``draws`` are fit draws in
    ``mask_information`` (decoders and mask models are fitted on them and nothing is counted on
    them; the rest are the test draws that every bound is certified on; 0 = the default split of
    ``infotheory.labels.default_fit``); ``parents``: the earlier bits each bit of the
    autoregressive mask code conditions on (``mask_information``); ``alpha``: one minus the
    confidence of the bounds;
    ``repetitions`` and ``replicates``: independent repetitions of a synthetic case, and masks
    per draw in the draws design (``information_calibration`` only).
    """

    draws: int = 64
    points: int = 0
    fit_draws: int = 0
    parents: int = 16
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
        if isinstance(config, PruneConfig) and f.name == "settings":
            out.update(config.canonical_settings())
            continue
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
    return key_of(canonical_json(config))


def key_of(canonical_text: str) -> str:
    """The run key of a config's canonical JSON (:func:`canonical_json`)."""
    return hashlib.sha256(canonical_text.encode()).hexdigest()[:16]


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
    name = getattr(kind, "__name__", str(kind))
    article = "an" if name[:1] in "aeiou" else "a"
    raise UserError(f"config field {path} takes {article} {name}, got {value!r}")


def from_dict(data: dict[str, Any], cls: type = ExperimentConfig, prefix: str = "") -> Any:
    """Build a config from a nested dict (TOML or JSON), rejecting unknown fields."""
    types_ = _field_types(cls)
    kwargs: dict[str, Any] = {}
    if cls is PruneConfig:
        data, kwargs["settings"] = _settings_of(data, prefix)
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


def _settings_of(data: dict[str, Any], prefix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The prune table without its settings, and the settings: the ``settings`` table and any
    field under its name from before settings existed (``synflow_rounds`` for SynFlow's rounds)."""
    data = dict(data)
    settings = data.pop("settings", {})
    if not isinstance(settings, dict):
        raise UserError(f"config field {prefix}settings is a table of pruner settings, got {settings!r}")
    settings = dict(settings)
    for name, old in legacy_names(str(data.get("pruner", PruneConfig.pruner))).items():
        if old in data:
            settings[name] = data.pop(old)
    return data, settings


def is_known_field(path: str) -> bool:
    """A dotted field path a suite or ``--set`` may set: a config field, a pruner setting
    (``prune.settings.NAME``, checked against the pruner when the config is built), or a
    setting's name from before settings existed (``prune.synflow_rounds``)."""
    if path in _known():
        return True
    parent, _, leaf = path.rpartition(".")
    if parent == "prune.settings":
        return bool(leaf)
    return parent == "prune" and any(leaf in legacy_names(p).values() for p in pruners.PRUNERS)


@functools.cache
def _known() -> frozenset[str]:
    return frozenset(known_fields())


def known_fields(cls: type = ExperimentConfig, prefix: str = "") -> list[str]:
    """Every settable dotted field path, e.g. ``prune.density``."""
    out = []
    for name, kind in _field_types(cls).items():
        if cls is PruneConfig and name == "settings":
            out.append(f"{prefix}settings.NAME")
            continue
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
    if not is_known_field(path):
        raise UserError(f"unknown config field {path!r} in --set; known: {', '.join(known_fields())}")
    raw = raw.strip()
    if path.startswith("prune.settings.") or path not in _known():
        return path, _literal(raw, path)  # typed against the pruner's own fields on building
    kind = leaf_type(path)
    if typing.get_origin(kind) in (Union, types.UnionType):
        if raw.lower() in ("none", "null", ""):
            return path, None
        kind = next(a for a in typing.get_args(kind) if a is not type(None))
    if typing.get_origin(kind) is tuple:
        inner = typing.get_args(kind)[0]
        return path, [convert(v.strip(), inner, key=path, what="--set") for v in raw.split(",") if v.strip()]
    return path, convert(raw, kind, key=path, what="--set")


def _literal(raw: str, path: str) -> Any:
    """A TOML scalar (``3``, ``0.5``, ``true``, ``"name"``; a bare word is a string); never
    evaluated as code."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        if raw and all(c.isalnum() or c in "_-." for c in raw):
            return raw
        raise UserError(f"{path} takes a number, true/false or a word, got {raw!r}") from None


def leaf_type(path: str) -> Any:
    cls: Any = ExperimentConfig
    *parents, leaf = path.split(".")
    for p in parents:
        cls = _field_types(cls)[p]
    return _field_types(cls)[leaf]


@functools.cache
def flat_defaults() -> dict[str, Any]:
    """Every config field at its default, flattened (pruner settings aside: they depend on the
    pruner)."""
    flat = flatten(dataclasses.asdict(ExperimentConfig()))
    flat.pop("prune.settings", None)
    return flat


def flat_config(config: dict[str, Any]) -> dict[str, Any]:
    """A stored (canonical) config flattened with every default filled in, its pruner's
    settings as ``prune.settings.NAME`` (their defaults filled too, and a setting stored under
    its name from before settings existed, ``prune.synflow_rounds``, under its own name), so
    runs group by what they computed however their config was written."""
    flat = {**flat_defaults(), **flatten(config)}
    for name, value in flat.pop("prune.settings", None) or ():  # a dataclasses.asdict form: pairs
        flat[f"prune.settings.{name}"] = value
    pruner = str(flat.get("prune.pruner"))
    for name, old in legacy_names(pruner).items():
        if f"prune.{old}" in flat:
            flat[f"prune.settings.{name}"] = flat.pop(f"prune.{old}")
    if pruner in pruners.PRUNERS:
        for name, default in pruner_settings(pruner).items():
            flat.setdefault(
                f"prune.settings.{name}", list(default) if isinstance(default, tuple) else default
            )
    return flat
