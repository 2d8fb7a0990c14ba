"""A study's numbers: per-arm means and paired differences with 95% CIs, and their reading.

Everything here is computed from the runs table (:mod:`sim.experiments.aggregate`), never
from live models. Pairing is by seed within a stratum: an arm's run on seed s is compared with
the baseline's run on the same seed s (common random numbers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sim.experiments.aggregate import Sweep
from sim.experiments.stats import LEVEL, paired_difference, t_interval
from sim.experiments.study import DECISION_KPIS, HEADLINE, KPIS
from sim.i18n import money, tr


def T(key: str, lang: str, **fmt) -> str:
    """Report text ``report.KEY`` in ``lang`` (sim/i18n.py)."""
    return tr(f"report.{key}", lang, **fmt)


def label(kpi: str, lang: str) -> str:
    try:
        return T(f"kpi.{kpi}", lang)
    except KeyError:
        return KPIS[kpi][0] if kpi in KPIS else kpi


def factor_label(name: str, lang: str) -> str:
    """A lever group's name in ``lang`` (report.factor.NAME), else the name as declared."""
    try:
        return T(f"factor.{name}", lang)
    except KeyError:
        return name


def verdict_word(verdict: str, lang: str) -> str:
    return T(f"verdict.{verdict}", lang)


def kpi_list(sweep: Sweep) -> list[str]:
    kpis = sweep.spec.kpis if sweep.spec else HEADLINE
    kpis = list(kpis)
    dk = decision_kpi(sweep)
    if dk and dk not in kpis:
        kpis.insert(0, dk)
    return [k for k in kpis if k in sweep.runs.columns]


def decision_kpi(sweep: Sweep) -> str | None:
    """The KPI a recommendation is made on: the study's ``kpi``, else the first of
    DECISION_KPIS the runs have (incremental gross profit once counterfactual runs exist)."""
    if sweep.spec is not None and sweep.spec.kpi:
        return sweep.spec.kpi
    for k in DECISION_KPIS:
        if k in sweep.runs.columns and sweep.runs[k].notna().any():
            return k
    return None


def _by_seed(df, kpi: str) -> dict[int, float]:
    return {int(s): (None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v))
            for s, v in zip(df["seed"], df[kpi], strict=True)}


def comparison_table(sweep: Sweep, level: float = LEVEL, lang: str = "en"):
    """One row per (stratum, arm other than the baseline, KPI): both arms' means with t
    intervals over seeds, the paired difference (arm - baseline) with its interval, the
    relative difference, and whether the difference is significant (its CI excludes 0)."""
    import pandas as pd

    rows = []
    runs = sweep.runs
    base = sweep.baseline
    for stratum, df in runs.groupby("stratum", sort=False):
        b = df[df["arm"] == base]
        for arm in sweep.arms[1:]:
            a = df[df["arm"] == arm]
            if a.empty or b.empty:
                continue
            for kpi in kpi_list(sweep):
                ma, mb = t_interval(a[kpi].tolist(), level), t_interval(b[kpi].tolist(), level)
                d = paired_difference(_by_seed(a, kpi), _by_seed(b, kpi), level)
                scale = abs(mb.mean) if mb.mean and math.isfinite(mb.mean) else math.nan
                _, better, fmt = KPIS[kpi]
                label = globals()["label"](kpi, lang)
                rows.append({
                    "stratum": stratum, "arm": arm, "baseline": base, "kpi": kpi,
                    "label": label, "format": fmt, "better": better,
                    "arm_mean": ma.mean, "arm_lo": ma.lo, "arm_hi": ma.hi,
                    "base_mean": mb.mean, "base_lo": mb.lo, "base_hi": mb.hi,
                    "n_pairs": d.n, "diff": d.mean, "diff_sd": d.sd,
                    "diff_lo": d.lo, "diff_hi": d.hi, "significant": d.significant,
                    "rel": d.mean / scale, "rel_lo": d.lo / scale, "rel_hi": d.hi / scale,
                    "verdict": _verdict(d.mean, d.significant, better),
                })
    return pd.DataFrame(rows)


