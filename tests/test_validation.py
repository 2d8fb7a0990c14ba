"""The model reduces by config to processes with known answers (DESIGN.md, Validation)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import sim
from sim.data.io import read_parquet
from sim.data.validation import bass_curve, bass_discrete, cohort_survival

ONLY_CHURN = [f"mechanisms.{m}=false" for m in ("koc", "messaging", "groups", "events", "service",
                                                 "membership", "purchase", "funnel",
                                                 "acquisition", "referral", "adoption")]


def bass_run(p, q, n, days, seed, *extra):
    cfg = sim.load_config(["experiment=bass_validation", f"bass.p={p}", f"bass.q={q}",
                           f"population.n_users={n}", f"days={days}", f"seed={seed}", *extra])
    model = sim.SiyuModel(cfg)
    model.run()
    return model.series()["cum_adopters_share"]


@pytest.mark.parametrize("p,q", [(0.01, 0.1), (0.003, 0.05), (0.02, 0.4)])
def test_bass_error_shrinks_as_the_population_grows(p, q):
    days = 90
    target = bass_discrete(p, q, days)
    err = {n: np.mean([np.abs(bass_run(p, q, n, days, s) - target).max() for s in (1, 2)])
           for n in (1000, 40000)}
    assert err[40000] < err[1000], f"error should shrink with N: {err}"
    assert err[40000] < 0.012, f"at 40k users the adopter share is on the daily-step Bass map: {err}"


def test_bass_daily_map_is_the_continuous_curve_up_to_the_step_error():
    # the model's only departure from the continuous curve is the daily step, which
    # vanishes as p + q per day gets small
    t = np.arange(1, 366)
    gap_small = np.abs(bass_discrete(0.001, 0.01, 365) - bass_curve(0.001, 0.01, t)).max()
    gap_large = np.abs(bass_discrete(0.01, 0.1, 365) - bass_curve(0.01, 0.1, t)).max()
    assert gap_small < 0.005 < gap_large
    sim_share = bass_run(0.001, 0.01, 40000, 365, 1)
    assert np.abs(sim_share - bass_curve(0.001, 0.01, t)).max() < gap_small + 0.01


def test_bass_on_a_sparse_graph_lies_below_the_curve():
    days = 120
    sparse = bass_run(0.005, 0.2, 20000, days, 1, "graph=small_world", "graph.k=4",
                      "graph.p_rewire=0.0")
    complete = bass_run(0.005, 0.2, 20000, days, 1)
    target = bass_discrete(0.005, 0.2, days)
    assert np.all(sparse <= target + 0.005), "adoption on a sparse graph never runs ahead"
    gap = (target - sparse)[10:60].mean()
    assert gap > 0.1, f"local saturation slows word of mouth (mean gap {gap:.3f})"
    assert np.abs(complete - target).max() < 0.02


def test_bass_experiment_from_the_command_line(tmp_path):
    out = tmp_path / "run"
    r = subprocess.run([sys.executable, "-m", "sim", "experiment=bass_validation", "bass.p=0.01",
                        "bass.q=0.2", "population.n_users=5000", "days=60", "output.figures=false",
                        f"hydra.run.dir={out}"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    series = read_parquet(out / "series.parquet")
    share = series["cum_adopters_share"]
    assert len(share) == 60 and np.all(np.diff(share) >= 0)
    assert np.abs(share - bass_discrete(0.01, 0.2, 60)).max() < 0.05
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["bass"] == {"enabled": True, "p": 0.01, "q": 0.2}
    assert summary["config"]["graph"]["kind"] == "complete"


def test_constant_churn_hazard_gives_exponential_retention():
    cfg = sim.load_config([*ONLY_CHURN, "population.n_users=40000", "days=120",
                           "market.initial_member_share=0.5", "market.initial_customer_share=0.5",
                           "strategy.churn.dissatisfaction_beta=0", "strategy.churn.fatigue_beta=0",
                           "groups.churn_beta=0", "strategy.churn.frailty_shape=0",
                           "strategy.churn.channel_churn_reading=monthly_hazard"])
    model = sim.SiyuModel(cfg)
    model.run()
    u = model.users
    surv = cohort_survival(u.join_day, u.churn_day, 120, 120)
    h = -np.log1p(-cfg.channels.personal_wechat.monthly_churn) / 30
    expected = np.exp(-h * np.arange(120))
    assert np.abs(surv - expected).max() < 0.01, "survival is exp(-h t)"
    monthly = surv[30::30] / surv[:-30:30]
    assert np.ptp(monthly) < 0.01, "retention per month does not change with tenure"


def test_heterogeneous_hazards_give_retention_rising_with_tenure():
    cfg = sim.load_config([*ONLY_CHURN, "population.n_users=40000", "days=360",
                           "market.initial_member_share=0.5", "market.initial_customer_share=0.5",
                           "strategy.churn.dissatisfaction_beta=12", "strategy.churn.fatigue_beta=0",
                           "strategy.satisfaction.initial_sd=0.2", "groups.churn_beta=0",
                           "strategy.churn.frailty_shape=0"])
    model = sim.SiyuModel(cfg)
    model.run()
    u = model.users
    surv = cohort_survival(u.join_day, u.churn_day, 360, 360)
    monthly = surv[30::30] / surv[:-30:30]
    assert np.all(np.diff(monthly) > 0), f"survivors are the low-hazard users: {monthly.round(3)}"


def test_transactions_export_matches_the_ledger(tmp_path):
    cfg = sim.load_config(["market=fresh_food", "population.n_users=3000", "days=120",
                           "export.transactions=true", "output.figures=false",
                           "output.progress=false"])
    result = sim.run(cfg, tmp_path, echo=False)
    tx = read_parquet(tmp_path / "transactions.parquet")
    assert set(tx) == {"customer_id", "date", "day", "amount"}
    assert len(tx["amount"]) == result.summary["purchases"]
    assert tx["amount"].sum() == pytest.approx(result.summary["revenue"], rel=1e-9)
    assert np.all(np.diff(tx["day"]) >= 0) and tx["day"].min() >= 1
    assert np.all(np.diff(tx["date"]).astype(np.int64) >= 0)
    assert np.all(tx["amount"] > 0)


def test_transaction_log_requires_the_switch():
    model = sim.SiyuModel(sim.load_config(["population.n_users=500", "days=5"]))
    model.run()
    with pytest.raises(ValueError, match="export.transactions"):
        model.transaction_log()
