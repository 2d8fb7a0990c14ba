"""Invariants of a run, checked after every simulated day and on the finished outputs.

Each scenario is run once (cached per module), stepping the model by hand with
``model.step()``; after every step each check in ``DAILY_CHECKS`` looks at the columns and
the day's row and records its first violation. One test per (scenario, check) then reports
that check's verdict, so a failure names the invariant and the day it first broke.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.config import CHANNELS
from sim.core.columns import (
    CHURNED,
    MEMBER,
    PROSPECT,
    SOURCE_EVENT,
    SOURCE_NONE,
    SOURCE_PRESALE,
    SOURCE_REFERRAL,
    SOURCE_STORE,
    TOUCH_STAFF,
)
from sim.core.mechanisms.messaging import on_calendar
from sim.core.mechanisms.service import knowledge_base_halvings

# Scenarios chosen so every mechanism acts a lot in a short run: many members, short need
# cycles (many purchases), frequent referrals and promotions, tight friend caps.
SCENARIOS = {
    "service_led": [
        "population.n_users=2500", "days=200", "seed=3",
        "market.initial_member_share=0.1", "market.need_cycle_days=120",
        "strategy.referral.per_year=3",
    ],
    "promotion_heavy": [
        "strategy=promotion_heavy", "population.n_users=2500", "days=200", "seed=5",
        "market.initial_member_share=0.1", "market.need_cycle_days=60",
        "strategy.referral.per_year=2", "strategy.referral.reward=50",
    ],
    "small_world_tight_caps": [
        "graph=small_world", "population.n_users=2500", "days=200", "seed=7",
        "market.need_cycle_days=90", "market.add_friend_rate=1.0",
        "channels.personal_wechat.friend_cap=5", "strategy.acquisition.users_per_store=500",
        "strategy.referral.per_year=4",
    ],
    "scaled_population": [
        "population.n_users=2500", "population.scale=40", "days=200", "seed=13",
        "market.initial_member_share=0.1", "market.need_cycle_days=90",
        "strategy.referral.per_year=3", "strategy.acquisition.users_per_store=20000",
        "channels.personal_wechat.friend_cap=1500", "market.add_friend_rate=1.0",
        "strategy.referral.reward=20",
    ],
    "complete_graph": [
        "graph=complete", "population.n_users=2000", "days=200", "seed=11",
        "market.initial_member_share=0.1", "market.need_cycle_days=100",
        "strategy.referral.per_year=3", "strategy.promotion.per_week=3",
    ],
    # the full model: KOC program, events, themed days, points, tiers and paid VIP
    "koc_membership_vip": [
        "strategy=koc_program", "strategy.membership.enabled=true", "strategy.membership.vip=true",
        "population.n_users=2500", "days=200", "seed=17", "market.initial_member_share=0.1",
        "market.need_cycle_days=120", "strategy.referral.per_year=2",
    ],
    # WeCom for first orders then personal WeChat; store-run groups (they die)
    "wecom_store_run": [
        "channel=wecom_then_personal", "dealer=store_run", "population.n_users=2500",
        "days=200", "seed=19", "market.initial_member_share=0.1", "market.need_cycle_days=90",
        "groups.decay_days=20",
        "strategy.referral.per_year=3",
    ],
    # Bass adoption (validation mode) on top of everything else, on the complete graph
    "bass": [
        "graph=complete", "bass.enabled=true", "bass.p=0.001", "bass.q=0.02",
        "population.n_users=2000", "days=200", "seed=29", "market.initial_member_share=0.1",
        "market.need_cycle_days=90", "strategy.referral.per_year=2",
    ],
    # staff add too fast for their accounts: bans take whole accounts' friends
    "bans": [
        "population.n_users=2500", "days=200", "seed=23", "market.need_cycle_days=60",
        "market.add_friend_rate=1.0", "channels.personal_wechat.daily_add_limit=1",
        "channels.personal_wechat.ban_hazard=0.3", "market.initial_member_share=0.1",
    ],
}


# --------------------------------------------------------------------------- daily checks
# Each check gets (model, prev, row) where ``prev`` is a snapshot of the columns before the
# step and ``row`` the day's reporter row; it returns None or a message describing the
# violation.

DAILY_CHECKS = {}


def daily(fn):
    DAILY_CHECKS[fn.__name__] = fn
    return fn


def mechanism_clocks(model):
    """(mechanism name, Clock) for every integrated-hazard clock a mechanism holds."""
    from sim.core.clocks import Clock

    for name, mech in model.mechanisms.items():
        for value in vars(mech).values():
            if isinstance(value, Clock):
                yield name, value


def clock_threshold(clock) -> np.ndarray:
    """The clock's per-user state: hazard left ``R`` (or threshold ``E``); inf = stopped."""
    armed = getattr(clock, "R", None)
    return clock.E if armed is None else armed


