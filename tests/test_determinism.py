"""Determinism and common random numbers (CRN).

Same config + seed gives bit-identical results; strategies compared on one seed share the
population, the graph and every draw that does not depend on the strategy (sim/core/rng.py)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.core.columns import PROSPECT
from sim.core.model import SiyuModel
from sim.core.population import build_population
from sim.core.rng import Streams
from sim.run import run

REPO = Path(__file__).resolve().parents[1]
SMALL = ["population.n_users=2000", "days=120", "output.progress=false"]
# traits drawn once per seed, before any strategy acts
TRAITS = ("segment", "spend", "need_scale", "deal_prone", "sociability", "store", "owned_before")


def cfg_of(*overrides: str):
    return sim.load_config(list(overrides))


def run_model(*overrides: str) -> SiyuModel:
    model = SiyuModel(cfg_of(*overrides))
    model.run()
    return model


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal dtype, shape and bytes (NaN == NaN, -0.0 != 0.0): bit-for-bit identity."""
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def differing(cols_a: dict, cols_b: dict, names) -> list[str]:
    return [n for n in names if not same_bits(np.asarray(cols_a[n]), np.asarray(cols_b[n]))]


def user_columns(model: SiyuModel) -> dict[str, np.ndarray]:
    return {n: getattr(model.users, n) for n in model.users.names()}


