"""A study's self-contained HTML report, rebuilt from a sweep dir's saved files alone.

``build_report(sweep_dir)`` reads the run dirs (:mod:`sim.experiments.aggregate`), writes
``runs.parquet`` (a row per run), ``comparison.csv`` (paired differences), ``figures/*.png``
and ``report.html`` (figures embedded as base64 PNG: one file to mail or archive).
"""

from __future__ import annotations

import base64
import html
import json
import math
from datetime import UTC, datetime
from pathlib import Path

from sim.experiments import figures as figs
from sim.experiments.aggregate import Sweep, load_sweep, write_runs_table
from sim.experiments.analysis import (
    comparison_table,
    fmt_ci,
    fmt_diff,
    fmt_value,
    overview,
    reading,
)
from sim.experiments.stats import LEVEL
from sim.data.io import write_atomic

REPORT = "report.html"

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1180px;margin:2em auto;
 padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em} h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
.question{font-size:1.1em;background:#f4f7fb;border-left:4px solid #1f77b4;padding:.6em 1em}
table{border-collapse:collapse;font-size:.88em;margin:.6em 0} td,th{border:1px solid #ddd;padding:.25em .55em}
th{background:#f3f3f3} td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.ns td,span.ns{color:#777} .better{color:#1a7f1a;font-weight:600} .worse{color:#c62828;font-weight:600}
.higher,.lower{color:#1f5fa0;font-weight:600} img{max-width:100%;border:1px solid #eee;margin:.4em 0}
pre{background:#f7f7f7;padding:.6em;overflow:auto;font-size:.8em} .note{color:#555;font-size:.9em}
"""


def _img(name: str, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{data}"></figure>'


def _kpi_tables(sweep: Sweep, table) -> str:
    if table.empty:
        return "<p>Nothing to compare (one arm, or no seed run by both arms).</p>"
    parts = []
    pct = round(100 * LEVEL)
    for (stratum, arm), t in table.groupby(["stratum", "arm"], sort=False):
        base = t["baseline"].iloc[0]
        n = int(t["n_pairs"].max())
        parts.append(f"<h3>{html.escape(arm)} vs {html.escape(base)}"
                     f"{' &mdash; ' + html.escape(stratum) if stratum else ''} "
                     f"<span class=note>({n} paired seeds)</span></h3>")
        parts.append(
            "<table><tr><th>KPI</th>"
            f"<th>{html.escape(base)}<br>mean [{pct}% CI]</th>"
            f"<th>{html.escape(arm)}<br>mean [{pct}% CI]</th>"
            f"<th>paired difference<br>{html.escape(arm)} &minus; {html.escape(base)}</th>"
            f"<th>{pct}% CI of the difference</th><th>relative</th><th>verdict</th></tr>")
        for _, r in t.iterrows():
            f = r["format"]
            cls = "" if r["significant"] else ' class="ns"'
            rel = f"{100 * r['rel']:+.1f}%" if math.isfinite(r["rel"]) else "n/a"
            parts.append(
                f"<tr{cls}><td>{html.escape(r['label'])}</td>"
                f"<td class=num>{fmt_value(r['base_mean'], f)} "
                f"{fmt_ci(r['base_lo'], r['base_hi'], f)}</td>"
                f"<td class=num>{fmt_value(r['arm_mean'], f)} "
                f"{fmt_ci(r['arm_lo'], r['arm_hi'], f)}</td>"
                f"<td class=num>{fmt_diff(r['diff'], f)}</td>"
                f"<td class=num>{fmt_ci(r['diff_lo'], r['diff_hi'], f, diff=True)}</td>"
                f"<td class=num>{rel}</td>"
                f"<td class={html.escape(r['verdict'].replace('.', ''))}>"
                f"{html.escape(r['verdict'])}</td></tr>")
        parts.append("</table>")
    parts.append(
        f"<p class=note>Paired difference: for each seed, the arm's KPI minus the baseline's KPI "
        f"on the same seed (common random numbers); mean over seeds with a Student t {pct}% "
        f"confidence interval. <b>A difference whose CI contains 0 is not significant</b> "
        f"(grey rows, verdict <i>n.s.</i>). <i>better/worse</i> say whether the significant "
        f"difference goes the way the KPI is wanted to go. Relative: the difference as a share "
        f"of the baseline mean. Rates are in % and their differences in percentage points (pp); "
        f"money in yuan; counts in real users.</p>")
    return "\n".join(parts)


def _reading_html(r) -> str:
    out = f"<p><b>{html.escape(r.headline)}</b></p>"
    if r.findings:
        items = []
        for label, parts in r.findings:
            spans = []
            for verdict, text in parts:
                word = "not significant" if verdict == "n.s." and r.verdict_first else verdict
                v = f"<span class={html.escape(verdict.replace('.', ''))}>{html.escape(word)}</span>"
                spans.append(f"{v} {html.escape(text)}" if r.verdict_first
                             else f"{html.escape(text)}: {v}")
            items.append(f"<li>{html.escape(label)}: {'; '.join(spans)}</li>")
        out += "<ul>" + "".join(items) + "</ul>"
    if r.not_significant:
        out += ("<p>Not significant (the 95% CI contains 0): "
                + html.escape(", ".join(r.not_significant)) + ".</p>")
    return out


def _reading_section(sweep: Sweep, table) -> str:
    """The overview across strata, with the per-stratum readings folded under it; or the
    per-stratum reading alone when there is one stratum."""
    over = overview(sweep, table)
    detail = "".join(_reading_html(r) for r in reading(sweep, table))
    if not over:
        return detail
    return ("".join(_reading_html(r) for r in over)
            + "<details><summary>reading per stratum (means, differences and 95% CIs)"
              f"</summary>{detail}</details>")


def _flatten(d: dict, prefix: str = "") -> dict[str, object]:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _setup(sweep: Sweep) -> str:
    runs = sweep.runs
    seeds = sorted(int(s) for s in runs["seed"].unique())
    spec = sweep.spec
    configs = {}
    for arm in sweep.arms:
        first = runs[runs["arm"] == arm].iloc[0]
        configs[arm] = json.loads((sweep.root / first["run_dir"] / "summary.json").read_text())[
            "config"]
    flat = {arm: _flatten(c) for arm, c in configs.items()}
    keys = sorted({k for f in flat.values() for k in f})
    differ = [k for k in keys if len({json.dumps(f.get(k)) for f in flat.values()}) > 1
              and k != "seed"]
    codes = runs[["code_package", "code_git", "code_dirty"]].drop_duplicates()
    code_text = "; ".join(
        f"siyu-sim {r.code_package}, git {r.code_git or 'unknown'}"
        f"{' (uncommitted changes)' if r.code_dirty else ''}" for r in codes.itertuples())
    if len(codes) > 1:
        code_text = f"<b>{len(codes)} code versions (results may not be comparable):</b> " \
            + code_text
    rows = [
        ("sweep dir", html.escape(str(sweep.root))),
        ("command", f"<code>{html.escape(sweep.command)}</code>" if sweep.command else "n/a"),
        ("arms", ", ".join(html.escape(a) for a in sweep.arms)
         + f" (override <code>{html.escape(', '.join(spec.arm_keys) if spec else 'strategy')}"
           f"</code>; baseline <b>{html.escape(sweep.baseline)}</b>)"),
        ("strata", html.escape(", ".join(sorted(runs["stratum"].unique())) or "none (one)")),
        ("market(s)", html.escape(", ".join(sorted(runs["market"].astype(str).unique())))),
        ("seeds", f"{len(seeds)}: {', '.join(map(str, seeds))}"),
        ("size", f"{int(runs['n_users'].iloc[0]):,} simulated users "
                 f"(x{int(runs['population_scale'].iloc[0]):,}), {int(runs['days'].iloc[0])} days"),
        ("runs", f"{len(runs)} finished"
         + (f"; <b>{len(sweep.ignored)} unfinished run dir(s) ignored</b> (no summary.json)"
            if sweep.ignored else "")),
        ("code version", html.escape(code_text) if len(codes) == 1 else code_text),
        ("parameters that differ between arms",
         "<br>".join(f"<code>{html.escape(k)}</code>: " + " vs ".join(
             f"{html.escape(str(flat[a].get(k)))}" for a in sweep.arms) for k in differ)
         or "none"),
    ]
    out = ["<table>"] + [f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows] + ["</table>"]
    if sweep.ignored:
        out.append("<details><summary>ignored run dirs</summary><ul>" + "".join(
            f"<li><code>{html.escape(d)}</code>: {html.escape(w)}</li>" for d, w in sweep.ignored)
            + "</ul></details>")
    for arm, c in configs.items():
        out.append(f"<details><summary>full config of arm {html.escape(arm)} "
                   f"(validated, as recorded in summary.json)</summary><pre>"
                   f"{html.escape(_yaml(c))}</pre></details>")
    return "\n".join(out)


def _yaml(d: dict) -> str:
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(OmegaConf.create(d))


def build_report(sweep_dir: str | Path, *, quiet: bool = False) -> Path:
    """Aggregate the sweep dir and write its report files; return the report's path."""
    sweep = load_sweep(sweep_dir)
    write_runs_table(sweep)
    table = comparison_table(sweep)
    write_atomic(sweep.root / "comparison.csv", lambda p: table.to_csv(p, index=False))

    images: dict[str, bytes] = {}
    images.update(figs.timeseries(sweep))
    images.update(figs.forest(sweep, table))
    images.update(figs.retention(sweep))
    images.update(figs.funnel(sweep))
    for name, png in images.items():
        write_atomic(sweep.root / "figures" / f"{name}.png", lambda p, png=png: p.write_bytes(png))

    spec = sweep.spec
    title = spec.name if spec else sweep.root.name
    order = ["forest", *[n for n in images if n.startswith("timeseries")],
             *[n for n in images if n.startswith("retention")],
             *[n for n in images if n.startswith("funnel")]]
    captions = {
        "forest": "Paired differences of the headline KPIs (arm minus baseline, % of the "
                  "baseline mean) with 95% CIs; grey: not significant.",
        "timeseries": "KPI time series: mean over seeds, band 5-95% of seeds.",
        "retention": "Retention by cohort: share of a cohort still in the private domain "
                     "m months after joining.",
        "funnel": "Acquisition funnel: store buyers added by staff, recommendations converted, "
                  "and the private domain's stock.",
    }
    fig_html = []
    for name in order:
        if name in images:
            kind = name.split("_")[0]
            fig_html.append(f"<p class=note>{captions[kind]}</p>{_img(name, images[name])}")

    paras = _reading_section(sweep, table)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    doc = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>siyu-sim study: {html.escape(title)}</title>
<style>{CSS}</style></head><body>
<h1>Study: {html.escape(title)}</h1>
<p class=note>siyu-sim experiment report, built {now} from the files in
<code>{html.escape(str(sweep.root))}</code>.</p>
<p class=question><b>Question.</b> {html.escape(spec.question if spec and spec.question else
                                                 "(no question recorded)")}</p>
<h2>Reading</h2>
{paras}
<p class=note>Generated from the numbers below. A difference is called significant when its 95%
confidence interval (t interval over paired seeds) excludes 0; one whose interval contains 0 is
not significant.</p>
<h2>KPIs with 95% confidence intervals</h2>
{_kpi_tables(sweep, table)}
<h2>Figures</h2>
{''.join(fig_html)}
<h2>Setup</h2>
{_setup(sweep)}
<p class=note>Rebuild this report from the saved files with
<code>python -m sim.experiments report {html.escape(str(sweep.root))}</code>. Row-per-run data:
<code>runs.parquet</code>; paired differences: <code>comparison.csv</code>.</p>
</body></html>
"""
    path = write_atomic(sweep.root / REPORT, lambda p: p.write_text(doc, encoding="utf-8"))
    if not quiet:
        for d, why in sweep.ignored:
            print(f"siyu-sim: ignored {d}: {why}")
    return path
