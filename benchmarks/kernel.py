"""The reference: a hand-written numpy kernel of the buy / refer / churn process.

The same process as siyu-sim reduced by config to purchase + funnel + referral + churn
(every other mechanism switched off in ``mechanisms.*``; :data:`KEEP`), written with no
framework around it: plain arrays, one ``numpy.random.Generator``, and every shortcut the
reduced process allows (satisfaction, group activity and word of mouth are constant once
the other mechanisms are off, so each user's hazards are computed once). It is the yardstick
for the model's overhead (target: the model within 1.5x of this kernel).

The process, as the model has it now:

* **need** (everyone): a Weibull renewal clock in age units (stationary start); a user whose
  need arrives chooses the brand with loyalty (owners) or the brand's share (the others), x
  ``1 + recommendations heard``; members buy through the private domain, everyone else
  through public channels (and becomes an owner). Due days are kept in a calendar (a list
  of ids per day), so a day touches only those due;
* **word of mouth** (every owner, member or not): one Bernoulli draw per owner per day at
  ``1 - exp(-hazard)``; the recommendation goes to one graph neighbour; a prospect who hears
  it remembers it (``organic_lift``, fading with ``memory_halflife_days``); a member's friend
  registers with ``register_prob`` and joins as a lead;
* **funnel**: registered leads take a trial after an exponential delay, trialled leads buy;
* **churn** (members): one Bernoulli draw per member per day at the channel's base hazard x
  a gamma frailty drawn at joining x ``exp(dissatisfaction_beta x (pivot - satisfaction))``.

The draws come from one sequential generator, so the kernel and the model agree in
distribution, not user by user (compare their members and purchases, not their ids).
"""

from __future__ import annotations

import math
import time

import numpy as np

PROSPECT, MEMBER, CHURNED = 0, 1, 2
KEEP = ("purchase", "funnel", "referral", "churn")  # the mechanisms of the reduced model


def reduced_overrides(mechanisms) -> list[str]:
    """``mechanisms.X=false`` for every mechanism but :data:`KEEP` (``cfg.mechanisms``)."""
    import dataclasses

    return [f"mechanisms.{f.name}=false" for f in dataclasses.fields(mechanisms)
            if f.name not in KEEP]


class _Calendar:
    """Ids per integer day (a hand-written calendar queue: a dict of chunks)."""

    def __init__(self):
        self.days: dict[int, list[np.ndarray]] = {}

    def add(self, ids: np.ndarray, day: np.ndarray) -> None:
        if len(ids) == 0:
            return
        order = np.argsort(day, kind="stable")
        ids, day = ids[order], day[order]
        cut = np.flatnonzero(day[1:] != day[:-1]) + 1
        for a, b in zip(np.r_[0, cut].tolist(), np.r_[cut, len(ids)].tolist(), strict=True):
            self.days.setdefault(int(day[a]), []).append(ids[a:b])

    def take(self, day: int) -> np.ndarray:
        chunks = self.days.pop(day, None)
        if not chunks:
            return np.zeros(0, np.int64)
        return np.concatenate(chunks)


