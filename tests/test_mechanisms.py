"""Each mechanism moves the outcomes in the documented direction (docs/model.md).

Comparisons run two configs on the SAME seed: common random numbers (sim/core/rng.py) give both
runs the same population, graph and draws, so a difference comes from the mechanism. Where
an effect is statistical, the margins are several times the seed-to-seed spread seen at
these sizes, or the comparison is averaged over seeds.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import sim
from sim.core.agents import StoreStaff
from sim.core.columns import (
    CHURNED,
    FAN,
    MEMBER,
    ORDINARY,
    SOURCE_ADOPTION,
    SOURCE_EVENT,
    SOURCE_INITIAL,
    SOURCE_PRESALE,
    SOURCE_REFERRAL,
    SOURCE_STORE,
)
from sim.core.mechanisms.messaging import on_calendar

SMALL = ["population.n_users=3000", "days=250", "market.initial_member_share=0.18"]


def total(model, col: str) -> float:
    return float(model.series()[col].sum())


@pytest.mark.parametrize("overrides", [
    ("strategy=koc_program", "strategy.membership.vip=true", "population.n_users=3000",
     "market.add_friend_rate=1.0", "channels.personal_wechat.friend_cap=3", "days=250"),
    ("channel=wecom_then_personal", "dealer=store_run", "groups.decay_days=20",
     "bass.enabled=true", "market.funnel.trial_prob=0", "graph=complete", "seed=7"),
])
def test_make_config_matches_the_cli_path(overrides):
    """The fast test helper (compose once per group choice) gives the CLI's own Config."""
    from conftest import load, load_with_hydra

    assert load(*overrides) == load_with_hydra(*overrides)


# --------------------------------------------------------------------------- promotions


def test_more_promotions_raise_fatigue_and_churn(make_config, run_model):
    """Promotion messages build fatigue, and fatigue raises churn (messaging, churn)."""
    few = run_model(make_config(*SMALL, "strategy.promotion.per_week=0.25"))
    many = run_model(make_config(*SMALL, "strategy.promotion.per_week=4"))
    f_few = np.nanmean(few.series()["mean_fatigue"])
    f_many = np.nanmean(many.series()["mean_fatigue"])
    assert f_many > 5 * f_few, (
        f"4 promotions/week should build far more fatigue than 1/month: "
        f"{f_many:.3f} vs {f_few:.3f}")
    c_few, c_many = few.summary()["monthly_churn_rate"], many.summary()["monthly_churn_rate"]
    assert c_many > 1.5 * c_few, (
        f"heavy promotion should raise monthly churn well above light promotion: "
        f"{c_many:.4f} vs {c_few:.4f}")


def test_promotion_calendar_sends_per_week_rate(make_config, run_model):
    """Promotions and content go out on an evenly spaced calendar at the configured rate."""
    days = 364
    for per_week in (0.25, 1.0, 2.0, 3.5, 7.0):
        sent = sum(on_calendar(d, per_week) for d in range(1, days + 1))
        assert sent == round(days * per_week / 7), f"per_week={per_week}: {sent} sends in {days} d"
    assert not any(on_calendar(d, 0.0) for d in range(1, days + 1)), "per_week=0 sends nothing"
    m = run_model(make_config("population.n_users=500", f"days={days}",
                              "strategy.promotion.per_week=2", "strategy.content.per_week=3"))
    s = m.series()
    assert s["promo"].sum() == 2 * 52 and s["content"].sum() == 3 * 52, \
        "the run's promo/content days should follow per_week"


# Purchase mechanism in isolation: fixed membership (no churn, recruiting or referral), no
# satisfaction changes, and promotions that act only through acceleration of the need clock.
ISOLATED_PURCHASE = [
    "market.initial_member_share=0.18", "mechanisms.churn=false", "mechanisms.referral=false",
    "mechanisms.acquisition=false", "mechanisms.service=false", "mechanisms.groups=false",
    "strategy.promotion.switching=0", "strategy.promotion.stockpiling=0",
    "strategy.promotion.expansion=0", "strategy.promotion.annoyance=0",
    "strategy.promotion.delight=0", "strategy.promotion.deal_drift=0",
    "strategy.content.per_week=0",
]


@pytest.mark.parametrize("market", [
    ["market.need_cycle_days=1095", "population.n_users=20000"],  # phones
    ["market.need_cycle_days=60", "population.n_users=5000"],     # a short-cycle category
], ids=["phone", "short_cycle"])
def test_promotions_pull_purchases_forward(market, make_config, run_model):
    with_promo = run_model(make_config(*ISOLATED_PURCHASE, *market, "days=365",
                                       "strategy.promotion.per_week=1",
                                       "strategy.promotion.depth=0.3"))
    without = run_model(make_config(*ISOLATED_PURCHASE, *market, "days=365",
                                    "strategy.promotion.per_week=0"))
    a, b = with_promo.series(), without.series()
    promo = a["promo"] == 1
    assert promo.sum() == 52
    on_a, on_b = a["new_purchases"][promo].sum(), b["new_purchases"][promo].sum()
    assert on_a > 1.25 * on_b, (
        f"on promotion days members should buy much more than on the same days without "
        f"promotions: {on_a} vs {on_b}")
    # Acceleration only moves each need event earlier (same thresholds, higher hazard), so at
    # every day the promoted run has bought at least as often as the unpromoted one.
    gap = np.cumsum(a["new_purchases"]) - np.cumsum(b["new_purchases"])
    assert gap.min() >= 0, (
        f"promotions should only bring purchases earlier, yet cumulative purchases fell "
        f"{-gap.min()} below the no-promotion run on day {int(np.argmin(gap)) + 1}")
    assert np.all(a["new_promo_purchases"][~promo] == 0)
    assert a["new_promo_purchases"][promo].sum() == on_a


