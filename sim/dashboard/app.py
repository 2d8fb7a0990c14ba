"""Strategist dashboard: a Solara page over siyu-sim's Mesa model (docs/dashboard.md).

Start it (binds 127.0.0.1 unless told otherwise; needs the ``viz`` extra)::

    .venv/bin/python -m sim.dashboard --host 127.0.0.1 --port 8765 [--lang en]

Choose a market and a baseline strategy, optionally an arm to compare with (another preset
and/or moved levers), press Reset to build, then Step, Play or Run to the end. The page shows
the KPI table (``arm - baseline`` with its paired 95% interval over seeds), six plots (mean over
seeds, range as a band), the private domain's structure on a sample (stores, staff accounts,
groups, members, KOCs, referrals) and download buttons for the series and the summary. Every
text is ``sim.i18n`` (``zh`` or ``en``, switched in the top bar).

The page is built from Solara components (Mesa's own viz stack) rather than Mesa's generic
``SolaraViz`` page: that page's controls, tabs and captions are fixed English. The model is
a ``mesa.Model`` (:class:`~sim.dashboard.model.DashboardModel`), built when a browser opens
the page, never at import. ``main()`` wraps ``solara run`` and points Solara at the local
front-end files (fetched by ``scripts/setup.sh``), so the page loads without internet.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import sys
import threading
import time
import traceback

import solara
import solara.lab

from sim.dashboard import assets, export, network, plots
from sim.dashboard.model import (
    NONE,
    DashboardModel,
    available_levers,
    default_choice,
    default_config,
    presets,
)
from sim.i18n import LANGS, tr

logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO

ENV_LANG = "SIYU_DASH_LANG"
DEFAULT_N_USERS = 30_000
DEFAULT_SEEDS = 5
RENDER_DAYS = 7  # days per Step press and per redraw while playing
RUN_TO_END_DAYS = 30  # days per redraw when running to the end
CSS = """
.siyu-main { padding: 4px 8px; }
.siyu-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(400px, 1fr));
  gap: 10px; width: 100%; }
