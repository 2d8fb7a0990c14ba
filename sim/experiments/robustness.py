"""How sure: the verdict across plausible worlds, and which assumptions flip it.

Each world (a Latin-hypercube draw of the assumption parameters, design.py) runs both arms
on the same seeds; its paired difference (challenger - baseline) of the decision KPI, mean
over seeds, is one world's verdict. Robustness is the share of worlds in which the
challenger comes out ahead (and the share in which it is significantly ahead or behind).

Scenario discovery, as in the EMA workbench: which region of the assumption space holds the
worlds where the verdict flips (the minority sign)? PRIM (Friedman & Fisher 1999) peels the
unit box of the LHS draws, 5% of the remaining worlds at a time, always where the share of
flips inside rises most; of the peeling trajectory it keeps the box with the largest
weighted relative accuracy, mass x (density - base rate), then frees every bound whose
removal does not lower the density. A rank correlation of each parameter with the
difference ranks the assumptions the verdict leans on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.experiments.stats import paired_difference


def world_table(sweep, kpi: str):
    """Per stratum and world: the paired difference challenger - baseline (mean over
    seeds, 95% CI) and the world's uniform draws (columns ``u:KEY``)."""
    import pandas as pd

    d = sweep.design
    spec = sweep.spec
    info = {p["id"]: p["info"] for p in d["points"]}
    rows = []
    runs = sweep.runs.assign(world=[info[a]["world"] for a in sweep.runs["arm"]],
                             side=[info[a]["arm"] for a in sweep.runs["arm"]])
    for (stratum, world), g in runs.groupby(["stratum", "world"], sort=True):
        a = g[g["side"] == spec.challenger].set_index("seed")[kpi]
        b = g[g["side"] == spec.baseline].set_index("seed")[kpi]
        ci = paired_difference({int(s): float(v) for s, v in a.items()},
                               {int(s): float(v) for s, v in b.items()})
        if ci.n == 0:
            continue
        u = next(p["info"]["u"] for p in d["points"] if p["info"]["world"] == world)
        rows.append({"stratum": stratum, "world": int(world), "n": ci.n, "diff": ci.mean,
                     "lo": ci.lo, "hi": ci.hi, "base_mean": float(b.mean()),
                     "arm_mean": float(a.mean()), **{f"u:{k}": v for k, v in u.items()}})
    return pd.DataFrame(rows)


def robustness(table) -> dict[str, dict[str, float]]:
    """Per stratum and overall ('' key): worlds, share ahead, share significantly ahead or
    behind, median and 10-90% range of the difference."""
    out = {}
    groups = [("", table)] + list(table.groupby("stratum", sort=False))
    for stratum, t in groups:
        if t.empty:
            continue
        d = t["diff"].to_numpy(float)
        out[stratum] = {"worlds": len(t), "ahead": float(np.mean(d > 0)),
                        "sig_ahead": float(np.mean(t["lo"] > 0)),
                        "sig_behind": float(np.mean(t["hi"] < 0)),
                        "median": float(np.median(d)), "p10": float(np.percentile(d, 10)),
                        "p90": float(np.percentile(d, 90))}
    return out


def drivers(table, top: int = 8) -> list[tuple[str, float]]:
    """Assumptions ranked by |Spearman rho| between their draw and the difference (ranks
    taken within each stratum, so markets of different size pool)."""
    from scipy.stats import spearmanr

    cols = [c for c in table.columns if c.startswith("u:")]
    if len(table) < 4 or not cols:
        return []
    ranked = table.groupby("stratum")["diff"].rank(pct=True).to_numpy()
    out = []
    for c in cols:
        x = table[c].to_numpy(float)
        if np.ptp(x) == 0:
            continue
        rho = spearmanr(x, ranked).statistic
        if math.isfinite(rho):
            out.append((c[2:], float(rho)))
    return sorted(out, key=lambda kv: -abs(kv[1]))[:top]


@dataclass
class Box:
    limits: dict[str, tuple[float, float]]  # key -> (lo, hi) of the draw u in [0, 1]
    coverage: float   # share of all flips inside the box
    density: float    # share of flips among the worlds inside
    mass: float       # share of worlds inside
    base_rate: float  # share of flips among all worlds
    n_flips: int


def prim(x: np.ndarray, y: np.ndarray, names: list[str], alpha: float = 0.05,
         min_mass: float = 0.05) -> Box | None:
    """PRIM on draws ``x`` (n x d, in [0, 1]) and flags ``y`` (the worlds of interest)."""
    n = len(y)
    if n == 0 or y.sum() == 0:
        return None
    base = float(y.mean())
    lo, hi = np.zeros(x.shape[1]), np.ones(x.shape[1])
    inside = np.ones(n, bool)
    best = (0.0, lo.copy(), hi.copy())
    while inside.sum() / n > min_mass:
        cand = None
        for j in range(x.shape[1]):
            xj = x[inside, j]
            for side, q in (("lo", np.quantile(xj, alpha)), ("hi", np.quantile(xj, 1 - alpha))):
                keep = inside & ((x[:, j] >= q) if side == "lo" else (x[:, j] <= q))
                if keep.sum() == inside.sum() or keep.sum() == 0:
                    continue
                dens = y[keep].mean()
                if cand is None or dens > cand[0]:
                    cand = (dens, j, side, q, keep)
        if cand is None:
            break
        _, j, side, q, keep = cand
        if side == "lo":
            lo[j] = q
        else:
            hi[j] = q
        inside = keep
        wracc = inside.mean() * (y[inside].mean() - base)
        if wracc > best[0]:
            best = (wracc, lo.copy(), hi.copy())
    if best[0] <= 0:
        return None
    lo, hi = best[1], best[2]

    def box_mask(lo, hi):
        return np.all((x >= lo) & (x <= hi), axis=1)

    dens = y[box_mask(lo, hi)].mean()
    for j in range(x.shape[1]):  # free bounds that do not matter
        if lo[j] > 0 or hi[j] < 1:
            l2, h2 = lo.copy(), hi.copy()
            l2[j], h2[j] = 0.0, 1.0
            if y[box_mask(l2, h2)].mean() >= dens - 1e-12:
                lo, hi = l2, h2
                dens = y[box_mask(lo, hi)].mean()
    m = box_mask(lo, hi)
    limits = {names[j]: (float(lo[j]), float(hi[j])) for j in range(x.shape[1])
              if lo[j] > 0 or hi[j] < 1}
    return Box(limits, float(y[m].sum() / y.sum()), float(y[m].mean()), float(m.mean()), base,
               int(y.sum()))


def discover(table) -> tuple[Box | None, int]:
    """PRIM box of the worlds whose verdict is the minority sign; (box, majority sign)."""
    if table.empty:
        return None, 0
    d = table["diff"].to_numpy(float)
    majority = 1 if np.mean(d > 0) >= 0.5 else -1
    flips = (np.sign(d) != majority).astype(float)
    cols = [c for c in table.columns if c.startswith("u:")]
    x = table[cols].to_numpy(float)
    return prim(x, flips, [c[2:] for c in cols]), majority


def multiplier(u: float, band: float) -> float:
    """The factor a world applied to a parameter's preset value for draw ``u``."""
    return band ** (2 * u - 1)