# fixed membership: nobody joins or leaves, so member-level quantities compare run to run
FIXED_MEMBERS = ["population.n_users=3000", "days=300", "market.initial_member_share=0.18",
                 "mechanisms.churn=false", "mechanisms.referral=false",
                 "mechanisms.acquisition=false", "mechanisms.groups=false"]


def test_fatigue_builds_per_message_and_decays_with_half_life(make_config, run_model):
    """Each promotion adds fatigue_per_message; fatigue halves every fatigue_halflife_days."""
    per_msg, halflife = 0.3, 10.0
    m = run_model(make_config(*FIXED_MEMBERS, "days=120", "strategy.promotion.per_week=1",
                              f"strategy.promotion.fatigue_per_message={per_msg}",
                              f"strategy.promotion.fatigue_halflife_days={halflife}"))
    s = m.series()
    decay = 0.5 ** (1 / halflife)
    expected, f = [], 0.0
    for promo in s["promo"]:
        f = f * decay + (per_msg if promo else 0.0)
        expected.append(f)
    np.testing.assert_allclose(s["mean_fatigue"], expected, rtol=1e-4, err_msg=(
        "members' fatigue should follow f <- f x 2^(-1/halflife) + per_message on promo days"))


def test_promotion_switching_raises_brand_choice_on_promo_days(make_config, run_model):
    """Switching raises the chance of buying the brand on promotion days only."""
    iso = [*FIXED_MEMBERS, "market.need_cycle_days=60", "strategy.promotion.per_week=2",
           "strategy.promotion.acceleration=0", "strategy.promotion.deal_drift=0",
           "strategy.promotion.stockpiling=0", "mechanisms.service=false"]
    plain = run_model(make_config(*iso, "strategy.promotion.switching=0")).series()
    boosted = run_model(make_config(*iso, "strategy.promotion.switching=3")).series()
    needs_plain = plain["new_purchases"] + plain["new_lost_sales"]
    needs_boost = boosted["new_purchases"] + boosted["new_lost_sales"]
    assert np.array_equal(needs_plain, needs_boost), \
        "without acceleration or stockpiling, promotions must not change when needs arrive"
    promo = plain["promo"] == 1
    assert np.array_equal(plain["new_purchases"][~promo], boosted["new_purchases"][~promo]), \
        "switching must not act on days without a promotion"
    on_b, on_p = boosted["new_purchases"][promo].sum(), plain["new_purchases"][promo].sum()
    assert on_b > 1.1 * on_p, f"boosted brand choice on promo days: {on_b} vs {on_p}"


def test_promotion_purchases_make_buyers_more_deal_prone(make_config, run_model):
    """Mela, Gupta & Lehmann 1997: each purchase on promotion adds deal_drift x depth to the
    buyer's deal-proneness (kept in the deal_drift column beside the trait)."""
    depth = 0.2
    drift = 0.05 * depth
    cfg = make_config(*FIXED_MEMBERS, "market.need_cycle_days=60", "strategy.promotion.per_week=3",
                      "strategy.promotion.deal_drift=0.05", f"strategy.promotion.depth={depth}")
    m = run_model(cfg)
    after = m.users.deal_drift.astype(np.float64)
    gained = after
    assert np.all(gained >= -1e-7), "deal-proneness never decreases"
    assert np.all(gained[m.users.n_buy == 0] == 0), "only buyers become more deal-prone"
    promo_buys = m.series()["new_promo_purchases"].sum()
    assert promo_buys > 200
    # each promotion purchase adds deal_drift, capped at deal-proneness 1
    capped = after >= 1.0
    steps = gained[~capped] / drift
    assert np.allclose(steps, np.round(steps), atol=1e-3), \
        "an uncapped buyer's deal-proneness grows by whole multiples of deal_drift"
    shortfall = drift * promo_buys - gained.sum()
    # only users who hit the cap can fall short, by at most drift per purchase of theirs
    assert -1e-3 < shortfall <= drift * m.users.n_buy[capped].sum() + 1e-3, (
        f"total deal-proneness gained {gained.sum():.3f} should be deal_drift x promotion "
        f"purchases = {drift * promo_buys:.3f}, less only what the cap at 1 cut off")


def test_promotions_annoy_service_seeking_members(make_config, run_model):
    """Promotion spam lowers the satisfaction of users who came for service (seed 000)."""
    iso = [*FIXED_MEMBERS, "strategy.promotion.per_week=4", "strategy.content.per_week=0",
           "strategy.promotion.delight=0"]
    calm = run_model(make_config(*iso, "strategy.promotion.annoyance=0")).users
    annoyed = run_model(make_config(*iso, "strategy.promotion.annoyance=0.02")).users
    ordinary = (calm.segment == ORDINARY) & (calm.state == MEMBER)
    drop = calm.satisfaction[ordinary].mean() - annoyed.satisfaction[ordinary].mean()
    assert drop > 0.05, f"frequent promotions should lower ordinary members' satisfaction: {drop}"
    assert np.all(annoyed.satisfaction[calm.state == MEMBER]
                  <= calm.satisfaction[calm.state == MEMBER] + 1e-6), \
        "annoyance must not raise any member's satisfaction"


