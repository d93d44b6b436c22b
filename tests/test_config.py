"""Typed configs, their canonical JSON and run keys (open_lth style)."""

from __future__ import annotations

import dataclasses

import pytest

from noprune.config import (
    ExperimentConfig,
    PruneConfig,
    TrainConfig,
    canonical,
    canonical_json,
    from_dict,
    known_fields,
    parse_assignment,
    run_key,
)
from noprune.errors import UserError

FIG6 = ExperimentConfig(
    data="cifar10",
    model="vgg16",
    prune=PruneConfig(pruner="synflow", density=0.01),
    train=TrainConfig(epochs=160, lr_schedule="step", milestones=(80, 120), augment=True),
)


def test_pinned_keys_never_drift():
    # If one of these changes, every stored result becomes unreachable: do not update them,
    # give new fields defaults instead (defaults are left out of the canonical form).
    assert run_key(ExperimentConfig()) == "44136fa355b3678a"
    assert (
        run_key(ExperimentConfig(prune=PruneConfig(pruner="snip", density=0.05), seed=2))
        == "0dd10da200accf9c"
    )
    assert run_key(FIG6) == "b3f2b3b427e43749"
    assert canonical_json(FIG6) == (
        '{"data":"cifar10","model":"vgg16","prune":{"density":0.01,"pruner":"synflow"},'
        '"train":{"augment":true,"epochs":160,"lr_schedule":"step","milestones":[80,120]}}'
    )


def test_a_new_field_with_a_default_leaves_keys_unchanged():
    extended = dataclasses.make_dataclass(
        "PruneConfigV2",
        [("temperature", float, dataclasses.field(default=200.0))],
        bases=(PruneConfig,),
        frozen=True,
    )
    old = PruneConfig(pruner="grasp", density=0.1)
    new = extended(pruner="grasp", density=0.1)
    assert canonical(new) == canonical(old)


def test_defaults_are_omitted_and_the_form_round_trips():
    assert canonical(ExperimentConfig()) == {}
    for config in (FIG6, ExperimentConfig(seed=3, prune=PruneConfig(ablation="shuffle"))):
        assert from_dict(canonical(config)) == config
        assert run_key(from_dict(canonical(config))) == run_key(config)


def test_integers_for_float_fields_give_the_same_key():
    a = from_dict({"prune": {"density": 1}, "train": {"lr": 1}})
    b = from_dict({"prune": {"density": 1.0}, "train": {"lr": 1.0}})
    assert run_key(a) == run_key(b) == run_key(ExperimentConfig(train=TrainConfig(lr=1.0)))


def test_from_dict_rejects_unknown_fields_and_wrong_types():
    with pytest.raises(UserError, match=r"unknown config field 'prune\.densty'"):
        from_dict({"prune": {"densty": 0.1}})
    with pytest.raises(UserError, match="takes an int"):
        from_dict({"seed": "zero"})
    with pytest.raises(UserError, match="table"):
        from_dict({"prune": 0.1})


def test_set_assignments_are_typed_and_never_evaluated():
    assert parse_assignment("prune.density=0.05") == ("prune.density", 0.05)
    assert parse_assignment("train.epochs=3") == ("train.epochs", 3)
    assert parse_assignment("train.augment=true") == ("train.augment", True)
    assert parse_assignment("prune.ablation=none") == ("prune.ablation", None)
    assert parse_assignment("train.milestones=80,120") == ("train.milestones", [80, 120])
    assert parse_assignment("model=__import__('os')") == ("model", "__import__('os')")  # a string
    with pytest.raises(UserError, match="unknown config field"):
        parse_assignment("prune.bogus=1")
    with pytest.raises(UserError, match="not a valid int"):
        parse_assignment("seed=1.5")
    assert "prune.density" in known_fields() and "train.lr" in known_fields()


def test_every_committed_run_keeps_its_key() -> None:
    """Every run in the committed results/*/runs.csv, its config read back from its flat
    columns (a stored ``prune.synflow_rounds`` becomes SynFlow's ``rounds`` setting), hashes to
    its stored key and writes the same canonical JSON."""
    from pathlib import Path

    from noprune.sweep.runs_csv import read_rows

    root = Path(__file__).resolve().parents[1] / "results"
    checked = legacy = 0
    for path in sorted(root.glob("*/runs.csv")):
        # read_rows rebuilds each config with from_dict, writes its canonical JSON and refuses a
        # row whose config does not hash to its key
        rows = read_rows(path)
        checked += len(rows)
        legacy += sum("synflow_rounds" in row["config"] for row in rows)
    assert checked > 20_000 and legacy > 0


def test_pruner_settings_are_typed_checked_and_keyed_only_off_their_defaults() -> None:
    from noprune.config import PruneConfig, canonical, parse_assignment

    three = from_dict({"prune": {"pruner": "synflow", "settings": {"rounds": 3}}})
    assert three.prune.settings == (("rounds", 3),)
    assert canonical(three) == {"prune": {"pruner": "synflow", "synflow_rounds": 3}}  # the stored name
    assert run_key(three) == run_key(from_dict({"prune": {"pruner": "synflow", "synflow_rounds": 3}}))
    hundred = from_dict({"prune": {"pruner": "synflow", "settings": {"rounds": 100}}})  # the default
    assert hundred.prune.settings == () and run_key(hundred) == run_key(
        from_dict({"prune": {"pruner": "synflow"}})
    )
    cooler = from_dict({"prune": {"pruner": "grasp", "settings": {"temperature": 100}}})
    assert canonical(cooler) == {"prune": {"pruner": "grasp", "settings": {"temperature": 100.0}}}
    assert parse_assignment("prune.settings.temperature=50") == ("prune.settings.temperature", 50)
    with pytest.raises(UserError, match="pruner snip has no setting 'rounds'; its settings: train_mode"):
        PruneConfig(pruner="snip", settings={"rounds": 3})
    with pytest.raises(
        UserError, match=r"prune\.settings\.train_steps is set through prune\.pretrain_epochs"
    ):
        PruneConfig(pruner="imp", settings={"train_steps": 3})
    with pytest.raises(UserError, match="takes an int"):
        PruneConfig(pruner="synflow", settings={"rounds": "many"})
