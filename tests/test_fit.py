"""A brand's transaction log in, a fitted brand out (sim/fit, docs/fit.md); calendar dates on
exports (sim/data/calendar.py).

The round trip fits a log the simulator wrote with known settings and checks the settings
come back inside their 90% CIs; the CDNOW test fits the sample lifetimes ships (a subset,
few trials: the full fit and its numbers are in docs/fit.md).
"""

from __future__ import annotations

import csv
import importlib.util
import math
import shutil
import warnings
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.data import calendar
from sim.data.io import read_parquet

needs_fit = pytest.mark.skipif(
    importlib.util.find_spec("lifetimes") is None or importlib.util.find_spec("optuna") is None,
    reason="needs the clv and calibrate extras: pip install -e '.[clv,calibrate]'")


# --------------------------------------------------------------------------- calendar


def test_day_index_and_dates_round_trip():
    d = calendar.to_dates(np.array([1, 2, 366]), "2024-01-01")
    assert [str(x) for x in d] == ["2024-01-01", "2024-01-02", "2024-12-31"]   # leap year
    assert calendar.to_days(d, "2024-01-01").tolist() == [1, 2, 366]
    assert str(calendar.to_dates(np.array([1]))[0]) == calendar.DEFAULT_START == "2025-01-01"
    with pytest.raises(ValueError, match="not a date"):
        calendar.start("2025-13-01")


def test_with_dates_puts_a_date_beside_the_day():
    series = calendar.with_dates({"day": np.array([1, 2]), "n": np.array([5, 6])}, "2025-03-01")
    assert list(series) == ["day", "date", "n"]
    assert series["date"].astype("datetime64[D]").astype(str).tolist() == ["2025-03-01", "2025-03-02"]
    tx = calendar.with_dates({"customer_id": np.array([7]), "date": np.array([3], np.int32),
                              "amount": np.array([9.0])}, "2025-03-01")
    assert list(tx) == ["customer_id", "date", "day", "amount"]
    assert tx["day"].tolist() == [3] and str(tx["date"][0].astype("datetime64[D]")) == "2025-03-03"


@needs_fit
@pytest.mark.filterwarnings("ignore::Warning")
def test_exported_transactions_drop_into_lifetimes(tmp_path):
    pd = pytest.importorskip("pandas")
    from lifetimes.utils import summary_data_from_transaction_data

    from sim.data import clv

    cfg = sim.load_config(["market=fresh_food", "population.n_users=2000", "days=120",
                           "export.transactions=true", "calendar.start_date=2024-03-01",
                           "output.figures=false", "output.progress=false"])
    sim.run(cfg, tmp_path, echo=False)
    series = read_parquet(tmp_path / "series.parquet")
    assert str(series["date"][0].astype("datetime64[D]")) == "2024-03-01"
    assert str(series["date"][-1].astype("datetime64[D]")) == "2024-06-28"   # day 120
    df = pd.read_parquet(tmp_path / "transactions.parquet")
    assert pd.api.types.is_datetime64_any_dtype(df["date"])               # pandas: no conversion
    assert ((df["date"] - pd.Timestamp("2024-03-01")).dt.days + 1 == df["day"]).all()
    # lifetimes' own entry point, straight from the export
    s = summary_data_from_transaction_data(df, "customer_id", "date", monetary_value_col="amount",
                                           observation_period_end="2024-06-28")
    ref = clv.rfm(df["customer_id"].to_numpy(), df["day"].to_numpy(), df["amount"].to_numpy(),
                  calibration_end=120, unit=1.0)
    assert s["frequency"].sum() > 0 and s["T"].max() > 100
    assert s.index.tolist() == ref["customer_id"].tolist()
    assert np.allclose(s["frequency"], ref["frequency"]) and np.allclose(s["T"], ref["T"])


# --------------------------------------------------------------------------- ingest


def _write(path: Path, rows: list[list], header=("customer_id", "date", "amount")) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        if header:
            w.writerow(header)
        w.writerows(rows)
    return path


