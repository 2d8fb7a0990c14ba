"""A study's figures, drawn from saved files (series.parquet, cohorts.parquet, the runs table).

Each function returns ``{name: png_bytes}`` so the report can embed them and also save them.
Arms keep one colour across figures; bands span the 5-95% range of the seeds.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.ticker import MaxNLocator, PercentFormatter

from sim.data.io import png_bytes, read_parquet
from sim.experiments.aggregate import Sweep
from sim.experiments.analysis import T, fmt_diff, label, verdict_word
from sim.figures import subplots

BAND = (5, 95)  # percentiles across seeds drawn as bands
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
VERDICT_COLOURS = {"better": "#2ca02c", "worse": "#d62728", "higher": "#1f77b4",
                   "lower": "#1f77b4", "n.s.": "#9a9a9a"}



def _png(fig) -> bytes:
    return png_bytes(fig, dpi=100)


def arm_colours(sweep: Sweep) -> dict[str, str]:
    return {arm: COLOURS[i % len(COLOURS)] for i, arm in enumerate(sweep.arms)}


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).strip("_") or "all"


def _stack(runs, column: str, loader) -> np.ndarray:
    """Seeds x days matrix of one series column (runs of one arm, sorted by seed)."""
    arrays = [loader(d)[column].astype(float) for d in runs["run_dir"]]
    n = min(len(a) for a in arrays)
    return np.vstack([a[:n] for a in arrays])


def _rolling_sum(x: np.ndarray, window: int) -> np.ndarray:
    c = np.cumsum(x, axis=-1)
    out = c.copy()
    out[..., window:] = c[..., window:] - c[..., :-window]
    return out


def _band(m: np.ndarray) -> np.ndarray:
    """``np.nanpercentile(m, BAND, axis=0)``: numpy's nan-aware version goes day by day in
    Python (~25 ms for 5 seeds x 730 days); without NaNs ``np.percentile`` gives the same
    values in one call."""
    if np.isnan(m).any():
        return np.nanpercentile(m, BAND, axis=0)
    return np.percentile(m, BAND, axis=0)


def _series_loader(sweep: Sweep):
    cache: dict[str, dict[str, np.ndarray]] = {}

    def load(run_dir: str) -> dict[str, np.ndarray]:
        if run_dir not in cache:
            cache[run_dir] = read_parquet(sweep.root / run_dir / "series.parquet")
        return cache[run_dir]

    return load


# (title key, function of the series loader output -> seeds x days matrix)
PANELS = [
    ("f.members", lambda g: g("n_members")),
    ("f.customers", lambda g: g("n_customers")),
    # churn events per member-day over the last 30 days (fewer at the start), x 30 days
    ("f.churn", lambda g: 100 * 30 * _rolling_sum(g("new_churned"), 30)
     / np.maximum(_rolling_sum(g("n_members"), 30), 1)),
    ("f.nps", lambda g: g("nps")),
    ("f.cum_revenue", lambda g: g("cum_revenue")),
    ("f.cum_cost", lambda g: g("cum_cost")),
]


def timeseries(sweep: Sweep, lang: str = "en") -> dict[str, bytes]:
    """Per stratum: KPI time series of each arm, mean over seeds with a 5-95% band."""
    colours = arm_colours(sweep)
    loader = _series_loader(sweep)
    out = {}
    for stratum, df in sweep.runs.groupby("stratum", sort=False):
        fig, axes = subplots(2, 3, figsize=(12, 6.4))
        for arm in sweep.arms:
            runs = df[df["arm"] == arm].sort_values("seed")
            if runs.empty:
                continue
            get = lambda col, runs=runs: _stack(runs, col, loader)  # noqa: E731
            day = loader(runs["run_dir"].iloc[0])["day"]
            for ax, (title, fn) in zip(axes.flat, PANELS, strict=True):
                m = fn(get)
                x = day[: m.shape[1]]
                mean = np.nanmean(m, axis=0)
                ax.plot(x, mean, color=colours[arm], lw=1.6, label=f"{arm} (n={len(runs)})")
                if len(runs) > 1:
                    lo, hi = _band(m)
                    ax.fill_between(x, lo, hi, color=colours[arm], alpha=0.2, lw=0)
                ax.set_title(T(title, lang), fontsize=10)
        for ax in axes.flat:
            ax.set_xlabel(T("f.day", lang), fontsize=9)
            ax.tick_params(labelsize=8)
            ax.grid(alpha=0.3)
        axes.flat[0].legend(fontsize=8, loc="best")
        fig.suptitle(T("f.ts_title", lang, name=sweep.spec.name if sweep.spec else "sweep",
                       where=f" - {stratum}" if stratum else "", lo=BAND[0], hi=BAND[1]),
                     fontsize=11)
        fig.tight_layout()
        out[f"timeseries_{_slug(stratum)}"] = _png(fig)
    return out


def forest(sweep: Sweep, table, lang: str = "en") -> dict[str, bytes]:
    """Paired differences (arm - baseline) as % of the baseline mean, with 95% CIs: one panel
    per (stratum, arm), two panels a row; the absolute difference is written on the right."""
    if table.empty:
        return {}
    groups = list(table.groupby(["stratum", "arm"], sort=False))
    n_kpi = max(len(t) for _, t in groups)
    ncols = 1 if len(groups) == 1 else 2
    nrows = math.ceil(len(groups) / ncols)
    fig, axes = subplots(nrows, ncols, figsize=(7.2 * ncols + 1.0, 0.3 * n_kpi * nrows + 1.2),
                             squeeze=False)
    for k, (ax, ((stratum, arm), t)) in enumerate(zip(axes.flat, groups, strict=False)):
        t = t.reset_index(drop=True)
        y = np.arange(len(t))[::-1]
        ends = np.abs(np.r_[100 * t["rel_lo"], 100 * t["rel_hi"], 100 * t["rel"]])
        ends = ends[np.isfinite(ends)]
        lim = max(100.0, 1.25 * ends.max()) if len(ends) else 100.0
        for yi, (_, r) in zip(y, t.iterrows(), strict=True):
            c = VERDICT_COLOURS[r["verdict"]]
            rel, lo, hi = 100 * r["rel"], 100 * r["rel_lo"], 100 * r["rel_hi"]
            if math.isfinite(lo):
                ax.plot([lo, hi], [yi, yi], color=c, lw=2.2, solid_capstyle="butt")
            if math.isfinite(rel):
                ax.plot([rel], [yi], "o", color=c, ms=5)
            ax.annotate(f"{fmt_diff(r['diff'], r['format'], lang)} "
                        f"{verdict_word(r['verdict'], lang)}",
                        xy=(1.01, yi), xycoords=("axes fraction", "data"), va="center",
                        fontsize=7.5, color=c)
        ax.axvline(0, color="k", lw=0.8)
        # linear within +-100% of the baseline, logarithmic beyond: small and huge effects
        # stay readable on one axis
        ax.set_xscale("symlog", linthresh=100, linscale=2)
        ax.set_xlim(-lim, lim)
        ticks = [v for v in (-1e4, -1e3, -100, -50, 0, 50, 100, 1e3, 1e4) if abs(v) <= lim]
        ax.set_xticks(ticks, [f"{v:+,.0f}%" if v else "0" for v in ticks])
        ax.set_yticks(y, t["label"] if k % ncols == 0 else [""] * len(t), fontsize=8.5)
        ax.set_ylim(-0.7, len(t) - 0.3)
        ax.grid(axis="x", alpha=0.3)
        ax.tick_params(axis="x", labelsize=8)
        ax.set_xlabel(T("f.forest_x", lang), fontsize=8.5)
        n = int(t["n_pairs"].max())
        ax.set_title(f"{arm} - {t['baseline'].iloc[0]}{' (' + stratum + ')' if stratum else ''}"
                     f", {T('f.paired', lang, n=n)}", fontsize=9.5)
    for ax in list(axes.flat)[len(groups):]:
        ax.set_visible(False)
    fig.suptitle(T("f.forest_title", lang), fontsize=10)
    fig.tight_layout(w_pad=9.0)
    return {"forest": _png(fig)}


def _cohort_groups(max_cohort: int, max_groups: int = 3,
                   lang: str = "en") -> list[tuple[str, list[int]]]:
    """Initial members, then up to ``max_groups`` quarters of joiners spread over the run."""
    groups = [(T("f.initial", lang), [0])]
    quarters = [list(range(q, min(q + 3, max_cohort + 1))) for q in range(1, max_cohort + 1, 3)]
    quarters = [q for q in quarters if q]
    if len(quarters) > 1:  # keep quarters with room to be followed: drop the last third
        quarters = quarters[: max(1, math.ceil(len(quarters) * 2 / 3))]
    if len(quarters) > max_groups:
        idx = np.linspace(0, len(quarters) - 1, max_groups).round().astype(int)
        quarters = [quarters[i] for i in dict.fromkeys(idx)]
    for q in quarters:
        name = (T("f.joined1", lang, m=q[0]) if len(q) == 1
                else T("f.joined", lang, a=q[0], b=q[-1]))
        groups.append((name, q))
    return groups


def retention(sweep: Sweep, lang: str = "en") -> dict[str, bytes]:
    """Per stratum: retention curves of cohort groups, one panel per group, arms coloured."""
    colours = arm_colours(sweep)
    out = {}
    for stratum, df in sweep.runs.groupby("stratum", sort=False):
        tables = {}
        for run_dir in df["run_dir"]:
            path = sweep.root / run_dir / "cohorts.parquet"
            if path.exists():
                tables[run_dir] = read_parquet(path)
        if not tables:
            continue
        max_cohort = max(int(t["cohort"].max()) for t in tables.values() if len(t["cohort"]))
        groups = _cohort_groups(max_cohort, lang=lang)
        fig, axes = subplots(1, len(groups), figsize=(3.3 * len(groups) + 0.6, 3.6),
                                 squeeze=False, sharey=True)
        for ax, (name, cohorts) in zip(axes[0], groups, strict=True):
            for arm in sweep.arms:
                runs = df[(df["arm"] == arm) & df["run_dir"].isin(list(tables))]
                curves = [_pooled_curve(tables[d], cohorts) for d in runs["run_dir"]]
                curves = [c for c in curves if len(c)]
                if not curves:
                    continue
                n = min(len(c) for c in curves)
                m = 100 * np.vstack([c[:n] for c in curves])
                months = np.arange(n)
                ax.plot(months, m.mean(axis=0), color=colours[arm], lw=1.6, marker=".",
                        label=arm)
                if len(curves) > 1:
                    lo, hi = np.percentile(m, BAND, axis=0)
                    ax.fill_between(months, lo, hi, color=colours[arm], alpha=0.2, lw=0)
            ax.set_title(name, fontsize=10)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel(T("f.months", lang), fontsize=9)
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=8)
        axes[0, 0].set_ylabel(T("f.still", lang), fontsize=9)
        axes[0, 0].legend(fontsize=8, loc="lower left")
        fig.suptitle(T("f.ret_title", lang, where=f" - {stratum}" if stratum else "",
                       lo=BAND[0], hi=BAND[1]), fontsize=11)
        fig.tight_layout()
        out[f"retention_{_slug(stratum)}"] = _png(fig)
    return out


def _pooled_curve(t: dict[str, np.ndarray], cohorts: list[int]) -> np.ndarray:
    """Retention by month of the pooled cohorts (sum retained / sum at risk)."""
    sel = np.isin(t["cohort"], cohorts)
    if not sel.any():
        return np.array([])
    months = t["month"][sel]
    at_risk = np.bincount(months, weights=t["n_at_risk"][sel])
    kept = np.bincount(months, weights=t["n_retained"][sel])
    ok = at_risk > 0
    n = int(np.argmin(ok)) if not ok.all() else len(ok)
    return kept[:n] / at_risk[:n]


# (panel, [(stage label, series columns summed over the run)]); stages whose columns the
# series lacks are left out, so the figure follows the model as it grows.
FUNNELS = [
    ("f.stores", [("f.in_store", ["new_public_purchases"]),
                  ("f.added_staff", ["new_members_store"])]),
    ("f.wom", [("f.recs", ["new_referrals"]),
               ("f.reg_leads", ["new_referrals_converted"])]),
    ("f.lead_funnel", [
        ("f.leads", ["new_leads"]),
        ("f.trials", ["new_trials"]),
        ("f.bought", ["new_customers_referral", "new_customers_event"])]),
]
STOCK = [("f.members_start", "members_start"), ("f.members_ever", "members_ever"),
         ("f.members_end", "members_end"), ("f.customers_end", "customers_end")]


def _stage_total(series: dict[str, np.ndarray], columns: list[str]) -> float | None:
    present = [c for c in columns if c in series]
    return float(sum(series[c].sum() for c in present)) if present else None


def funnel(sweep: Sweep, lang: str = "en") -> dict[str, bytes]:
    """Per stratum: acquisition funnels (run totals) and the private domain's stock."""
    colours = arm_colours(sweep)
    loader = _series_loader(sweep)
    out = {}
    for stratum, df in sweep.runs.groupby("stratum", sort=False):
        panels = []
        for title, stages in FUNNELS:
            first = loader(df["run_dir"].iloc[0])
            stages = [(label, cols) for label, cols in stages
                      if _stage_total(first, cols) is not None]
            if len(stages) < 2:
                continue
            vals = {arm: [[_stage_total(loader(d), cols)
                           for d in df[df["arm"] == arm]["run_dir"]] for _, cols in stages]
                    for arm in sweep.arms}
            panels.append((T("f.run_total", lang, title=T(title, lang)),
                           [T(s, lang) for s, _ in stages], vals, True))
        stock = [(label, col) for label, col in STOCK if col in df.columns]
        vals = {arm: [df[df["arm"] == arm][col].astype(float).tolist() for _, col in stock]
                for arm in sweep.arms}
        panels.append((T("f.domain", lang), [T(s, lang) for s, _ in stock], vals, False))

        ncols = 2
        nrows = math.ceil(len(panels) / ncols)
        fig, axes = subplots(nrows, ncols, figsize=(12, 2.9 * nrows + 0.6), squeeze=False)
        width = 0.8 / max(1, len(sweep.arms))
        for ax, (title, stages, vals, rates) in zip(axes.flat, panels, strict=False):
            y = np.arange(len(stages))[::-1]
            for i, arm in enumerate(sweep.arms):
                means = np.array([np.mean(v) if v else np.nan for v in vals[arm]])
                sds = np.array([np.std(v, ddof=1) if len(v) > 1 else 0.0 for v in vals[arm]])
                yy = y + (len(sweep.arms) - 1) / 2 * width - i * width
                ax.barh(yy, means, height=width, color=colours[arm], xerr=sds,
                        error_kw={"lw": 0.8}, label=arm)
                for k in range(1, len(stages)):
                    if rates and means[k - 1] > 0:
                        ax.annotate(f"{100 * means[k] / means[k - 1]:.1f}%",
                                    xy=(means[k] + sds[k], yy[k]), xytext=(4, 0),
                                    textcoords="offset points", va="center", fontsize=8)
            ax.set_yticks(y, stages, fontsize=9)
            ax.set_title(title, fontsize=10)
            ax.tick_params(axis="x", labelsize=8)
            ax.grid(axis="x", alpha=0.3)
        for ax in list(axes.flat)[len(panels):]:
            ax.set_visible(False)
        handles, labels = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper center", ncol=len(labels), fontsize=9,
                   bbox_to_anchor=(0.5, 0.955), frameon=False)
        fig.suptitle(T("f.funnel_title", lang, where=f" - {stratum}" if stratum else ""),
                     fontsize=10)
        fig.tight_layout(rect=(0, 0, 1, 0.93))
        out[f"funnel_{_slug(stratum)}"] = _png(fig)
    return out