def snapshot(model) -> dict[str, np.ndarray]:
    u = model.users
    snap = {name: getattr(u, name).copy() for name in (
        "state", "source", "join_day", "churn_day", "revenue", "n_buy", "last_buy_day",
        "first_buy_day", "satisfaction", "recruited_by", "n_referred", "channel", "wom",
        "lead_stage", "koc", "tier", "vip_until")}
    for col in ("need_due", "need_start", "need_k"):  # the purchase mechanism's need clock
        if col in u:
            snap[col] = getattr(u, col).copy()
    for name, clock in mechanism_clocks(model):
        snap[f"clock:{name}:{clock.name}"] = clock_threshold(clock).copy()
    return snap


@daily
def counts_conserved(model, prev, row):
    u = model.users
    counts = np.bincount(u.state, minlength=3)
    if len(counts) != 3 or counts.sum() != u.n:
        return f"state counts {counts.tolist()} do not partition the {u.n} users"
    k = model.config.population.scale  # real users per simulated user
    reported = (row["n_prospects"], row["n_members"], row["n_churned"])
    if tuple(k * int(c) for c in counts) != reported:
        return (f"reported (prospects, members, churned) {reported} != scale x columns "
                f"{counts.tolist()}")
    if sum(reported) != k * model.config.population.n_users:
        return f"reported state counts sum to {sum(reported)}, not scale x n_users"
    if not np.array_equal(model.members(), np.flatnonzero(u.state == MEMBER)):
        return "model.members() is not the sorted list of users in state member"
    return None


@daily
def lifecycle_only_moves_forward(model, prev, row):
    """prospect -> member -> churned; never back."""
    before, after = prev["state"], model.users.state
    back = (after < before)
    if back.any():
        i = int(np.flatnonzero(back)[0])
        return f"user {i} went from state {before[i]} back to {after[i]}"
    return None


@daily
def churn_is_absorbing_and_dated(model, prev, row):
    u, day = model.users, model.day
    churned = u.state == CHURNED
    if np.any(u.churn_day[churned] < 0):
        return "a churned user has no churn_day"
    if np.any(u.churn_day[~churned] != -1):
        return "a user who has not churned has a churn_day"
    was = prev["state"] == CHURNED
    if np.any(u.churn_day[was] != prev["churn_day"][was]):
        return "a churned user's churn_day changed"
    new = churned & ~was
    if np.any(u.churn_day[new] != day):
        return f"a user who churned on day {day} has another churn_day"
    if np.any(u.churn_day[churned] < u.join_day[churned]):
        return "a user churned before joining"
    return None