def _verdict(diff: float, significant: bool, better: int) -> str:
    if not significant:
        return "n.s."
    direction = 1 if diff > 0 else -1
    if better == 0:
        return "higher" if direction > 0 else "lower"
    return "better" if direction * better > 0 else "worse"


# --------------------------------------------------------------------------- formatting


def fmt_value(x: Any, fmt: str, lang: str | None = None) -> str:
    """A value in its unit; money as strategists write it (万/亿, M/B) when ``lang`` is given."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if fmt == "pct":
        return f"{100 * x:.2f}%"
    if fmt == "money":
        return money(x, lang) if lang else f"{x:,.0f}"
    if fmt == "count":  # means over seeds: a decimal while it matters
        return f"{x:,.1f}" if abs(x) < 1000 and x != int(x) else f"{x:,.0f}"
    if fmt == "score":
        return f"{x:.1f}"
    return f"{x:.3f}"


def fmt_diff(x: Any, fmt: str, lang: str | None = None) -> str:
    """A difference in the KPI's unit (percentage points for rates), with its sign."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if fmt == "pct":
        return f"{100 * x:+.2f} pp"
    if fmt == "money":
        return (("+" if x >= 0 else "") + money(x, lang)) if lang else f"{x:+,.0f}"
    if fmt == "count":
        return f"{x:+,.1f}"
    if fmt == "score":
        return f"{x:+.1f}"
    return f"{x:+.3f}"


def fmt_ci(lo: Any, hi: Any, fmt: str, diff: bool = False, lang: str | None = None) -> str:
    f = fmt_diff if diff else fmt_value
    if lo is None or not math.isfinite(lo):
        return "n/a"
    return f"[{f(lo, fmt, lang)}, {f(hi, fmt, lang)}]"


# --------------------------------------------------------------------------- reading


@dataclass
class Reading:
    """Generated text: a headline, then one finding per KPI as (label, [(verdict, text)]).

    In a per-stratum reading a part reads "text: verdict"; in an overview across strata it
    reads "verdict text" ("better in all 4 markets (-9.8 to -8.9 pp)")."""

    headline: str
    findings: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)
    not_significant: list[str] = field(default_factory=list)  # KPI labels
    verdict_first: bool = False
    lang: str = "en"

    def word(self, verdict: str) -> str:
        if verdict == "n.s." and self.verdict_first:
            return T("verdict.not_significant", self.lang)
        return T(f"verdict.{verdict}", self.lang)

    def part(self, verdict: str, text: str) -> str:
        if self.verdict_first:
            return f"{self.word(verdict)} {text}"
        return f"{text}: {self.word(verdict)}"

    def text(self) -> str:
        lines = [self.headline]
        lines += [f"  - {label}: " + "; ".join(self.part(v, t) for v, t in parts)
                  for label, parts in self.findings]
        if self.not_significant:
            lines.append("  " + T("r.ns", self.lang, list=", ".join(self.not_significant)))
        return "\n".join(lines)


VERDICT_ORDER = {"better": 0, "worse": 1, "higher": 2, "lower": 3, "n.s.": 4}
NOTHING = "There is nothing to compare: the sweep has one arm, or no seed was run by both arms."


def _pairs_text(t, n_seeds: int, lang: str = "en") -> str:
    lo, hi = int(t["n_pairs"].min()), int(t["n_pairs"].max())
    n = str(hi) if lo == hi else f"{lo}-{hi}"
    if lo == hi == n_seeds:
        return T("r.pairs", lang, n=n)
    return T("r.pairs_of", lang, n=n, total=n_seeds)


