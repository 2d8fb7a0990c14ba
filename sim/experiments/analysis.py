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
from sim.experiments.study import HEADLINE, KPIS


def kpi_list(sweep: Sweep) -> list[str]:
    kpis = sweep.spec.kpis if sweep.spec else HEADLINE
    return [k for k in kpis if k in sweep.runs.columns]


def _by_seed(df, kpi: str) -> dict[int, float]:
    return {int(s): (None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v))
            for s, v in zip(df["seed"], df[kpi], strict=True)}


def comparison_table(sweep: Sweep, level: float = LEVEL):
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
                label, better, fmt = KPIS[kpi]
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


def fmt_value(x: Any, fmt: str) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if fmt == "pct":
        return f"{100 * x:.2f}%"
    if fmt == "money":
        return f"{x:,.0f}"
    if fmt == "count":  # means over seeds: a decimal while it matters
        return f"{x:,.1f}" if abs(x) < 1000 and x != int(x) else f"{x:,.0f}"
    if fmt == "score":
        return f"{x:.1f}"
    return f"{x:.3f}"


def fmt_diff(x: Any, fmt: str) -> str:
    """A difference in the KPI's unit (percentage points for rates), with its sign."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if fmt == "pct":
        return f"{100 * x:+.2f} pp"
    if fmt == "money":
        return f"{x:+,.0f}"
    if fmt == "count":
        return f"{x:+,.1f}"
    if fmt == "score":
        return f"{x:+.1f}"
    return f"{x:+.3f}"


def fmt_ci(lo: Any, hi: Any, fmt: str, diff: bool = False) -> str:
    f = fmt_diff if diff else fmt_value
    if lo is None or not math.isfinite(lo):
        return "n/a"
    return f"[{f(lo, fmt)}, {f(hi, fmt)}]"


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

    def part(self, verdict: str, text: str) -> str:
        if self.verdict_first:
            return f"{'not significant' if verdict == 'n.s.' else verdict} {text}"
        return f"{text}: {verdict}"

    def text(self) -> str:
        lines = [self.headline]
        lines += [f"  - {label}: " + "; ".join(self.part(v, t) for v, t in parts)
                  for label, parts in self.findings]
        if self.not_significant:
            lines.append("  Not significant (the 95% CI contains 0): "
                         + ", ".join(self.not_significant) + ".")
        return "\n".join(lines)


VERDICT_ORDER = {"better": 0, "worse": 1, "higher": 2, "lower": 3, "n.s.": 4}
NOTHING = "There is nothing to compare: the sweep has one arm, or no seed was run by both arms."


def _pairs_text(t, n_seeds: int) -> str:
    lo, hi = int(t["n_pairs"].min()), int(t["n_pairs"].max())
    n = str(hi) if lo == hi else f"{lo}-{hi}"
    return f"{n} paired seed{'s' if hi != 1 else ''}{'' if lo == hi == n_seeds else f' of {n_seeds}'}"


def reading(sweep: Sweep, table) -> list[Reading]:
    """Per stratum and arm: which differences are significant, their size and 95% CI, and
    which way they go (better/worse for the brand); which are not significant."""
    if table.empty:
        return [Reading(NOTHING)]
    out = []
    n_seeds = sweep.runs["seed"].nunique()
    for (stratum, arm), t in table.groupby(["stratum", "arm"], sort=False):
        where = f" ({stratum})" if stratum else ""
        base = t["baseline"].iloc[0]
        pairs = _pairs_text(t, n_seeds)
        if int(t["n_pairs"].max()) < 2:
            out.append(Reading(f"{arm} vs {base}{where}, {pairs}: with fewer than 2 paired seeds "
                               "no confidence interval can be computed; run more seeds."))
            continue
        sig, ns = t[t["significant"]], t[~t["significant"]]
        counts = sig["verdict"].value_counts()
        n_better, n_worse = int(counts.get("better", 0)), int(counts.get("worse", 0))
        if sig.empty:
            headline = f"{arm} vs {base}{where}, {pairs}: no difference is significant."
        else:
            other = len(sig) - n_better - n_worse
            headline = (f"{arm} vs {base}{where}, {pairs}: {arm} does significantly better on "
                        f"{n_better} and worse on {n_worse} of the {len(t)} KPIs compared"
                        + (f"; {other} other significant difference(s)" if other else "") + ".")
        findings = []
        for _, r in sorted(sig.iterrows(), key=lambda ir: VERDICT_ORDER[ir[1]["verdict"]]):
            f = r["format"]
            text = (f"{fmt_value(r['base_mean'], f)} → {fmt_value(r['arm_mean'], f)}, "
                    f"{fmt_diff(r['diff'], f)} (95% CI {fmt_diff(r['diff_lo'], f)} to "
                    f"{fmt_diff(r['diff_hi'], f)}{_rel_text(r['rel'])})")
            findings.append((r["label"], [(r["verdict"], text)]))
        out.append(Reading(headline, findings, ns["label"].tolist()))
    return out


def overview(sweep: Sweep, table) -> list[Reading]:
    """Per arm, across strata (e.g. markets): for each KPI, where the difference is
    significantly better/worse and its range, and where it is not significant. Empty when
    there is only one stratum (then :func:`reading` is the whole story)."""
    strata = list(dict.fromkeys(table["stratum"])) if not table.empty else []
    if len(strata) < 2:
        return []
    keys = {s.split("=", 1)[0] for s in strata if "=" in s}
    single_key = len(keys) == 1 and all(s.count("=") == 1 for s in strata)
    noun = f"{keys.pop()}s" if single_key else "strata"

    def name(stratum: str) -> str:
        return stratum.split("=", 1)[1] if single_key else stratum

    out = []
    n_seeds = sweep.runs["seed"].nunique()
    for arm, t in table.groupby("arm", sort=False):
        base = t["baseline"].iloc[0]
        headline = (f"{arm} vs {base} in {len(strata)} {noun} "
                    f"({', '.join(name(s) for s in strata)}), {_pairs_text(t, n_seeds)} each:")
        findings, consistent = [], 0
        for _, k in t.groupby("kpi", sort=False):
            parts = []
            for verdict, g in sorted(k.groupby("verdict"), key=lambda vg: VERDICT_ORDER[vg[0]]):
                where = (f"all {len(strata)} {noun}" if len(g) == len(strata)
                         else ", ".join(name(s) for s in g["stratum"]))
                f = g["format"].iloc[0]
                lo, hi = g["diff"].min(), g["diff"].max()
                size = fmt_diff(lo, f) if lo == hi else f"{fmt_diff(lo, f)} to {fmt_diff(hi, f)}"
                parts.append((verdict, f"in {where}" + ("" if verdict == "n.s." else f" ({size})")))
            consistent += len(parts) == 1 and parts[0][0] != "n.s."
            findings.append((k["label"].iloc[0], parts))
        headline += (f" {consistent} of {len(findings)} KPIs differ significantly the same way in "
                     f"every {noun[:-1] if single_key else 'stratum'}.")
        out.append(Reading(headline, findings, verdict_first=True))
    return out


def _rel_text(rel: float) -> str:
    return f"; {100 * rel:+.1f}%" if math.isfinite(rel) else ""