.siyu-panel { background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; padding: 6px 8px; }
.siyu-panel-title { font-weight: 600; font-size: 14px; margin-bottom: 2px; }
.siyu-axis { font-size: 11px; color: #666; }
.siyu-kpis { border-collapse: collapse; font-size: 12px; width: 100%; }
.siyu-kpis th, .siyu-kpis td { padding: 2px 6px; border-bottom: 1px solid #e5e5e5;
  text-align: right; line-height: 1.35; white-space: nowrap; }
.siyu-kpis th:first-child, .siyu-kpis td:first-child { text-align: left; }
.siyu-kpis tr.siyu-better td:last-child { color: #1a7f1a; font-weight: 600; }
.siyu-kpis tr.siyu-worse td:last-child { color: #c62828; font-weight: 600; }
.siyu-kpis tr.siyu-ns td:nth-last-child(-n+2) { color: #888; }
.siyu-caption { font-size: 12px; margin-bottom: 3px; }
.siyu-caption:first-child { font-weight: 600; font-size: 13px; }
.siyu-note { font-size: 13px; color: #666; padding: 40px 8px; text-align: center; }
.siyu-plot { width: 100%; max-width: 520px; }
.siyu-network { width: 100%; max-width: 460px; }
.siyu-legend { font-size: 12px; margin: 2px 0 6px 0; }
.siyu-key { margin-right: 14px; white-space: nowrap; }
.siyu-swatch { display: inline-block; width: 18px; height: 4px; margin-right: 5px;
  vertical-align: middle; }
.siyu-band { color: #666; }
.siyu-lever { margin-bottom: 10px; }
.siyu-lever .v-input__slot { margin-bottom: 0; }
.siyu-lever .v-messages { display: none; }
.siyu-lever-head { font-size: 13px; }
.siyu-value { font-weight: 700; color: #1864ab; }
.siyu-help { font-size: 11.5px; color: #555; line-height: 1.3; }
.siyu-meta { font-size: 10.5px; color: #999; line-height: 1.25; }
.siyu-pending { font-size: 12px; color: #c92a2a; }
.siyu-glyph { font-size: 14px; margin-right: 3px; }
"""


def warm_up() -> None:
    """Compose the presets and defaults the first page needs (Hydra compositions, cached), in
    a background thread when the server imports this module: the first page then opens in
    the time it takes to build its models. Builds no model."""
    try:
        for group in ("market", "strategy", "dealer", "channel", "graph"):
            presets(group)
        lever_defaults(default_config().strategy.name)
    except Exception:  # noqa: BLE001 - the page reports problems when it needs these
        logging.getLogger(__name__).exception("dashboard warm-up failed")


def default_lang() -> str:
    lang = os.environ.get(ENV_LANG, "zh")
    return lang if lang in LANGS else "zh"


def initial_params() -> dict:
    """The keyword arguments of the first model: defaults of ``conf/config.yaml``."""
    cfg = default_config()
    params = {"market": cfg.market.name, "strategy": cfg.strategy.name, "compare": NONE,
              "dealer": default_choice("dealer"), "channel": default_choice("channel"),
              "graph": cfg.graph.kind, "n_users": DEFAULT_N_USERS, "n_seeds": DEFAULT_SEEDS,
              "seed": 1, "days": cfg.days, "apply_levers": False}
    params.update(lever_defaults(cfg.strategy.name))
    return params


@functools.cache
def _lever_defaults(strategy: str) -> tuple:
    from sim.dashboard.model import load_config

    cfg = load_config([f"strategy={strategy}", "population.n_users=100"])
    return tuple((k, lever.value(cfg)) for k, lever in available_levers().items())


def lever_defaults(strategy: str) -> dict:
    """Each lever at the value of ``strategy``'s preset (the sliders' starting point)."""
    return dict(_lever_defaults(strategy))


# --------------------------------------------------------------------------- controls


@solara.component
def Choice(label: str, group: str, value: str, options: list[str], on_value, lang: str,
           name: str = "", with_none: bool = False):
    items = [{"text": tr("dash.none", lang), "value": NONE}] if with_none else []
    items += [{"text": plots.preset_label(group, o, lang)
               + (f" ({o})" if plots.preset_label(group, o, lang) != o else ""), "value": o}
              for o in options]
    solara.v.Select(label=label, items=items, v_model=value, on_v_model=on_value, dense=True,
                    class_=f"siyu-select siyu-select-{name or group}")


@solara.component
def LeverControl(name: str, value: float, on_value, lang: str, disabled: bool):
    from sim.dashboard.model import LEVERS

    lever = LEVERS[name]
    meta = lever.meta()
    unit = tr(f"dash.lever.{name}.unit", lang)
    with solara.Column(gap="0px", classes=["siyu-lever", f"siyu-lever-{name}"]):
        solara.HTML(tag="div", classes=["siyu-lever-head"], unsafe_innerHTML=(
            f"{tr(f'dash.lever.{name}', lang)}: <span class='siyu-value'>{value:g}</span> "
            f"{unit}"))
        solara.HTML(tag="div", classes=["siyu-help"],
                    unsafe_innerHTML=tr(f"dash.lever.{name}.help", lang))
        solara.SliderFloat(label="", value=value, min=lever.lo, max=lever.hi, step=lever.step,
                           on_value=on_value, thumb_label=True, disabled=disabled)
        solara.HTML(tag="div", classes=["siyu-meta"], unsafe_innerHTML=(
            f"{lever.key(default_config())} · {lever.lo:g}–{lever.hi:g} · "
            f"{meta.get('unit') or meta.get('doc', '')} · {tr('dash.source', lang)}: "
            f"{meta.get('source', '')}"))


@solara.component
def NumberControl(label: str, value: int, on_value, lo: int, hi: int, step: int, unit: str,
                  help_text: str, name: str):
    with solara.Column(gap="0px", classes=["siyu-lever", f"siyu-param-{name}"]):
        solara.HTML(tag="div", classes=["siyu-lever-head"], unsafe_innerHTML=(
            f"{label}: <span class='siyu-value'>{value:,}</span> {unit}"))
        if help_text:
            solara.HTML(tag="div", classes=["siyu-help"], unsafe_innerHTML=help_text)
        solara.SliderInt(label="", value=value, min=lo, max=hi, step=step, on_value=on_value)


# --------------------------------------------------------------------------- panels


@solara.component
def KpiPanel(dash: DashboardModel, day: int, lang: str):
    html = solara.use_memo(lambda: plots.kpi_table_html(dash, lang), [dash, day, lang])
    with solara.Column(classes=["siyu-panel", "siyu-kpi-panel"], gap="2px"):
        solara.HTML(tag="div", classes=["siyu-panel-title"], unsafe_innerHTML=tr(
            "dash.kpi_title", lang))
        solara.HTML(tag="div", unsafe_innerHTML=html, classes=["siyu-kpi-table"])


@solara.component
def PlotPanel(dash: DashboardModel, day: int, lang: str, name: str):
    snap = dash.snapshot()
    png = solara.use_memo(lambda: plots.kpi_png(snap, name, lang), [dash, day, lang, name])
    with solara.Column(classes=["siyu-panel", f"siyu-panel-{name}"], gap="0px"):
        solara.HTML(tag="div", classes=["siyu-panel-title"],
                    unsafe_innerHTML=tr(plots.KPI_PLOTS[name][0], lang))
        if png is None:
            solara.HTML(tag="div", classes=["siyu-note", f"siyu-note-{name}"],
                        unsafe_innerHTML=tr("dash.day0", lang))
        else:
            solara.Image(png, classes=["siyu-plot", f"siyu-plot-{name}"])
            solara.HTML(tag="div", classes=["siyu-axis"], unsafe_innerHTML=tr(
                "dash.axes", lang, unit=plots.unit_text(name, lang, snap)))


GLYPHS = (("brand", "⬢", "brand"), ("store", "■", "store"), ("staff", "▲", "staff"),
          ("group_live", "●", "group_live"), ("group_dead", "●", "group_dead"),
          ("member", "•", "member"), ("churned", "×", "churned"), ("koc", "★", "koc"),
          ("referral", "―", "referral"))


@solara.component
def NetworkPanel(dash: DashboardModel, day: int, lang: str):
    views = solara.use_memo(
        lambda: [(n, *network.network_png(dash.scenarios[n][0])) for n in dash.names],
        [dash, day])
    with solara.Column(classes=["siyu-panel", "siyu-network-panel"], gap="2px"):
        solara.HTML(tag="div", classes=["siyu-panel-title"],
                    unsafe_innerHTML=tr("dash.network_title", lang, seed=dash.seeds[0]))
        legend = "".join(
            f'<span class="siyu-key"><span class="siyu-glyph" style="color:'
            f'{network.COLORS[c]}">{g}</span>{tr(f"dash.net.{k}", lang)}</span>'
            for k, g, c in GLYPHS)
        solara.HTML(tag="div", classes=["siyu-legend"], unsafe_innerHTML=legend)
        with solara.Row(gap="8px", style={"flex-wrap": "wrap"}):
            for name, png, counts in views:
                with solara.Column(gap="0px", style={"flex": "1 1 300px"}):
                    solara.HTML(tag="div", classes=["siyu-caption"],
                                unsafe_innerHTML=plots.scenario_label(dash, name, lang))
                    solara.Image(png, classes=["siyu-network", f"siyu-network-{name}"])
                    solara.HTML(tag="div", classes=["siyu-axis"], unsafe_innerHTML=tr(
                        "dash.network_counts", lang, **{k: f"{v:,}" for k, v in counts.items()}))


@solara.component
def Downloads(dash: DashboardModel, day: int, lang: str):
    stem = f"siyu_{dash.market}_{dash.strategy}" + (
        f"_vs_{dash.arm_strategy}" if dash.arm_strategy else "") + f"_day{day}"
    with solara.Row(gap="8px", classes=["siyu-downloads"]):
        solara.FileDownload(lambda: export.series_csv(dash), filename=f"{stem}_series.csv",
                            label=tr("dash.download_series", lang), mime_type="text/csv")
        solara.FileDownload(lambda: export.summary_json(dash), filename=f"{stem}_summary.json",
                            label=tr("dash.download_summary", lang),
                            mime_type="application/json")


# --------------------------------------------------------------------------- the page


@solara.component
def Page():
    lang, set_lang = solara.use_state(default_lang())
    params = solara.use_reactive(solara.use_memo(initial_params, []))
    dash = solara.use_reactive(solara.use_memo(lambda: DashboardModel(**params.value), []))
    # the parameters the model was built with (use_reactive follows a changing argument:
    # give it a memoised one)
    built = solara.use_reactive(solara.use_memo(lambda: dict(params.value), []))
    day = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    to_end = solara.use_reactive(False)
    error = solara.use_reactive(None)

    def set_param(key):
        def setter(value):
            new = dict(params.value, **{key: value})
            if key == "compare" or (key == "strategy" and new["compare"] == NONE):
                # the arm's sliders start at its own preset's values
                arm = new["compare"] if new["compare"] != NONE else new["strategy"]
                new.update(lever_defaults(arm))
            params.value = new
        return setter

    def loop():
        try:
            while playing.value and dash.value.running:
                chunk = RUN_TO_END_DAYS if to_end.value else RENDER_DAYS
                for _ in range(chunk):
                    dash.value.step()
                    if not playing.value or not dash.value.running:
                        break
                day.value = dash.value.day
                time.sleep(0.02)
        except Exception as e:  # noqa: BLE001 - shown on the page, logged on the server
            traceback.print_exc()
            error.value = f"{e}"
        finally:
            playing.value = False
            to_end.value = False

    solara.lab.use_task(loop, dependencies=[playing.value], prefer_threaded=True)

    def do_step():
        error.value = None
        for _ in range(RENDER_DAYS):
            if not dash.value.running:
                break
            dash.value.step()
        day.value = dash.value.day

    def do_reset():
        playing.value = False
        error.value = None
        wanted = dict(params.value)
        try:
            model = DashboardModel(**wanted)
        except Exception as e:  # noqa: BLE001
            traceback.print_exc()
            error.value = f"{e}"
            return
        built.value = wanted
        dash.value = model
        day.value = 0

    def do_play():
        error.value = None
        to_end.value = False
        playing.value = not playing.value

    def do_run_to_end():
        error.value = None
        to_end.value = True
        playing.value = True

    d = dash.value
    p = params.value
    solara.Title(tr("dash.title", lang))
    solara.Style(CSS)
    with solara.AppBar():
        solara.AppBarTitle(tr("dash.title", lang))
        with solara.Row(classes=["siyu-lang"]):
            for code in LANGS:
                solara.Button(tr(f"dash.lang.{code}", lang), on_click=lambda c=code: set_lang(c),
                              text=code != lang, outlined=code == lang, color="white",
                              classes=[f"siyu-lang-{code}"])

    with solara.Sidebar():
        with solara.Card(tr("dash.run", lang)):
            with solara.Row(gap="6px", style={"flex-wrap": "wrap"}):
                solara.Button(tr("dash.reset", lang), on_click=do_reset, color="primary",
                              classes=["siyu-reset"])
                solara.Button(tr("dash.step", lang), on_click=do_step, color="primary",
                              disabled=playing.value or not d.running, classes=["siyu-step"])
                solara.Button(tr("dash.pause" if playing.value else "dash.play", lang),
                              on_click=do_play, color="primary", disabled=not d.running,
                              classes=["siyu-play"])
                solara.Button(tr("dash.run_to_end", lang), on_click=do_run_to_end,
                              color="primary", disabled=playing.value or not d.running,
                              classes=["siyu-run-to-end"])
            solara.HTML(tag="div", classes=["siyu-day"], unsafe_innerHTML=tr(
                "dash.day_of", lang, day=d.day, days=d.days))
            if p != built.value:
                solara.HTML(tag="div", classes=["siyu-pending"],
                            unsafe_innerHTML=tr("dash.pending", lang))
            if error.value:
                solara.Error(tr("dash.error", lang, error=error.value))
        with solara.Card(tr("dash.scenario", lang)):
            Choice(tr("dash.market", lang), "market", p["market"], list(presets("market")),
                   set_param("market"), lang)
            Choice(tr("dash.strategy", lang), "strategy", p["strategy"],
                   list(presets("strategy")), set_param("strategy"), lang)
            Choice(tr("dash.compare", lang), "strategy", p["compare"], list(presets("strategy")),
                   set_param("compare"), lang, name="compare", with_none=True)
            Choice(tr("dash.dealer", lang), "dealer", p["dealer"], list(presets("dealer")),
                   set_param("dealer"), lang)
            Choice(tr("dash.channel", lang), "channel", p["channel"], list(presets("channel")),
                   set_param("channel"), lang)
            Choice(tr("dash.graph", lang), "graph", p["graph"], list(presets("graph")),
                   set_param("graph"), lang)
            NumberControl(tr("dash.n_users", lang), p["n_users"], set_param("n_users"), 1_000,
                          200_000, 1_000, tr("dash.unit.users", lang),
                          tr("dash.n_users.help", lang), "n_users")
            NumberControl(tr("dash.n_seeds", lang), p["n_seeds"], set_param("n_seeds"), 1, 10, 1,
                          "", tr("dash.n_seeds.help", lang), "n_seeds")
            NumberControl(tr("dash.seed", lang), p["seed"], set_param("seed"), 0, 1000, 1, "",
                          tr("dash.seed.help", lang), "seed")
            NumberControl(tr("dash.days", lang), p["days"], set_param("days"), 30, 1825, 5,
                          tr("dash.unit.days", lang), "", "days")
        with solara.Card(tr("dash.levers", lang)):
            solara.Checkbox(label=tr("dash.apply_levers", lang), value=p["apply_levers"],
                            on_value=set_param("apply_levers"))
            for name in available_levers():
                LeverControl(name, p[name], set_param(name), lang, not p["apply_levers"])

    with solara.Column(classes=["siyu-main"], gap="8px"):
        solara.HTML(tag="div", unsafe_innerHTML=plots.legend_html(d, lang))
        with solara.Row(gap="10px", style={"flex-wrap": "wrap", "align-items": "flex-start"}):
            with solara.Column(style={"flex": "1 1 560px"}, gap="6px"):
                KpiPanel(d, day.value, lang)
                Downloads(d, day.value, lang)
            with solara.Column(style={"flex": "1 1 520px"}):
                NetworkPanel(d, day.value, lang)
        with solara.v.Html(tag="div", class_="siyu-grid"):
            for name in plots.KPI_PLOTS:
                PlotPanel(d, day.value, lang, name)


# ---------------------------------------------------------------------------- launcher


def main(argv: list[str] | None = None) -> None:
    """``python -m sim.dashboard``: ``solara run sim.dashboard.app`` with the local front-end files."""
    p = argparse.ArgumentParser(prog="python -m sim.dashboard",
                                description="siyu-sim strategy dashboard (docs/dashboard.md)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p.add_argument("--lang", choices=LANGS, default=None,
                   help=f"language the page opens in (default ${ENV_LANG}, else zh)")
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
    if args.lang:
        env[ENV_LANG] = args.lang
    gone = assets.missing(assets_dir)
    if gone:
        print(f"siyu-sim dashboard: warning: Solara's front-end files are missing in "
              f"{assets_dir} ({', '.join(gone)}); the server will try a public CDN, which needs "
              "internet. Fetch them once with: bash scripts/fetch_solara_assets.sh",
              file=sys.stderr)
    # not "python -m solara": its auto-restart (--dev) pickles a function of solara.__main__,
    # which only resolves when that module is imported under its own name
    cmd = [sys.executable, "-c", "from solara.__main__ import main; main()", "run",
           "sim.dashboard.app", "--host", args.host, "--port", str(args.port), "--no-open",
           "--no-check-version"]
    cmd += ["--auto-restart"] if args.dev else ["--production"]
    print(f"siyu-sim dashboard: http://{args.host}:{args.port}/ (assets: {assets_dir})",
          flush=True)
    os.execve(sys.executable, cmd, env)


# under the dashboard server (main() sets the assets variable), warm the caches at import
if os.environ.get(assets.ENV_CACHE_DIR):
    threading.Thread(target=warm_up, name="siyu-warm-up", daemon=True).start()

if __name__ == "__main__":
    main()