def run_kernel(model, days: int, seed: int = 0) -> dict:
    """Run the process on the population and graph of an already built ``SiyuModel``."""
    cfg = model.config
    u = model.users
    g = model.graph
    rng = np.random.default_rng(seed)
    n = u.n
    s, mk = cfg.strategy, cfg.market
    r, f, sc = s.referral, mk.funnel, s.satisfaction

    state = u.state.copy()
    owner = u.owner.copy()
    owned_before = u.owned_before.copy()
    n_buy = np.zeros(n, np.int32)
    lead = np.zeros(n, np.int8)  # 0 none, 1 registered, 2 trialled
    sat = u.satisfaction.astype(np.float64)
    scale = u.need_scale.astype(np.float64)
    shape = mk.need_cycle_shape
    ids_all = np.arange(n)

    # need clock: stationary start, then each fired need restarts (due = start + scale E^(1/k))
    age = np.floor(rng.random(n) * scale * math.gamma(1 + 1 / shape))
    due = -age + scale * ((age / scale) ** shape + rng.exponential(size=n)) ** (1 / shape)
    need_day = np.maximum(np.ceil(due), 1).astype(np.int64)  # the day each need falls due
    need = _Calendar()
    need.add(ids_all, need_day)

    # constant per-user probabilities (satisfaction and groups do not move in this process)
    loyal = np.clip(sc.loyalty_base + sc.loyalty_slope * (sat - sc.loyalty_pivot), 0, None)
    seg_mult = np.array([p.referral_mult for p in mk.segments.profiles()])[u.segment]
    ref_h = ((r.per_year / 365.0) * (1 + r.reward_lift * r.reward) * u.sociability * seg_mult
             * (sat / sc.pivot) ** r.satisfaction_power)
    ref_p = -np.expm1(-ref_h)
    ch = s.churn
    from sim.core.mechanisms.churn import base_hazard  # the channel reading, as in the model

    base = np.array([base_hazard(c.monthly_churn, ch.frailty_shape, ch.channel_churn_reading)
                     for c in cfg.channels.profiles()])[u.channel]
    churn_h = base * np.exp(ch.dissatisfaction_beta * (sc.pivot - sat))
    frailty = np.ones(n)
    if ch.frailty_shape > 0:
        m0 = np.flatnonzero(state == MEMBER)
        frailty[m0] = rng.gamma(ch.frailty_shape, 1 / ch.frailty_shape, len(m0))
    fade = math.exp(-math.log(2) / r.memory_halflife_days)
    recommended = np.zeros(n)
    heard = np.zeros(0, np.int64)  # who heard the brand (their memory fades daily)
    is_heard = np.zeros(n, bool)
    leads = _Calendar()
    deg = np.diff(g.indptr)

    members = np.flatnonzero(state == MEMBER)
    owners = np.flatnonzero(owner)
    private = public = referrals = churned = 0
    member_days = 0

    def insert(index: np.ndarray, new: np.ndarray) -> np.ndarray:
        """Sorted ``index`` with the sorted ids ``new`` (not in it) inserted."""
        return np.insert(index, np.searchsorted(index, new), new) if len(new) else index

    def own(ids: np.ndarray) -> None:
        nonlocal owners
        new = np.unique(ids[~owner[ids]])
        owner[new] = True
        owners = insert(owners, new)

    def buy(ids: np.ndarray) -> None:
        """Members ``ids`` buy through the private domain (a lead becomes a customer)."""
        nonlocal private
        n_buy[ids] += 1
        lead[ids] = 0
        private += len(ids)
        own(ids)

    def restart(ids: np.ndarray, day: int) -> None:
        e = rng.exponential(size=len(ids))
        d = day + np.maximum(np.ceil(scale[ids] * e ** (1 / shape)), 1).astype(np.int64)
        need_day[ids] = d
        need.add(ids, d)

    t0 = time.perf_counter()
    for day in range(1, days + 1):
        # need: today's due users buy the brand or another
        fired = need.take(day)
        fired = np.unique(fired[need_day[fired] == day])  # less needs met since (funnel)
        if len(fired):
            p = np.where(owner[fired], loyal[fired], mk.brand_share)
            p = p * np.minimum(1.0 + recommended[fired], 2.0)
            b = fired[rng.random(len(fired)) < p]
            m = state[b] == MEMBER
            buy(b[m])
            pub = b[~m]
            public += len(pub)
            owned_before[pub[state[pub] == PROSPECT]] = True
            own(pub)
            restart(fired, day)
        # funnel: registered leads try, trialled leads buy
        due_l = leads.take(day)
        if len(due_l):
            due_l = due_l[state[due_l] == MEMBER]
            stage = lead[due_l]
            reg, tri = due_l[stage == 1], due_l[stage == 2]
            go = rng.random(len(reg)) < f.trial_prob
            tried = reg[go]
            lead[reg[~go]] = 0
            lead[tried] = 2
            wait = np.maximum(1, np.ceil(f.purchase_delay_days * rng.exponential(size=len(tried))))
            leads.add(tried, day + wait.astype(np.int64))
            b = tri[rng.random(len(tri)) < f.purchase_prob]
            lead[tri] = 0
            buy(b)
            restart(b, day)
        # word of mouth: every owner; prospects remember it, members' friends may register
        if len(heard):
            recommended[heard] *= fade
        refs = owners[rng.random(len(owners)) < ref_p[owners]]
        refs = refs[deg[refs] > 0]
        if len(refs):
            pick = g.indptr[refs] + (rng.random(len(refs)) * deg[refs]).astype(np.int64)
            tgt = g.indices[pick]
            ok = state[tgt] == PROSPECT
            heard_t = np.unique(tgt[ok])
            recommended[heard_t] += r.organic_lift
            first = heard_t[~is_heard[heard_t]]
            is_heard[first] = True
            heard = insert(heard, first)
            join = ok & (state[refs] == MEMBER) & (rng.random(len(refs)) < f.register_prob)
            tgt = np.unique(tgt[join])
            if len(tgt):
                referrals += len(tgt)
                state[tgt] = MEMBER
                lead[tgt] = 1
                wait = np.maximum(1, np.ceil(f.trial_delay_days * rng.exponential(size=len(tgt))))
                leads.add(tgt, day + wait.astype(np.int64))
                if ch.frailty_shape > 0:
                    frailty[tgt] = rng.gamma(ch.frailty_shape, 1 / ch.frailty_shape, len(tgt))
                members = insert(members, tgt)
        # churn: members leave
        h = churn_h[members] * frailty[members]
        gone = members[rng.random(len(members)) < -np.expm1(-h)]
        if len(gone):
            state[gone] = CHURNED
            lead[gone] = 0
            churned += len(gone)
            members = np.delete(members, np.searchsorted(members, gone))
        member_days += len(members)
    run_s = time.perf_counter() - t0
    return {"run_s": run_s, "purchases": private, "public_purchases": public,
            "referrals": referrals, "churned": churned, "member_days": member_days,
            "members_end": int((state == MEMBER).sum())}
