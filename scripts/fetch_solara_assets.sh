#!/usr/bin/env bash
# Fetch once, from the npm registry, the front-end files that Solara (the dashboard's web
# framework) would otherwise load from a public CDN, into the local directory the dashboard
# serves them from. After this the dashboard works air-gapped. scripts/setup.sh already does
# this; run it again after changing Solara, or to fill another directory. See docs/dashboard.md.
#
#   bash scripts/fetch_solara_assets.sh [DIR]
#
# DIR: default $SIYU_SOLARA_ASSETS, else <venv>/share/solara/cdn (Solara's own default, inside
# the venv, so it goes away with it). PYTHON=/path/to/python picks the venv (default
# .venv/bin/python). Plain HTTPS to the registry (SIYU_NPM_REGISTRY for a mirror); no npm needed.
# Which packages and versions: those the installed Solara asks for
# (`python -m sim.dashboard.assets specs`); each tarball is checked against the registry's sha512.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-.venv/bin/python}
if ! "$PY" -c 'import sys' >/dev/null 2>&1; then
  echo "fetch_solara_assets: error: no Python at $PY: run 'bash scripts/setup.sh' first or set PYTHON=/path/to/python" >&2
  exit 3
fi
exec "$PY" -m sim.dashboard.assets fetch "$@"