def test_promotions_please_deal_seekers_and_annoy_service_seekers(make_config, run_model):
    """Harm depends on who receives a promotion and on its depth: deal-seekers are pleased
    in proportion to the depth, service-seekers annoyed by every message (seed 000;
    DelVecchio et al. 2006: no average effect)."""
    iso = [*FIXED_MEMBERS, "strategy.promotion.per_week=4", "strategy.content.per_week=0",
           "mechanisms.service=false"]
    none = run_model(make_config(*iso, "strategy.promotion.per_week=0")).users
    deep = run_model(make_config(*iso, "strategy.promotion.depth=0.4")).users
    members = none.state == MEMBER
    gain = deep.satisfaction - none.satisfaction
    prone = members & (none.deal_prone > 0.7)
    averse = members & (none.deal_prone < 0.15) & (none.segment == ORDINARY)
    assert prone.sum() > 20 and averse.sum() > 20
    assert gain[prone].mean() > 0 > gain[averse].mean()


def test_frequent_promotion_messages_raise_churn_from_the_private_domain(make_config, run_model):
    """Seed 000: promotion spam in groups drives members out (fatigue raises the churn
    hazard), the rest of the strategy held equal."""
    base = ["market=phone", "population.n_users=4000", "days=365",
            "market.initial_member_share=0.18"]
    rare = run_model(make_config(*base, "strategy.promotion.per_week=0.25")).summary()
    often = run_model(make_config(*base, "strategy.promotion.per_week=4")).summary()
    assert often["monthly_churn_rate"] > 1.2 * rare["monthly_churn_rate"]


# --------------------------------------------------------------------------- service


def test_better_service_raises_satisfaction_and_lowers_churn(make_config, run_model):
    base = ["population.n_users=3000", "days=365", "market.initial_member_share=0.18",
            "strategy.service.proactive_care=0"]
    sat, churn = {}, {}
    for p in (0.1, 0.95):
        runs = [run_model(make_config(*base, f"seed={seed}", f"strategy.service.resolve_prob={p}"))
                for seed in (1, 2)]
        sat[p] = np.mean([np.nanmean(m.series()["mean_satisfaction"]) for m in runs])
        churn[p] = np.mean([m.summary()["monthly_churn_rate"] for m in runs])
    assert sat[0.95] > sat[0.1] + 0.03, f"resolving more incidents should raise satisfaction: {sat}"
    assert churn[0.95] < 0.9 * churn[0.1], f"resolving more incidents should lower churn: {churn}"


def test_proactive_care_resolves_incidents(make_config, run_model):
    """Proactive care pre-empts a share of product faults, which are always resolved; with
    resolve_prob=0 nothing else is resolved."""
    fault_share = 0.3
    m = run_model(make_config(*SMALL, "market.initial_member_share=0.18",
                              "strategy.service.resolve_prob=0",
                              "strategy.service.proactive_care=1",
                              f"strategy.service.fault_share={fault_share}",
                              "strategy.service.incidents_per_year=12"))
    s = m.series()
    n, r = s["new_incidents"].sum(), s["new_resolved"].sum()
    assert n > 2000
    sd = math.sqrt(fault_share * (1 - fault_share) / n)
    assert abs(r / n - fault_share) < 4.5 * sd, (
        f"resolved share {r / n:.3f}: with full proactive care exactly the faults "
        f"({fault_share}) should be resolved")
    none = run_model(make_config(*SMALL, "strategy.service.resolve_prob=0",
                                 "strategy.service.proactive_care=0"))
    assert none.series()["new_incidents"].sum() > 0
    assert none.series()["new_resolved"].sum() == 0, "nothing can be resolved with both at 0"


def test_incidents_arrive_at_the_configured_rate(make_config, run_model):
    per_year = 12.0
    m = run_model(make_config(*SMALL, "market.initial_member_share=0.18",
                              f"strategy.service.incidents_per_year={per_year}"))
    s = m.series()
    exposure = float(np.sum(np.r_[m.members_start, s["n_members"][:-1]]))  # members at dawn
    expected = exposure * (1 - math.exp(-per_year / 365))
    got = float(s["new_incidents"].sum())
    assert abs(got - expected) < 4.5 * math.sqrt(expected), (
        f"{got:.0f} incidents over {exposure:.0f} member-days, expected {expected:.0f}")


# --------------------------------------------------------------------------- content


