"""The reference: a hand-written numpy kernel of the buy / refer / churn process.

The same process as siyu-sim reduced by config to purchase + referral (with its lead
funnel) + churn (every other mechanism switched off in ``mechanisms.*``), with
no framework around it: plain arrays, one ``numpy.random.Generator``, one uniform draw per
active user per day for referral and churn, the Weibull need clock in age units. It is the
yardstick for the model's overhead (target: the model within 2x of this kernel).
"""

from __future__ import annotations

import math
import time

import numpy as np

PROSPECT, MEMBER, CHURNED = 0, 1, 2


def run_kernel(model, days: int, seed: int = 0) -> dict:
    """Run the process on the population and graph of an already built ``SiyuModel``."""
    cfg = model.config
    u = model.users
    g = model.graph
    rng = np.random.default_rng(seed)
    n = u.n
    state = u.state.copy()
    owned = u.owned_before.copy()
    n_buy = np.zeros(n, np.int32)
    sat = u.satisfaction.astype(np.float64)
    scale = u.need_scale.astype(np.float64)
    shape = cfg.market.need_cycle_shape
    age = np.floor(rng.random(n) * scale * math.gamma(1 + 1 / shape))
    due = -age + scale * ((age / scale) ** shape + rng.exponential(size=n)) ** (1 / shape)

    s = cfg.strategy
    r = s.referral
    f = cfg.market.funnel
    seg_mult = np.array([p.referral_mult for p in cfg.market.segments.profiles()])[u.segment]
    ref_rate = (r.per_year / 365.0) * (1 + r.reward_lift * r.reward) * u.sociability * seg_mult
    ref_p_user = -np.expm1(-ref_rate * (sat / 0.7) ** 4)  # satisfaction is constant here
    channel = cfg.channels.profiles()[0]  # everyone is in the landing channel (personal WeChat)
    base = -math.log1p(-channel.monthly_churn) / 30.0
    churn_p_user = -np.expm1(-base * np.exp(s.churn.dissatisfaction_beta * (0.7 - sat)))
    lead_stage = np.zeros(n, np.int8)
    lead_due = np.full(n, np.inf)
    loyalty = np.clip(s.satisfaction.loyalty_base + s.satisfaction.loyalty_slope * (sat - 0.5), 0, 1)
    deg = np.diff(g.indptr)

    purchases = referrals = churned = 0
    t0 = time.perf_counter()
    for day in range(1, days + 1):
        # need clock: due today -> members buy with loyalty, everyone restarts
        fired = np.flatnonzero(due <= day)
        if len(fired):
            m = fired[state[fired] == MEMBER]
            bought = m[rng.random(len(m)) < loyalty[m]]
            n_buy[bought] += 1
            purchases += len(bought)
            due[fired] = day + scale[fired] * rng.exponential(size=len(fired)) ** (1 / shape)
        # funnel: registered leads try, trialled leads buy
        due_l = np.flatnonzero(lead_due <= day)
        if len(due_l):
            reg = due_l[lead_stage[due_l] == 1]
            go = rng.random(len(reg)) < f.trial_prob
            lead_stage[reg[go]] = 2
            lead_due[reg[go]] = day + np.maximum(1, np.ceil(f.purchase_delay_days * rng.exponential(size=int(go.sum()))))
            lead_stage[reg[~go]] = 0
            lead_due[reg[~go]] = np.inf
            tri = due_l[lead_stage[due_l] == 2]
            tri = tri[lead_due[tri] <= day]
            buy = tri[rng.random(len(tri)) < f.purchase_prob]
            lead_stage[tri] = 0
            lead_due[tri] = np.inf
            n_buy[buy] += 1
            purchases += len(buy)
            referrals += len(buy)
            due[buy] = day + scale[buy] * rng.exponential(size=len(buy)) ** (1 / shape)
        members = np.flatnonzero(state == MEMBER)
        # referral: customers recommend to one neighbour; prospects register as leads
        cust = members[(n_buy[members] > 0) | owned[members]]
        refs = cust[rng.random(len(cust)) < ref_p_user[cust]]
        refs = refs[deg[refs] > 0]
        if len(refs):
            pick = g.indptr[refs] + (rng.random(len(refs)) * deg[refs]).astype(np.int64)
            tgt = g.indices[pick]
            ok = (state[tgt] == PROSPECT) & (rng.random(len(refs)) < f.register_prob)
            tgt = np.unique(tgt[ok])
            state[tgt] = MEMBER
            lead_stage[tgt] = 1
            lead_due[tgt] = day + np.ceil(f.trial_delay_days * rng.exponential(size=len(tgt)))
        # churn
        gone = members[rng.random(len(members)) < churn_p_user[members]]
        state[gone] = CHURNED
        due[gone] = np.inf
        lead_due[gone] = np.inf
        lead_stage[gone] = 0
        churned += len(gone)
    run_s = time.perf_counter() - t0
    return {"run_s": run_s, "purchases": purchases, "referrals": referrals, "churned": churned,
            "members_end": int((state == MEMBER).sum())}
