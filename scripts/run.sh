#!/usr/bin/env bash
# One entry point for the README's Quick start: sets everything up (idempotent) and then runs
#   bash scripts/run.sh demo    -> yanreform demo on the bundled corpus
#   bash scripts/run.sh test    -> the whole test suite (after the system set-up scripts: chromium, office tools)
#   bash scripts/run.sh bench   -> the benchmarks (never part of the tests)
#   bash scripts/run.sh wheelhouse DIR -> every wheel an offline install needs (torch CPU included) into DIR
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
  test)
    # Chromium and a CJK font (browser tests of the HTML report and the web app), LibreOffice/antiword/catdoc
    # (.doc/.wps tests): installed when missing and possible; the tests skip, saying why, where they cannot be
    bash scripts/system-deps.sh || true
    exec "$VPY" -m pytest "$@" ;;
  bench) exec "$VPY" benchmarks/run_all.py "$@" ;;
  wheelhouse)
    # Everything for an offline install, as wheels: torch (CPU), yanreform itself and all its dependencies
    # with the extras in $EXTRAS (default: all). Install on the offline machine with:
    #   python3 -m venv .venv && .venv/bin/pip install --no-index --find-links DIR torch==2.13.0 && \
    #   .venv/bin/pip install --no-index --find-links DIR "yanreform[all]"
    dir=${1:?usage: bash scripts/run.sh wheelhouse DIR}
    mkdir -p "$dir"
    "$VPY" -m pip download -q --only-binary=:all: -d "$dir" "torch==2.13.0"
    "$VPY" -m pip wheel -q -w "$dir" "torch==2.13.0" ".[${EXTRAS:-all}]"
    n=$(ls "$dir"/*.whl | wc -l)
    echo "wheelhouse: $n wheels, $(du -sh "$dir" | cut -f1) in $dir" >&2 ;;
  *)     echo "usage: bash scripts/run.sh [demo|test|bench|wheelhouse DIR] [args...]" >&2; exit 2 ;;
esac