def test_content_raises_fan_satisfaction(make_config, run_model):
    """Content raises satisfaction of news-seeking users (fans) more than of ordinary users."""
    iso = ["population.n_users=3000", "days=300", "market.initial_member_share=0.18",
           "mechanisms.churn=false", "mechanisms.referral=false"]
    quiet = run_model(make_config(*iso, "strategy.content.per_week=0"))
    loud = run_model(make_config(*iso, "strategy.content.per_week=7"))
    uq, ul = quiet.users, loud.users
    assert np.array_equal(uq.state, ul.state), "membership must not depend on content here"
    fans = (uq.segment == FAN) & (uq.state == MEMBER)
    ordinary = (uq.segment == ORDINARY) & (uq.state == MEMBER)
    assert fans.sum() > 100
    gain_fan = ul.satisfaction[fans].mean() - uq.satisfaction[fans].mean()
    gain_ord = ul.satisfaction[ordinary].mean() - uq.satisfaction[ordinary].mean()
    assert gain_fan > 0.08, f"daily content should raise fans' satisfaction, gain {gain_fan:.3f}"
    assert gain_fan > gain_ord, (
        f"fans want news more than ordinary users: gain {gain_fan:.3f} vs {gain_ord:.3f}")
    # every satisfaction update is monotone, so with common random numbers no fan ends lower
    assert np.all(ul.satisfaction[fans] >= uq.satisfaction[fans] - 1e-6), \
        "content must not lower any fan's satisfaction"


# --------------------------------------------------------------------------- referral


def test_higher_referral_rate_gives_more_referrals(make_config, run_model):
    low = run_model(make_config(*SMALL, "strategy.referral.per_year=0.5"))
    high = run_model(make_config(*SMALL, "strategy.referral.per_year=4"))
    conv_low = total(low, "new_referrals_converted")
    conv_high = total(high, "new_referrals_converted")
    assert conv_high > 3 * conv_low > 0, (
        f"8x the recommendation rate should convert many more referrals: {conv_high} vs {conv_low}")
    assert total(high, "new_referrals") > 4 * total(low, "new_referrals")
    share_low, share_high = low.summary()["referral_share"], high.summary()["referral_share"]
    assert share_high > share_low + 0.1, f"referral_share {share_high:.3f} vs {share_low:.3f}"


def test_zero_referral_rate_gives_no_referrals(make_config, run_model):
    """referral.per_year=0: nobody recommends, so nobody is referred."""
    m = run_model(make_config(*SMALL, "strategy.referral.per_year=0"))
    s, k = m.series(), m.summary()
    assert s["new_referrals"].sum() == 0 and s["new_referrals_converted"].sum() == 0
    assert not np.any(m.users.source == SOURCE_REFERRAL), "no user may be referral-sourced"
    assert k["new_customers_referral"] == 0 and k["referral_share"] == 0.0
    assert k["k_factor"] == 0.0


def test_referral_registration_probability(make_config, run_model):
    """A recommendation to a prospect registers with probability market.funnel.register_prob.

    On the complete graph the target is uniform over the other n-1 users, so the expected
    registrations are register_prob x sum over days of referrals x prospects / (n - 1).
    (Negative word of mouth, which lowers registration, is switched off.)
    """
    n, p = 5000, 0.2
    base = ["graph=complete", f"population.n_users={n}", "days=200",
            "market.initial_member_share=0.1", "strategy.referral.per_year=6",
            "strategy.service.negative_wom=0", "mechanisms.churn=false"]
    m = run_model(make_config(*base, f"market.funnel.register_prob={p}"))
    s = m.series()
    prospects_before = np.r_[n - m.members_start, s["n_prospects"][:-1]]
    by_members = s["new_referrals"] - s["new_referrals_organic"]  # only members' friends register
    expected = p * float(np.sum(by_members * prospects_before / (n - 1)))
    registered = float(s["new_referrals_converted"].sum())
    assert expected > 300
    sd = math.sqrt(expected * (1 - p))
    assert abs(registered - expected) < 4.5 * sd + 0.01 * expected, (
        f"{registered:.0f} referrals registered, expected {expected:.0f} (sd {sd:.0f}) "
        f"with register_prob={p}")
    assert np.array_equal(s["new_members_referral"], s["new_referrals_converted"])
    none = run_model(make_config(*base, "market.funnel.register_prob=0"))
    assert none.series()["new_referrals"].sum() > 0
    assert none.series()["new_referrals_converted"].sum() == 0, "register_prob=0 converts nobody"


def test_koc_segments_refer_more_with_higher_referral_mult(make_config, run_model):
    """KOC and enthusiast users recommend at their segment's referral_mult x the base rate."""
    from sim.core.columns import ENTHUSIAST, KOC

    def referrer_shares(mult):
        m = run_model(make_config(*SMALL, "strategy.referral.per_year=2",
                                  f"market.segments.koc.referral_mult={mult}",
                                  f"market.segments.enthusiast.referral_mult={mult}"))
        u = m.users
        seg = u.segment[u.recruited_by[u.source == SOURCE_REFERRAL]]
        return {"koc": (seg == KOC).mean(), "enthusiast": (seg == ENTHUSIAST).mean(),
                "n": len(seg)}

    one, eight = referrer_shares(1), referrer_shares(8)
    assert one["n"] > 100 and eight["n"] > one["n"], f"referrals: {one} vs {eight}"
    assert eight["koc"] > one["koc"] + 0.1, (
        f"with referral_mult=8 KOCs should bring a much larger share of referrals: "
        f"{eight} vs {one}")
    assert eight["enthusiast"] > one["enthusiast"] + 0.05, (
        f"enthusiasts' referral_mult=8 should raise their share too: {eight} vs {one}")


# --------------------------------------------------------------------------- acquisition