@daily
def churned_users_are_inactive(model, prev, row):
    """A churned user's private-domain clocks are disarmed and it does not buy through the
    private domain any more. It still owns the brand: its need clock runs (it buys through
    public channels) and, as an owner, it still recommends the brand (referral clock)."""
    u = model.users
    churned = u.state == CHURNED
    was = prev["state"] == CHURNED
    n_clocks = 0
    for name, clock in mechanism_clocks(model):
        n_clocks += 1
        if name == "referral":  # word of mouth from every owner, member or not
            continue
        armed = clock_threshold(clock)
        # mechanisms that act on members disarm a leaver's clocks (threshold inf); no clock
        # of an already-churned user ever moves again
        if not np.all(np.isinf(armed[churned])):
            return f"a churned user's {name} clock is still armed (finite threshold)"
        before = prev[f"clock:{name}:{clock.name}"][was]
        if not np.array_equal(armed[was], before):
            return f"the {name} clock of an already-churned user moved"
    if "need_due" in u and not np.all(np.isfinite(u.need_due[churned])):
        return "a churned user's need clock stopped: former members still buy publicly"
    if n_clocks == 0 and any(m in model.mechanisms for m in ("churn", "service", "referral")):
        return "found no event clocks to check (has sim.core.clocks.Clock changed?)"
    if np.any(u.last_buy_day[churned] > u.churn_day[churned]):
        return "a churned user bought after its churn_day"
    for col in ("n_buy", "revenue", "satisfaction", "n_referred"):
        if not np.array_equal(getattr(u, col)[was], prev[col][was]):
            return f"{col} of an already-churned user changed"
    # its need clock moves only when its need comes (a public purchase or another brand)
    if "need_start" in prev:
        moved = was & (u.need_start != prev["need_start"])
        if np.any(u.need_start[moved] != model.day):
            return "an already-churned user's need clock moved without a need"
    if np.any(u.lead_stage[churned] != 0):
        return "a churned user is still in the lead funnel"
    if "lead_due" in u and not np.all(np.isinf(u.lead_due[churned])):
        return "a churned user still has a funnel step due"
    for col in ("koc", "tier", "channel"):
        if not np.array_equal(getattr(u, col)[was], prev[col][was]):
            return f"{col} of an already-churned user changed"
    return None


@daily
def provenance_is_consistent(model, prev, row):
    """source/join_day/recruited_by agree with the state and never change once set."""
    u = model.users
    prospect = u.state == PROSPECT
    if np.any(u.source[prospect] != SOURCE_NONE) or np.any(u.join_day[prospect] != -1):
        return "a prospect has a source or join_day"
    if np.any(u.source[~prospect] == SOURCE_NONE) or np.any(u.join_day[~prospect] < 0):
        return "a member or churned user has no source or join_day"
    joined_before = prev["state"] != PROSPECT
    for col in ("source", "join_day", "recruited_by"):
        if not np.array_equal(getattr(u, col)[joined_before], prev[col][joined_before]):
            return f"{col} of a user who had already joined changed"
    joined_today = (prev["state"] == PROSPECT) & ~prospect
    if np.any(u.join_day[joined_today] != model.day):
        return "a user who joined today has another join_day"
    brought = (u.source == SOURCE_REFERRAL) | (u.source == SOURCE_EVENT)
    if np.any(u.recruited_by[brought] < 0) or np.any(u.recruited_by[~brought] != -1):
        return "recruited_by must be set exactly for users brought by a friend (referral, event)"
    referred = u.source == SOURCE_REFERRAL
    if u.n_referred.sum() != referred.sum():
        return f"sum of n_referred {u.n_referred.sum()} != referral-sourced users {referred.sum()}"
    if np.any(u.lead_stage[prospect] != 0):
        return "a prospect is in the lead funnel"
    if np.any(u.koc & (u.state == PROSPECT)):
        return "a prospect is in the KOC program"
    return None


@daily
def referrals_follow_graph_edges(model, prev, row):
    u = model.users
    ids = np.flatnonzero((u.source == SOURCE_REFERRAL) | (u.source == SOURCE_EVENT))
    if len(ids) == 0:
        return None
    by = u.recruited_by[ids].astype(np.int64)
    ok = model.graph.has_edge(by, ids)
    if not ok.all():
        i = int(ids[~ok][0])
        return (f"user {i} (source {u.source[i]}) was brought by {u.recruited_by[i]}, who is "
                f"not its graph neighbour")
    if np.any(u.state[by] == PROSPECT) or np.any(u.join_day[by] > u.join_day[ids]):
        return "a user was referred by someone who had not joined the private domain"
    return None


