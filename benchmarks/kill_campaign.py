"""Kill a real sweep over and over, at random moments, and count what was lost.

    python benchmarks/kill_campaign.py --kills 40 --seed 0

Each round starts ``noprune run`` (process executor, two workers, one run per job) on one store
and, after a random delay, sends one of: SIGKILL to a random worker (as the out-of-memory
killer does), SIGKILL to the driver, or SIGTERM to the driver. Rounds go on until the sweep
finishes; a run that a killed worker held is stored as failed and the next round runs it
again. Afterwards every run must be done exactly once with the metrics of an uninterrupted
reference sweep (timings aside). Prints one line per kill and a summary; exit code 1 if
anything was lost, duplicated or differs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SUITE = """
name = "campaign"
description = "a sweep to kill"
[fixed]
data = "gaussian:n=40,d=10,n_test=50"
model = "mlp:16,16"
train.epochs = 1000
train.batch_size = 8
prune.density = 0.5
[grid]
"prune.pruner" = ["random", "magnitude", "snip", "synflow"]
seed = {range = [0, 7]}
"""
TIMING = {"scoring_seconds", "train_seconds", "ensemble_size"}


def command(folder: Path, store: str) -> list[str]:
    return [
        sys.executable, "-m", "noprune", "run", str(folder / "campaign.toml"), "--store", str(folder / store),
        "--results", str(folder / "results"), "--workers", "2", "--batch", "1", "--no-progress",
    ]  # fmt: skip


def stored(path: Path) -> dict[str, tuple[str, float | None, dict | None]]:
    if not path.exists():
        return {}
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT key, status, finished, metrics FROM runs").fetchall()
    except sqlite3.Error:
        rows = []
    db.close()
    return {
        k: (s, f, {m: v for m, v in json.loads(x).items() if m not in TIMING} if x else None)
        for k, s, f, x in rows
    }


def workers_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat[1]) == pid and b"spawn_main" in cmdline:
                found.append(int(entry.name))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="noprune-kills-"))
    (folder / "campaign.toml").write_text(SUITE)
    subprocess.run(command(folder, "reference.sqlite"), check=True, capture_output=True)
    reference = stored(folder / "reference.sqlite")
    kills = {"worker SIGKILL": 0, "driver SIGKILL": 0, "driver SIGTERM": 0}
    failures: set[tuple[str, str, float | None]] = set()
    lost = duplicated = unclean = early = differ = missing = rounds = 0
    sweeps = 1
    first_done: dict[str, float | None] = {}
    while True:
        rounds += 1
        store = f"s{sweeps}.sqlite"
        driver = subprocess.Popen(
            command(folder, store), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
        )  # fmt: skip
        how = None
        if sum(kills.values()) < args.kills:
            time.sleep(rng.uniform(2.0, 6.0))  # start-up takes about 1.5 s
            how = rng.choice(list(kills))
            workers = workers_of(driver.pid)
            if how == "worker SIGKILL" and not workers:
                how = "driver SIGKILL"
            if driver.poll() is None:
                if how == "worker SIGKILL":
                    os.kill(rng.choice(workers), signal.SIGKILL)
                else:
                    driver.send_signal(signal.SIGKILL if how == "driver SIGKILL" else signal.SIGTERM)
                kills[how] += 1
                print(f"kill {sum(kills.values())}: {how} in round {rounds}", flush=True)
        _, err = driver.communicate(timeout=600)
        now = stored(folder / store)
        failures |= {(store, k, f) for k, (s, f, _) in now.items() if s == "failed"}
        if driver.returncode == -signal.SIGTERM:  # before noprune's handler was installed
            early += 1
        elif driver.returncode not in (0, 1, -signal.SIGKILL) and not (
            driver.returncode == 130 and err.count("\n") == 1 and "interrupted" in err
        ):
            unclean += 1
            print(f"round {rounds}: exit {driver.returncode}: {err.strip()[-300:]}", flush=True)
        for key, finished in first_done.items():  # a done run never changes or disappears
            if key not in now or now[key][0] != "done":
                lost += 1
            elif now[key][1] != finished:
                duplicated += 1
        first_done.update({k: f for k, (s, f, _) in now.items() if s == "done" and k not in first_done})
        if driver.returncode == 0:  # this store's sweep is complete: check it, start another
            differ += sum(now[k][2] != reference[k][2] for k in reference if k in now)
            missing += sum(k not in now or now[k][0] != "done" for k in reference)
            if sum(kills.values()) >= args.kills:
                break
            sweeps += 1
            first_done = {}
    print(
        f"{sum(kills.values())} kills ({', '.join(f'{n} {k}' for k, n in kills.items())}) "
        f"over {rounds} rounds and {sweeps} sweeps of {len(reference)} runs: {missing} not done, "
        f"{lost} lost, {duplicated} computed twice, {differ} with metrics unlike the uninterrupted "
        f"sweep; {len(failures)} failed by a killed worker and rerun; {early} SIGTERMs landed "
        f"before start-up ended; {unclean} rounds ended other than by exit 0, 1, SIGKILL or one line"
    )
    return 1 if missing or lost or duplicated or differ or unclean else 0


if __name__ == "__main__":
    sys.exit(main())