def test_bad_rows_are_refused_with_line_numbers_and_counts(tmp_path):
    from sim.fit import LogError, read_log

    rows = [["a", "2024-01-05", "10"], ["", "2024-01-06", "5"], ["b", "2024-02-30", "3"],
            ["c", "yesterday", "3"], ["d", "2024-01-07", "-4"], ["e", "2024-01-07", "ten"],
            ["f", "2024-01-08", "-1"]]
    with pytest.raises(LogError) as err:
        read_log(_write(tmp_path / "bad.csv", rows))
    msg = str(err.value)
    assert "7 rows read" in msg
    assert "1 rows without a customer id" in msg and "(lines 3)" in msg
    assert "2 rows whose date is not a date" in msg and "(lines 4, 5)" in msg   # Feb 30 too
    assert "2 rows with a negative amount" in msg and "(lines 6, 8)" in msg
    assert "1 rows whose amount is not a number" in msg and "(lines 7)" in msg
    with pytest.raises(LogError, match="no column 'amount'.*'spend'.*--amount-col"):
        read_log(_write(tmp_path / "cols.csv", [["a", "2024-01-01", "1"]],
                        header=("customer_id", "date", "spend")))
    with pytest.raises(LogError, match="different number of fields.*lines 3"):
        read_log(_write(tmp_path / "width.csv", [["a", "2024-01-01", "1"], ["b", "2024-01-01"]]))
    with pytest.raises(LogError, match="unknown file type"):
        read_log(_write(tmp_path / "x.xlsx", []))


