"""The ``noprune`` command line: list, prune, run.

Errors a user can cause end with one line on stderr naming the problem, exit code 2, and no
traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import pruners
from noprune.data import DATASETS
from noprune.errors import UserError
from noprune.models import MODELS
from noprune.training import TrainConfig


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"{message} (see {self.prog} --help)")


def density_from(args: argparse.Namespace) -> tuple[float, str]:
    """The density from --density, --sparsity or --compression, and which unit was given."""
    given = [
        (k, getattr(args, k)) for k in ("density", "sparsity", "compression") if getattr(args, k) is not None
    ]
    if len(given) != 1:
        raise UserError(
            "give exactly one of --density, --sparsity (1 - density), --compression (1 / density)"
        )
    unit, value = given[0]
    converted = {"density": value, "sparsity": 1.0 - value, "compression": 1.0 / value if value else 0.0}
    density = round(converted[unit], 12)  # 1 - 0.95 is 0.050000000000000044 in floats
    if not 0.0 < density <= 1.0:
        raise UserError(f"density must be in (0, 1], got {density:g} from --{unit} {value:g}")
    return density, unit


def add_training_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--optimizer", default="sgd", help="sgd or adam (default sgd)")
    p.add_argument("--lr", type=float, default=0.05, help="learning rate (default 0.05)")
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (default 0.9)")
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--batch-size", type=int, default=128, help="0 for full batch (default 128)")
    p.add_argument("--lr-schedule", default="constant", help="constant, cosine or step")
    p.add_argument(
        "--pretrain-epochs",
        type=int,
        default=10,
        help="dense training before ranking for magnitude_after, per round for imp (default 10)",
    )
    p.add_argument("--rewind-step", type=int, default=0, help="imp rewinds survivors to this step (0: init)")


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="noprune", description="Pruning at initialization, measured honestly.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)

    sub.add_parser("list", help="pruners, ablations, models and data sets, one line each")

    p = sub.add_parser("prune", help="prune one network, optionally train it, write masks and a report")
    p.add_argument("--pruner", required=True, help="a pruner from `noprune list`")
    p.add_argument(
        "--model", required=True, help="a model spec, e.g. mlp:300,100 or resnet20 or timm:resnet18"
    )
    p.add_argument("--data", required=True, help="a data set spec, e.g. digits or gaussian:n=30,d=30")
    p.add_argument("--density", type=float, help="fraction of prunable weights kept, in (0, 1]")
    p.add_argument("--sparsity", type=float, help="1 - density")
    p.add_argument("--compression", type=float, help="1 / density")
    p.add_argument("--scope", default="global", help="global (default) or layerwise")
    p.add_argument("--ablation", help="shuffle, reinit or invert (Frankle et al. 2021)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-epochs", type=int, default=0, help="train the pruned network this many epochs")
    p.add_argument(
        "--batch-per-class", type=int, default=10, help="scoring batch size per class (default 10)"
    )
    p.add_argument("--data-root", help="folder holding MNIST, FashionMNIST or CIFAR in torchvision's layout")
    p.add_argument("--device", default="auto", help="auto (default), cpu or cuda")
    p.add_argument("--out", required=True, help="folder for masks.safetensors, init.safetensors, report.json")
    add_training_flags(p)

    r = sub.add_parser("run", help="run a benchmark suite and print its leaderboard")
    r.add_argument("suite", nargs="?", default="quick", help="suite name (default quick)")
    r.add_argument("--device", default="auto", help="auto (default), cpu or cuda")
    r.add_argument("--seeds", type=int, default=1, help="seeds per cell (default 1)")
    return parser


def cmd_list() -> None:
    sections = {
        "pruners": pruners.available(),
        "ablations": pruners.ABLATIONS,
        "models": MODELS,
        "data sets": DATASETS,
    }
    for title, entries in sections.items():
        print(f"{title}:")
        width = max(len(n) for n in entries)
        for name, text in entries.items():
            print(f"  {name:<{width}}  {text}")


def train_config(args: argparse.Namespace, epochs: int) -> TrainConfig:
    return TrainConfig(
        optimizer=args.optimizer,
        lr=args.lr,
        momentum=args.momentum,
        weight_decay=args.weight_decay,
        epochs=epochs,
        batch_size=args.batch_size,
        lr_schedule=args.lr_schedule,
        seed=args.seed,
    )


def cmd_prune(args: argparse.Namespace) -> None:
    from noprune.pipeline import PruneRequest, run_prune
    from noprune.weights import save_state

    density, unit = density_from(args)
    if unit != "density":
        print(f"--{unit} {getattr(args, unit):g} -> density {density:g} (fraction of weights kept)")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} exists and is not a folder")
    request = PruneRequest(
        pruner=args.pruner,
        model=args.model,
        data=args.data,
        density=density,
        scope=args.scope,
        seed=args.seed,
        data_root=args.data_root,
        ablation=args.ablation,
        batch_per_class=args.batch_per_class,
        pretrain_epochs=args.pretrain_epochs,
        rewind_step=args.rewind_step,
        train=train_config(args, args.train_epochs),
        device=args.device,
    )
    outcome = run_prune(request)
    out.mkdir(parents=True, exist_ok=True)
    report = outcome.report
    outcome.masks.save(out / "masks.safetensors", metadata={"pruner": args.pruner, "density": f"{density!r}"})
    save_state(outcome.init_state, out / "init.safetensors")
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"{args.pruner} on {args.model} / {args.data}: kept {report['nnz']} of {report['numel']} weights "
        f"(density {report['density']:.6g}, target {density:g}), scored in {report['scoring_seconds']:.2f} s"
    )
    for name in report["collapsed_layers"]:
        print(f"warning: layer collapse: {name} has no surviving weight", file=sys.stderr)
    if "training" in report:
        t = report["training"]
        print(
            f"trained {args.train_epochs} epochs: train accuracy {t['train_accuracy']:.4f}, "
            f"test accuracy {t['test_accuracy']:.4f} ({t['seconds']:.1f} s)"
        )
    print(f"wrote {out / 'masks.safetensors'}, {out / 'init.safetensors'}, {out / 'report.json'}")


def cmd_run(args: argparse.Namespace) -> None:
    from noprune.quick import QUICK_SUITES, run_quick

    if args.suite not in QUICK_SUITES:
        raise UserError(f"unknown suite {args.suite!r}; choose one of: {', '.join(QUICK_SUITES)}")
    run_quick(args.suite, device=args.device, seeds=args.seeds)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "list":
            cmd_list()
        elif args.command == "prune":
            cmd_prune(args)
        elif args.command == "run":
            cmd_run(args)
    except UserError as error:
        print(f"noprune: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("noprune: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