def test_zero_add_friend_rate_gives_no_store_recruits(make_config, run_model):
    on = run_model(make_config(*SMALL, "market.need_cycle_days=200"))
    off = run_model(make_config(*SMALL, "market.need_cycle_days=200",
                                "market.add_friend_rate=0"))
    assert total(on, "new_members_store") > 20, "control: staff recruit in-store buyers"
    assert total(off, "new_members_store") == 0 and total(off, "new_customers_store") == 0
    assert not np.any(off.users.source == SOURCE_STORE), "no user may be store-sourced"
    assert total(off, "new_public_purchases") > 20, \
        "control: there were in-store buyers to recruit, staff just did not add them"


def test_friend_cap_limits_store_recruits(make_config):
    """Each store's accounts hold at most staff_per_store x friend_cap friends (here every
    staff-account friend is a store recruit: no initial members, no referrals)."""
    cfg = make_config("population.n_users=3000", "days=300", "market.need_cycle_days=200",
                      "market.add_friend_rate=1.0", "channels.personal_wechat.friend_cap=3",
                      "strategy.acquisition.staff_per_store=2", "market.initial_member_share=0",
                      "mechanisms.referral=false")
    capacity = 2 * 3
    model = sim.SiyuModel(cfg)
    u = model.users
    n_stores = int(u.store.max()) + 1
    peak = 0
    for _ in range(cfg.days):
        model.step()
        per_store = np.bincount(u.store[(u.source == SOURCE_STORE) & (u.state == MEMBER)],
                                minlength=n_stores)
        assert per_store.max() <= capacity, (
            f"day {model.day}: a store holds {per_store.max()} store-recruited members, above "
            f"staff_per_store x friend_cap = {capacity}")
        peak = max(peak, int(per_store.max()))
    assert peak == capacity, "the cap should bind in this scenario (else the test is vacuous)"
    # churned friends free room: over the run more than the cap were recruited in total
    recruited = np.bincount(u.store[u.source == SOURCE_STORE], minlength=n_stores)
    assert recruited.max() > capacity, "freed places should be refilled after churn"
    uncapped = sim.SiyuModel(make_config("population.n_users=3000", "days=300",
                                         "market.need_cycle_days=200",
                                         "market.add_friend_rate=1.0"))
    uncapped.run()
    assert (uncapped.users.source == SOURCE_STORE).sum() > 3 * recruited.sum(), \
        "without a binding cap many more in-store buyers are recruited"


# --------------------------------------------------------------------------- churn


def test_no_churn_when_hazard_is_zero(make_config, run_model):
    m = run_model(make_config(*SMALL, "strategy=promotion_heavy",
                              "channels.personal_wechat.monthly_churn=0",
                              "strategy.churn.fatigue_beta=0",
                              "strategy.churn.dissatisfaction_beta=0", "groups.churn_beta=0"))
    assert total(m, "new_churned") == 0 and not np.any(m.users.state == CHURNED), \
        "with a zero base hazard nobody may churn, however fatigued or dissatisfied"
    assert m.summary()["monthly_churn_rate"] == 0.0


def test_higher_base_churn_gives_more_churn(make_config, run_model):
    low = run_model(make_config(*SMALL, "channels.personal_wechat.monthly_churn=0.02"))
    high = run_model(make_config(*SMALL, "channels.personal_wechat.monthly_churn=0.15"))
    r_low, r_high = low.summary()["monthly_churn_rate"], high.summary()["monthly_churn_rate"]
    assert r_high > 4 * r_low, f"monthly churn {r_high:.4f} (base 0.15) vs {r_low:.4f} (base 0.02)"
    assert total(high, "new_churned") > 2 * total(low, "new_churned")


ONLY_CHURN = [f"mechanisms.{m}=false" for m in (
    "koc", "groups", "events", "service", "membership", "purchase", "funnel", "acquisition",
    "referral")]


@pytest.mark.parametrize("switches", [
    ONLY_CHURN + ["mechanisms.messaging=false"],
    # the same with messaging present but silent (no promotions, no content): no fatigue
    ONLY_CHURN + ["strategy.promotion.per_week=0", "strategy.content.per_week=0"],
], ids=["only_churn", "churn_and_silent_messaging"])
def test_constant_hazard_gives_exponential_survival(switches, make_config, run_model):
    """With a constant hazard h (no frailty) the members' survival is exp(-h t),
    h = -ln(1-base)/30 with base the landing channel's monthly churn (both readings of it
    agree without frailty; with frailty: tests/test_service_churn.py)."""
    base_monthly = 0.2
    m = run_model(make_config("graph=complete", "population.n_users=50000", "days=180",
                              "market.initial_member_share=0.18", *switches,
                              "strategy.churn.frailty_shape=0",
                              f"channels.personal_wechat.monthly_churn={base_monthly}",
                              "strategy.churn.fatigue_beta=0",
                              "strategy.churn.dissatisfaction_beta=0"))
    u = m.users
    initial = u.source == SOURCE_INITIAL
    n = int(initial.sum())
    assert n > 8000
    h = -math.log(1 - base_monthly) / 30
    for t in (30, 60, 90, 180):
        alive = np.mean((u.churn_day[initial] < 0) | (u.churn_day[initial] > t))
        expected = math.exp(-h * t)
        sd = math.sqrt(expected * (1 - expected) / n)
        assert abs(alive - expected) < 4.5 * sd, (
            f"survival at day {t}: {alive:.4f}, expected exp(-h t) = {expected:.4f} (sd {sd:.4f})")
    assert math.isclose(math.exp(-h * 30), 1 - base_monthly), "monthly_churn is a 30-day share"