def jsonable(x):
    """The summary as summary.json stores it (NaN -> None, tuples -> lists)."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, (float, np.floating)) and not math.isfinite(x):
        return None
    if isinstance(x, np.generic):
        return x.item()
    return x


# ------------------------------------------------------------------ same seed, same result


def test_same_config_and_seed_give_bit_identical_series_and_summary():
    a = run_model(*SMALL, "seed=3")
    b = run_model(*SMALL, "seed=3")
    sa, sb = a.series(), b.series()
    assert list(sa) == list(sb)
    assert len(sa["day"]) == 120
    assert differing(sa, sb, sa) == []
    assert differing(user_columns(a), user_columns(b), a.users.names()) == []
    assert jsonable(a.summary()) == jsonable(b.summary())


def test_a_different_seed_gives_a_different_run():
    a = run_model(*SMALL, "seed=3")
    b = run_model(*SMALL, "seed=4")
    sa, sb = a.series(), b.series()
    assert not same_bits(sa["n_members"], sb["n_members"])
    assert not same_bits(sa["cum_revenue"], sb["cum_revenue"])
    assert not same_bits(a.users.spend, b.users.spend)
    assert not same_bits(a.graph.indices, b.graph.indices)


# ------------------------------------------------------------------ common random numbers


def test_two_strategies_on_one_seed_share_population_and_graph():
    promo = SiyuModel(cfg_of("strategy=promotion_heavy", "population.n_users=3000", "seed=7"))
    service = SiyuModel(cfg_of("strategy=service_led", "population.n_users=3000", "seed=7"))
    assert promo.config.strategy != service.config.strategy
    cp, cs = user_columns(promo), user_columns(service)
    assert differing(cp, cs, TRAITS) == []
    assert len(np.unique(cp["segment"])) == 4  # a real population, not a degenerate one
    assert promo.members_start == service.members_start
    assert same_bits(promo.graph.indptr, service.graph.indptr)
    assert same_bits(promo.graph.indices, service.graph.indices)


def test_population_traits_of_user_i_do_not_depend_on_n_users():
    """sim/core/population.py: 'user i's traits do not depend on n_users' (store excepted: the
    number of stores scales with the population)."""
    small = build_population(cfg_of("population.n_users=1000", "seed=9"), Streams(9))
    large = build_population(cfg_of("population.n_users=3000", "seed=9"), Streams(9))
    for name in ("segment", "spend", "need_scale", "deal_prone", "sociability", "satisfaction",
                 "owned_before", "state"):
        assert same_bits(getattr(small, name), getattr(large, name)[:1000]), name


@pytest.mark.parametrize("draw", ["uniform", "exponential", "normal"])
def test_draws_are_indexed_by_user_id(draw):
    n = 5000
    ids = np.arange(n, dtype=np.int64)
    full = getattr(Streams(42)["x"], draw)(ids, 3)
    rng = np.random.default_rng(0)
    subset = np.sort(rng.choice(n, size=300, replace=False))
    # a subset, in a fresh registry, gives the same ids the same values
    assert same_bits(getattr(Streams(42)["x"], draw)(subset, 3), full[subset])
    # order of the ids does not matter
    shuffled = rng.permutation(subset)
    assert same_bits(getattr(Streams(42)["x"], draw)(shuffled, 3), full[shuffled])
    # a per-id counter array: each id gets its own counter's value
    counters = rng.integers(0, 50, size=subset.size).astype(np.int32)
    per_id = getattr(Streams(42)["x"], draw)(subset, counters)
    for c in np.unique(counters)[:5]:
        sel = counters == c
        assert same_bits(per_id[sel], getattr(Streams(42)["x"], draw)(subset[sel], int(c)))


def test_streams_differ_by_seed_name_and_counter_and_are_uniform():
    ids = np.arange(20_000)
    u = Streams(42)["x"].uniform(ids, 3)
    assert u.dtype == np.float64 and u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.var() - 1 / 12) < 0.005
    assert not np.array_equal(u, Streams(43)["x"].uniform(ids, 3))
    assert not np.array_equal(u, Streams(42)["y"].uniform(ids, 3))
    assert not np.array_equal(u, Streams(42)["x"].uniform(ids, 4))
    # neighbouring ids and counters are not correlated
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.03
    assert abs(np.corrcoef(u, Streams(42)["x"].uniform(ids, 4))[0, 1]) < 0.03


def test_lifelong_prospects_have_the_same_need_clock_under_both_strategies():
    """A prospect's purchase draws depend on its id and purchase count only, so users who
    stay prospects all run long have the same need-clock history under any strategy."""
    common = ["population.n_users=3000", "days=200", "seed=7"]
    promo = run_model("strategy=promotion_heavy", *common)
    service = run_model("strategy=service_led", *common)
    assert not same_bits(promo.series()["n_members"], service.series()["n_members"])
    both = (promo.users.state == PROSPECT) & (service.users.state == PROSPECT)
    assert both.sum() > 2000
    cp, cs = user_columns(promo), user_columns(service)
    clock = [n for n in cp if n.startswith("need_")]  # need_k and the clock's day columns
    assert "need_k" in clock and len(clock) >= 2, clock
    assert differing({n: cp[n][both] for n in clock}, {n: cs[n][both] for n in clock}, clock) == []
    assert cp["need_k"][both].sum() > 50, "too few purchases for the comparison to mean anything"


def test_a_money_only_parameter_changes_cost_and_nothing_else():
    base = run_model(*SMALL, "seed=5")
    dear = run_model(*SMALL, "seed=5", "strategy.cost.per_member_month=7.5")
    assert differing(user_columns(base), user_columns(dear), base.users.names()) == []
    sb, sd = base.series(), dear.series()
    money = {c for c in sb if "cost" in c}
    assert money, "expected cost columns in the series"
    assert differing(sb, sd, [c for c in sb if c not in money]) == []
    assert sd["cum_cost"][-1] > sb["cum_cost"][-1]
    kb, kd = base.summary(), dear.summary()
    assert kd["cost"] > kb["cost"] and kd["revenue"] == kb["revenue"]
    assert kd["purchases"] == kb["purchases"] and kd["members_end"] == kb["members_end"]


# ------------------------------------------------------------------ CLI == in-process


def test_a_fresh_subprocess_gives_the_in_process_summary(tmp_path):
    overrides = ["strategy=promotion_heavy", "population.n_users=1500", "days=90", "seed=13",
                 "output.progress=false", "output.figures=false"]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.run([sys.executable, "-m", "sim", *overrides,
                           f"hydra.run.dir={tmp_path / 'cli'}"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    cli = json.loads((tmp_path / "cli" / "summary.json").read_text())
    here = jsonable(run(sim.load_config(overrides), tmp_path / "here", echo=None).summary)
    for s in (cli, here):
        del s["timing"], s["code_version"]
    assert cli.keys() == here.keys()
    assert {k: v for k, v in cli.items() if cli[k] != here[k]} == {}
