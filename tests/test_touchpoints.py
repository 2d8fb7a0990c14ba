"""Touchpoints held at once (DOMAIN.md channel table; seeds 000, 002, 003): each mechanism
moves its outcome in the direction its source gives, on small populations."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.core.columns import (
    MEMBER,
    SOURCE_PRESALE,
    TOUCH_GROUP,
    TOUCH_MINI,
    TOUCH_OFFICIAL,
    TOUCH_STAFF,
)


def run(*overrides: str, users: int = 3000, days: int = 200, seed: int = 5) -> sim.SiyuModel:
    cfg = sim.load_config([f"population.n_users={users}", f"days={days}", f"seed={seed}",
                           "output.progress=false", "market.initial_member_share=0.1",
                           *overrides])
    model = sim.SiyuModel(cfg)
    model.run()
    return model


def held(model, bit: int) -> np.ndarray:
    m = model.members()
    return m[(model.users.touch[m] & bit) > 0]


def test_members_hold_several_touchpoints_at_once():
    m = run()
    u, members = m.users, m.members()
    staff, group, oa = (held(m, b) for b in (TOUCH_STAFF, TOUCH_GROUP, TOUCH_OFFICIAL))
    assert len(staff) == len(members), "personal-WeChat landing: every member is a friend"
    assert 0.8 * len(members) < len(group) < len(members), "most in a group; some quit it"
    share = len(oa) / len(members)
    assert 0.24 < share < 0.36, f"official-account co-follow share {share:.2f}, configured 0.3"
    mini = held(m, TOUCH_MINI)
    assert len(mini) > 0 and np.all(u.n_buy[mini] > 0), "mini-program: members who bought"
    s = m.series()
    assert s["n_touch_multi"][-1] == np.count_nonzero(
        np.array([bin(int(t) & 7).count("1") for t in u.touch[members]]) >= 2)
    assert np.all(u.touch[u.state != MEMBER] == 0), "non-members hold no touchpoint"


def test_quitting_the_group_is_not_leaving_the_private_domain():
    calm = run("touchpoints.group_exit_per_month=0", "mechanisms.churn=false")
    quit = run("touchpoints.group_exit_per_month=0.5", "mechanisms.churn=false")
    assert calm.series()["new_group_exits"].sum() == 0
    assert quit.series()["new_group_exits"].sum() > 0.5 * len(quit.members())
    assert quit.series()["new_churned"].sum() == 0, "they kept the staff account"
    assert len(held(quit, TOUCH_GROUP)) < len(held(calm, TOUCH_GROUP)) / 2
    g = quit.mechanisms["groups"]
    assert g.size.sum() == len(held(quit, TOUCH_GROUP)), "group sizes follow the exits"


def test_dead_groups_empty_faster():
    flat = run("dealer=store_run", "groups.decay_days=10", "touchpoints.group_exit_beta=0")
    steep = run("dealer=store_run", "groups.decay_days=10", "touchpoints.group_exit_beta=5")
    assert steep.series()["n_groups_dead"].max() > 0, "control: store-run groups die"
    assert steep.summary()["group_exits"] > 1.5 * flat.summary()["group_exits"]


def test_official_account_followers_are_diverted_to_staff_accounts():
    stay = run("channel=official_account", "touchpoints.divert_per_month=0", days=300)
    moved = run("channel=official_account", "touchpoints.divert_per_month=0.3", days=300)
    assert stay.summary()["diverted"] == 0 and len(held(stay, TOUCH_STAFF)) == 0
    assert moved.summary()["diverted"] > 0
    both = held(moved, TOUCH_STAFF)
    assert len(both) > 0 and np.all((moved.users.touch[both] & TOUCH_OFFICIAL) > 0), \
        "diverted followers keep the official account"
    # seed 002/003: the personal account keeps them; the official account alone loses them
    assert moved.summary()["members_end"] > 1.5 * stay.summary()["members_end"]


PRESALE = ("market.launch_every_days=100", "touchpoints.presale_days=10",
           "touchpoints.presale_join_prob=0.05")


def test_presale_pulls_prospects_into_groups_in_its_window_only():
    m = run(*PRESALE, "touchpoints.escalate_share=0", days=250)
    s = m.series()
    days = np.asarray(s["day"])
    window = ((-days) % 100) < 10
    joined = np.asarray(s["new_members_presale"])
    assert joined[window].sum() > 50 and joined[~window].sum() == 0
    assert np.asarray(s["launch"])[days % 100 == 0].all() and s["launch"].sum() == 2
    assert m.summary()["cost_presale_gifts"] == pytest.approx(20.0 * joined.sum())
    u = m.users
    pre = np.flatnonzero((u.source == SOURCE_PRESALE) & (u.state == MEMBER))
    assert len(pre) > 0
    assert np.all((u.touch[pre] & (TOUCH_STAFF | TOUCH_GROUP)) == TOUCH_GROUP), \
        "presale members hold the group only (no escalation here)"
    off = run(*PRESALE, "mechanisms.touchpoints=false", days=250)
    assert off.summary()["members_presale"] == 0


def test_group_questions_escalate_to_staff_accounts_and_keep_members():
    kw = dict(days=300)
    none = run(*PRESALE, "touchpoints.escalate_share=0", "touchpoints.group_exit_per_month=0.2",
               **kw)
    some = run(*PRESALE, "touchpoints.escalate_share=1", "touchpoints.group_exit_per_month=0.2",
               **kw)
    assert none.summary()["escalated"] == 0 and some.summary()["escalated"] > 20
    u = some.users
    pre = np.flatnonzero((u.source == SOURCE_PRESALE) & (u.state == MEMBER))
    assert np.count_nonzero(u.touch[pre] & TOUCH_STAFF) > 0
    # a group-only member who quits the group is gone; one with a staff account stays
    assert none.series()["new_group_leavers"].sum() > some.series()["new_group_leavers"].sum()


def test_wecom_moments_cap_lowers_content_reach_with_few_staff():
    base = ("channel=wecom", "strategy.content.per_week=7", "mechanisms.churn=false",
            "strategy.acquisition.users_per_store=100000")  # one store, two staff: < 50
    free = run(*base, "touchpoints.moments_cap_views=10000000")
    capped = run(*base, "touchpoints.moments_cap_views=50")
    f, c = free.series()["mean_satisfaction"], capped.series()["mean_satisfaction"]
    assert c[-1] < f[-1] - 0.005, "content seen by fewer WeCom members pleases fewer"
    many = run(*base, "touchpoints.moments_cap_views=50", "touchpoints.moments_cap_staff=1")
    assert many.series()["mean_satisfaction"][-1] == pytest.approx(f[-1]), \
        "with enough active staff the cap does not apply"


def test_new_wecom_accounts_get_banned_when_adding_fast():
    fast = ("market=fresh_food", "channel=wecom", "population.scale=50", "market.add_friend_rate=1.0",
            "strategy.acquisition.users_per_store=20000")
    warmed = run(*fast, "channel.accounts_warmed=true")
    new = run(*fast, "channel.accounts_warmed=false")
    assert warmed.summary()["banned_friends"] == 0 and warmed.series()["new_bans"].sum() == 0
    bans = new.series()["new_bans"]
    assert bans.sum() > 0, "seed 002: new WeCom accounts banned when flooded"
    s = new.summary()
    assert s["banned_friends"] > s["banned_lost"], "friends in a group stay after the ban"