@daily
def satisfaction_and_fatigue_in_range(model, prev, row):
    u = model.users
    s = u.satisfaction
    if not np.all(np.isfinite(s)) or s.min() < 0.0 or s.max() > 1.0:
        return f"satisfaction outside [0,1]: min {s.min()}, max {s.max()}"
    f = u.fatigue
    if not np.all(np.isfinite(f)) or f.min() < 0.0:
        return f"fatigue negative or not finite: min {f.min()}"
    if np.any(f[u.state == PROSPECT] != 0):
        return "a prospect has promotion fatigue (only members receive messages)"
    if not np.all(np.isfinite(u.wom)) or u.wom.max() > 0:
        return f"word of mouth is only ever negative (unresolved faults): max {u.wom.max()}"
    if u.tier.min() < 0 or u.tier.max() > 2 or np.any(u.tier < prev["tier"]):
        return "membership tier outside 0..2 or lowered (tiers follow lifetime points)"
    return None


@daily
def customer_flag_is_the_ledgers(model, prev, row):
    u = model.users
    wrong = np.flatnonzero(u.customer != ((u.n_buy > 0) | u.owned_before))
    if len(wrong):
        i = wrong[0]
        return (f"user {i}: customer={bool(u.customer[i])} but n_buy={u.n_buy[i]}, "
                f"owned_before={bool(u.owned_before[i])} ({len(wrong)} users disagree)")
    return None


@daily
def purchase_ledger_monotone(model, prev, row):
    u, day = model.users, model.day
    if np.any(u.revenue < prev["revenue"]):
        return "a user's revenue decreased"
    if np.any(u.n_buy < prev["n_buy"]):
        return "a user's purchase count decreased"
    bought = u.n_buy > prev["n_buy"]
    if np.any(u.last_buy_day[bought] != day):
        return "a user who bought today has another last_buy_day"
    if np.any(u.revenue[bought] <= prev["revenue"][bought]):
        return "a purchase booked no revenue"
    if np.any((u.n_buy > 0) != (u.first_buy_day >= 0)) or np.any(
            (u.n_buy > 0) != (u.last_buy_day >= 0)):
        return "first/last_buy_day set without purchases (or missing with purchases)"
    if np.any(u.last_buy_day < u.first_buy_day):
        return "last_buy_day before first_buy_day"
    if np.any(u.n_buy[u.state == PROSPECT] > 0):
        return "a prospect has private-domain purchases"
    k = model.config.population.scale
    n_bought = int((u.n_buy - prev["n_buy"]).sum())
    if k * n_bought != row["new_purchases"]:
        return (f"{n_bought} purchases in the ledgers today but new_purchases="
                f"{row['new_purchases']} (scale {k})")
    gained = k * float((u.revenue - prev["revenue"]).sum())
    if not math.isclose(gained, row["new_revenue"], rel_tol=1e-9, abs_tol=1e-6):
        return f"users' revenue grew by {gained}, new_revenue={row['new_revenue']}"
    return None


@daily
def leads_have_not_bought(model, prev, row):
    """sim/core/mechanisms/funnel.py: a lead is "a member who has not bought"; a user buys the
    product at most once a day (a need met by one purchase)."""
    u = model.users
    bought_lead = np.flatnonzero((u.lead_stage > 0) & (u.n_buy > 0))
    if len(bought_lead):
        i = int(bought_lead[0])
        return (f"{len(bought_lead)} leads have already bought (e.g. user {i}: source "
                f"{u.source[i]}, lead_stage {u.lead_stage[i]}, n_buy {u.n_buy[i]}) yet stay "
                f"in the funnel, where they can buy again and be counted as new customers")
    twice = np.flatnonzero(u.n_buy - prev["n_buy"] > 1)
    if len(twice):
        i = int(twice[0])
        return f"user {i} bought {int(u.n_buy[i] - prev['n_buy'][i])} times today"
    return None