def test_dissatisfaction_hazard_matches_formula(make_config, run_model):
    """Heterogeneous but constant hazards: survival = mean over members of exp(-h_i t)
    (frailty off, so satisfaction is the only heterogeneity)."""
    m = run_model(make_config("graph=complete", "population.n_users=50000", "days=180",
                              "market.initial_member_share=0.18", *ONLY_CHURN,
                              "strategy.churn.frailty_shape=0",
                              "strategy.promotion.per_week=0", "strategy.content.per_week=0",
                              "channels.personal_wechat.monthly_churn=0.2",
                              "strategy.churn.fatigue_beta=0",
                              "strategy.churn.dissatisfaction_beta=3"))
    u = m.users
    initial = u.source == SOURCE_INITIAL
    n = int(initial.sum())
    sat = u.satisfaction[initial].astype(np.float64)  # constant: nothing acts on satisfaction
    h = -math.log(0.8) / 30 * np.exp(3.0 * (0.7 - sat))
    for t in (30, 90, 180):
        alive = np.mean((u.churn_day[initial] < 0) | (u.churn_day[initial] > t))
        expected = float(np.mean(np.exp(-h * t)))
        sd = math.sqrt(expected * (1 - expected) / n)
        assert abs(alive - expected) < 4.5 * sd, (
            f"survival at day {t}: {alive:.4f}, expected {expected:.4f} (sd {sd:.4f})")
    lo, hi = sat < 0.6, sat > 0.8
    churned = u.state[initial] == CHURNED
    assert churned[lo].mean() > churned[hi].mean() + 0.1, \
        "dissatisfied members should churn more than satisfied ones"


# --------------------------------------------------------------------------- purchase


def test_short_need_cycle_gives_many_more_purchases(make_config, run_model):
    short = run_model(make_config(*SMALL, "market.need_cycle_days=30"))
    long = run_model(make_config(*SMALL, "market.need_cycle_days=1095"))
    p_short, p_long = short.summary()["purchases"], long.summary()["purchases"]
    assert p_short > 10 * p_long > 0, (
        f"a 30-day need cycle should give far more purchases than a 3-year one: "
        f"{p_short} vs {p_long}")
    assert total(short, "new_public_purchases") > 10 * total(long, "new_public_purchases")


def test_need_cycle_sets_the_repurchase_interval(make_config, run_model):
    """Members' needs recur once per need_cycle_days on average (need events = purchases +
    lost sales). A need that arrives during a day is met that day, so in whole days the
    mean interval is the continuous mean plus about half a day: within (cycle, cycle + 1)."""
    for cycle in (7, 20):
        m = run_model(make_config("population.n_users=3000", "days=400",
                                  "market.initial_member_share=0.18",
                                  f"market.need_cycle_days={cycle}", "market.need_cycle_spread=0",
                                  "strategy.promotion.per_week=0", "mechanisms.churn=false",
                                  "mechanisms.referral=false", "mechanisms.acquisition=false",
                                  "mechanisms.membership=false"))
        s = m.series()
        members = s["n_members"][-1]
        assert np.all(s["n_members"] == members)
        interval = members * 400 / (s["new_purchases"] + s["new_lost_sales"]).sum()
        assert cycle < interval < cycle + 1, (
            f"mean interval between a member's needs {interval:.2f} d, configured mean "
            f"{cycle} d (expected about {cycle + 0.5} in whole days)")


def test_satisfaction_raises_brand_choice(make_config, run_model):
    """Loyalty: the chance of buying the brand when the need arrives rises with satisfaction."""
    iso = ["population.n_users=3000", "days=300", "market.initial_member_share=0.18",
           "market.need_cycle_days=60", "mechanisms.churn=false", "mechanisms.referral=false",
           "mechanisms.acquisition=false", "mechanisms.groups=false",
           "strategy.promotion.per_week=0"]
    flat = run_model(make_config(*iso, "strategy.satisfaction.loyalty_slope=0",
                                 "strategy.satisfaction.loyalty_base=0.3"))
    s = flat.series()
    share = s["new_purchases"].sum() / (s["new_purchases"] + s["new_lost_sales"]).sum()
    n = (s["new_purchases"] + s["new_lost_sales"]).sum()
    assert abs(share - 0.3) < 4 * math.sqrt(0.21 / n), f"brand choice {share:.3f}, expected 0.3"
    good = run_model(make_config(*iso, "strategy.service.resolve_prob=1.0",
                                 "strategy.service.incidents_per_year=12"))
    bad = run_model(make_config(*iso, "strategy.service.resolve_prob=0.0",
                                "strategy.service.incidents_per_year=12"))
    assert total(good, "new_purchases") > 1.2 * total(bad, "new_purchases"), \
        "more satisfied members should choose the brand more often"


# --------------------------------------------------------------------------- switches

# every mechanism active: KOC program, events and themed days (koc_program preset), points,
# tiers and paid VIP, fast need cycles, referrals
SWITCH_BASE = ["strategy=koc_program", "strategy.membership.enabled=true",
               "strategy.membership.vip=true", "population.n_users=3000", "days=300",
               "market.initial_member_share=0.1", "market.need_cycle_days=200",
               "strategy.referral.per_year=2", "strategy.promotion.per_week=2",
               "strategy.recall.per_year=12", "strategy.recall.lapsed_days=30",
               "strategy.recall.min_purchases=1", "market.launch_every_days=100",
               "touchpoints.presale_join_prob=0.05"]


