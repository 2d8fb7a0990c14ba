"""A study's self-contained report, rebuilt from a sweep dir's saved files alone.

``build_report(sweep_dir)`` reads the run dirs (:mod:`sim.experiments.aggregate`) and writes
``runs.parquet`` (a row per run), ``comparison.csv`` (paired differences), ``horizons.csv``,
the kind's own table (``attribution.csv``, ``worlds.csv`` or ``trials.csv`` with
``presets/``), ``figures/*.png`` and ``report.html`` (figures embedded as base64 PNG: one file
to mail or archive; a print layout for PDF). Every report opens with a one-page executive
summary (:mod:`sim.experiments.summary`). All text comes from ``sim/i18n.py`` in the
language of ``report.lang`` (the runs' config, or ``lang=``): ``zh`` or ``en``.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import math
from datetime import UTC, datetime
from pathlib import Path

from sim.config.keys import flatten
from sim.data.io import write_atomic
from sim.experiments import figures as figs
from sim.experiments.aggregate import Sweep, load_sweep, write_runs_table
from sim.experiments.analysis import (
    T,
    comparison_table,
    decision_kpi,
    factor_label,
    fmt_ci,
    fmt_diff,
    fmt_value,
    label,
    overview,
    reading,
)
from sim.experiments.stats import LEVEL
from sim.experiments.study import KPIS

REPORT = "report.html"

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,"Noto Sans CJK SC","PingFang SC",
 "Microsoft YaHei",sans-serif;max-width:1180px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em} h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
.question{font-size:1.05em;background:#f4f7fb;border-left:4px solid #1f77b4;padding:.6em 1em}
.exec{border:2px solid #1f77b4;border-radius:6px;padding:.4em 1.2em;background:#fbfdff}
.exec .rec{font-size:1.2em} .exec dt{font-weight:600;margin-top:.5em} .exec dd{margin-left:1em}
.exec ul{margin:.2em 0;padding-left:1.2em}
table{border-collapse:collapse;font-size:.88em;margin:.6em 0} td,th{border:1px solid #ddd;padding:.25em .55em}
th{background:#f3f3f3} td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.ns td,span.ns{color:#777} .better{color:#1a7f1a;font-weight:600} .worse{color:#c62828;font-weight:600}
.higher,.lower{color:#1f5fa0;font-weight:600} img{max-width:100%;border:1px solid #eee;margin:.4em 0}
pre{background:#f7f7f7;padding:.6em;overflow:auto;font-size:.8em} .note{color:#555;font-size:.9em}
summary{cursor:pointer;color:#1f5fa0}
@page{size:A4;margin:12mm}
@media print{body{max-width:none;margin:0;font-size:10pt} .exec-page{break-after:page}
 h2{break-after:avoid} figure,img,table,tr{break-inside:avoid} summary{display:none}
 pre{white-space:pre-wrap;font-size:7pt}}
"""