@daily
def daily_flows_consistent(model, prev, row):
    """The day's flows agree with the change in the stocks and with each other."""
    k = model.config.population.scale
    d_members = row["n_members"] - k * int((prev["state"] == MEMBER).sum())
    joined = (row["new_members_store"] + row["new_members_referral"] + row["new_members_event"]
              + row["new_adoptions"])
    if d_members != joined - row["new_churned"]:
        return (f"members changed by {d_members} but joined {joined} - churned "
                f"{row['new_churned']}")
    d_churned = row["n_churned"] - k * int((prev["state"] == CHURNED).sum())
    if d_churned != row["new_churned"]:
        return f"churned stock grew by {d_churned}, new_churned={row['new_churned']}"
    pairs = [("new_repeat_purchases", "new_purchases"), ("new_promo_purchases", "new_purchases"),
             ("new_resolved", "new_incidents"), ("new_care_contacts", "new_resolved"),
             ("new_answered_24h", "new_incidents"), ("new_referrals_converted", "new_referrals"),
             ("n_customers", "n_members")]
    for small, big in pairs:
        if not 0 <= row[small] <= row[big]:
            return f"{small}={row[small]} is not within [0, {big}={row[big]}]"
    if row["new_leads"] != row["new_members_referral"] + row["new_members_event"]:
        return "new leads != members who joined by referral or event"
    if row["new_referrals_converted"] != row["new_members_referral"]:
        return "converted (registered) referrals != members who joined by referral"
    if row["new_customers_store"] != row["new_members_store"]:
        return "store recruits are customers on joining: new_customers_store != new_members_store"
    if row["new_banned_lost"] > row["new_churned"]:
        return "more members lost to bans than left in total"
    by_channel = sum(row[f"new_churned_{ch}"] for ch in CHANNELS)
    if by_channel != row["new_churned"]:
        return f"churn by channel sums to {by_channel}, new_churned={row['new_churned']}"
    members_by_channel = sum(row[f"n_members_{ch}"] for ch in CHANNELS)
    if members_by_channel != row["n_members"]:
        return f"members by channel sum to {members_by_channel}, n_members={row['n_members']}"
    for stock in ("n_leads", "n_kocs", "n_vip"):
        if not 0 <= row[stock] <= row["n_members"]:
            return f"{stock}={row[stock]} is not within [0, n_members]"
    if row["service_queue"] < 0 or not 0 <= row["service_wait_days"] <= 365:
        return f"service queue {row['service_queue']} or wait {row['service_wait_days']} out of range"
    if row["n_groups_dead"] > row["n_groups_live"]:
        return "more dead groups than groups with members"
    if not row["promo"] and row["new_promo_purchases"]:
        return "promotion purchases on a day without a promotion"
    if row["new_cost"] < 0 or row["new_revenue"] < 0 or row["new_discount"] < 0:
        return "negative money flow"
    return None


