#!/usr/bin/env bash
# Fetch once, from the npm registry, the front-end files that Solara (the dashboard's web
# framework) would otherwise load from a public CDN, into the local directory the dashboard
# serves them from. After this the dashboard works air-gapped. See docs/dashboard.md.
#
#   bash scripts/fetch_solara_assets.sh [DIR]
#
# DIR: default $SIYU_SOLARA_ASSETS, else <venv>/share/solara/cdn (Solara's own default, inside
# the venv, so it goes away with it). PYTHON=/path/to/python picks the venv (default
# .venv/bin/python). Needs npm. Which packages and versions: those the installed Solara asks
# for (`python -m sim.dashboard.assets specs`). Layout: DIR/<package>@<version>/ holds the files
# of the package's npm tarball, as /_solara/cdn/<package>@<version>/<file> expects.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-.venv/bin/python}
if ! "$PY" -c 'import sys' >/dev/null 2>&1; then
  echo "fetch_solara_assets: error: no Python at $PY: run 'bash scripts/setup.sh' first or set PYTHON=/path/to/python" >&2
  exit 3
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "fetch_solara_assets: error: npm not found (Debian: apt-get install -y npm)" >&2
  exit 3
fi

DEST=${1:-$("$PY" -m sim.dashboard.assets dir)}
mkdir -p "$DEST"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for spec in $("$PY" -m sim.dashboard.assets specs); do
  if [ -f "$DEST/$spec/package.json" ]; then
    echo "fetch_solara_assets: have $spec"
    continue
  fi
  rm -rf "$tmp/pack" "$tmp/x" && mkdir -p "$tmp/pack" "$tmp/x"
  (cd "$tmp/pack" && npm pack --silent "$spec" >/dev/null)
  tar -xzf "$tmp"/pack/*.tgz -C "$tmp/x"
  src=$(find "$tmp/x" -mindepth 1 -maxdepth 1 -type d | head -n 1)  # the tarball's package/
  mkdir -p "$(dirname "$DEST/$spec")"
  rm -rf "$DEST/$spec.partial"
  cp -R "$src" "$DEST/$spec.partial"
  mv "$DEST/$spec.partial" "$DEST/$spec"   # complete or absent, never half there
  echo "fetch_solara_assets: fetched $spec"
done

"$PY" -m sim.dashboard.assets check "$DEST"
