"""Solara's front-end files, served from a local directory so the dashboard works air-gapped.

Solara's server puts the browser's requests for its front-end (the Vuetify app bundle,
require.js, Font Awesome, the grid layout the SolaraViz plot grid uses) through a proxy at
``/_solara/cdn/<npm package>@<version>/<file>``. The proxy answers from the directory named
by ``SOLARA_ASSETS_PROXY_CACHE_DIR`` and only falls back to fetching the file from
``SOLARA_ASSETS_CDN`` (a public CDN; the server log then says ``Could not load URL`` when it
is out of reach). :func:`fetch` (run by ``scripts/setup.sh``) fills that directory once,
from the npm registry over plain HTTPS (no npm needed), in the same layout:
``<dir>/<package>@<version>/`` holds the files of the package's tarball, each tarball checked
against the registry's published sha512 (``dist.integrity``).

This module finds which packages (and exact versions) the installed Solara asks for, by
reading Solara's own template and widget files (it does not import Solara), and checks a
directory holds them::

    python -m sim.dashboard.assets specs          # npm specs, one a line
    python -m sim.dashboard.assets dir            # the default directory
    python -m sim.dashboard.assets check [DIR]    # exit 1 and name what is missing
    python -m sim.dashboard.assets fetch [DIR]    # download what is missing (setup.sh runs it)
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import os
import re
import shutil
import sys
import tarfile
import urllib.parse
import urllib.request
from pathlib import Path

ENV_CACHE_DIR = "SOLARA_ASSETS_PROXY_CACHE_DIR"  # solara.server.settings.Assets.proxy_cache_dir
ENV_DIR = "SIYU_SOLARA_ASSETS"  # this project's override of the default directory
# the npm registry (or a mirror of it: SIYU_NPM_REGISTRY, else npm's own setting)
REGISTRY = (os.environ.get("SIYU_NPM_REGISTRY") or os.environ.get("npm_config_registry")
            or "https://registry.npmjs.org").rstrip("/")

# what Solara 1.64 asks for, used only if its files cannot be read
FALLBACK = {
    "app": "@widgetti/solara-vuetify-app@10.1.1",
    "app3": "@widgetti/solara-vuetify3-app@5.2.0",
    "requirejs": "requirejs@2.3.6",
    "fontawesome": "font-awesome@4.5.0",
    "grid": "@widgetti/vue-grid-layout@2.3.13-alpha.2",
}
_VERSION = r"@\d[\w.+-]*"


def default_dir() -> Path:
    """``$SIYU_SOLARA_ASSETS``, else Solara's own default: ``<sys.prefix>/share/solara/cdn``."""
    env = os.environ.get(ENV_DIR)
    return Path(env) if env else Path(sys.prefix) / "share" / "solara" / "cdn"


def _solara_root() -> Path | None:
    spec = importlib.util.find_spec("solara")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _find(path: Path, pattern: str) -> str | None:
    try:
        m = re.search(pattern, path.read_text(encoding="utf-8"))
    except OSError:
        return None
    return m.group(1) if m else None


def _vue3() -> bool:
    try:  # Solara switches to its Vue 3 front-end when ipyvue 3 is installed
        return importlib.metadata.version("ipyvue").startswith("3")
    except importlib.metadata.PackageNotFoundError:
        return False


def required() -> list[str]:
    """``name@version`` of every npm package the installed Solara loads for the dashboard."""
    root = _solara_root()
    vue3 = _vue3()
    app = "solara-vuetify3-app" if vue3 else "solara-vuetify-app"
    if root is None:
        return [FALLBACK["app3" if vue3 else "app"], FALLBACK["requirejs"],
                FALLBACK["fontawesome"], FALLBACK["grid"]]
    tpl = root / "server" / "templates" / "solara.html.j2"
    grid = root / "widgets" / "vue" / ("gridlayout_v3.vue" if vue3 else "gridlayout.vue")
    found = [
        _find(tpl, r"\{\{cdn\}\}/(@widgetti/" + app + _VERSION + ")/")
        or FALLBACK["app3" if vue3 else "app"],
        _find(tpl, r"\{\{cdn\}\}/(requirejs" + _VERSION + ")/") or FALLBACK["requirejs"],
        _find(root / "server" / "settings.py",
              r'fontawesome_path: str = "/([\w.-]+' + _VERSION + ")/") or FALLBACK["fontawesome"],
        _find(grid, r"(@widgetti/vue-grid-layout" + _VERSION + ")/") or FALLBACK["grid"],
    ]
    return list(dict.fromkeys(found))


