"""Strategist dashboard: a Mesa SolaraViz app over siyu-sim (docs/dashboard.md).

Start it (binds 127.0.0.1 unless told otherwise; needs the ``viz`` extra)::

    .venv/bin/python -m sim.dashboard --host 127.0.0.1 --port 8765

Choose a market and a strategy, move the strategy's levers, optionally compare with a second
strategy on the same seed, press Reset to build, then Step or Play. The page shows a KPI table
(B - A when comparing), the social graph coloured by user state (small populations) and live
plots of members, churn, referrals, repurchase, revenue and satisfaction.

Nothing is built at import: the model is made when a browser opens the page. ``main()``
wraps ``solara run`` and points Solara at the locally fetched front-end files
(``scripts/fetch_solara_assets.sh``) so the page loads without internet.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim.dashboard import assets, network, plots
from sim.dashboard.model import NONE, DashboardModel, available_levers, default_config, presets

logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO

TITLE = "siyu-sim: private-domain strategy dashboard"
DEFAULT_N_USERS = 2000
CSS = """
.siyu-kpi-table { max-height: 385px; overflow-y: auto; }
.siyu-kpis { border-collapse: collapse; font-size: 12px; width: 100%; }
.siyu-kpis th, .siyu-kpis td { padding: 1px 6px; border-bottom: 1px solid #ddd; text-align: right;
  line-height: 1.35; }
.siyu-kpis th:first-child, .siyu-kpis td:first-child { text-align: left; white-space: nowrap; }
.siyu-caption { font-size: 12px; margin-bottom: 3px; }
.siyu-caption:first-child { font-weight: bold; }
.siyu-note { font-size: 13px; padding: 8px; }
.siyu-plot, .siyu-network { max-width: 100%; max-height: 380px; object-fit: contain; }
"""


def model_params() -> dict:
    """SolaraViz ``model_params``: presets found in ``conf/``, levers at the default preset."""
    cfg = default_config()
    strategies = list(presets("strategy"))
    params: dict = {
        "market": {"type": "Select", "label": "Market", "value": cfg.market.name,
                   "values": list(presets("market"))},
        "strategy": {"type": "Select", "label": "Strategy (A)", "value": cfg.strategy.name,
                     "values": strategies},
        "compare": {"type": "Select", "label": "Compare with (B, same seed)", "value": NONE,
                    "values": [NONE, *strategies]},
        "graph": {"type": "Select", "label": "Social graph", "value": cfg.graph.kind,
                  "values": list(presets("graph"))},
        "n_users": {"type": "SliderInt", "label": "Users (network view up to 2,000)",
                    "value": DEFAULT_N_USERS, "min": 200, "max": 20_000, "step": 100},
        "seed": {"type": "SliderInt", "label": "Seed", "value": cfg.seed, "min": 0,
                 "max": 100, "step": 1},
        "days": {"type": "SliderInt", "label": "Horizon (days)", "value": cfg.days, "min": 30,
                 "max": 1825, "step": 5},
        "apply_levers": {"type": "Checkbox", "label": "Apply the lever sliders to A "
                         "(off: the strategy preset's values)", "value": False},
    }
    for name, lever in available_levers().items():
        params[name] = {"type": "SliderFloat", "label": lever.label,
                        "value": lever.value(cfg), "min": lever.lo, "max": lever.hi,
                        "step": lever.step}
    return params


def initial_kwargs(params: dict) -> dict:
    """The keyword arguments Reset would pass with the controls untouched."""
    return {k: (v["value"] if isinstance(v, dict) and "type" in v else v)
            for k, v in params.items()}


# ---------------------------------------------------------------------------- components


@solara.component
def KpiTable(model: DashboardModel):
    update_counter.get()
    html = solara.use_memo(lambda: plots.kpi_table_html(model), [model, model.day])
    solara.HTML(tag="div", unsafe_innerHTML=html, classes=["siyu-kpi-table"])


@solara.component
def NetworkView(model: DashboardModel):
    update_counter.get()
    why = network.drawable(next(iter(model.scenarios.values())))
    png = solara.use_memo(
        lambda: None if why else network.network_png(model.scenarios, model.day),
        [model, model.day])
    if why is not None:
        solara.HTML(tag="div", unsafe_innerHTML=f"Network view: {why}.", classes=["siyu-note"])
    else:
        solara.Image(png, classes=["siyu-network"])


@solara.component
def KpiPlot(model: DashboardModel, name: str):
    update_counter.get()
    png = solara.use_memo(lambda: plots.kpi_png(model.scenarios, name), [model, model.day, name])
    solara.Image(png, classes=["siyu-plot", f"siyu-plot-{name}"])


def _plot(name: str):
    def component(model):
        return KpiPlot(model, name)

    component.__name__ = f"plot_{name}"
    return component


# (component, page): everything on one page; SolaraViz lays them out in a draggable grid
COMPONENTS = [(KpiTable, 0), (NetworkView, 0)] + [(_plot(n), 0) for n in plots.KPI_PLOTS]


@solara.component
def Page():
    params = solara.use_memo(model_params, [])
    model = solara.use_memo(lambda: DashboardModel(**initial_kwargs(params)), [])
    solara.Title("siyu-sim dashboard")
    solara.Style(CSS)
    # render_interval: days per Step press and per redraw while playing
    SolaraViz(model, components=COMPONENTS, model_params=params, name=TITLE,
              play_interval=50, render_interval=7)


# ---------------------------------------------------------------------------- launcher


def main(argv: list[str] | None = None) -> None:
    """``python -m sim.dashboard``: ```solara run sim.dashboard.app``` with the local front-end files."""
    p = argparse.ArgumentParser(prog="python -m sim.dashboard", description=TITLE)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p.add_argument("--assets", default=None,
                   help="directory of Solara's front-end files (default: "
                        f"${assets.ENV_DIR} or <venv>/share/solara/cdn)")
    p.add_argument("--dev", action="store_true",
                   help="Solara development mode: restart on code changes")
    args = p.parse_args(argv)

    assets_dir = os.path.abspath(args.assets) if args.assets else str(assets.default_dir())
    env = dict(os.environ)
    env[assets.ENV_CACHE_DIR] = assets_dir
    env["SOLARA_ASSETS_PROXY"] = "true"  # the browser gets the files from this server
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")  # no calls home
    gone = assets.missing(assets_dir)
    if gone:
        print(f"siyu-sim dashboard: warning: Solara's front-end files are missing in "
              f"{assets_dir} ({', '.join(gone)}); the server will try a public CDN, which needs "
              "internet. Fetch them once with: bash scripts/fetch_solara_assets.sh",
              file=sys.stderr)
    # not "python -m solara": its auto-restart (--dev) pickles a function of solara.__main__,
    # which only resolves when that module is imported under its own name
    cmd = [sys.executable, "-c", "from solara.__main__ import main; main()", "run", "sim.dashboard.app",
           "--host", args.host, "--port", str(args.port), "--no-open", "--no-check-version"]
    cmd += ["--auto-restart"] if args.dev else ["--production"]
    print(f"siyu-sim dashboard: http://{args.host}:{args.port}/ (assets: {assets_dir})",
          flush=True)
    os.execve(sys.executable, cmd, env)


if __name__ == "__main__":
    main()