def _observe(model) -> dict[str, float]:
    s, u = model.series(), model.users
    return {
        "store_members": s["new_members_store"].sum() + int((u.source == SOURCE_STORE).sum()),
        "referral_members": s["new_members_referral"].sum()
        + int((u.source == SOURCE_REFERRAL).sum()),
        "referrals": s["new_referrals"].sum(),
        "purchases": s["new_purchases"].sum() + int(u.n_buy.sum()),
        "store_buyers": s["new_public_purchases"].sum(),
        "lost_sales": s["new_lost_sales"].sum(),
        "incidents": s["new_incidents"].sum(),
        # members who left by the churn hazard (not by quitting their only touchpoint, a group)
        "churned": s["new_churned"].sum() - s["new_group_leavers"].sum()
        - s["new_banned_lost"].sum(),
        "messages": s["promo"].sum() + s["content"].sum(),
        "fatigue": float(np.nansum(s["mean_fatigue"])) + float(u.fatigue.sum()),
        "groups": s["n_groups_live"].sum() + int((u.group >= 0).sum()),
        "attendees": s["new_attendees"].sum(),
        "event_members": s["new_members_event"].sum() + int((u.source == SOURCE_EVENT).sum()),
        "kocs": s["n_kocs"].sum() + int(u.koc.sum()),
        "points": s["new_redemptions"].sum() + float(u.points.sum() if "points" in u else 0),
        "vips": s["new_vip_upgrades"].sum() + int((u.vip_until >= 0).sum()),
        "trials": s["new_trials"].sum(),
        "recalled": s["new_members_recall"].sum(),
        "presale_members": s["new_members_presale"].sum()
        + int((u.source == SOURCE_PRESALE).sum()),
        "follows": s["n_touch_official_account"].sum() + int(((u.touch & 4) > 0).sum()),
    }


# what must vanish when each mechanism is switched off (and be present when it is on)
SWITCHED_OFF = {
    "koc": ["kocs"],
    "messaging": ["messages", "fatigue"],
    "groups": ["groups"],
    "events": ["attendees", "event_members"],
    "service": ["incidents"],
    "membership": ["points", "vips"],
    "funnel": ["trials"],  # leads still buy on their own need (and count as customers)
    "acquisition": ["store_members"],
    "referral": ["referral_members", "referrals"],
    "churn": ["churned"],
    "recall": ["recalled"],
    "touchpoints": ["presale_members", "follows"],
}


def test_every_switch_is_tested():
    from sim.config import MechanismsConfig

    switches = {f.name for f in dataclasses.fields(MechanismsConfig)}
    assert switches == set(SWITCHED_OFF) | {"purchase", "adoption"}, \
        "a mechanism switch has no test here"


@pytest.fixture(scope="module")
def all_on(make_config, run_model):
    return run_model(make_config(*SWITCH_BASE))


@pytest.mark.parametrize("mechanism", list(SWITCHED_OFF))
def test_switch_removes_mechanism(mechanism, all_on, make_config, run_model):
    off = run_model(make_config(*SWITCH_BASE, f"mechanisms.{mechanism}=false"))
    assert mechanism in all_on.mechanisms and mechanism not in off.mechanisms
    seen_on, seen_off = _observe(all_on), _observe(off)
    for what in SWITCHED_OFF[mechanism]:
        assert seen_on[what] > 0, f"control: with {mechanism} on there should be some {what}"
        assert seen_off[what] == 0, f"mechanisms.{mechanism}=false must leave no {what}"


def test_purchase_switch_removes_purchases(make_config, run_model):
    """With purchase off nobody's need arrives: no purchases, store buyers or lost sales.
    (Leads who finish the funnel book their own purchase, so the funnel is off as well.)"""
    on = run_model(make_config(*SWITCH_BASE, "mechanisms.funnel=false"))
    off = run_model(make_config(*SWITCH_BASE, "mechanisms.funnel=false",
                                "mechanisms.purchase=false"))
    assert "purchase" not in off.mechanisms
    seen_on, seen_off = _observe(on), _observe(off)
    for what in ("purchases", "store_buyers", "lost_sales", "store_members"):
        assert seen_on[what] > 0, f"control: with purchase on there should be some {what}"
        assert seen_off[what] == 0, f"mechanisms.purchase=false must leave no {what}"
    assert off.summary()["revenue"] == 0.0


def test_adoption_switch_removes_bass_adoption(make_config, run_model):
    base = ["graph=complete", "bass.enabled=true", "bass.p=0.002", "bass.q=0.05",
            "population.n_users=2000", "days=100"]
    on = run_model(make_config(*base))
    off = run_model(make_config(*base, "mechanisms.adoption=false"))
    assert total(on, "new_adoptions") > 0 and np.any(on.users.source == SOURCE_ADOPTION)
    assert "adoption" not in off.mechanisms
    assert total(off, "new_adoptions") == 0 and not np.any(off.users.source == SOURCE_ADOPTION), \
        "mechanisms.adoption=false must leave no Bass adopters"


