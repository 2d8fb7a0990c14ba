"""Run the presets against the figures in DOMAIN.md and write docs/targets.md.

    .venv/bin/python scripts/domain_targets.py            # 20,000 users x 730 days, seeds 1-3
    .venv/bin/python scripts/domain_targets.py --users 5000 --seeds 1 2

Each row: the figure, its source, the simulated value (mean over seeds, with the range),
the command that reproduces one seed, and whether it lands at the right order of magnitude
(the presets are not calibrated yet: that is a separate step).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim import SiyuModel, load_config


@dataclass
class Target:
    figure: str
    source: str
    arms: dict[str, str]             # label -> overrides
    measure: str                     # python expression over `s` (summaries by label)
    fmt: str
    check: str                       # python expression over the measured value `v`
    expectation: str


TARGETS = [
    Target("WeCom friend churn 30-40% vs personal WeChat 5-6%: a ratio of 5-8x",
           "seed 002 (Xiaoniu Kaixi)",
           {"wecom": "market=fresh_food channel=wecom",
            "personal": "market=fresh_food channel=personal_wechat"},
           "s['wecom']['monthly_churn_wecom'] / s['personal']['monthly_churn_personal_wechat']",
           "{:.1f}x", "5 <= v <= 8", "5-8x"),
    Target("Repurchase rate 80% in fresh food", "seed 002 (Xiaoniu Kaixi)",
           {"fresh": "market=fresh_food strategy=service_led"},
           "s['fresh']['repurchase_rate']", "{:.0%}", "0.75 <= v <= 0.85",
           "75-85% (80%, as reported, to the nearest 5 pts)"),
    Target("Referral share of car sales 55% with a community / KOC strategy (over all new "
           "buyers)", "seed 001 (NIO: 55% of monthly sales)",
           {"koc": "market=car strategy=koc_program dealer=co_build"},
           "s['koc']['referral_share_brand']", "{:.0%}", "0.5 <= v <= 0.6",
           "50-60% (55%, to the nearest 5 pts)"),
    Target("Referral share of car sales 8-10% without one (over all new buyers)",
           "seed 001 (traditional carmakers)",
           {"trad": "market=car strategy=promotion_heavy dealer=store_run"},
           "s['trad']['referral_share_brand']", "{:.0%}", "0.08 <= v <= 0.10", "8-10%"),
    Target("Phone: promotion-heavy groups raise churn", "seed 000 (Honor; no figure given)",
           {"promo": "market=phone strategy=promotion_heavy",
            "service": "market=phone strategy=service_led"},
           "s['promo']['monthly_churn_rate'] / s['service']['monthly_churn_rate']",
           "{:.1f}x", "v > 1", "ratio > 1 (direction only)"),
    Target("Phone: promotion-heavy gives little repurchase effect", "seed 000 (Honor; no figure "
           "given)", {"promo": "market=phone strategy=promotion_heavy",
                      "service": "market=phone strategy=service_led"},
           "s['promo']['repurchase_rate'] - s['service']['repurchase_rate']",
           "{:+.1%}", "v <= 0.01", "difference <= +1 pt (direction only)"),
    Target("Co-build keeps groups alive where store-run groups die", "seed 000 (Honor; no "
           "figure given)",
           {"store": "market=phone dealer=store_run", "co": "market=phone dealer=co_build"},
           "s['store']['dead_group_share'] - s['co']['dead_group_share']", "{:+.0%}",
           "v >= 0.5", "dead-group share gap >= 50 pts"),
    Target("Paid VIPs give 40%+ of restaurant (dine-in) revenue",
           "DOMAIN.md (Xibei, 299 yuan a year)",
           {"vip": "market=restaurant strategy=membership_vip"},
           "s['vip']['vip_revenue_share']", "{:.0%}", "0.40 <= v <= 0.5", "40-50% (\"40%+\")"),
    Target("Top 20% of buyers give 60-73% of revenue", "LITERATURE #32 (Ehrenberg-Bass ~0.6; "
           "CPG 0.73)",
           {"phone": "market=phone"}, "s['phone']['top20_revenue_share']", "{:.0%}",
           "0.6 <= v <= 0.73", "60-73%"),
]

# why a target misses, where it does (kept beside the table; update when the model changes)
MISSES = {
    "WeCom friend churn 30-40% vs personal WeChat 5-6%: a ratio of 5-8x": (
        "The channels' churn figures are read as the share of a new cohort lost in its first "
        "month (`strategy.churn.channel_churn_reading=cohort_share`), so a new cohort loses "
        "35% on WeCom and 5.5% on personal WeChat by construction (6.4x). The KPI here is the "
        "churn rate over all member-days; with frailty (Fader & Hardie's heterogeneous "
        "hazards) the members who stay dominate the member-days in both channels, which "
        "pulls the two rates together (4.7x). The source does not say which basis it uses."),
    "Repurchase rate 80% in fresh food": (
        "`repurchase_rate` counts any second purchase within the run; the source gives no "
        "window. With a monthly need, two years leave almost every customer time to buy "
        "again (93%); the same preset gives 62% over 90 days, 76% over 180 and 87% over 365, "
        "so the reported 80% matches a window of about seven months."),
    "Referral share of car sales 8-10% without one (over all new buyers)": (
        "Lands at 14% (12-16% over seeds), above the range: owners outside the private "
        "domain recommend at the base rate `strategy.referral.per_year` (an assumption, not "
        "fitted), and members of the dying store-run groups quit them "
        "(`touchpoints.group_exit_*`) instead of staying muted in a dead group, which puts "
        "their word of mouth back at that base rate (it was 11% before group exits). The "
        "community's amplification is what moves the share to NIO's 55%."),
    "Top 20% of buyers give 60-73% of revenue": (
        "The published shares are for repeat-purchase categories over a year; in the phone "
        "preset most buyers buy once in two years, so the share only reflects spend "
        "dispersion (`market.spend_sigma` 0.8 and the segments' spend levels, assumptions). "
        "It would land with a wider spend distribution, which no source here pins down."),
}


def run_arm(overrides: str, users: int, days: int, seed: int) -> dict:
    cfg = load_config([*overrides.split(), f"population.n_users={users}", f"days={days}",
                       f"seed={seed}", "output.progress=false"])
    model = SiyuModel(cfg)
    model.run()
    return model.summary()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=20_000)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "docs" / "targets.md"))
    a = ap.parse_args()
    cache: dict[tuple[str, int], dict] = {}
    rows = []
    for t in TARGETS:
        values = []
        for seed in a.seeds:
            s = {}
            for label, ov in t.arms.items():
                key = (ov, seed)
                if key not in cache:
                    cache[key] = run_arm(ov, a.users, a.days, seed)
                s[label] = cache[key]
            values.append(float(eval(t.measure, {}, {"s": s})))  # noqa: S307 (our own table)
        v = float(np.mean(values))
        ok = bool(eval(t.check, {}, {"v": v}))  # noqa: S307
        cmd = " ; ".join(f"`python -m sim {ov} population.n_users={a.users} days={a.days} seed=1`"
                         for ov in t.arms.values())
        rng = f"{t.fmt.format(min(values))} .. {t.fmt.format(max(values))}"
        rows.append(f"| {t.figure} | {t.source} | {t.fmt.format(v)} ({rng}) | {t.expectation} | "
                    f"{'yes' if ok else '**no**'} | {cmd} |")
        print(rows[-1], flush=True)
    text = "\n".join([
        "# Presets against the DOMAIN.md figures",
        "",
        f"Generated by `python scripts/domain_targets.py --users {a.users} --days {a.days} "
        f"--seeds {' '.join(map(str, a.seeds))}`: simulated value = mean over the seeds "
        "(min .. max). Tolerances are no wider than the source's own range (a single "
        "reported figure: to its rounding); figures the sources give only as a direction are "
        "checked for the direction. The presets are set by hand; fitting them is the "
        "calibration step. Every outcome emerges from the mechanisms (docs/model.md); none "
        "is written in.",
        "",
        "| figure | source | simulated | expected | lands | command |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        "## Misses, explained",
        "",
        *(f"- **{figure}**: {why}" for figure, why in MISSES.items()),
        "",
    ])
    Path(a.out).write_text(text)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
