"""Service costs what it takes and binds under load; churn depends on tenure (issue 11).

Each test runs two configs on the same seed (common random numbers) or checks a closed
form: a promotion wave fills the queue; agents cost a wage and cut the wait; WeCom's tooling
multiplies answers per agent; purchases bring after-sales questions; the knowledge base is
paid when quality rises; gamma frailty makes retention rise with tenure on the
exponential-gamma curve; the cohort_share reading loses x of a cohort in 30 days.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.core.columns import SOURCE_INITIAL
from sim.core.mechanisms.base import FIXED
from sim.core.mechanisms.churn import base_hazard, gamma_frailty
from sim.core.mechanisms.service import Service, knowledge_base_halvings
from sim.core.metrics import COSTS
from sim.core.rng import Stream

SERVICE = ["population.n_users=3000", "days=150", "market.initial_member_share=0.18",
           "strategy.service.capacity_per_1k=10"]
# churn alone acts on a fixed initial cohort (no fatigue, no service, no purchases)
ONLY_CHURN = [f"mechanisms.{m}=false" for m in (
    "koc", "groups", "events", "service", "membership", "purchase", "funnel", "acquisition",
    "referral", "messaging")] + ["strategy.churn.fatigue_beta=0",
                                 "strategy.churn.dissatisfaction_beta=0", "graph=complete",
                                 "population.n_users=50000", "market.initial_member_share=0.18"]


def _cohort(model):
    u = model.users
    initial = u.source == SOURCE_INITIAL
    return u.churn_day[initial], int(initial.sum())


def _alive(churn_day: np.ndarray, t: int) -> float:
    return float(np.mean((churn_day < 0) | (churn_day > t)))


# ------------------------------------------------------------------ service: demand and binding


def test_a_promotion_wave_fills_the_queue_and_lengthens_the_wait(make_config, run_model):
    """Promotion days bring questions about the deal (and purchases bring after-sales
    questions): with the same staff, a daily promotion wave raises demand above capacity,
    the queue and the wait grow, and fewer incidents are answered within 24 h."""
    calm = run_model(make_config(*SERVICE, "strategy.promotion.per_week=0"))
    wave = run_model(make_config(*SERVICE, "strategy.promotion.per_week=7"))
    sc, sw = calm.series(), wave.series()
    demand = {k: m.summary()["incidents"] / m.series()["n_members"].sum() * 1000
              for k, m in (("calm", calm), ("wave", wave))}
    assert demand["wave"] > demand["calm"] + 5, f"incidents per 1,000 member-days: {demand}"
    assert demand["calm"] < 10 < demand["wave"], (
        f"capacity 10 per 1,000 members should bind in the wave only: {demand}")
    assert sw["service_queue"].mean() > 5 * max(sc["service_queue"].mean(), 0.1)
    assert sw["service_wait_days"].max() > 0.5 > sc["service_wait_days"].max()
    share = {k: m.summary()["answered_24h"] / (m.summary()["incidents"]
                                               - m.summary()["care_contacts"])
             for k, m in (("calm", calm), ("wave", wave))}
    assert share["calm"] > 0.95 and share["wave"] < share["calm"] - 0.2, (
        f"share answered within 24 h: {share}")
    res = {k: m.summary()["incidents_resolved"] / m.summary()["incidents"]
           for k, m in (("calm", calm), ("wave", wave))}
    assert res["wave"] < res["calm"] - 0.05, f"waiting cuts resolution: {res}"


def test_each_purchase_brings_its_after_sales_questions(make_config, run_model):
    """With no base rate and no promotions, the incidents are the purchases' questions: about
    ``incidents_per_purchase`` per purchase (all but the last days' have arrived)."""
    per = 0.5
    m = run_model(make_config("population.n_users=3000", "days=300",
                              "market.initial_member_share=0.18", "market.need_cycle_days=30",
                              "mechanisms.churn=false", "mechanisms.acquisition=false",
                              "mechanisms.referral=false", "strategy.promotion.per_week=0",
                              "strategy.service.incidents_per_year=0",
                              f"strategy.service.incidents_per_purchase={per}",
                              "strategy.service.after_sale_days=2"))
    s = m.series()
    bought = float(s["new_purchases"][:-10].sum())  # purchases whose questions have arrived
    got = float(s["new_incidents"].sum())
    assert bought > 1000
    expected = per * bought
    assert abs(got - expected) < 4.5 * math.sqrt(expected) + per * s["new_purchases"][-10:].sum(), (
        f"{got:.0f} incidents after {bought:.0f} purchases, expected ~{expected:.0f}")
    none = run_model(make_config("population.n_users=3000", "days=50",
                                 "market.initial_member_share=0.18",
                                 "strategy.promotion.per_week=0",
                                 "strategy.service.incidents_per_year=0",
                                 "strategy.service.incidents_per_purchase=0"))
    assert none.series()["new_incidents"].sum() == 0


# ------------------------------------------------------------------ service: what it costs


def test_more_agents_cost_more_and_cut_the_wait(make_config, run_model):
    """Agents are hired per member (capacity_per_1k / answers_per_agent_day per 1,000 members)
    and paid a wage whether busy or idle: four times the staff costs about four times as much
    per member-day and shortens the wait under the same promotions."""
    base = [*SERVICE, "strategy.promotion.per_week=4", "mechanisms.events=false"]
    thin = run_model(make_config(*base, "strategy.service.capacity_per_1k=5"))
    ample = run_model(make_config(*base, "strategy.service.capacity_per_1k=20"))
    per_member_day = {}
    for name, m in (("thin", thin), ("ample", ample)):
        s, sv = m.series(), m.config.strategy.service
        # staff are sized on the members present at the service phase (yesterday's end)
        members = np.r_[m.members_start, s["n_members"][:-1]].astype(float)
        agents = sv.capacity_per_1k / 1000 * members / sv.answers_per_agent_day
        np.testing.assert_allclose(s["service_agents"], agents, rtol=1e-9)
        np.testing.assert_allclose(s["new_cost_service_staff"],
                                   agents * sv.wage_per_agent_month / 30, rtol=1e-9)
        np.testing.assert_allclose(s["new_cost_service_tools"],
                                   agents * sv.seat_cost_per_agent_month / 30, rtol=1e-9)
        per_member_day[name] = s["new_cost_service_staff"].sum() / members.sum()
    assert math.isclose(per_member_day["ample"], 4 * per_member_day["thin"], rel_tol=1e-9)
    assert ample.summary()["cost_service_staff"] > 3 * thin.summary()["cost_service_staff"]
    assert ample.series()["service_wait_days"].mean() < 0.5 * thin.series()["service_wait_days"].mean()
    assert ample.summary()["answered_24h"] > thin.summary()["answered_24h"]


def test_wecom_tooling_raises_answers_per_agent(make_config, run_model):
    """Seed 002: staff productivity x3 with WeCom. The same agents answer three times as many
    WeCom members' questions, so the same staffing waits less."""
    base = [*SERVICE, "strategy.promotion.per_week=4", "strategy.service.capacity_per_1k=5"]
    personal = run_model(make_config(*base))
    fixed = ["channel=wecom", "mechanisms.churn=false", "mechanisms.acquisition=false",
             "mechanisms.referral=false"]  # the same members in both WeCom runs
    wecom = run_model(make_config(*base, *fixed))
    wecom_plain = run_model(make_config(*base, *fixed, "channels.wecom.service_productivity=1"))
    apd = personal.config.strategy.service.answers_per_agent_day
    for m, mult in ((personal, 1.0), (wecom, 3.0), (wecom_plain, 1.0)):
        s = m.series()
        per_agent = s["service_capacity"] / s["service_agents"]
        np.testing.assert_allclose(per_agent, apd * mult, rtol=1e-9)
    assert np.array_equal(wecom.series()["service_agents"], wecom_plain.series()["service_agents"])
    assert (wecom.series()["service_wait_days"].mean()
            < 0.5 * wecom_plain.series()["service_wait_days"].mean())


def test_the_knowledge_base_and_care_are_paid_for(make_config, run_model):
    """Quality above knowledge_base_from costs a fixed monthly sum per halving of the
    unresolved share (service_led: 0.6 -> 0.9 is two halvings); care costs per contact."""
    assert knowledge_base_halvings(0.6, 0.6) == 0 == knowledge_base_halvings(0.5, 0.6)
    assert math.isclose(knowledge_base_halvings(0.9, 0.6), 2.0)
    assert math.isfinite(knowledge_base_halvings(1.0, 0.6))
    m = run_model(make_config("strategy=service_led", "population.n_users=3000", "days=60",
                              "market.initial_member_share=0.18"))
    sv, s, tot = m.config.strategy.service, m.series(), m.summary()
    assert sv.resolve_prob == 0.9 and sv.proactive_care > 0
    day = sv.knowledge_base_cost_month / 30 * 2
    np.testing.assert_allclose(s["new_cost_knowledge_base"], day, rtol=1e-12)
    assert math.isclose(tot["cost_knowledge_base"], 60 * day)
    assert tot["care_contacts"] > 0
    assert math.isclose(tot["cost_care"], tot["care_contacts"] * sv.cost_per_care_contact)
    cheap = run_model(make_config("strategy=promotion_heavy", "population.n_users=3000",
                                  "days=60", "market.initial_member_share=0.18"))
    assert cheap.summary()["cost_knowledge_base"] == 0 == cheap.summary()["cost_care"]


def test_costs_add_up_to_new_cost_with_scale(make_config, run_model):
    """new_cost is the sum of every declared new_cost_<kind>: per-user money x
    population.scale, fixed costs (the knowledge base) as they are."""
    k = 10
    m = run_model(make_config("strategy=service_led", "population.n_users=3000", "days=60",
                              "market.initial_member_share=0.18", f"population.scale={k}"))
    s = m.series()
    kinds = {r.name: r.kind for r in Service.results if r.is_cost}
    assert set(kinds) == {"new_cost_service_staff", "new_cost_service_tools", "new_cost_care",
                          "new_cost_knowledge_base"}
    assert kinds["new_cost_knowledge_base"] == FIXED
    parts = sum(s[r.name] for r in COSTS)
    np.testing.assert_allclose(s["new_cost"], parts, rtol=1e-9)
    sv = m.config.strategy.service
    np.testing.assert_allclose(s["new_cost_knowledge_base"], sv.knowledge_base_cost_month / 15,
                               rtol=1e-12)  # two halvings a month, not x scale
    members = np.r_[m.members_start, s["n_members"][:-1] / k]  # simulated members, start of day
    np.testing.assert_allclose(
        s["new_cost_service_staff"],
        k * sv.capacity_per_1k / 1000 * members / sv.answers_per_agent_day
        * sv.wage_per_agent_month / 30, rtol=1e-9)


# ------------------------------------------------------------------ churn: tenure and readings


def test_gamma_frailty_is_a_pure_function_of_the_id_with_mean_one():
    s = Stream(3, "churn.frailty")
    ids = np.arange(200_000)
    for k in (0.7, 4.0):
        x = gamma_frailty(s, ids, k)
        assert abs(x.mean() - 1) < 0.02 and abs(x.var() - 1 / k) < 0.06 / k
    sub = np.array([5, 17, 123_456])
    assert np.array_equal(gamma_frailty(s, sub, 0.7), gamma_frailty(s, ids, 0.7)[sub]), \
        "a user's frailty must not depend on who else draws"


def test_frailty_is_the_same_under_two_strategies(make_config, run_model):
    cfg = ["population.n_users=3000", "days=120", "market.initial_member_share=0.1"]
    a = run_model(make_config("strategy=service_led", *cfg))
    b = run_model(make_config("strategy=promotion_heavy", *cfg))
    both = (a.users.join_day >= 0) & (b.users.join_day >= 0)
    assert both.sum() > 300 and len(np.unique(a.users.frailty[both])) > 300
    assert np.array_equal(a.users.frailty[both], b.users.frailty[both])
    assert np.all(a.users.frailty[a.users.join_day < 0] == 1), "drawn on joining"


@pytest.mark.parametrize("shape", [0.7, 2.0])
def test_frailty_gives_the_exponential_gamma_cohort_curve(shape, make_config, run_model):
    """A cohort of neutral members with gamma frailty survives (1 + h t / k)^-k (the
    continuous sBG, Fader & Hardie 2007), and its month-on-month retention rises with tenure;
    without frailty it is exp(-h t) with flat monthly retention."""
    x = 0.2
    cfg = [*ONLY_CHURN, "days=180", f"channels.personal_wechat.monthly_churn={x}"]
    het = run_model(make_config(*cfg, f"strategy.churn.frailty_shape={shape}"))
    hom = run_model(make_config(*cfg, "strategy.churn.frailty_shape=0"))
    days, n = _cohort(het)
    assert n > 8000
    h = base_hazard(x, shape, "cohort_share")
    for t in (30, 90, 180):
        expected = (1 + h * t / shape) ** -shape
        sd = math.sqrt(expected * (1 - expected) / n)
        assert abs(_alive(days, t) - expected) < 4.5 * sd, (
            f"survival at day {t}: {_alive(days, t):.4f}, expected {expected:.4f}")
    ret = [_alive(days, 30 * i) / _alive(days, 30 * (i - 1)) for i in (1, 6)]
    assert ret[1] > ret[0] + 0.03, f"month-1 vs month-6 retention with frailty: {ret}"
    days0, _ = _cohort(hom)
    ret0 = [_alive(days0, 30 * i) / _alive(days0, 30 * (i - 1)) for i in (1, 6)]
    assert abs(ret0[1] - ret0[0]) < 0.02, f"without frailty retention is flat: {ret0}"


@pytest.mark.parametrize("x", [0.055, 0.35])
def test_cohort_share_reading_loses_x_of_a_cohort_in_30_days(x, make_config, run_model):
    """cohort_share: channels.*.monthly_churn is the share of a new cohort lost in its first
    30 days. monthly_hazard: it is 1 - exp(-30 h) for a member of mean frailty, so the
    cohort (whose frail members go first) loses less."""
    cfg = [*ONLY_CHURN, "days=30", f"channels.personal_wechat.monthly_churn={x}"]
    share = run_model(make_config(*cfg, "strategy.churn.channel_churn_reading=cohort_share"))
    hazard = run_model(make_config(*cfg, "strategy.churn.channel_churn_reading=monthly_hazard"))
    days, n = _cohort(share)
    lost = 1 - _alive(days, 30)
    sd = math.sqrt(x * (1 - x) / n)
    assert abs(lost - x) < 4.5 * sd, f"cohort lost {lost:.4f} in 30 days, configured {x}"
    k = share.config.strategy.churn.frailty_shape
    lost_h = 1 - _alive(_cohort(hazard)[0], 30)
    expected_h = 1 - (1 - math.log1p(-x) / k) ** -k
    assert abs(lost_h - expected_h) < 4.5 * sd and lost_h < lost