def test_purchase_switch_leaves_only_funnel_purchases(make_config, run_model):
    m = run_model(make_config(*SWITCH_BASE, "mechanisms.purchase=false"))
    s = m.series()
    funnel = s["new_customers_referral"] + s["new_customers_event"]
    assert funnel.sum() > 0
    assert np.array_equal(s["new_purchases"], funnel), \
        "with purchase off, the only purchases are leads buying at the end of the funnel"
    assert s["new_public_purchases"].sum() == 0 and s["new_members_store"].sum() == 0


# --------------------------------------------------------------------------- full model


def test_funnel_rates_shape_lead_conversion(make_config, run_model):
    """Leads buy through a trial, or on their own need: with trial_prob=0 nobody trials and
    far fewer leads buy; trial and purchase certain convert (nearly) every lead who stays
    long enough."""
    base = [*SMALL, "strategy.referral.per_year=3", "mechanisms.churn=false"]
    none_model = run_model(make_config(*base, "market.funnel.trial_prob=0"))
    none = none_model.summary()
    assert none["leads"] > 100 and none_model.series()["new_trials"].sum() == 0, \
        "with trial_prob=0 no lead takes a trial"
    assert none["lead_conversion"] < 0.5, "only leads whose own need arrives buy"
    sure = run_model(make_config(*base, "market.funnel.trial_prob=1",
                                 "market.funnel.purchase_prob=1")).summary()
    assert sure["lead_conversion"] > 0.8, f"lead conversion {sure['lead_conversion']:.2f}"


def test_wecom_landing_churns_faster_than_personal_wechat(make_config, run_model):
    """Seed 002: WeCom friend churn 30-40% vs personal WeChat 5-6% a month."""
    base = [*SMALL, "market.need_cycle_days=200"]
    personal = run_model(make_config(*base, "channel=personal_wechat")).summary()
    wecom = run_model(make_config(*base, "channel=wecom")).summary()
    assert wecom["monthly_churn_wecom"] > 3 * personal["monthly_churn_personal_wechat"], (
        f"WeCom newcomers should churn much faster: {wecom['monthly_churn_wecom']:.3f} vs "
        f"{personal['monthly_churn_personal_wechat']:.3f}")


def test_store_run_groups_die(make_config, run_model):
    """DOMAIN.md, dealer mode 1: stores run their own groups and they die; co-build keeps
    them alive."""
    base = [*SMALL, "market.need_cycle_days=200", "groups.decay_days=20"]
    store_run = run_model(make_config(*base, "dealer=store_run")).summary()
    co_build = run_model(make_config(*base, "dealer=co_build")).summary()
    assert store_run["dead_group_share"] > co_build["dead_group_share"] + 0.3, (
        f"dead group share store-run {store_run['dead_group_share']:.2f} vs co-build "
        f"{co_build['dead_group_share']:.2f}")
    assert store_run["mean_group_activity"] < co_build["mean_group_activity"]


def test_brand_central_stores_divert_recruits_to_shadow_groups(make_config, run_model):
    base = [*SMALL, "market.need_cycle_days=200"]
    central = run_model(make_config(*base, "dealer=brand_central")).summary()
    co_build = run_model(make_config(*base, "dealer=co_build")).summary()
    assert central["shadow_recruits"] > 0 and co_build["shadow_recruits"] == 0
    assert central["new_customers_store"] < co_build["new_customers_store"], \
        "stores that divert users and get no attribution recruit fewer into the brand's domain"


def test_koc_program_raises_referrals(make_config, run_model):
    base = [*SMALL, "strategy.referral.per_year=1", "strategy.events.per_week=0"]
    without = run_model(make_config(*base))
    with_koc = run_model(make_config(*base, "strategy.koc_program.enabled=true",
                                     "strategy.koc_program.share=0.1",
                                     "strategy.koc_program.training=1"))
    assert total(with_koc, "n_kocs") > 0
    r0, r1 = total(without, "new_referrals_converted"), total(with_koc, "new_referrals_converted")
    assert r1 > 1.2 * r0, f"trained KOCs should bring more registrations: {r1} vs {r0}"


def test_adding_too_fast_gets_accounts_banned(make_config, run_model):
    base = ["population.n_users=3000", "days=200", "market.need_cycle_days=60",
            "market.add_friend_rate=1.0", "channels.personal_wechat.daily_add_limit=1"]
    risky = run_model(make_config(*base, "channels.personal_wechat.ban_hazard=0.3")).summary()
    safe = run_model(make_config(*base, "channels.personal_wechat.ban_hazard=0")).summary()
    assert risky["banned_lost"] > 0, "adding above the daily limit should get accounts banned"
    assert safe["banned_lost"] == 0, "with ban_hazard=0 no account is ever banned"


def test_staff_cost_is_charged(make_config, run_model):
    """dealer.staff_cost_per_month is "yuan per staff member per month paid by the brand":
    it must add staff_per_store x stores x fee / 30 to every day's cost."""
    base = [*SMALL, "days=60"]
    free = run_model(make_config(*base, "dealer.staff_cost_per_month=0"))
    paid = run_model(make_config(*base, "dealer.staff_cost_per_month=3000"))
    n_staff = len(free.agents_by_type[StoreStaff])
    expected = n_staff * 3000 / 30 * free.config.days
    extra = paid.summary()["cost"] - free.summary()["cost"]
    assert math.isclose(extra, expected, rel_tol=0.01), (
        f"paying {n_staff} staff 3000 yuan a month should add {expected:.0f} yuan over the run, "
        f"added {extra:.0f}")