# --------------------------------------------------------------------------- study kinds


def _money_axis(ax, lang: str) -> None:
    from matplotlib.ticker import FuncFormatter

    from sim.i18n import money

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: money(v, lang, digits=2)))


def horizon(cross: dict, base: str, arm: str, lang: str = "en",
            kpi: str = "cum_gross_profit") -> dict[str, bytes]:
    """Per stratum: the paired difference of the cumulative KPI over time, the crossing day."""
    if not cross:
        return {}
    n = len(cross)
    fig, axes = subplots(1, n, figsize=(4.6 * n + 0.6, 3.4), squeeze=False)
    for ax, (stratum, c) in zip(axes[0], cross.items(), strict=True):
        m = c["matrix"]
        x = np.arange(1, m.shape[1] + 1)
        ax.plot(x, c["mean"], color=COLOURS[1], lw=1.6)
        if m.shape[0] > 1:
            lo, hi = np.percentile(m, BAND, axis=0)
            ax.fill_between(x, lo, hi, color=COLOURS[1], alpha=0.2, lw=0)
        ax.axhline(0, color="k", lw=0.8)
        if c["day"] is not None:
            ax.axvline(c["day"], color="#555", ls="--", lw=1)
            ax.annotate(T("f.cross", lang, day=c["day"]), xy=(c["day"], 0), xytext=(4, 6),
                        textcoords="offset points", fontsize=8)
        ax.set_title(stratum or "", fontsize=10)
        ax.set_xlabel(T("f.day", lang), fontsize=9)
        _money_axis(ax, lang)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    fig.suptitle(T("f.horizon_title", lang, kpi=label(kpi, lang), arm=arm, base=base),
                 fontsize=10.5)
    fig.tight_layout()
    return {"horizon": _png(fig)}


