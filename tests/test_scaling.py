"""Population scaling: one simulated user stands for population.scale real users."""

import numpy as np

import sim

BASE = ["population.n_users=3000", "days=200", "seed=5", "output.progress=false"]


def run(*overrides):
    model = sim.SiyuModel(sim.load_config([*BASE, *overrides]))
    model.run()
    return model


def test_scaled_run_reports_real_counts_and_money():
    k = 10
    plain = run()
    # the same simulated world, with every cap given in real users scaled up by k
    scaled = run(f"population.scale={k}", "strategy.acquisition.users_per_store=20000",
                 "groups.capacity=5000", "channels.personal_wechat.friend_cap=50000",
                 "channels.personal_wechat.daily_add_limit=1000")
    a, b = plain.series(), scaled.series()
    for col in ("n_members", "n_churned", "n_customers", "new_purchases", "new_churned",
                "new_customers_store", "new_customers_referral", "cum_purchases"):
        assert np.array_equal(b[col], k * a[col]), f"{col} is scaled by k"
    assert np.allclose(b["new_revenue"], k * a["new_revenue"], rtol=1e-12)
    for col in ("mean_satisfaction", "nps", "mean_group_activity"):
        assert np.allclose(b[col], a[col], equal_nan=True), f"{col} needs no scaling"
    sa, sb = plain.summary(), scaled.summary()
    assert sb["members_end"] == k * sa["members_end"]
    assert sb["monthly_churn_rate"] == sa["monthly_churn_rate"]
    # fixed costs (campaigns, posts, live groups) do not scale, per-user costs do
    assert k * sa["cost"] > sb["cost"] > sa["cost"]


def test_real_caps_shrink_with_scale():
    m = run("population.scale=100", "groups.capacity=500")
    assert m.mechanisms["groups"].capacity == 5, "a 500-member group holds 5 simulated users"
    assert m.mechanisms["acquisition"].capacity == 2 * 5000 // 100
