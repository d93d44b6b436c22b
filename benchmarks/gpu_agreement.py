"""Masks on CUDA against masks on the CPU: every built-in pruner, LeNet-300-100 on digits.

    python benchmarks/gpu_agreement.py --density 0.05 > agreement.md

For each pruner, the same init, batch and seed prune on both devices; the table gives the kept
counts (equal by construction: exact top-k) and the fraction of kept weights the two masks
share. Float reductions differ between the devices, so scores near the cut may swap places;
data-blind one-shot pruners (random, magnitude) must agree exactly. Prints a markdown table;
exit code 1 when a count differs or a data-blind one-shot mask does not agree exactly.
"""

from __future__ import annotations

import argparse
import copy
import sys

import torch

import pruners
from noprune.config import TrainConfig
from noprune.data import balanced_batch, load_dataset
from noprune.models import build_model
from noprune.training import make_trainer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--density", type=float, default=0.05)
    parser.add_argument("--devices", default="cpu,cuda", help="the two devices (cpu,cpu checks the script)")
    args = parser.parse_args()
    first, second = args.devices.split(",")
    if "cuda" in (first, second) and not torch.cuda.is_available():
        print("no CUDA device", file=sys.stderr)
        return 2
    data = load_dataset("digits", seed=0)
    init = build_model("lenet_300_100", data.input_shape, data.num_classes, seed=0)
    batch = balanced_batch(data, 10, torch.Generator().manual_seed(0))
    print(f"| pruner | kept ({first}) | kept ({second}) | shared fraction of kept |")
    print("|---|---|---|---|")
    failed = False
    for name in pruners.available():
        masks = []
        for device in (first, second):
            model = copy.deepcopy(init).to(device)
            pruner = pruners.get(name, **({"train_steps": 50} if name in ("imp", "magnitude_after") else {}))
            trainer = make_trainer(data, TrainConfig(), seed=0) if pruner.needs_trainer else None
            got = pruner.prune(
                model,
                args.density,
                batch=(batch[0].to(device), batch[1].to(device)),
                seed=0,
                trainer=trainer,
            )
            masks.append(torch.cat([m.reshape(-1).cpu() for m in got.values()]))
        cpu, cuda = masks
        shared = int((cpu & cuda).sum()) / max(int(cpu.sum()), 1)
        exact = name in ("random", "magnitude")
        failed |= int(cpu.sum()) != int(cuda.sum()) or (exact and shared != 1.0)
        print(f"| {name} | {int(cpu.sum())} | {int(cuda.sum())} | {shared:.4f} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
