#!/usr/bin/env bash
# One entry point for the README's Quick start: sets everything up (idempotent) and then runs
#   bash scripts/run.sh demo    -> yanreform demo on the bundled corpus
#   bash scripts/run.sh test    -> the whole test suite (after scripts/system-deps.sh: chromium if missing)
#   bash scripts/run.sh bench   -> the benchmarks (never part of the tests)
# Needs only python3 (>= 3.11) and pip. A .venv in the repository root is created once and reused.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
VPY=.venv/bin/python
# Re-run pip only when the dependency declaration changed (or on a fresh .venv).
stamp=.venv/.yanreform-setup
want=$(cat pyproject.toml scripts/run.sh | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  "$VPY" -m pip install -q --upgrade pip
  # torch first, pinned: 2.13.0 is a CPU wheel on these machines; an unpinned torch pulls a multi-GB CUDA build.
  "$VPY" -m pip install -q "torch==2.13.0"
  "$VPY" -m pip install -q -e ".[dev]"
  echo "$want" > "$stamp"
fi
cmd=${1:-demo}
shift || true
case "$cmd" in
  demo)  exec .venv/bin/yanreform demo "$@" ;;
  test)  bash scripts/system-deps.sh || true  # chromium for the browser tests, when it can be installed
         exec "$VPY" -m pytest "$@" ;;
  bench) exec "$VPY" benchmarks/run_all.py "$@" ;;
  *)     echo "usage: bash scripts/run.sh [demo|test|bench] [args...]" >&2; exit 2 ;;
esac
