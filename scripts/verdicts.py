"""Re-measure the table of docs/verdicts.md: promotion-heavy vs service-led, incremental
gross profit, in the settings the page explains (same seeds for both arms).

    .venv/bin/python scripts/verdicts.py               # 20,000 users, seeds 1-3 (~5 min)
    .venv/bin/python scripts/verdicts.py --users 5000 --seeds 1

Prints the markdown table and writes it into docs/verdicts.md between the
``<!-- verdicts:begin -->`` and ``<!-- verdicts:end -->`` markers.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from sim import SiyuModel, load_config

DEAL_PRONE = ("market=fresh_food", "market.gross_margin=0.6", "market.deal_prone_a=4",
              "market.deal_prone_b=2")
SETTINGS = {
    "A. fresh food, deal-prone customers (Beta(4,2), mean 0.67), 60% margin, **90 days**":
        (*DEAL_PRONE, "days=90"),
    "A'. the same market over **730 days**": (*DEAL_PRONE, "days=730"),
    "B. fresh food defaults (35% margin, mean deal-proneness 0.4), 730 days":
        ("market=fresh_food", "days=730"),
    "C. phone defaults, 730 days": ("market=phone", "days=730"),
}
ARMS = ("service_led", "promotion_heavy")
DOC = Path(__file__).resolve().parents[1] / "docs" / "verdicts.md"


def incremental_gp(overrides: tuple[str, ...], arm: str, users: int, seed: int) -> float:
    cfg = load_config([f"strategy={arm}", f"population.n_users={users}", f"seed={seed}",
                       "output.progress=false", *overrides])
    model = SiyuModel(cfg)
    model.run()
    base = model.counterfactual()
    base.run()
    return model.summary(baseline=base.summary())["incremental_gross_profit"]


def k(v: float) -> str:
    return f"{v / 1000:+,.0f}k"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=20_000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    a = ap.parse_args()
    rows = ["| setting | service-led incremental gross profit | promotion-heavy | "
            "promotion-heavy minus service-led |", "|---|---|---|---|"]
    for label, ov in SETTINGS.items():
        got = {arm: [incremental_gp(ov, arm, a.users, s) for s in a.seeds] for arm in ARMS}
        diff = [p - s for p, s in zip(got["promotion_heavy"], got["service_led"], strict=True)]

        def cell(vals: list[float]) -> str:
            mean = sum(vals) / len(vals)
            return k(mean) + (" (" + ", ".join(k(v) for v in vals) + ")" if len(vals) > 1 else "")

        rows.append(f"| {label} | {cell(got['service_led'])} | {cell(got['promotion_heavy'])} "
                    f"| **{cell(diff)}** |")
        print(rows[-1], flush=True)
    table = "\n".join(rows)
    head = (f"<!-- verdicts:begin -->\n{a.users:,} users, seeds "
            f"{', '.join(map(str, a.seeds))}, same seeds for both arms (yuan; each seed in "
            f"brackets). Regenerate: `.venv/bin/python scripts/verdicts.py`.\n\n")
    text = DOC.read_text(encoding="utf-8")
    new, n = re.subn(r"<!-- verdicts:begin -->.*?<!-- verdicts:end -->",
                     lambda _: head + table + "\n<!-- verdicts:end -->", text, flags=re.S)
    if n == 1:
        DOC.write_text(new, encoding="utf-8")
        print(f"wrote {DOC}")
    else:
        print("docs/verdicts.md has no verdicts markers; table printed only")


if __name__ == "__main__":
    main()