def attribution(effects, kpi: str, lang: str = "en") -> dict[str, bytes]:
    """Per stratum: a waterfall of the Shapley shares from 0 to the total, with 95% CIs."""
    if effects is None or effects.empty:
        return {}
    strata = list(dict.fromkeys(effects["stratum"]))
    fig, axes = subplots(1, len(strata), figsize=(4.8 * len(strata) + 0.6, 3.8),
                         squeeze=False)
    for ax, stratum in zip(axes[0], strata, strict=True):
        e = effects[effects["stratum"] == stratum]
        sh = e[e["kind"] == "shapley"].reset_index(drop=True)
        tot = e[e["kind"] == "total"].iloc[0]
        start = 0.0
        for i, r in sh.iterrows():
            c = VERDICT_COLOURS["better" if r["mean"] >= 0 else "worse"]
            if not r["significant"]:
                c = VERDICT_COLOURS["n.s."]
            ax.bar(i, r["mean"], bottom=start, color=c, width=0.6)
            if math.isfinite(r["lo"]):
                mid = start + r["mean"]
                ax.plot([i, i], [mid - (r["mean"] - r["lo"]), mid + (r["hi"] - r["mean"])],
                        color="k", lw=1)
            start += r["mean"]
        i = len(sh)
        ax.bar(i, tot["mean"], color=COLOURS[0], width=0.6)
        if math.isfinite(tot["lo"]):
            ax.plot([i, i], [tot["lo"], tot["hi"]], color="k", lw=1)
        ax.set_xticks(range(len(sh) + 1), [*sh["term"], T("f.total", lang)], fontsize=8.5,
                      rotation=20)
        ax.axhline(0, color="k", lw=0.8)
        if KPIS_FMT(kpi) == "money":
            _money_axis(ax, lang)
        ax.set_title(stratum or "", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        ax.tick_params(axis="y", labelsize=8)
    fig.suptitle(T("f.attr_title", lang, kpi=label(kpi, lang), where=""), fontsize=10.5)
    fig.tight_layout()
    return {"attribution": _png(fig)}


def KPIS_FMT(kpi: str) -> str:  # noqa: N802 - a lookup, named like the table it reads
    from sim.experiments.study import KPIS

    return KPIS.get(kpi, ("", 0, "ratio"))[2]


def worlds(table, kpi: str, base: str, arm: str, lang: str = "en") -> dict[str, bytes]:
    """Per stratum: each world's difference with its CI, sorted."""
    if table is None or table.empty:
        return {}
    strata = list(dict.fromkeys(table["stratum"]))
    fig, axes = subplots(1, len(strata), figsize=(4.6 * len(strata) + 0.6, 3.4),
                         squeeze=False)
    for ax, stratum in zip(axes[0], strata, strict=True):
        t = table[table["stratum"] == stratum].sort_values("diff").reset_index(drop=True)
        x = np.arange(len(t))
        col = [VERDICT_COLOURS["n.s."] if not (lo > 0 or hi < 0) else
               (VERDICT_COLOURS["better"] if d > 0 else VERDICT_COLOURS["worse"])
               for d, lo, hi in zip(t["diff"], t["lo"], t["hi"], strict=True)]
        ax.vlines(x, t["lo"], t["hi"], colors=col, lw=1.2)
        ax.scatter(x, t["diff"], c=col, s=12, zorder=3)
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xlabel(T("f.world_rank", lang), fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if KPIS_FMT(kpi) == "money":
            _money_axis(ax, lang)
        ax.set_title(stratum or "", fontsize=10)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    fig.suptitle(T("f.worlds_title", lang, kpi=label(kpi, lang), arm=arm, base=base),
                 fontsize=10.5)
    fig.tight_layout()
    return {"worlds": _png(fig)}


def drivers(ranked: list[tuple[str, float]], lang: str = "en") -> dict[str, bytes]:
    if not ranked:
        return {}
    keys = [k for k, _ in ranked][::-1]
    rho = [r for _, r in ranked][::-1]
    fig, ax = subplots(figsize=(7.5, 0.32 * len(keys) + 1.1))
    ax.barh(range(len(keys)), rho, color=[COLOURS[0] if r > 0 else COLOURS[1] for r in rho])
    ax.set_yticks(range(len(keys)), keys, fontsize=8)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlim(-1, 1)
    ax.set_xlabel(T("f.drivers_x", lang), fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return {"drivers": _png(fig)}


def pareto(trials, objectives: list[str], rec, lang: str = "en") -> dict[str, bytes]:
    if trials is None or trials.empty:
        return {}
    o1, o2 = objectives
    fig, ax = subplots(figsize=(7, 4.6))
    tr_ = trials[trials["role"] == "trial"]
    ax.scatter(tr_[o2], tr_[o1], s=18, color="#9a9a9a", label=T("f.trials", lang))
    front = trials[trials["pareto"]].sort_values(o2)
    ax.plot(front[o2], front[o1], "-o", color=COLOURS[2], ms=5, label=T("f.front", lang))
    for role, marker, c in (("baseline", "s", COLOURS[0]), ("challenger", "D", COLOURS[1])):
        r = trials[trials["role"] == role]
        if not r.empty:
            ax.scatter(r[o2], r[o1], marker=marker, s=60, color=c, zorder=4,
                       label=T(f"role.{role}", lang))
    if rec is not None:
        ax.scatter([rec[o2]], [rec[o1]], marker="*", s=260, color="#d4a017", zorder=5,
                   edgecolor="k", label=T("f.recommended", lang))
    ax.set_xlabel(label(o2, lang), fontsize=9)
    ax.set_ylabel(label(o1, lang), fontsize=9)
    if KPIS_FMT(o1) == "money":
        _money_axis(ax, lang)
    if KPIS_FMT(o2) == "pct":
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(T("f.pareto_title", lang, o1=label(o1, lang), o2=label(o2, lang)), fontsize=10)
    fig.tight_layout()
    return {"pareto": _png(fig)}