def test_the_command_refuses_a_bad_log_and_writes_nothing(tmp_path, capsys):
    from sim.fit.cli import main

    bad = _write(tmp_path / "bad.csv", [["a", "2024-01-05", "10"]] + [["b", "13/45/2024", "1"]] * 9)
    out = tmp_path / "out"
    assert main(["--transactions", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "9 rows whose date is not a date (want YYYY-MM-DD or YYYYMMDD" in err
    assert "lines 3, 4, 5, 6, 7, ..." in err
    assert not out.exists()
    few = _write(tmp_path / "few.csv", [["a", "2024-01-05", "10"], ["a", "2024-01-09", "10"]])
    assert main(["--transactions", str(few), "--out", str(out)]) == 2
    assert "at least 20 are needed" in capsys.readouterr().err and not out.exists()
    ok = _write(tmp_path / "ok.csv", [[f"c{i}", "2024-01-05", "10"] for i in range(30)]
                + [["c1", "2024-02-05", "10"]])
    assert main(["--transactions", str(ok), "--out", str(out), "--calibration-end",
                 "2023-12-31"]) == 2
    assert "outside the log" in capsys.readouterr().err and not out.exists()


def test_member_channel_and_referral_columns_are_used_when_present(tmp_path):
    from sim.fit import read_log
    from sim.fit.core import prepare

    rows = []
    for i in range(40):
        for d in (f"2024-01-0{1 + i % 5}", "2024-03-01"):
            rows.append([f"u{i}", d, 20 + i, "yes" if i % 4 else "no",
                         "wecom" if i % 3 else "store", f"u{i - 1}" if i % 2 else ""])
    path = _write(tmp_path / "log.csv", rows,
                  header=("customer_id", "date", "amount", "member", "channel", "referred_by"))
    log = read_log(path)
    assert log.n_customers == 30                                # 10 non-members left out ...
    assert any("20 of 80 rows are purchases by non-members" in n for n in log.notes)  # ... said so
    spec = prepare(log, market="fresh_food", bootstrap=5)
    assert "channel=wecom" in spec.overrides
    assert any("referred_by column: 66.7% of customers" in n for n in spec.notes)


# --------------------------------------------------------------------------- targets


def test_targets_by_hand():
    from sim.fit import targets as tg

    # a: days 1, 5, 5 (one daily transaction), 11; b: day 2 only; c: day 3, 13; d: first on 30
    c = tg.Customers.build(np.array([0, 0, 0, 0, 1, 2, 2, 3]), np.array([1, 5, 5, 11, 2, 3, 13, 30]),
                           np.array([10.0, 1.0, 1.0, 4.0, 100.0, 5.0, 5.0, 9.0]))
    w = tg.window(c.first, cal_end=20)
    assert (w.first_lo, w.first_hi, w.late_from) == (1, 3, 13)     # last quarter: max(7, 20 // 4)
    m = tg.measures(c, w)
    assert m["customers"] == 3                                      # d bought after the end
    assert m["repeat_rate"] == pytest.approx(2 / 3)
    assert m["repeats_per_customer"] == pytest.approx(1.0)         # a: 2, b: 0, c: 1
    assert m["median_gap_days"] == 6                                # gaps 4, 6, 10
    assert m["gap_days"] == pytest.approx((4 * 6 * 10) ** (1 / 3))  # their geometric mean
    assert m["late_active"] == 0                                    # nobody bought on days 14-20
    assert m["top20_share"] == pytest.approx(0.6 * 100 / 126)      # 20% of 3 = 0.6 of b (100)
    assert m["mean_amount"] == pytest.approx(126 / 6)              # 6 daily transactions
    rep = tg.repeat_by_day(c, w, 31)
    assert rep[[4, 10, 12]].tolist() == [1, 1, 1] and rep.sum() == 3   # d is not in the cohort


def test_cohort_weights_give_the_log_its_size_and_arrival_curve():
    from sim.fit import targets as tg

    rng = np.random.default_rng(0)
    log_first = rng.integers(1, 60, 500)
    w = tg.window(log_first, cal_end=90)
    sim_first = rng.integers(1, 120, 5000)                        # flatter, and past the window
    wt, covered = tg.cohort_weights(sim_first, log_first, w)
    assert covered == 1 and wt.sum() == pytest.approx(500)
    assert wt[sim_first > log_first.max()].sum() == 0
    for lo, hi in ((1, 20), (20, 40), (40, 60)):
        n_log = ((log_first >= lo) & (log_first < hi)).sum()
        assert wt[(sim_first >= lo) & (sim_first < hi)].sum() == pytest.approx(n_log, rel=0.15)


# --------------------------------------------------------------------------- the fit


@pytest.fixture(scope="module")
def known_log(tmp_path_factory):
    """A log the simulator wrote: fresh food with a 20-day need cycle and spend sigma 1.2."""
    out = tmp_path_factory.mktemp("known")
    cfg = sim.load_config(["market=fresh_food", "population.n_users=10000", "days=240", "seed=7",
                           "export.transactions=true", "calendar.start_date=2024-01-01",
                           "market.need_cycle_days=20", "market.spend_sigma=1.2",
                           "output.figures=false", "output.progress=false"])
    sim.run(cfg, out, echo=False)
    return out / "transactions.parquet"


TRUTH = {"market.need_cycle_days": 20.0, "market.spend_sigma": 1.2}


@needs_fit
@pytest.mark.filterwarnings("ignore::Warning")
@pytest.mark.slow
def test_round_trip_recovers_known_settings_within_their_cis(known_log, tmp_path, monkeypatch):
    from sim.calibration.report import install_presets
    from sim.fit.cli import main
    from sim.paths import CONF_DIR

    out = tmp_path / "fit"
    argv = ["--transactions", str(known_log), "--out", str(out), "--calibration-end", "2024-06-30",
            "--market", "fresh_food", "--name", "known_brand", "--trials", "12",
            "--param", "market.need_cycle_days=8:60:log", "--param", "market.spend_sigma=0.2:2.5",
            "--bootstrap", "40", "-q"]
    assert main([*argv, "--check-seeds", "101", "102", "103"]) == 0
    import json

    res = json.loads((out / "fit.json").read_text())
    for key, truth in TRUTH.items():
        p = res["params"][key]
        lo, hi = p["ci90"]
        assert lo <= truth <= hi, (key, p)
        assert hi - lo < 0.25 * truth, (key, p)                     # and the CI is informative
        assert p["fitted"] == pytest.approx(truth, rel=0.06)
    # the fitted brand reproduces its targets and forecasts the holdout
    for t in res["targets"]:
        assert abs(t["z"]) < 4, t
    assert abs(res["errors"]["sim_holdout"]["error"]) < 0.08
    rows = list(csv.DictReader((out / "forecast.csv").open()))
    assert len(rows) == 240 and rows[0]["date"] == "2024-01-01" and rows[-1]["date"] == "2024-08-27"
    assert {"date", "repeat_transactions", "lo", "hi", "actual"} <= set(rows[0])
    assert all(float(r["lo"]) <= float(r["repeat_transactions"]) <= float(r["hi"]) for r in rows)
    log = read_parquet(known_log)
    first = {}
    for c, d in sorted(zip(log["customer_id"].tolist(), log["day"].tolist(), strict=True)):
        first.setdefault(c, d)
    daily = {}
    for c, d in set(zip(log["customer_id"].tolist(), log["day"].tolist(), strict=True)):
        if d > first[c] and first[c] <= 182:
            daily[d] = daily.get(d, 0) + 1
    assert [float(r["actual"]) for r in rows[:200]] == [daily.get(i, 0) for i in range(1, 201)]
    # resumable: the same command adds no trial
    n_trials = res["trials"]
    assert main([*argv, "--check-seeds", "101"]) == 0               # check seeds: not in the study
    res = json.loads((out / "fit.json").read_text())
    assert res["trials"] == n_trials
    # the preset runs as market=known_brand, with any strategy or study
    conf = tmp_path / "conf"
    shutil.copytree(CONF_DIR, conf)
    install_presets(out, conf)
    monkeypatch.setattr("sim.paths.CONF_DIR", conf)
    cfg = sim.load_config(["market=known_brand", "strategy=promotion_heavy"])
    assert cfg.market.need_cycle_days == res["params"]["market.need_cycle_days"]["fitted"]
    assert cfg.market.price == pytest.approx(res["price"], rel=1e-3)
    assert cfg.calendar.start_date == "2024-01-01"
    assert sim.load_config(["market=known_brand", "experiment=membership"]).market.name == "known_brand"


def _cdnow_subset(tmp_path: Path, n_customers: int) -> Path:
    """The first ``n_customers`` of the CDNOW sample lifetimes ships (Fader, Hardie & Lee 2005)."""
    src = files("lifetimes") / "datasets" / "CDNOW_sample.txt"
    keep, rows = set(), []
    for line in src.read_text().splitlines():
        cid, _, date, _, value = line.split()
        if len(keep) < n_customers:
            keep.add(cid)
        if cid in keep:
            rows.append([cid, date, value])
    return _write(tmp_path / "cdnow_subset.csv", rows)


@needs_fit
@pytest.mark.filterwarnings("ignore::Warning")
@pytest.mark.slow
def test_cdnow_subset_fits_with_a_holdout_forecast_beside_bgnbd(tmp_path):
    from sim.fit.cli import main

    log = _cdnow_subset(tmp_path, 600)
    out = tmp_path / "cdnow"
    assert main(["--transactions", str(log), "--out", str(out), "--calibration-end", "1997-09-30",
                 "--trials", "4", "--refine", "1", "--seeds", "1", "--check-seeds", "101", "102",
                 "--param", "market.need_cycle_days=20:400:log", "--bootstrap", "20", "-q"]) == 0
    import json

    res = json.loads((out / "fit.json").read_text())
    assert res["customers"] == 600 and res["first_date"] == "1997-01-01"
    assert res["last_date"] == "1998-06-30"
    assert res["bgnbd_log"]["r"] > 0 and res["bgnbd_log"]["alpha"] > 0
    hold = res["errors"]["sim_holdout"]
    assert hold["days"] == 273 and hold["actual"] > 0 and math.isfinite(hold["error"])
    assert math.isfinite(res["errors"]["bgnbd_holdout"]["error"])
    assert abs(res["errors"]["bgnbd_holdout"]["error"]) < 0.3
    rows = list(csv.DictReader((out / "forecast.csv").open()))
    assert len(rows) == 546                                          # 1997-01-01 .. 1998-06-30
    assert sum(float(r["actual"]) for r in rows[273:]) == hold["actual"]
    md = (out / "fit.md").read_text()
    assert "| holdout | 273 |" in md and "BG/NBD" in md
    for f in ("forecast.png", "targets.png", "retention.png", "convergence.png",
              "preset/market/cdnow_subset.yaml", "preset/calibrated/cdnow_subset.yaml"):
        assert (out / f).is_file(), f
    warnings.simplefilter("default")
