"""What a worker runs: one config in, one JSON-able result out. Never raises.

The driver alone writes the store; a worker returns its result (or, with ``out_dir`` on a
cluster file system, also writes it as one JSON file, atomically, for ``noprune ingest``).
"""

from __future__ import annotations

import json
import os
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

from noprune.config import ExperimentConfig, canonical_json, from_dict, run_key


def result_record(
    config: ExperimentConfig,
    outcome: dict[str, Any] | BaseException,
    *,
    started: float | None = None,
    finished: float | None = None,
    provenance: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The record the store keeps for one run: done with its metrics, or failed with the error
    (and, when the error carries one, the last lines of its traceback)."""
    record: dict[str, Any] = {
        "key": run_key(config),
        "experiment": config.experiment,
        "config": canonical_json(config),
        "started": started,
        "finished": finished,
        "provenance": provenance or {},
    }
    if isinstance(outcome, BaseException):
        trace = "".join(traceback.format_exception(outcome)[-6:]) if outcome.__traceback__ else ""
        record.update(status="failed", error=f"{type(outcome).__name__}: {outcome}\n{trace}".rstrip())
    else:
        record.update(status="done", metrics=outcome)
    return record


def execute(payload: dict[str, Any]) -> dict[str, Any]:
    """Run ``payload["config"]`` (a canonical config dict) and return its result record.

    Payload keys: config, device ("auto", "cpu", "cuda"), data_root (or None), out_dir (or
    None). The result holds key, experiment, config JSON, status (done or failed), metrics,
    error (the traceback's last lines), start and end times, and provenance.
    """
    from noprune.experiments import run_experiment
    from noprune.sweep.provenance import provenance, resolve_device

    started = time.time()
    config = from_dict(payload["config"])
    prov: dict[str, Any] = {}
    try:
        device = resolve_device(payload.get("device", "auto"))
        prov = provenance_row(provenance(device))
        outcome: dict[str, Any] | Exception = run_experiment(
            config, device=device, data_root=payload.get("data_root")
        )
    except Exception as error:  # a failed run is a result too; the sweep goes on
        outcome = error
    return deliver(
        result_record(config, outcome, started=started, finished=time.time(), provenance=prov), payload
    )


def execute_batch(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """:func:`execute` for configs of one batch key, trained as one ensemble. Never raises: if
    the batch as a whole fails, each config is run on its own so one bad config fails alone."""
    from noprune.experiments import run_experiment_batch
    from noprune.sweep.provenance import provenance, resolve_device

    started = time.time()
    configs = [from_dict(p["config"]) for p in payloads]
    try:
        device = resolve_device(payloads[0].get("device", "auto"))
        prov = provenance_row(provenance(device))
        outcomes = run_experiment_batch(configs, device=device, data_root=payloads[0].get("data_root"))
    except Exception:
        return [execute(p) for p in payloads]
    finished = time.time()
    return [
        deliver(result_record(c, o, started=started, finished=finished, provenance=prov), p)
        for p, c, o in zip(payloads, configs, outcomes, strict=True)
    ]


def deliver(result: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """Also write the result as one JSON file when the payload names a folder (for ingest)."""
    if payload.get("out_dir"):
        write_atomically(Path(payload["out_dir"]) / f"{result['key']}.json", result)
    return result


def provenance_row(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "host": p["host"],
        "version": p["noprune"],
        "git_commit": p["git_commit"],
        "git_dirty": p["git_dirty"],
        "torch": p["torch"],
        "device": f"{p['device']} ({p['device_name']})" if p.get("device_name") else p["device"],
    }


def write_atomically(path: Path, data: dict[str, Any]) -> None:
    """Write JSON to a temporary file in the same folder, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # os.open with mode 0o666 leaves the permissions to the user's umask (mkstemp forces 0600)
    tmp = path.with_name(f".tmp-{os.getpid()}-{uuid.uuid4().hex}.json")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