@daily
def money_flows_add_up(model, prev, row):
    """The day's cost is the sum of its documented parts (docs/metrics.md, ``cost``):
    per member-day operation and channel tools, service agents (wage and seat, staffed per
    member whether busy or not), care contacts, referral rewards, KOC rewards, event attendees
    (all per simulated user, so x scale), plus campaigns, posts, themed days, live groups and
    the knowledge base. Discounts are depth/(1-depth) x revenue on promotion days."""
    cfg, mech, today = model.config, model.mechanisms, model.today
    st, k = cfg.strategy, cfg.population.scale
    at_dawn = prev["state"] == MEMBER
    per_user = 0.0
    if "messaging" in mech:
        per_user += int(at_dawn.sum()) * st.cost.per_member_month / 30.0
        by_channel = np.bincount(prev["channel"][at_dawn], minlength=len(CHANNELS))
        per_user += sum(int(n) * ch.cost_per_member_month / 30.0
                        for n, ch in zip(by_channel, cfg.channels.profiles(), strict=True))
    if "koc" in mech:
        per_user += today.kocs_rewarded * st.koc_program.reward_per_month / 30.0
    cost = k * per_user
    if "service" in mech:  # agents paid busy or idle, care per contact, the knowledge base
        sv = st.service
        # before service: group quitters with no other touchpoint leave, presales and
        # events bring people in
        at_service = (k * int(at_dawn.sum()) - row.get("new_group_leavers", 0)
                      + row.get("new_members_presale", 0) + row["new_members_event"])
        agents = sv.capacity_per_1k / 1000 * at_service / sv.answers_per_agent_day
        if not math.isclose(row["service_agents"], agents, rel_tol=1e-9, abs_tol=1e-9):
            return f"service agents {row['service_agents']} != staffing for {at_service} members"
        cost += agents * (sv.wage_per_agent_month + sv.seat_cost_per_agent_month) / 30
        cost += row["new_care_contacts"] * sv.cost_per_care_contact
        cost += sv.knowledge_base_cost_month / 30 * knowledge_base_halvings(
            sv.resolve_prob, sv.knowledge_base_from)
    cost += row["new_customers_referral"] * st.referral.reward
    cost += row["new_attendees"] * st.events.cost_per_attendee
    fixed = (row["promo"] * st.promotion.cost_per_campaign
             + row["content"] * st.content.cost_per_post)
    if "groups" in mech:
        if cfg.dealer.brand_operates and on_calendar(model.day, st.content.themed_days_per_week):
            fixed += st.content.cost_per_post
        live_groups = row["n_groups_live"] - row["n_groups_dead"]
        fixed += live_groups * cfg.groups.cost_per_group_month / 30
    cost += fixed
    redemptions = "membership" in mech and st.membership.enabled  # points cost not itemised
    if redemptions and row["new_cost"] < cost - 1e-6:
        return f"new_cost {row['new_cost']} is below the sum of its itemised parts {cost}"
    if not redemptions and not math.isclose(row["new_cost"], cost, rel_tol=1e-9, abs_tol=1e-6):
        return f"new_cost {row['new_cost']} != sum of its documented parts {cost}"
    depth = st.promotion.depth if row["promo"] else 0.0
    discount = row["new_revenue"] * depth / (1 - depth)
    vip = "membership" in mech and st.membership.vip  # VIPs get an extra discount
    if vip and row["new_discount"] < discount - 1e-6:
        return f"new_discount {row['new_discount']} below the promotion discount {discount}"
    coupons = row["new_coupon_purchases"] > 0  # friends' shared coupons add their discount
    if coupons and row["new_discount"] < discount - 1e-6:
        return f"new_discount {row['new_discount']} below the promotion discount {discount}"
    if not (vip or coupons) and not math.isclose(row["new_discount"], discount, rel_tol=1e-9,
                                                 abs_tol=1e-6):
        return f"new_discount {row['new_discount']} != revenue x depth/(1-depth) = {discount}"
    fee = st.membership.vip_fee
    if row["new_fee_revenue"] < row["new_vip_upgrades"] * fee - 1e-6 or (
            fee > 0 and not math.isclose(row["new_fee_revenue"] / fee,
                                         round(row["new_fee_revenue"] / fee), abs_tol=1e-6)):
        return f"fee revenue {row['new_fee_revenue']} is not whole VIP fees covering the upgrades"
    return None


@daily
def friend_caps_respected(model, prev, row):
    u = model.users
    acq = model.mechanisms.get("acquisition")
    a = model.config.strategy.acquisition
    n_stores = int(u.store.max()) + 1
    k = model.config.population.scale
    landing = model.config.channel.landing
    staff_channel = "personal_wechat" if landing == "official_account" else landing
    friend_cap = model.config.channels.profiles()[CHANNELS.index(staff_channel)].friend_cap
    staff = (u.touch & TOUCH_STAFF) > 0
    holders = np.bincount(u.store[staff], minlength=n_stores)
    # staff add (and the cap binds on) store recruits and escalated presale members; friends
    # who joined another way count towards fullness but were not refused
    added = np.bincount(u.store[staff & np.isin(u.source, (SOURCE_STORE, SOURCE_PRESALE))],
                        minlength=n_stores)
    # caps are in real friends; a simulated user stands for `scale` real ones (at least one
    # simulated friend per store is allowed)
    cap = max(a.staff_per_store * friend_cap, k)
    if k * added.max(initial=0) > cap:
        return (f"a store holds {k * added.max()} real friends added by staff, above "
                f"staff_per_store x friend_cap = {a.staff_per_store * friend_cap}")
    if np.any(staff & (u.state != MEMBER)):
        return "a user who is not a member holds a staff account"
    if acq is not None and not np.array_equal(acq.friends, holders):
        return "acquisition.friends disagrees with the members holding a staff account per store"
    return None


