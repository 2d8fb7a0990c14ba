#!/usr/bin/env bash
# Build the project's environment from nothing: .venv with pinned dependencies, siyu-sim
# installed in editable mode. Supported Python: 3.12 (3.13 also works); mesa >= 3.4 needs
# >= 3.12. Set SIYU_PYTHON=/path/to/python to choose the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."

ok_python() {  # a Python 3.12 or 3.13 that runs and has venv
  [ -n "$1" ] && "$1" -c 'import sys, venv; sys.exit(0 if (3, 12) <= sys.version_info[:2] < (3, 14) else 1)' \
    >/dev/null 2>&1
}

find_python() {
  local c
  for c in "${SIYU_PYTHON:-}" python3.12 "$HOME"/.pyenv/versions/3.12*/bin/python \
           /root/.pyenv/versions/3.12*/bin/python python3.13 "$HOME"/.pyenv/versions/3.13*/bin/python \
           python3 python; do
    if ok_python "$c"; then command -v "$c" 2>/dev/null || echo "$c"; return 0; fi
  done
  return 1
}

if ! PY=$(find_python); then
  echo "setup: error: no Python 3.12 or 3.13 found (mesa >= 3.4 needs Python >= 3.12)." >&2
  echo "setup: install one (e.g. 'pyenv install 3.12.1') or set SIYU_PYTHON=/path/to/python3.12" >&2
  exit 3
fi
echo "setup: using $("$PY" -c 'import sys; print(sys.executable, sys.version.split()[0])')"

# SIYU_VENV / SIYU_LOCK pick another environment and lock
VENV=${SIYU_VENV:-.venv}
LOCK=${SIYU_LOCK:-requirements/lock.txt}
if [ ! -x "$VENV/bin/python" ] || ! ok_python "$VENV/bin/python"; then
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
fi
# the lock pins every package version, so a fresh machine gets the same environment;
# extras: test (pytest), viz (dashboard, notebooks, JupyterLab), sweep (joblib, submitit and
# Ray launchers), calibrate (optuna, SALib), clv (lifetimes: BG/NBD);
# SIYU_EXTRAS=test keeps it minimal
EXTRAS=${SIYU_EXTRAS:-test,viz,sweep,calibrate,clv}
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  -c "$LOCK" -e ".[$EXTRAS]"

# the dashboard's front-end files (Solara's page would load them from a public CDN): fetched
# once from the npm registry into the venv (about 18 MB, a few seconds; no npm needed), so the
# dashboard works offline. Without them the page stays blank, so setup stops here if they
# cannot be fetched. SIYU_DASHBOARD_ASSETS=skip skips them (docs/dashboard.md: air-gapped).
case ",$EXTRAS," in
  *,viz,*)
    if [ "${SIYU_DASHBOARD_ASSETS:-}" = skip ]; then
      echo "setup: skipped the dashboard's front-end files (SIYU_DASHBOARD_ASSETS=skip): the dashboard page stays blank and tests/test_dashboard.py fails until 'bash scripts/fetch_solara_assets.sh' has run"
    elif ! "$VENV/bin/python" -m sim.dashboard.assets fetch; then
      echo "setup: error: could not fetch the dashboard's front-end files from the npm registry (${SIYU_NPM_REGISTRY:-https://registry.npmjs.org})." >&2
      echo "setup: fix the network or proxy, or set SIYU_NPM_REGISTRY=<mirror>, then run setup again;" >&2
      echo "setup: or copy them from another machine (docs/dashboard.md), or rerun with SIYU_DASHBOARD_ASSETS=skip" >&2
      exit 4
    fi ;;
esac
"$VENV/bin/python" -c 'import mesa, hydra, sim; print(f"setup: ok: siyu-sim {sim.__version__}, mesa {mesa.__version__}, hydra {hydra.__version__}")'