def missing(directory: Path | str | None = None) -> list[str]:
    """The required packages not (completely) present in ``directory``."""
    d = Path(directory) if directory is not None else default_dir()
    return [spec for spec in required() if not (d / spec / "package.json").is_file()]


class FetchError(RuntimeError):
    """A package could not be downloaded, or its tarball did not match the registry's hash."""


def _get(url: str, timeout: float = 60) -> bytes:
    req = urllib.request.Request(url, headers={"User-Agent": "siyu-sim (sim.dashboard.assets)"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.read()
    except OSError as e:  # URLError, HTTPError, timeouts
        raise FetchError(f"{url}: {e}") from None


def _verify(data: bytes, dist: dict, spec: str) -> None:
    """The tarball's sha512 (or, for old packages, sha1) equals the registry's."""
    integrity = dist.get("integrity", "")
    if integrity.startswith("sha512-"):
        got = base64.b64encode(hashlib.sha512(data).digest()).decode()
        ok = got == integrity[len("sha512-"):]
    elif dist.get("shasum"):
        ok = hashlib.sha1(data).hexdigest() == dist["shasum"]
    else:
        raise FetchError(f"{spec}: the registry publishes no hash for its tarball")
    if not ok:
        raise FetchError(f"{spec}: the tarball does not match the registry's hash")


def _unpack(data: bytes, dest: Path) -> None:
    """Files of an npm tarball into ``dest``, without the tarball's top folder (``package/``)."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts[1:]
            if not parts or not member.isfile():
                continue
            if any(p in ("..", "") for p in parts) or Path(member.name).is_absolute():
                raise FetchError(f"unsafe path in tarball: {member.name}")
            target = dest.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            src = tar.extractfile(member)
            target.write_bytes(src.read() if src else b"")


def fetch(directory: Path | str | None = None, registry: str = REGISTRY, log=print) -> list[str]:
    """Download every required package ``directory`` lacks; return the specs fetched.

    One package at a time: metadata (``<registry>/<name>/<version>``), tarball, hash check,
    unpack into ``<spec>.partial``, rename: a package is complete or absent, never half there.
    """
    d = Path(directory) if directory is not None else default_dir()
    fetched = []
    for spec in required():
        dest = d / spec
        if (dest / "package.json").is_file():
            log(f"have {spec}")
            continue
        name, version = spec.rsplit("@", 1)
        meta_url = f"{registry}/{urllib.parse.quote(name, safe='@')}/{version}"
        try:
            dist = json.loads(_get(meta_url))["dist"]
        except (ValueError, KeyError):
            raise FetchError(f"{meta_url}: not npm package metadata") from None
        data = _get(dist["tarball"])
        _verify(data, dist, spec)
        partial = dest.with_name(dest.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        _unpack(data, partial)
        shutil.rmtree(dest, ignore_errors=True)
        partial.rename(dest)
        log(f"fetched {spec} ({len(data) / 1e6:.1f} MB)")
        fetched.append(spec)
    return fetched


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    cmd = args.pop(0) if args else "check"
    if cmd == "specs":
        print("\n".join(required()))
        return 0
    if cmd == "dir":
        print(default_dir())
        return 0
    if cmd == "check":
        d = Path(args[0]) if args else default_dir()
        gone = missing(d)
        if gone:
            print(f"missing in {d}: {' '.join(gone)} (run: bash scripts/fetch_solara_assets.sh)",
                  file=sys.stderr)
            return 1
        print(f"ok: {d} has {' '.join(required())}")
        return 0
    if cmd == "fetch":
        d = Path(args[0]) if args else default_dir()
        try:
            fetch(d, log=lambda m: print(f"dashboard assets: {m}"))
        except FetchError as e:
            print(f"dashboard assets: error: {e}", file=sys.stderr)
            return 1
        print(f"dashboard assets: ok: {d}")
        return 0
    print("usage: python -m sim.dashboard.assets [specs|dir|check [DIR]|fetch [DIR]]",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
