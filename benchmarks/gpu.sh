#!/usr/bin/env bash
# The GPU checks in one go, for a machine with one CUDA device (about 8 minutes on an H100):
#   1. the gpu-marked tests (the ensemble on CUDA against the CPU);
#   2. masks on CUDA against masks on the CPU, every built-in pruner (benchmarks/gpu_agreement.py);
#   3. noprune bench --device cuda (ensemble against the one-model loop, and the matmul peak);
#   4. the E1 grid (e1-memorization, 31,500 networks) on CUDA, stopped after 4 minutes if unfinished;
#   5. one E2 digits sweep (e2-noisy-digits) on CUDA, stopped after 2 minutes if unfinished.
# Writes OUT/gpu.md (a table of what ran, how long, and its result) and each step's output beside it.
#   bash benchmarks/gpu.sh [OUT]        (default results/gpu; python from $PYTHON or .venv/bin/python)
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-results/gpu}
py=${PYTHON:-.venv/bin/python}
if ! "$py" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
  echo "benchmarks/gpu.sh: torch sees no CUDA device here" >&2
  exit 2
fi
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
table="$out/gpu.md"
{
  echo "# GPU checks"
  echo
  echo "$("$py" -c 'import torch; print(torch.cuda.get_device_name(0), "| torch", torch.__version__, "| CUDA", torch.version.cuda)' 2>&1)"
  echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "| step | seconds | exit | result |"
  echo "|---|---|---|---|"
} > "$table"

step() {  # step NAME LIMIT_SECONDS FILE COMMAND...
  local name=$1 limit=$2 file=$3
  shift 3
  local start=$SECONDS
  timeout "$limit" "$@" > "$out/$file" 2>&1
  local rc=$?
  local last
  last=$(grep -v '^\s*$' "$out/$file" | tail -n 1 | tr '|' '/' | cut -c1-160)
  echo "| $name | $((SECONDS - start)) | $rc | $last |" >> "$table"
}

step "gpu tests" 120 tests.txt "$py" -m pytest -m gpu -q -p no:cacheprovider tests
step "cpu-cuda masks" 120 agreement.md "$py" benchmarks/gpu_agreement.py
step "noprune bench (cuda)" 150 bench.txt "$py" -m noprune bench --device cuda
step "E1 grid (cuda)" 240 e1.txt "$py" -m noprune run e1-memorization --device cuda --workers 1 \
  --batch 250 --store "$work/e1.sqlite" --results "$work/results" --no-progress
step "E1 runs stored" 30 e1-status.txt "$py" -m noprune status --store "$work/e1.sqlite"
step "E2 digits (cuda)" 120 e2.txt "$py" -m noprune run e2-noisy-digits --device cuda --workers 1 \
  --store "$work/e2.sqlite" --results "$work/results" --no-progress
step "E2 runs stored" 30 e2-status.txt "$py" -m noprune status --store "$work/e2.sqlite"
{
  echo
  echo "Masks, CUDA against the CPU:"
  echo
  cat "$out/agreement.md"
  echo
  echo "Bench on CUDA:"
  echo
  grep '^|' "$out/bench.txt"
} >> "$table"
cat "$table"