# --------------------------------------------------------------------------- runs (cached)

_RUNS: dict[str, dict] = {}


def trajectory(name: str, make_config) -> dict:
    """Run scenario ``name`` day by day; record each check's first violation and outputs."""
    if name not in _RUNS:
        import sim

        cfg = make_config(*SCENARIOS[name])
        model = sim.SiyuModel(cfg)
        failures: dict[str, str | None] = dict.fromkeys(DAILY_CHECKS)
        for _ in range(cfg.days):
            prev = snapshot(model)
            model.step()
            row = model.reporter.row
            for check_name, check in DAILY_CHECKS.items():
                if failures[check_name] is None:
                    msg = check(model, prev, row)
                    if msg is not None:
                        failures[check_name] = f"day {model.day}: {msg}"
        _RUNS[name] = {"model": model, "failures": failures, "series": model.series(),
                       "summary": model.summary()}
    return _RUNS[name]


@pytest.mark.parametrize("check", list(DAILY_CHECKS))
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_invariant_holds_every_day(scenario, check, make_config):
    run = trajectory(scenario, make_config)
    assert run["failures"][check] is None, (
        f"invariant {check!r} broken in scenario {scenario!r}: {run['failures'][check]}")


# what each scenario must exercise, beyond churn, recruits, sales and service in all of them
EXERCISED = {
    "koc_membership_vip": ("n_kocs", "new_attendees", "new_members_event", "new_redemptions",
                           "new_vip_upgrades", "new_customers_event"),
    "wecom_store_run": ("n_members_wecom", "n_members_personal_wechat", "n_groups_dead"),
    "bans": ("new_bans", "new_banned_friends"),
    "bass": ("new_adoptions",),
    "small_world_tight_caps": ("new_trials", "new_customers_referral"),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_scenarios_exercise_every_mechanism(scenario, make_config):
    """Guard against vacuous invariants: each scenario has churn, referrals, recruits, sales."""
    s = trajectory(scenario, make_config)["series"]
    for col in ("new_churned", "new_members_store", "new_referrals_converted", "new_purchases",
                "new_promo_purchases", "new_incidents", "new_lost_sales", "n_groups_live",
                "new_leads") + EXERCISED.get(scenario, ()):
        assert s[col].sum() > 0, f"scenario {scenario!r} never had any {col}: invariants untested"


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_series_has_one_row_per_day(scenario, make_config):
    run = trajectory(scenario, make_config)
    days = run["model"].config.days
    s = run["series"]
    for name, col in s.items():
        assert len(col) == days, f"series column {name!r} has {len(col)} rows, expected {days}"
    assert np.array_equal(s["day"], np.arange(1, days + 1)), "day column is not 1..days"


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_cumulative_series_equal_sums_of_flows(scenario, make_config):
    run = trajectory(scenario, make_config)
    s, u = run["series"], run["model"].users
    assert np.array_equal(s["cum_purchases"], np.cumsum(s["new_purchases"])), \
        "cum_purchases must be the running sum of new_purchases"
    np.testing.assert_allclose(s["cum_revenue"], np.cumsum(s["new_revenue"]), rtol=1e-12,
                               err_msg="cum_revenue must be the running sum of new_revenue")
    np.testing.assert_allclose(s["cum_cost"], np.cumsum(s["new_cost"]), rtol=1e-12,
                               err_msg="cum_cost must be the running sum of new_cost")
    assert np.array_equal(s["n_churned"], np.cumsum(s["new_churned"])), \
        "n_churned must be the running sum of new_churned (nobody starts churned)"
    scale = run["model"].config.population.scale
    members_start = scale * run["model"].members_start
    joined = np.cumsum(s["new_members_store"] + s["new_members_referral"]
                       + s["new_members_event"] + s["new_adoptions"] - s["new_churned"])
    assert np.array_equal(s["n_members"], members_start + joined), \
        "n_members must equal members_start + joins - churns, day by day"
    assert scale * u.n_buy.sum() == s["cum_purchases"][-1], \
        "user ledgers disagree with cum_purchases"
    assert math.isclose(scale * u.revenue.sum(), s["cum_revenue"][-1], rel_tol=1e-9), \
        "users' revenue disagrees with cum_revenue"
    assert math.isclose(run["model"].brand.revenue, s["cum_revenue"][-1], rel_tol=1e-12)
    assert math.isclose(run["model"].brand.cost, s["cum_cost"][-1], rel_tol=1e-12)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_summary_kpis_in_natural_ranges(scenario, make_config):
    run = trajectory(scenario, make_config)
    k, s, cfg = run["summary"], run["series"], run["model"].config
    for share in ("monthly_churn_rate", "churned_share", "repurchase_rate", "referral_share",
                  "mean_satisfaction", "lead_conversion", "dead_group_share",
                  "mean_group_activity", *(f"monthly_churn_{ch}" for ch in CHANNELS)):
        channel = share.removeprefix("monthly_churn_")
        if channel in CHANNELS and s[f"n_members_{channel}"].sum() == 0:
            assert math.isnan(k[share]), f"{share} is undefined without members on the channel"
            continue
        assert 0.0 <= k[share] <= 1.0, f"{share}={k[share]} is not a share in [0, 1]"
    if not math.isnan(k["vip_revenue_share"]):
        assert 0.0 <= k["vip_revenue_share"] <= 1.0
    assert 0.2 <= k["top20_revenue_share"] <= 1.0, \
        f"the top 20% of buyers hold at least 20% of revenue, got {k['top20_revenue_share']}"
    assert -100.0 <= k["nps"] <= 100.0, f"NPS {k['nps']} outside [-100, 100]"
    real_users = cfg.population.n_users * cfg.population.scale
    assert 0 <= k["customers_end"] <= k["members_end"] <= k["members_ever"] <= real_users
    assert k["members_start"] <= k["members_ever"]
    joined = sum(int(s[f"new_members_{src}"].sum()) for src in ("store", "referral", "event"))
    joined += int(s["new_adoptions"].sum())
    assert k["members_ever"] == k["members_start"] + joined, \
        "every ever-member is an initial member or a store/referral/event/Bass recruit, once"
    assert k["new_customers_store"] == s["new_members_store"].sum()
    assert k["leads"] == s["new_leads"].sum() >= (k["new_customers_referral"]
                                                  + k["new_customers_event"]), \
        "each lead becomes a customer through the funnel at most once"
    n_churned = cfg.population.scale * int((run["model"].users.state == CHURNED).sum())
    assert math.isclose(k["churned_share"], n_churned / k["members_ever"])
    assert k["purchases"] == s["new_purchases"].sum() >= 0
    assert k["revenue"] >= 0 and k["discount"] >= 0 and k["cost"] > 0
    assert k["k_factor"] >= 0
    assert k["fee_revenue"] >= 0 and k["kocs_end"] >= 0 and k["vip_end"] >= 0
    margin = cfg.market.gross_margin
    assert math.isclose(k["gross_profit"],
                        margin * (k["revenue"] + k["discount"]) - k["discount"]
                        + k["fee_revenue"] - k["cost"], rel_tol=1e-9, abs_tol=1e-6), \
        "gross profit = margin x (revenue + discount) - discount + fees - cost"
    assert math.isclose(k["roi"], k["gross_profit"] / k["cost"], rel_tol=1e-9)
    member_days = s["n_members"].sum()
    d = s["new_churned"].sum() / member_days
    assert math.isclose(k["monthly_churn_rate"], 1 - (1 - d) ** 30, rel_tol=1e-12), \
        "monthly_churn_rate must be 1-(1-d)^30 with d = churn events / member-days"
    assert s["nps"][-1] == k["nps"] and s["mean_satisfaction"][-1] == k["mean_satisfaction"]
