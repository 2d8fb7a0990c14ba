"""The executive summary every report opens with: the recommendation, the money impact in
yuan as strategists write it (万/亿, M/B), the confidence, the horizon, and the two or three
reasons (from the lever attribution when there is one, else the mechanisms that moved).

It is computed from the study's files like the rest of the report; the same text is printed
on the terminal when a sweep ends. Nothing here prefers an arm: the recommendation follows
the sign and significance of the decision KPI (incremental gross profit when the runs have
it, else gross profit).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

from sim.experiments.analysis import T, fmt_diff, label
from sim.experiments.study import KPIS
from sim.i18n import money

MECHANISM_KPIS = ["monthly_churn_rate", "repurchase_rate", "referral_share", "revenue", "cost",
                  "members_end", "purchases", "nps"]


@dataclass
class ExecSummary:
    lang: str
    title: str
    recommendation: str
    money: list[str] = field(default_factory=list)
    confidence: list[str] = field(default_factory=list)
    horizon: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    def sections(self) -> list[tuple[str, list[str]]]:
        return [(T("ex.money", self.lang), self.money),
                (T("ex.confidence", self.lang), self.confidence),
                (T("ex.horizon", self.lang), self.horizon),
                (T("ex.reasons", self.lang), self.reasons),
                (T("ex.action", self.lang), self.actions)]

    def text(self) -> str:
        out = [f"== {self.title} ==", f"{T('ex.recommendation', self.lang)}: "
               f"{self.recommendation}"]
        for head, lines in self.sections():
            if lines:
                out.append(f"{head}:")
                out += [f"  - {line}" for line in lines]
        return "\n".join(out)

    def html(self) -> str:
        parts = [f"<div class=exec><p class=rec><b>{html.escape(T('ex.recommendation', self.lang))}"
                 f"</b> {html.escape(self.recommendation)}</p><dl>"]
        for head, lines in self.sections():
            if lines:
                parts.append(f"<dt>{html.escape(head)}</dt><dd><ul>"
                             + "".join(f"<li>{html.escape(x)}</li>" for x in lines)
                             + "</ul></dd>")
        parts.append("</dl></div>")
        return "".join(parts)


def _money_or(x: float, fmt: str, lang: str) -> str:
    return fmt_diff(x, fmt, lang)


_MARKET = {"": ""}  # the market(s) of a sweep without strata, set by pair_summary


def _name(stratum: str) -> str:
    if not stratum:
        return _MARKET[""]
    return stratum.split("=", 1)[1] if stratum.count("=") == 1 else stratum


def _set_market(sweep) -> None:
    _MARKET[""] = ", ".join(sorted(sweep.runs["market"].astype(str).unique()))


def _years(days: int) -> str:
    return f"{days / 365:.1f}".rstrip("0").rstrip(".")


def pair_summary(sweep, table, kpi: str, base: str, arm: str, lang: str, cross: dict,
                 title: str) -> ExecSummary:
    """Summary of ``arm`` vs ``base`` on ``kpi`` from the comparison table (per stratum)."""
    _set_market(sweep)
    t = table[(table["kpi"] == kpi) & (table["arm"] == arm)]
    fmt = KPIS[kpi][2]
    better = KPIS[kpi][1] or 1
    strata = list(t["stratum"])
    noun = T("noun.market", lang) if all(s.startswith("market=") for s in strata) and strata \
        else T("noun.strata", lang)
    kl = label(kpi, lang)
    good = [s for s, (_, r) in zip(strata, t.iterrows(), strict=True)
            if r["significant"] and r["diff"] * better > 0]
    bad = [s for s, (_, r) in zip(strata, t.iterrows(), strict=True)
           if r["significant"] and r["diff"] * better < 0]
    ns = [s for s in strata if s not in good and s not in bad]
    names = lambda xs: ", ".join(_name(s) for s in xs) or T("ex.none_list", lang)  # noqa: E731
    where_all = (T("ex.all_strata", lang, n=len(strata), noun=noun) if len(strata) > 1
                 else (names(strata) or "—"))
    n_pairs = int(t["n_pairs"].max()) if len(t) else 0
    if strata and len(good) == len(strata):
        rec = T("ex.choose_all", lang, arm=arm, base=base, kpi=kl, where=where_all)
    elif strata and len(bad) == len(strata):
        rec = T("ex.avoid_all", lang, arm=arm, base=base, kpi=kl, where=where_all)
    elif good or bad:
        parts = ([T("ex.mixed_good", lang, arm=arm, kpi=kl, list=names(good))] if good else []) \
            + ([T("ex.mixed_bad", lang, base=base, list=names(bad))] if bad else []) \
            + ([T("ex.mixed_ns", lang, list=names(ns))] if ns else [])
        rec = T("ex.mixed_head", lang) + T("ex.sep", lang).join(parts) + \
            ("。" if lang == "zh" else ".")
    else:
        rec = T("ex.none", lang, kpi=kl, n=n_pairs)
    days = int(sweep.runs["days"].iloc[0])
    s = ExecSummary(lang, title, rec)
    for _, r in t.iterrows():
        s.money.append(T("ex.money_line", lang, where=_name(r["stratum"]) or kl,
                         diff=fmt_diff(r["diff"], fmt, lang), lo=fmt_diff(r["diff_lo"], fmt, lang),
                         hi=fmt_diff(r["diff_hi"], fmt, lang), days=days))
    # seeds ahead
    runs = sweep.runs
    for stratum in strata:
        df = runs[runs["stratum"] == stratum]
        a = df[df["arm"] == arm].set_index("seed")[kpi]
        b = df[df["arm"] == base].set_index("seed")[kpi]
        common = sorted(set(a.index) & set(b.index))
        k = sum(1 for sd in common if (a[sd] - b[sd]) * better > 0)
        s.confidence.append(T("ex.seeds_ahead", lang, arm=arm, k=k, n=len(common),
                              where=_name(stratum) or kl))
    s.horizon.append(T("ex.horizon_days", lang, days=days, years=_years(days)))
    for stratum, c in cross.items():
        where = _name(stratum) or kl
        rng = c.get("seed_range") or (c["day"], c["day"])
        if c["day"] is None:
            key = "ex.cross_from_start" if c["end_sign"] > 0 else "ex.behind_throughout"
            s.horizon.append(T(key, lang, where=where, arm=arm))
        else:
            key = "ex.cross_ahead" if c["end_sign"] > 0 else "ex.cross_behind"
            s.horizon.append(T(key, lang, where=where, arm=arm, day=c["day"], lo=rng[0],
                               hi=rng[1]))
    s.reasons = mechanism_reasons(table, arm, lang)
    return s


def mechanism_reasons(table, arm: str, lang: str, top: int = 3) -> list[str]:
    """The mechanism KPIs whose differences are significant, largest relative change first."""
    t = table[(table["arm"] == arm) & table["kpi"].isin(MECHANISM_KPIS) & table["significant"]]
    if t.empty:
        return [T("ex.reason_none", lang)]
    ranked = (t.assign(size=t["rel"].abs()).groupby("kpi")["size"].mean()
              .sort_values(ascending=False))
    out = []
    for kpi in ranked.index[:top]:
        g = t[t["kpi"] == kpi]
        fmt = KPIS[kpi][2]
        diffs = ", ".join(f"{_name(r['stratum'])} {fmt_diff(r['diff'], fmt, lang)}".strip()
                          for _, r in g.iterrows())
        verdicts = {r["verdict"] for _, r in g.iterrows()}
        verdict = T(f"verdict.{verdicts.pop()}", lang) if len(verdicts) == 1 else "±"
        out.append(T("ex.reason_kpi", lang, label=label(kpi, lang), diffs=diffs,
                     verdict=verdict))
    return out


def attribution_reasons(effects, lang: str, kpi: str, top: int = 3) -> list[str]:
    """The largest Shapley shares, then the interaction that matters most; per stratum
    (prefixed with its name) when there are several, since markets differ."""
    if effects is None or effects.empty:
        return []
    fmt = KPIS[kpi][2]
    strata = list(dict.fromkeys(effects["stratum"]))
    many = len(strata) > 1
    out = []
    for stratum in strata:
        e = effects[effects["stratum"] == stratum]
        total = e[e["kind"] == "total"]["mean"].iloc[0]
        sh = e[e["kind"] == "shapley"]
        sh = sh.reindex(sh["mean"].abs().sort_values(ascending=False).index)
        prefix = T("ex.prefix", lang, name=_name(stratum)) if many else ""
        for _, r in sh.head(2 if many else top).iterrows():
            share = f"{100 * r['mean'] / total:.0f}%" if total else "n/a"
            out.append(prefix + T("ex.reason_lever", lang, factor=r["term"],
                                  money=fmt_diff(r["mean"], fmt, lang), share=share,
                                  lo=fmt_diff(r["lo"], fmt, lang),
                                  hi=fmt_diff(r["hi"], fmt, lang)))
        inter = e[(e["kind"] == "interaction") & e["matters"]]
        if not inter.empty:
            r = inter.loc[inter["mean"].abs().idxmax()]
            out.append(prefix + T("ex.reason_interaction", lang, term=r["term"],
                                  money=fmt_diff(r["mean"], fmt, lang)))
    return out


def fmt_share(x: float) -> str:
    return f"{100 * x:.0f}%" if math.isfinite(x) else "n/a"


def robustness_summary(sweep, wt, rob, box, majority, drivers, kpi: str, lang: str,
                       title: str) -> ExecSummary:
    spec = sweep.spec
    _set_market(sweep)
    fmt = KPIS[kpi][2]
    kl = label(kpi, lang)
    r = rob.get("", {})
    several = len(rob) > 1 and wt["stratum"].nunique() > 1
    rec = T("ex.robust_cases" if several else "ex.robust", lang, arm=spec.challenger,
            base=spec.baseline, kpi=kl,
            pct=fmt_share(r.get("ahead", math.nan)), n=r.get("worlds", 0),
            sig=fmt_share(r.get("sig_ahead", math.nan)),
            sigb=fmt_share(r.get("sig_behind", math.nan)))
    s = ExecSummary(lang, title, rec)
    for stratum, v in rob.items():
        line = T("ex.robust_money", lang, median=fmt_diff(v["median"], fmt, lang),
                 p10=fmt_diff(v["p10"], fmt, lang), p90=fmt_diff(v["p90"], fmt, lang))
        s.money.append(T("ex.prefix", lang, name=_name(stratum) if stratum
                         else T("t.overall", lang)) + line)
        if stratum:
            s.confidence.append(T("ex.prefix", lang, name=_name(stratum)) + T(
                "ex.worlds_ahead_here", lang, arm=spec.challenger, kpi=kl,
                pct=fmt_share(v["ahead"]), n=v["worlds"]))
    days = int(sweep.runs["days"].iloc[0])
    s.horizon.append(T("ex.horizon_days", lang, days=days, years=_years(days)))
    s.reasons = flip_reasons(box, drivers, sweep.design.get("band", 2.0), lang)
    return s


def box_text(box, band: float, lang: str) -> str:
    from sim.experiments.robustness import multiplier

    return T("ex.sep", lang).join(T("t.box_dim", lang, name=k, lo=multiplier(lo, band),
                       hi=multiplier(hi, band)) for k, (lo, hi) in box.limits.items())


def flip_reasons(box, drivers, band: float, lang: str) -> list[str]:
    out = []
    if box is None:
        out.append(T("ex.no_flip", lang))
    else:
        out.append(T("ex.flip_box", lang, box=box_text(box, band, lang),
                     cov=fmt_share(box.coverage), dens=fmt_share(box.density),
                     base=fmt_share(box.base_rate)))
    for key, rho in drivers[:2]:
        out.append(T("ex.driver", lang, name=key, rho=rho))
    return out


def optimise_summary(sweep, trials, rec, objectives: list[str], lang: str,
                     title: str) -> ExecSummary:
    spec = sweep.spec
    if rec is None:
        return ExecSummary(lang, title, T("ex.opt_none", lang))
    settings = rec["settings"] or {}
    text = ", ".join(f"{k.removeprefix('strategy.')}={v:g}" for k, v in settings.items())
    point = rec["point"]
    if rec["role"] != "trial":  # a preset itself is on the front's best spot
        point = T(f"role.{rec['role']}", lang)
        text = f"strategy={spec.baseline if rec['role'] == 'baseline' else spec.challenger}"
    s = ExecSummary(lang, title, T("ex.opt_choose", lang, point=point, settings=text or "—"))
    o1, o2 = objectives
    f1, f2 = KPIS[o1][2], KPIS[o2][2]
    s.money.append(T("ex.opt_money", lang, base=spec.baseline, o1=label(o1, lang),
                     d1=fmt_diff(rec[f"{o1}:diff"], f1, lang), lo1=fmt_diff(rec[f"{o1}:lo"], f1, lang),
                     hi1=fmt_diff(rec[f"{o1}:hi"], f1, lang), o2=label(o2, lang),
                     d2=fmt_diff(rec[f"{o2}:diff"], f2, lang), lo2=fmt_diff(rec[f"{o2}:lo"], f2, lang),
                     hi2=fmt_diff(rec[f"{o2}:hi"], f2, lang)))
    n_trials = int((trials["role"] == "trial").sum())
    k = int((trials["pareto"] & (trials["role"] == "trial")).sum())
    s.confidence.append(T("ex.opt_conf", lang, n=n_trials, k=k, runs=int(rec["n"])))
    s.confidence.append(T("ex.rule", lang))
    budget = (sweep.design or {}).get("budget")
    if budget is not None:
        s.confidence.append(T("ex.budget", lang, budget=money(float(budget), lang)))
    days = int(sweep.runs["days"].iloc[0])
    s.horizon.append(T("ex.horizon_days", lang, days=days, years=_years(days)))
    from sim.experiments.design import strategy_values

    base_vals = strategy_values(spec.baseline)
    space = (sweep.design or {}).get("space", {})
    moves = []
    for key, v in settings.items():
        lo, hi = space.get(key, [0, 1])[:2]
        span = (hi - lo) or 1.0
        moves.append((abs(v - base_vals.get(key, v)) / span, key, v))
    for _, key, v in sorted(moves, reverse=True)[:3]:
        s.reasons.append(T("ex.opt_reason", lang, name=key.removeprefix("strategy."),
                           base=f"{base_vals.get(key, float('nan')):g}", value=f"{v:g}"))
    return s


