"""The counterfactual: the same seed without private-domain operations, and the increments.

What the brand gains from its private domain is the difference from what the same users
would have done without it (DOMAIN.md, "Effects are incremental"). The counterfactual run
keeps the population, the social graph, every trait and every random draw (common random
numbers), and removes the operations: nobody is in the private domain (the initial members
are just owners), and recruiting, messaging, groups, events, service, the KOC program,
membership, the funnel and the touchpoints' presale pull are switched off. Needs, public purchases, owners' word of mouth
and their satisfaction remain. The difference between the two runs is the effect.

Money (yuan, DOMAIN.md "Discounts are paid out of margin"): gross profit of the private
domain is ``gross_margin x (revenue + discount) - discount + fee_revenue - cost`` (revenue is
net of discounts); the brand's is the same over private-domain and public revenue.
"""

from __future__ import annotations

import dataclasses

from sim.config import Config

# the mechanisms that are private-domain operations (switched off in the counterfactual)
OPERATIONS = ("koc", "messaging", "groups", "events", "service", "membership", "funnel",
              "acquisition", "recall", "touchpoints")


def counterfactual_config(cfg: Config) -> Config:
    """``cfg`` without private-domain operations (same seed, population and graph)."""
    mech = dataclasses.replace(cfg.mechanisms, **{name: False for name in OPERATIONS})
    market = dataclasses.replace(cfg.market, initial_member_share=0.0)
    return dataclasses.replace(cfg, mechanisms=mech, market=market, counterfactual=False)


def gross_profit(margin: float, revenue: float, discount: float, fees: float,
                 cost: float) -> float:
    """List revenue x margin, less discounts (out of margin), plus fees, less every cost."""
    return margin * (revenue + discount) - discount + fees - cost


def incremental(run: dict, base: dict) -> dict[str, float]:
    """The increments of a run over its counterfactual (both summaries), brand-wide."""
    inc_rev = run["brand_revenue"] - base["brand_revenue"]
    inc_gp = run["brand_gross_profit"] - base["brand_gross_profit"]
    cost = run["cost"]
    return {
        "incremental_revenue": inc_rev,
        "incremental_gross_profit": inc_gp,
        "incremental_roi": inc_gp / cost if cost > 0 else float("nan"),
        "incremental_purchases": (run["purchases"] + run["public_purchases"]
                                  - base["purchases"] - base["public_purchases"]),
        "incremental_brand_buyers": run["new_brand_buyers"] - base["new_brand_buyers"],
        "counterfactual_brand_revenue": base["brand_revenue"],
        "counterfactual_brand_gross_profit": base["brand_gross_profit"],
    }