def _img(name: str, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{data}"></figure>'


def _fold(summary: str, body: str, open_: bool = False) -> str:
    return (f"<details{' open' if open_ else ''}><summary>{html.escape(summary)}</summary>"
            f"{body}</details>")


# --------------------------------------------------------------------------- the pair view


def pair_view(sweep: Sweep) -> Sweep:
    """The sweep as a comparison of arms: itself for ``compare``; for the design kinds the
    baseline and challenger runs, labelled with the presets' names (factorial: its corner
    cells; optimise: its reference runs; uncertainty: every world, paired within a world)."""
    spec = sweep.spec
    if spec is None or spec.kind == "compare":
        return sweep
    runs = sweep.runs
    d = sweep.design
    if spec.kind == "factorial":
        k = len(d["factors"])
        names = {f"cell_{'0' * k}": spec.baseline, f"cell_{'1' * k}": spec.challenger}
        runs = runs[runs["arm"].isin(list(names))].assign(arm=lambda r: r["arm"].map(names))
    elif spec.kind == "optimise":
        names = {"baseline": spec.baseline, "challenger": spec.challenger}
        runs = runs[runs["arm"].isin(list(names))].assign(arm=lambda r: r["arm"].map(names))
    else:  # uncertainty: a (world, seed) pair is one paired replicate
        info = {p["id"]: p["info"] for p in d["points"]}
        runs = runs.assign(arm=[info[a]["arm"] for a in runs["arm"]],
                           seed=[info[a]["world"] * 100_000 + int(s)
                                 for a, s in zip(runs["arm"], runs["seed"], strict=True)])
    return dataclasses.replace(sweep, runs=runs.reset_index(drop=True))


def _lang(sweep: Sweep) -> str:
    first = sweep.runs["run_dir"].iloc[0]
    try:
        cfg = json.loads((sweep.root / first / "summary.json").read_text())["config"]
        return str(cfg.get("report", {}).get("lang", "zh"))
    except (OSError, ValueError, KeyError):
        return "zh"


def _best_arm(table, kpi: str) -> str | None:
    t = table[table["kpi"] == kpi]
    if t.empty:
        return None
    better = KPIS[kpi][1] or 1
    return str((t.groupby("arm", sort=False)["diff"].mean() * better).idxmax())


# --------------------------------------------------------------------------- html pieces


def _kpi_tables(table, lang: str) -> str:
    if table.empty:
        return f"<p>{T('t.nothing', lang)}</p>"
    parts = []
    pct = round(100 * LEVEL)
    for (stratum, arm), t in table.groupby(["stratum", "arm"], sort=False):
        base = t["baseline"].iloc[0]
        n = int(t["n_pairs"].max())
        parts.append(f"<h3>{html.escape(arm)} vs {html.escape(base)}"
                     f"{' &mdash; ' + html.escape(stratum) if stratum else ''} "
                     f"<span class=note>({T('t.paired_seeds', lang, n=n)})</span></h3>")
        parts.append(
            f"<table><tr><th>{T('t.kpi', lang)}</th>"
            f"<th>{T('t.base_mean', lang, base=html.escape(base), pct=pct)}</th>"
            f"<th>{T('t.arm_mean', lang, arm=html.escape(arm), pct=pct)}</th>"
            f"<th>{T('t.diff', lang, arm=html.escape(arm), base=html.escape(base))}</th>"
            f"<th>{T('t.diff_ci', lang, pct=pct)}</th><th>{T('t.relative', lang)}</th>"
            f"<th>{T('t.verdict', lang)}</th></tr>")
        for _, r in t.iterrows():
            f = r["format"]
            cls = "" if r["significant"] else ' class="ns"'
            rel = f"{100 * r['rel']:+.1f}%" if math.isfinite(r["rel"]) else "n/a"
            parts.append(
                f"<tr{cls}><td>{html.escape(r['label'])}</td>"
                f"<td class=num>{fmt_value(r['base_mean'], f, lang)} "
                f"{fmt_ci(r['base_lo'], r['base_hi'], f, lang=lang)}</td>"
                f"<td class=num>{fmt_value(r['arm_mean'], f, lang)} "
                f"{fmt_ci(r['arm_lo'], r['arm_hi'], f, lang=lang)}</td>"
                f"<td class=num>{fmt_diff(r['diff'], f, lang)}</td>"
                f"<td class=num>{fmt_ci(r['diff_lo'], r['diff_hi'], f, diff=True, lang=lang)}</td>"
                f"<td class=num>{rel}</td>"
                f"<td class={html.escape(r['verdict'].replace('.', ''))}>"
                f"{html.escape(T('verdict.' + r['verdict'], lang))}</td></tr>")
        parts.append("</table>")
    parts.append(f"<p class=note>{T('t.note', lang, pct=pct)}</p>")
    return "\n".join(parts)


def _reading_html(r) -> str:
    out = f"<p><b>{html.escape(r.headline)}</b></p>"
    if r.findings:
        items = []
        for lab, parts in r.findings:
            spans = []
            for verdict, text in parts:
                v = f"<span class={html.escape(verdict.replace('.', ''))}>" \
                    f"{html.escape(r.word(verdict))}</span>"
                spans.append(f"{v} {html.escape(text)}" if r.verdict_first
                             else f"{html.escape(text)}: {v}")
            items.append(f"<li>{html.escape(lab)}: {'; '.join(spans)}</li>")
        out += "<ul>" + "".join(items) + "</ul>"
    if r.not_significant:
        out += "<p>" + html.escape(T("r.ns", r.lang, list=", ".join(r.not_significant))) + "</p>"
    return out


def _reading_section(sweep: Sweep, table, lang: str) -> str:
    over = overview(sweep, table, lang)
    detail = "".join(_reading_html(r) for r in reading(sweep, table, lang))
    if not over:
        return detail
    return "".join(_reading_html(r) for r in over) + _fold(T("r.per_stratum", lang), detail)


def _horizon_table(ht, lang: str) -> str:
    if ht is None or ht.empty:
        return ""
    days = sorted(ht["day"].unique())
    parts = []
    for stratum, t in ht.groupby("stratum", sort=False):
        arm, base = t["arm"].iloc[0], t["baseline"].iloc[0]
        parts.append(f"<h3>{html.escape(arm)} &minus; {html.escape(base)}"
                     f"{' &mdash; ' + html.escape(stratum) if stratum else ''}</h3><table><tr>"
                     f"<th>{T('t.kpi', lang)}</th>"
                     + "".join(f"<th>{T('t.day', lang, day=d)}</th>" for d in days) + "</tr>")
        for kpi, g in t.groupby("kpi", sort=False):
            cells = []
            for d in days:
                r = g[g["day"] == d].iloc[0]
                cls = "" if r["significant"] else " ns"
                cells.append(f"<td class='num{cls}'>{fmt_diff(r['diff'], r['format'], lang)}"
                             f"<br><span class=note>{fmt_ci(r['diff_lo'], r['diff_hi'], r['format'], True, lang)}"
                             f"</span></td>")
            parts.append(f"<tr><td>{html.escape(label(kpi, lang))}</td>{''.join(cells)}</tr>")
        parts.append("</table>")
    parts.append(f"<p class=note>{T('t.horizon_note', lang)}</p>")
    return "".join(parts)


def _effects_table(effects, kpi: str, spec, design, lang: str) -> str:
    if effects is None or effects.empty:
        return ""
    fmt = KPIS[kpi][2]
    k = len(design["factors"])
    parts = [f"<p class=note>{T('t.factors', lang, base=spec.baseline, arm=spec.challenger)}: "
             + "; ".join(f"<b>{html.escape(factor_label(g, lang))}</b> ("
                         + ", ".join(f"<code>{html.escape(key)}</code> {a}→{b}"
                                     for key, (a, b) in keys.items()) + ")"
                         for g, keys in design["factors"].items()) + "</p>"]
    for stratum, e in effects.groupby("stratum", sort=False):
        tot = e[e["kind"] == "total"].iloc[0]
        parts.append(f"<h3>{html.escape(label(kpi, lang))}"
                     f"{' &mdash; ' + html.escape(stratum) if stratum else ''} "
                     f"<span class=note>({T('t.paired_seeds', lang, n=int(tot['n']))})</span></h3>")
        parts.append(f"<p>{T('t.total', lang, arm=spec.challenger, base=spec.baseline)}: "
                     f"<b>{fmt_diff(tot['mean'], fmt, lang)}</b> "
                     f"{fmt_ci(tot['lo'], tot['hi'], fmt, True, lang)}</p>")
        for kind in ("shapley", "main", "interaction"):
            g = e[(e["kind"] == kind) & e["matters"]]
            parts.append(f"<h4>{T('t.' + kind, lang)}</h4>")
            if g.empty:
                parts.append(f"<p class=note>{T('t.no_interaction', lang)}</p>")
                continue
            parts.append(f"<table><tr><th>{T('t.term', lang)}</th><th>{T('t.effect', lang)}</th>"
                         f"<th>{T('t.ci', lang)}</th><th>{T('t.share', lang)}</th></tr>")
            for _, r in g.iterrows():
                cls = "" if r["significant"] else ' class="ns"'
                share = f"{100 * r['share']:.0f}%" if math.isfinite(r["share"]) else "n/a"
                parts.append(f"<tr{cls}><td>{html.escape(r['term'])}</td>"
                             f"<td class=num>{fmt_diff(r['mean'], fmt, lang)}</td>"
                             f"<td class=num>{fmt_ci(r['lo'], r['hi'], fmt, True, lang)}</td>"
                             f"<td class=num>{share}</td></tr>")
            parts.append("</table>")
    parts.append(f"<p class=note>{T('t.attr_note', lang, k=k, cells=2 ** k)}</p>")
    return "".join(parts)


def _robustness_html(rob, box, drv, design, kpi: str, spec, lang: str) -> str:
    from sim.experiments.summary import box_text, fmt_share

    fmt = KPIS[kpi][2]
    rows = [f"<table><tr><th>{T('t.stratum', lang)}</th><th>{T('t.world_n', lang)}</th>"
            f"<th>{T('t.ahead', lang, arm=html.escape(spec.challenger))}</th>"
            f"<th>{T('t.sig_ahead', lang)}</th><th>{T('t.sig_behind', lang)}</th>"
            f"<th>{T('t.median', lang)}</th><th>{T('t.range', lang)}</th></tr>"]
    for stratum, v in rob.items():
        rows.append(f"<tr><td>{html.escape(stratum or T('t.overall', lang))}</td>"
                    f"<td class=num>{v['worlds']}</td><td class=num>{fmt_share(v['ahead'])}</td>"
                    f"<td class=num>{fmt_share(v['sig_ahead'])}</td>"
                    f"<td class=num>{fmt_share(v['sig_behind'])}</td>"
                    f"<td class=num>{fmt_diff(v['median'], fmt, lang)}</td>"
                    f"<td class=num>{fmt_diff(v['p10'], fmt, lang)} … "
                    f"{fmt_diff(v['p90'], fmt, lang)}</td></tr>")
    rows.append("</table>")
    band = design.get("band", 2.0)
    rows.append(f"<p class=note>{T('t.world_note', lang, n=len(design.get('parameters', [])), band=band)}</p>")
    rows.append(f"<p>{T('t.prim_note', lang)} ")
    if box is None:
        rows.append(html.escape(T("ex.no_flip", lang)) + "</p>")
    else:
        rows.append(html.escape(T("ex.flip_box", lang, box=box_text(box, band, lang),
                                  cov=fmt_share(box.coverage), dens=fmt_share(box.density),
                                  base=fmt_share(box.base_rate))) + "</p>")
    if drv:
        rows.append(f"<table><tr><th>{T('t.param', lang)}</th><th>{T('t.rho', lang)}</th></tr>"
                    + "".join(f"<tr><td><code>{html.escape(k)}</code></td>"
                              f"<td class=num>{r:+.2f}</td></tr>" for k, r in drv) + "</table>")
    return "".join(rows)


def _pareto_html(trials, objectives, spec, lang: str) -> str:
    from sim.experiments.pareto import command

    o1, o2 = objectives
    f1, f2 = KPIS[o1][2], KPIS[o2][2]
    show = trials[trials["pareto"] | (trials["role"] != "trial")]
    rows = [f"<table><tr><th>{T('t.point', lang)}</th><th>{T('t.role', lang)}</th>"
            f"<th>{html.escape(label(o1, lang))}</th><th>{html.escape(label(o2, lang))}</th>"
            f"<th>{T('kpi.cost', lang)}</th><th>{T('t.on_front', lang)}</th>"
            f"<th>{T('t.feasible', lang)}</th><th>{T('t.run_it', lang)}</th></tr>"]
    for _, r in show.iterrows():
        settings = r["settings"] or {}
        cmd = (command(spec.baseline, settings) if r["role"] == "trial"
               else f"python -m sim strategy={spec.baseline if r['role'] == 'baseline' else spec.challenger}")
        rows.append(
            f"<tr><td><code>{html.escape(r['point'])}</code></td>"
            f"<td>{T('role.' + r['role'], lang)}</td>"
            f"<td class=num>{fmt_value(r[o1], f1, lang)}<br><span class=note>"
            f"{fmt_diff(r[o1 + ':diff'], f1, lang)} {fmt_ci(r[o1 + ':lo'], r[o1 + ':hi'], f1, True, lang)}"
            f"</span></td><td class=num>{fmt_value(r[o2], f2, lang)}<br><span class=note>"
            f"{fmt_diff(r[o2 + ':diff'], f2, lang)} {fmt_ci(r[o2 + ':lo'], r[o2 + ':hi'], f2, True, lang)}"
            f"</span></td><td class=num>{fmt_value(r['cost'], 'money', lang)}</td>"
            f"<td>{T('yes' if r['pareto'] else 'no', lang)}</td>"
            f"<td>{T('yes' if r['feasible'] else 'no', lang)}</td>"
            f"<td><code>{html.escape(cmd)}</code></td></tr>")
    rows.append("</table>")
    rows.append(f"<p class=note>{T('t.pareto_note', lang)}</p>")
    return "".join(rows)




def _yaml(d: dict) -> str:
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(OmegaConf.create(d))


def _setup(sweep: Sweep, pair: Sweep, lang: str) -> str:
    runs = sweep.runs
    seeds = sorted(int(s) for s in runs["seed"].unique())
    spec = sweep.spec
    configs = {}
    for arm in pair.arms:
        first = pair.runs[pair.runs["arm"] == arm].iloc[0]
        configs[arm] = json.loads((sweep.root / first["run_dir"] / "summary.json").read_text())[
            "config"]
    flat = {arm: flatten(c) for arm, c in configs.items()}
    keys = sorted({k for f in flat.values() for k in f})
    differ = [k for k in keys if len({json.dumps(f.get(k)) for f in flat.values()}) > 1
              and k != "seed"]
    codes = runs[["code_package", "code_git", "code_dirty"]].drop_duplicates()
    code_text = html.escape("; ".join(
        f"siyu-sim {r.code_package}, git {r.code_git or 'unknown'}"
        + (T("s.uncommitted", lang) if r.code_dirty else "") for r in codes.itertuples()))
    if len(codes) > 1:
        code_text = T("s.codes", lang, n=len(codes)) + code_text
    arm_keys = ", ".join(spec.arm_keys) if spec else "strategy"
    rows = [
        (T("s.kind", lang), html.escape(T(f"kind.{spec.kind if spec else 'compare'}", lang))),
        (T("s.sweep_dir", lang), html.escape(str(sweep.root))),
        (T("s.command", lang), f"<code>{html.escape(sweep.command)}</code>" if sweep.command
         else "n/a"),
        (T("s.arms", lang), ", ".join(html.escape(a) for a in pair.arms)
         + T("s.arms_text", lang, keys=html.escape(arm_keys), base=html.escape(pair.baseline))),
        (T("s.strata", lang), html.escape(", ".join(sorted(runs["stratum"].unique())))
         or T("s.one", lang)),
        (T("s.markets", lang), html.escape(", ".join(sorted(runs["market"].astype(str).unique())))),
        (T("s.seeds", lang), f"{len(seeds)}: {', '.join(map(str, seeds))}"),
        (T("s.size", lang), T("s.size_text", lang, n=f"{int(runs['n_users'].iloc[0]):,}",
                              scale=f"{int(runs['population_scale'].iloc[0]):,}",
                              days=int(runs["days"].iloc[0]))),
        (T("s.runs", lang), T("s.finished", lang, n=len(runs))
         + (T("s.ignored", lang, n=len(sweep.ignored)) if sweep.ignored else "")),
        (T("s.code", lang), code_text),
        (T("s.differ", lang), "<br>".join(f"<code>{html.escape(k)}</code>: " + " vs ".join(
            f"{html.escape(str(flat[a].get(k)))}" for a in pair.arms) for k in differ)
         or T("s.none", lang)),
    ]
    if sweep.design is not None:
        rows.append((T("s.points", lang), str(len(sweep.design["points"]))))
    out = ["<table>"] + [f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows] + ["</table>"]
    if sweep.ignored:
        out.append(_fold(T("s.ignored_dirs", lang), "<ul>" + "".join(
            f"<li><code>{html.escape(d)}</code>: {html.escape(w)}</li>" for d, w in sweep.ignored)
            + "</ul>"))
    for arm, c in configs.items():
        out.append(_fold(T("s.full_config", lang, arm=arm), f"<pre>{html.escape(_yaml(c))}</pre>"))
    return "\n".join(out)


# --------------------------------------------------------------------------- build


@dataclasses.dataclass
class Built:
    path: Path
    summary: object            # summary.ExecSummary
    images: dict[str, bytes]
    captions: dict[str, str]
    html: str
    lang: str
    ignored: list = dataclasses.field(default_factory=list)


def build(sweep_dir: str | Path, lang: str | None = None) -> Built:
    """Aggregate the sweep dir, analyse it and write every report file."""
    from sim.experiments import summary as sm
    from sim.experiments.fonts import figure_fonts
    from sim.experiments.horizons import Curves, crossing, horizon_table

    sweep = load_sweep(sweep_dir)
    write_runs_table(sweep)
    lang = lang or _lang(sweep)
    spec = sweep.spec
    kind = spec.kind if spec else "compare"
    title = spec.name if spec else sweep.root.name
    pair = pair_view(sweep)
    table = comparison_table(pair, lang=lang)
    write_atomic(sweep.root / "comparison.csv", lambda p: table.to_csv(p, index=False))
    dk = decision_kpi(sweep) or "gross_profit"
    base = pair.baseline
    arm = _best_arm(table, dk) if not table.empty else None

    sections: list[tuple[str, str]] = []
    images: dict[str, bytes] = {}
    captions: dict[str, str] = {}
    with figure_fonts(lang):
        cross, ht = {}, None
        if arm is not None and kind != "uncertainty":
            curves = Curves(pair)
            ht = horizon_table(pair, base, arm, spec.horizons if spec else [30, 90, 180, 365],
                               curves)
            write_atomic(sweep.root / "horizons.csv", lambda p: ht.to_csv(p, index=False))
            ckpi = "cum_incremental_gross_profit" if dk == "incremental_gross_profit" and \
                "cum_incremental_gross_profit" in curves(pair.runs["run_dir"].iloc[0]) \
                else "cum_gross_profit"
            cross = crossing(pair, base, arm, kpi=ckpi, curves=curves)
            images.update(figs.horizon(cross, base, arm, lang, kpi=ckpi))
            captions["horizon"] = T("f.caption.horizon", lang)
        if kind == "factorial":
            from sim.experiments.attribution import factorial_effects

            effects = factorial_effects(sweep, dk, lang)
            write_atomic(sweep.root / "attribution.csv",
                         lambda p: effects.drop(columns=["factors"]).to_csv(p, index=False))
            ex = sm.pair_summary(pair, table, dk, base, spec.challenger, lang, cross, title)
            ex.reasons = sm.attribution_reasons(effects, lang, dk) or ex.reasons
            images.update(figs.attribution(effects, dk, lang))
            captions["attribution"] = T("f.caption.attribution", lang)
            sections.append((T("h.attribution", lang),
                             _img_if(images, captions, "attribution")
                             + _effects_table(effects, dk, spec, sweep.design, lang)))
        elif kind == "uncertainty":
            from sim.experiments import robustness as rb

            wt = rb.world_table(sweep, dk)
            write_atomic(sweep.root / "worlds.csv", lambda p: wt.to_csv(p, index=False))
            rob = rb.robustness(wt)
            box, majority = rb.discover(wt)
            drv = rb.drivers(wt)
            ex = sm.robustness_summary(sweep, wt, rob, box, majority, drv, dk, lang, title)
            images.update(figs.worlds(wt, dk, spec.baseline, spec.challenger, lang))
            images.update(figs.drivers(drv, lang))
            captions["worlds"] = T("f.caption.worlds", lang)
            captions["drivers"] = T("f.caption.drivers", lang)
            sections.append((T("h.robustness", lang),
                             _img_if(images, captions, "worlds")
                             + _robustness_html(rob, box, drv, sweep.design, dk, spec, lang)
                             + _img_if(images, captions, "drivers")))
        elif kind == "optimise":
            from sim.experiments import pareto as pt

            objectives = sweep.design.get("objectives") or [dk, "monthly_churn_rate"]
            trials = pt.trial_table(sweep, objectives)
            write_atomic(sweep.root / "trials.csv", lambda p: trials.to_csv(p, index=False))
            rec = pt.recommend(trials, objectives)
            pt.write_presets(sweep.root, spec.baseline, trials)
            ex = sm.optimise_summary(sweep, trials, rec, objectives, lang, title)
            images.update(figs.pareto(trials, objectives, rec, lang))
            captions["pareto"] = T("f.caption.pareto", lang)
            sections.append((T("h.pareto", lang), _img_if(images, captions, "pareto")
                             + _pareto_html(trials, objectives, spec, lang)))
        else:
            if arm is None:
                ex = sm.ExecSummary(lang, title, T("r.nothing", lang))
            else:
                ex = sm.pair_summary(pair, table, dk, base, arm, lang, cross, title)
                _siblings(sweep, ex, base, arm, dk, lang)
        if ht is not None:
            sections.append((T("h.horizons", lang), _img_if(images, captions, "horizon")
                             + _horizon_table(ht, lang)))
        images.update(figs.forest(pair, table, lang))
        if kind != "uncertainty":
            images.update(figs.timeseries(pair, lang))
            images.update(figs.retention(pair, lang))
            images.update(figs.funnel(pair, lang))
    for name, png in images.items():
        write_atomic(sweep.root / "figures" / f"{name}.png", lambda p, png=png: p.write_bytes(png))

    for kind_ in ("forest", "timeseries", "retention", "funnel"):
        captions[kind_] = T(f"f.caption.{kind_}", lang)
    fig_html = []
    for name in [n for n in images if n.split("_")[0] in ("forest", "timeseries", "retention",
                                                           "funnel")]:
        fig_html.append(f"<p class=note>{captions[name.split('_')[0]]}</p>{_img(name, images[name])}")

    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    question = spec.question if spec and spec.question else T("no_question", lang)
    try:  # the study's question in the reader's language, when the table has it
        question = T(f"question.{spec.name}", lang) if spec else question
    except KeyError:
        pass
    kind_sections = "".join(f"<h2>{html.escape(h)}</h2>{body}" for h, body in sections)
    doc = f"""<!DOCTYPE html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<title>siyu-sim: {html.escape(title)}</title><style>{CSS}</style></head><body>
<div class=exec-page>
<h1>{html.escape(T('title', lang, name=title))}</h1>
<p class=note>{html.escape(T('built', lang, now=now, root=str(sweep.root)))}
 ({html.escape(T('kind.' + kind, lang))})</p>
<p class=question><b>{T('question', lang)}.</b> {html.escape(" ".join(question.split()))}</p>
<h2>{T('h.summary', lang)}</h2>
{ex.html()}
</div>
{kind_sections}
<h2>{T('h.reading', lang)}</h2>
{_reading_section(pair, table, lang)}
<p class=note>{T('generated', lang)}</p>
<h2>{T('h.kpis', lang)}</h2>
{_fold(T('h.kpis', lang), _kpi_tables(table, lang))}
<h2>{T('h.figures', lang)}</h2>
{_fold(T('h.figures', lang), ''.join(fig_html), open_=True)}
<h2>{T('h.setup', lang)}</h2>
{_setup(sweep, pair, lang)}
<p class=note>{T('rebuild', lang)}
<code>python -m sim.experiments report {html.escape(str(sweep.root))}</code>. {T('files', lang)}</p>
</body></html>
"""
    path = write_atomic(sweep.root / REPORT, lambda p: p.write_text(doc, encoding="utf-8"))
    write_atomic(sweep.root / "summary.txt", lambda p: p.write_text(ex.text() + "\n",
                                                                     encoding="utf-8"))
    return Built(path, ex, images, captions, doc, lang, list(sweep.ignored))


def _img_if(images: dict[str, bytes], captions: dict[str, str], name: str) -> str:
    if name not in images:
        return ""
    return f"<p class=note>{captions.get(name, '')}</p>{_img(name, images[name])}"


def _siblings(sweep: Sweep, ex, base: str, arm: str, kpi: str, lang: str) -> None:
    """Add what the same question's other studies (same size, beside this sweep dir: lever
    attribution, plausible worlds) say to a comparison's executive summary."""
    from sim.experiments import summary as sm
    from sim.experiments.design import read_design

    for other in sorted(sweep.root.parent.parent.glob(f"*/{sweep.root.name}")):
        if other == sweep.root:
            continue
        d = read_design(other)
        s = (d or {}).get("spec") or {}
        if s.get("baseline") != base or s.get("challenger") != arm:
            continue
        try:
            sib = load_sweep(other)
            if d["kind"] == "factorial":
                from sim.experiments.attribution import factorial_effects

                reasons = sm.attribution_reasons(factorial_effects(sib, kpi, lang), lang, kpi)
                if reasons:
                    ex.reasons = reasons
            elif d["kind"] == "uncertainty":
                from sim.experiments import robustness as rb

                wt = rb.world_table(sib, kpi)
                r = rb.robustness(wt).get("")
                if r:
                    key = "ex.cases_ahead" if wt["stratum"].nunique() > 1 else "ex.worlds_ahead"
                    ex.confidence.append(T(key, lang, arm=arm, kpi=label(kpi, lang),
                                           pct=sm.fmt_share(r["ahead"]), n=r["worlds"]))
            elif d["kind"] == "optimise":
                from sim.experiments import pareto as pt

                objectives = d.get("objectives") or [kpi, "monthly_churn_rate"]
                rec = pt.recommend(pt.trial_table(sib, objectives), objectives)
                if rec is not None:
                    o1, o2 = objectives
                    settings = ", ".join(f"{k.removeprefix('strategy.')}={v:g}"
                                         for k, v in (rec["settings"] or {}).items()) \
                        or f"strategy={base if rec['role'] == 'baseline' else arm}"
                    markets = ", ".join(sorted(sib.runs["market"].astype(str).unique()))
                    ex.actions.append(T("ex.prefix", lang, name=markets) + T(
                        "ex.action_line", lang, settings=settings, base=base,
                        o1=label(o1, lang), o2=label(o2, lang),
                        d1=fmt_diff(rec[f"{o1}:diff"], KPIS[o1][2], lang),
                        d2=fmt_diff(rec[f"{o2}:diff"], KPIS[o2][2], lang)))
        except (OSError, ValueError, KeyError):
            continue


def build_report(sweep_dir: str | Path, *, quiet: bool = False, lang: str | None = None,
                 pdf: bool = False, with_summary: bool = False):
    """Aggregate the sweep dir and write its report files; return the report's path (and
    the executive summary's text with ``with_summary``). ``pdf`` also writes report.pdf."""
    built = build(sweep_dir, lang)
    if pdf:
        from sim.experiments.pdf import write_pdf

        write_pdf(built)
    if not quiet:
        for d, why in built.ignored:
            print(f"siyu-sim: ignored {d}: {why}")
    if with_summary:
        return built.path, built.summary.text()
    return built.path
