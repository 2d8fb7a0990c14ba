"""Calibration (sim/calibration, `python -m sim.calibration`): a tiny problem with a known
answer converges toward it and resumes from its SQLite study; the calibrated presets load."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys

import pytest
from omegaconf import OmegaConf

import sim
from sim.config import ConfigError, validate
from sim.paths import CONF_DIR

pytest.importorskip("optuna")

from sim.calibration import (  # noqa: E402
    PROBLEMS,
    Arm,
    CalibrationError,
    Evaluator,
    Param,
    Problem,
    Target,
    calibrate,
    hydra_overrides,
    install_presets,
    open_study,
    set_values,
)

CHURN = "channels.personal_wechat.monthly_churn"
SIZE = {"n_users": 2000, "days": 180}


def test_set_values_gives_the_config_hydra_overrides_give():
    base = ["market=car", "strategy=koc_program", "population.n_users=1000", "days=30"]
    values = {"strategy.referral.per_year": 0.7, "groups.referral_lift": 1.5,
              "market.funnel.trial_prob": 0.3, "strategy.events.capacity": 60.4, CHURN: 0.08}
    fast = set_values(sim.load_config(base), values)
    assert fast.strategy.events.capacity == 60 and isinstance(fast.strategy.events.capacity, int)
    values["strategy.events.capacity"] = 60
    assert fast == sim.load_config(base + hydra_overrides(values))


def test_set_values_checks_ranges_and_keys():
    cfg = sim.load_config(["population.n_users=100"])
    with pytest.raises(ConfigError, match="market.brand_share"):
        set_values(cfg, {"market.brand_share": 1.5})
    with pytest.raises(CalibrationError, match="unknown key"):
        set_values(cfg, {"market.nope": 1.0})


def test_a_malformed_problem_is_refused_with_one_line():
    arm = (Arm("a", ()),)
    tgt = (Target("t", "a", "monthly_churn_rate", 0.05, 0.01),)
    with pytest.raises(ConfigError, match="market.nope: unknown key"):
        Problem("x", "phone", "x", (Param("market.nope", 0, 1),), arm, tgt)
    with pytest.raises(CalibrationError, match="names arm 'b'"):
        Problem("x", "phone", "x", (Param(CHURN, 0.01, 0.1),), arm,
                (Target("t", "b", "monthly_churn_rate", 0.05, 0.01),))
    with pytest.raises(CalibrationError, match="low < high"):
        Problem("x", "phone", "x", (Param(CHURN, 0.1, 0.1),), arm, tgt)
    with pytest.raises(CalibrationError, match="tolerance"):
        Problem("x", "phone", "x", (Param(CHURN, 0.01, 0.1),), arm,
                (Target("t", "a", "monthly_churn_rate", 0.05, 0.0),))


def test_shipped_problems_are_well_formed():
    assert set(PROBLEMS) == {"phone", "car", "fresh_food", "restaurant"}
    for p in PROBLEMS.values():
        assert 2 <= len(p.params) <= 4 and p.targets and len(p.seeds) >= 2
        ev = Evaluator(p.replace(n_users=200, days=10))
        start = ev.start_values()
        for prm in p.params:  # the hand-set preset is inside the search box
            assert prm.low <= start[prm.key] <= prm.high, (p.name, prm.key)
        for arm in p.arms:
            ev.base(arm.name, p.seeds[0])  # every arm composes
        assert p.fingerprint() == p.replace(trials=p.trials + 5).fingerprint()
        assert p.fingerprint() != p.replace(seeds=(7, 8)).fingerprint()


def test_a_problem_reads_from_yaml(tmp_path):
    spec = tmp_path / "p.yaml"
    spec.write_text(
        "name: mine\nmarket: phone\ntitle: t\nseeds: [3]\nparams:\n"
        f"  - {{key: {CHURN}, low: 0.02, high: 0.2}}\n"
        "arms:\n  - {name: a, overrides: [strategy=service_led]}\n"
        "targets:\n  - {name: churn, arm: a, measure: monthly_churn_rate, value: 0.07, "
        "tolerance: 0.01}\n")
    p = Problem.from_yaml(spec)
    assert p.seeds == (3,) and p.params[0].key == CHURN and p.arms[0].overrides == ("strategy=service_led",)


def _tiny(target: float) -> Problem:
    return Problem(
        name="tiny", market="phone", title="tiny: one parameter, a target it can reach",
        params=(Param(CHURN, 0.02, 0.2),),
        arms=(Arm("base", ("strategy=service_led",)),),
        targets=(Target("churn", "base", "monthly_churn_rate", target, 0.002),),
        seeds=(1,), check_seeds=(), trials=3, **SIZE)


@pytest.fixture(scope="module")
def known_target():
    """The churn the tiny problem measures at CHURN = 0.15: a target with a known answer."""
    p = _tiny(0.05)
    return float(Evaluator(p).run({CHURN: 0.15}, p.seeds)["churn"][0])


def test_calibration_converges_toward_a_known_target_and_resumes(tmp_path, known_target):
    problem = _tiny(known_target)
    out = tmp_path / "study"
    first = calibrate(problem, out, trials=3, echo=None)
    assert (out / "study.sqlite3").exists()
    study = open_study(problem, out)
    assert len(study.trials) == 3
    params3 = [t.params[CHURN] for t in study.trials]
    assert params3[0] == pytest.approx(0.055)  # trial 0 is the hand-set preset
    second = calibrate(problem, out, trials=6, echo=None)
    study = open_study(problem, out)
    assert len(study.trials) == 6, "resumed: 3 more trials in the same study"
    assert [t.params[CHURN] for t in study.trials[:3]] == params3
    assert [r["trial"] for r in second.history] == list(range(6))
    # toward the answer: better than the start, and never worse after resuming
    start_obj = second.history[0]["objective"]
    best3 = min(r["objective"] for r in first.history)
    best6 = min(r["objective"] for r in second.history)
    assert best6 <= best3 <= start_obj and best6 < start_obj
    assert abs(second.best[CHURN] - 0.15) < abs(0.055 - 0.15)
    assert abs(second.best[CHURN] - 0.15) < 0.03
    # outputs
    for name in ("calibration.md", "calibration.json", "convergence.png", "targets.png",
                 "preset/market/tiny_calibrated.yaml", "preset/calibrated/tiny.yaml"):
        assert (out / name).exists(), name
    data = json.loads((out / "calibration.json").read_text())
    assert data["calibrated"] == second.best and data["complete_trials"] == 6


def test_a_study_of_another_problem_is_refused(tmp_path, known_target):
    problem = _tiny(known_target)
    calibrate(problem, tmp_path, trials=1, echo=None)
    other = problem.replace(params=(Param(CHURN, 0.02, 0.3),))
    with pytest.raises(CalibrationError, match="different problem"):
        calibrate(other, tmp_path, trials=2, echo=None)


def test_the_calibrated_preset_loads_with_load_config_and_validates(tmp_path, known_target,
                                                                    monkeypatch):
    problem = _tiny(known_target).replace(
        params=(Param(CHURN, 0.02, 0.2), Param("market.spend_sigma", 0.5, 1.5)),
        targets=(*_tiny(known_target).targets,
                 Target("top20", "base", "top20_revenue_share", 0.6, 0.05)))
    result = calibrate(problem, tmp_path / "run", trials=2, echo=None)
    conf = tmp_path / "conf"
    shutil.copytree(CONF_DIR, conf)
    installed = install_presets(tmp_path / "run", conf)
    assert {p.relative_to(conf).as_posix() for p in installed} == {
        "market/tiny_calibrated.yaml", "calibrated/tiny.yaml"}
    monkeypatch.setattr("sim.paths.CONF_DIR", conf)
    cfg = sim.load_config(["market=tiny_calibrated", "strategy=service_led"])
    validate(cfg)
    assert cfg.market.name == "tiny_calibrated"
    assert cfg.market.spend_sigma == result.best["market.spend_sigma"]
    assert cfg.channels.personal_wechat.monthly_churn == result.best[CHURN]
    assert cfg.market.price == sim.load_config(["market=phone"]).market.price  # built on phone


def _leaves(d, prefix=""):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from _leaves(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", v


def _get(cfg, key):
    for part in key.split("."):
        cfg = getattr(cfg, part)
    return cfg


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_shipped_calibrated_presets_load_and_keep_their_values_in_every_arm(name):
    p = PROBLEMS[name]
    market = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "market" / f"{name}_calibrated.yaml"))
    assert market["defaults"][0] == p.market and market["name"] == f"{name}_calibrated"
    fitted = {f"market.{k}": v for k, v in _leaves(market) if k not in ("defaults", "name")}
    glob = CONF_DIR / "calibrated" / f"{name}.yaml"
    if glob.exists():
        fitted.update(dict(_leaves(OmegaConf.to_container(OmegaConf.load(glob)))))
    assert set(fitted) == {prm.key for prm in p.params}
    for prm in p.params:
        assert prm.low <= fitted[prm.key] <= prm.high
    for arm in p.arms:  # no strategy, dealer or channel preset of an arm overrides a fitted value
        cfg = sim.load_config([f"market={name}_calibrated", *arm.overrides])
        for key, value in fitted.items():
            assert _get(cfg, key) == value, (name, arm.name, key)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_shipped_calibrated_presets_still_land_near_their_targets(name):
    """One fresh seed at the calibration's size: each target within 3 tolerances (a model
    change that moves a calibrated figure further than that needs a new calibration)."""
    p = PROBLEMS[name]
    ev = Evaluator(p.replace(market=f"{name}_calibrated"))
    got = ev.run({}, (p.check_seeds[0],))
    for t in p.targets:
        v = float(got[t.name][0])
        assert math.isfinite(v) and abs(v - t.value) <= 3 * t.tolerance, (name, t.name, v, t.value)


def test_cli_runs_a_spec_and_refuses_bad_input(tmp_path):
    spec = tmp_path / "p.yaml"
    spec.write_text(
        "name: cli\nmarket: phone\ntitle: t\nn_users: 1000\ndays: 60\nseeds: [1]\n"
        f"params:\n  - {{key: {CHURN}, low: 0.02, high: 0.2}}\n"
        "arms:\n  - {name: a}\n"
        "targets:\n  - {name: churn, arm: a, measure: monthly_churn_rate, value: 0.07, "
        "tolerance: 0.01}\n")
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "sim.calibration", "--spec", str(spec), "--out",
                        str(out), "--trials", "2", "--check-seeds", "5", "-q"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "best (trial" in r.stdout
    assert (out / "calibration.md").read_text().count("| churn |") == 2
    spec.write_text(spec.read_text().replace("arm: a,", "arm: zz,"))
    r = subprocess.run([sys.executable, "-m", "sim.calibration", "--spec", str(spec), "--out",
                        str(tmp_path / "bad")], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "names arm 'zz'" in r.stderr