def reading(sweep: Sweep, table, lang: str = "en") -> list[Reading]:
    """Per stratum and arm: which differences are significant, their size and 95% CI, and
    which way they go (better/worse for the brand); which are not significant."""
    if table.empty:
        return [Reading(T("r.nothing", lang), lang=lang)]
    out = []
    n_seeds = sweep.runs["seed"].nunique()
    for (stratum, arm), t in table.groupby(["stratum", "arm"], sort=False):
        where = f" ({stratum})" if stratum else ""
        base = t["baseline"].iloc[0]
        pairs = _pairs_text(t, n_seeds, lang)
        if int(t["n_pairs"].max()) < 2:
            out.append(Reading(T("r.few", lang, arm=arm, base=base, where=where, pairs=pairs),
                               lang=lang))
            continue
        sig, ns = t[t["significant"]], t[~t["significant"]]
        counts = sig["verdict"].value_counts()
        n_better, n_worse = int(counts.get("better", 0)), int(counts.get("worse", 0))
        if sig.empty:
            headline = T("r.none_sig", lang, arm=arm, base=base, where=where, pairs=pairs)
        else:
            other = len(sig) - n_better - n_worse
            headline = T("r.headline", lang, arm=arm, base=base, where=where, pairs=pairs,
                         better=n_better, worse=n_worse, total=len(t),
                         other=T("r.other", lang, n=other) if other else "")
        findings = []
        for _, r in sorted(sig.iterrows(), key=lambda ir: VERDICT_ORDER[ir[1]["verdict"]]):
            f = r["format"]
            text = T("r.finding", lang, b=fmt_value(r["base_mean"], f, lang),
                     a=fmt_value(r["arm_mean"], f, lang), diff=fmt_diff(r["diff"], f, lang),
                     lo=fmt_diff(r["diff_lo"], f, lang), hi=fmt_diff(r["diff_hi"], f, lang),
                     rel=_rel_text(r["rel"]))
            findings.append((r["label"], [(r["verdict"], text)]))
        out.append(Reading(headline, findings, ns["label"].tolist(), lang=lang))
    return out


def overview(sweep: Sweep, table, lang: str = "en") -> list[Reading]:
    """Per arm, across strata (e.g. markets): for each KPI, where the difference is
    significantly better/worse and its range, and where it is not significant. Empty when
    there is only one stratum (then :func:`reading` is the whole story)."""
    strata = list(dict.fromkeys(table["stratum"])) if not table.empty else []
    if len(strata) < 2:
        return []
    keys = {s.split("=", 1)[0] for s in strata if "=" in s}
    single_key = len(keys) == 1 and all(s.count("=") == 1 for s in strata)
    key = keys.pop() if single_key else None
    noun_key = key if key in ("market",) else "strata"
    noun = T(f"noun.{noun_key}", lang) if key in ("market",) or not single_key else f"{key}s"
    noun1 = T(f"noun1.{noun_key}", lang) if key in ("market",) or not single_key else key

    def name(stratum: str) -> str:
        return stratum.split("=", 1)[1] if single_key else stratum

    out = []
    n_seeds = sweep.runs["seed"].nunique()
    for arm, t in table.groupby("arm", sort=False):
        base = t["baseline"].iloc[0]
        headline = T("r.over_head", lang, arm=arm, base=base, n=len(strata), noun=noun,
                     list=", ".join(name(s) for s in strata),
                     pairs=_pairs_text(t, n_seeds, lang))
        findings, consistent = [], 0
        for _, k in t.groupby("kpi", sort=False):
            parts = []
            for verdict, g in sorted(k.groupby("verdict"), key=lambda vg: VERDICT_ORDER[vg[0]]):
                where = (T("r.in_all", lang, n=len(strata), noun=noun) if len(g) == len(strata)
                         else T("r.in", lang, list=", ".join(name(s) for s in g["stratum"])))
                f = g["format"].iloc[0]
                lo, hi = g["diff"].min(), g["diff"].max()
                size = (fmt_diff(lo, f, lang) if lo == hi
                        else f"{fmt_diff(lo, f, lang)} … {fmt_diff(hi, f, lang)}")
                parts.append((verdict, where + ("" if verdict == "n.s." else f" ({size})")))
            consistent += len(parts) == 1 and parts[0][0] != "n.s."
            findings.append((k["label"].iloc[0], parts))
        headline += T("r.consistent", lang, k=consistent, n=len(findings), noun=noun1)
        out.append(Reading(headline, findings, verdict_first=True, lang=lang))
    return out


def _rel_text(rel: float) -> str:
    return f"; {100 * rel:+.1f}%" if math.isfinite(rel) else ""
