"""Repeat-purchase models (sim/data/clv.py) and the validation report (sim/data/validation_report.py).

The BG/NBD and Gamma-Gamma fits use `lifetimes` (the `clv` extra): checked on the CDNOW data
it ships, on a round trip through the BG/NBD process, and on the simulator's transactions
with a calibration/holdout split. The sBG fit is our own code, checked on Fader & Hardie's data.
"""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

import sim
from sim.data import clv


def test_rfm_by_hand():
    # customer 7: days 1, 3, 3 (same day: one transaction of 5), 10 | holdout 25
    # customer 9: day 12 only | holdout none; customer 4: first buys in the holdout (excluded)
    cid = np.array([7, 7, 7, 7, 9, 7, 4])
    day = np.array([1, 3, 3, 10, 12, 25, 22])
    amt = np.array([10.0, 2.0, 3.0, 7.0, 4.0, 8.0, 1.0])
    s = clv.rfm(cid, day, amt, calibration_end=14, observation_end=28, unit=1.0)
    assert s["customer_id"].tolist() == [7, 9]
    assert s["frequency"].tolist() == [2, 0]
    assert s["recency"].tolist() == [9, 0]
    assert s["T"].tolist() == [13, 2]
    assert s["monetary_value"].tolist() == [6.0, 0.0]      # mean of the repeats (5, 7)
    assert s["frequency_holdout"].tolist() == [1, 0]
    assert s["monetary_value_holdout"].tolist() == [8.0, 0.0]
    assert s["duration_holdout"].tolist() == [14, 14]


def test_sbg_recovers_fader_hardie_2007():
    for alive, ref in clv.FADER_HARDIE_2007.values():
        fit = clv.fit_sbg(alive)
        assert fit["alpha"] == pytest.approx(ref["alpha"], abs=2e-3)
        assert fit["beta"] == pytest.approx(ref["beta"], abs=2e-3)
    s = clv.sbg_survival(0.704, 1.182, 7)
    assert s[0] == 1 and s[1] == pytest.approx(0.631, abs=5e-3)  # data: 631 of 1,000


needs_lifetimes = pytest.mark.skipif(importlib.util.find_spec("lifetimes") is None,
                                     reason="needs the clv extra: pip install -e '.[clv]'")


@needs_lifetimes
@pytest.mark.filterwarnings("ignore:The 'mode.chained_assignment' option")
def test_rfm_matches_lifetimes_own_summary():
    pd = pytest.importorskip("pandas")
    from lifetimes.utils import summary_data_from_transaction_data

    tx = clv.simulate_bgnbd(800, 200, **clv.CDNOW, spend=clv.CDNOW_GG, seed=3)
    t0 = pd.Timestamp("2000-01-01")
    df = pd.DataFrame({"id": tx["customer_id"], "amt": tx["amount"],
                       "date": t0 + pd.to_timedelta(tx["date"], unit="D")})
    end = t0 + pd.Timedelta(days=120)
    ref = summary_data_from_transaction_data(df[df.date <= end], "id", "date",
                                             monetary_value_col="amt",
                                             observation_period_end=end, freq="D")
    s = clv.rfm(tx["customer_id"], tx["date"], tx["amount"], 120, 200, unit=7.0)
    assert s["customer_id"].tolist() == ref.index.tolist()
    assert np.allclose(s["frequency"], ref["frequency"])
    assert np.allclose(s["recency"] * 7, ref["recency"])
    assert np.allclose(s["T"] * 7, ref["T"])
    assert np.allclose(s["monetary_value"], ref["monetary_value"])


@needs_lifetimes
def test_lifetimes_reproduces_the_published_cdnow_estimates():
    fit = clv.fit_bgnbd(clv.cdnow_summary())
    for k, v in clv.CDNOW.items():
        assert fit.params_[k] == pytest.approx(v, abs=2e-3), k


@needs_lifetimes
def test_bgnbd_round_trip_recovers_the_cdnow_parameters():
    tx = clv.simulate_bgnbd(5000, 78 * 7, **clv.CDNOW, spend=clv.CDNOW_GG, seed=1)
    fit = clv.fit_transactions(tx, calibration_end=39 * 7, observation_end=78 * 7)
    for k, v in clv.CDNOW.items():
        assert fit.bgnbd[k] == pytest.approx(v, rel=0.2), (k, fit.bgnbd)
    for k, v in clv.CDNOW_GG.items():
        assert fit.gamma_gamma[k] == pytest.approx(v, rel=0.35), (k, fit.gamma_gamma)
    assert abs(fit.totals["error"]) < 0.08, fit.totals
    assert fit.totals["spend_predicted"] == pytest.approx(fit.totals["spend_actual"], rel=0.1)


@needs_lifetimes
def test_bgnbd_on_simulated_transactions_gives_finite_parameters_and_a_holdout_table():
    cfg = sim.load_config(["market=fresh_food", "population.n_users=3000", "days=730",
                           "export.transactions=true", "output.progress=false"])
    model = sim.SiyuModel(cfg)
    model.run()
    tx = model.transaction_log()
    fit = clv.fit_transactions(tx, calibration_end=365, observation_end=730)
    for params in (fit.bgnbd, fit.gamma_gamma):
        assert params and all(np.isfinite(v) and v > 0 for v in params.values()), params
    rows = fit.holdout
    assert [r["frequency"] for r in rows][-1] == "7+"
    assert sum(r["customers"] for r in rows) == fit.totals["customers"] == len(fit.summary["T"])
    for r in rows:
        assert r["actual"] >= 0 and np.isfinite(r["predicted"]) and r["predicted"] >= 0
    # more calibration purchases, more predicted holdout purchases
    pred = [r["predicted"] for r in rows]
    assert pred[-1] > pred[0]
    actual = fit.summary["frequency_holdout"].sum()
    assert fit.totals["actual"] == actual > 0
    assert abs(fit.totals["error"]) < 0.5
    assert len(fit.tracking["day"]) == len(fit.tracking["expected"]) == 730 // 7


@pytest.mark.slow
@needs_lifetimes
def test_validation_report_files(tmp_path):
    from sim.data.validation_report import build

    files = build(tmp_path, quick=True)
    names = {f.name for f in files}
    assert names == {"bass.png", "retention.png", "bgnbd_holdout.png", "bgnbd_tracking.png",
                     "validation.json", "validation.md"}
    for f in files:
        assert f.exists() and f.stat().st_size > 0
    md = (tmp_path / "validation.md").read_text()
    for section in ("## 1. Bass diffusion", "## 2. Retention", "## 3. BG/NBD + Gamma-Gamma"):
        assert section in md
    data = json.loads((tmp_path / "validation.json").read_text())
    complete = [r for r in data["bass"] if r["graph"] == "complete"]
    assert all(r["q_fit"] == pytest.approx(r["q"], rel=0.3) for r in complete)
    sparse = [r for r in data["bass"] if r["graph"] != "complete"][0]
    assert sparse["q_fit"] < 0.6 * sparse["q"]
    het = data["retention"]["heterogeneous hazards"]["monthly_retention"]
    assert het[-1] > het[0]
    assert data["clv"]["simulated"]["holdout"]
