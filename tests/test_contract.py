"""The mechanism contract (sim/core/mechanisms/base.py) and Mesa's promises, as a user checks them."""

from __future__ import annotations

import re
from pathlib import Path

import mesa
import numpy as np
import pytest

import sim
from sim.core.columns import SOURCE_ADOPTION
from sim.core.describe import mechanisms_markdown
from sim.core.loop import PHASES
from sim.core.mechanisms.base import Mechanism, Result, UndeclaredRead
from sim.core.metrics import RESULTS, SERIES

ROOT = Path(__file__).resolve().parent.parent

# every lever on at once, so every mechanism reaches every branch that reads the config
EVERYTHING = ["strategy=koc_program", "strategy.membership.enabled=true",
              "strategy.membership.vip=true", "strategy.events.per_week=1",
              "strategy.focus_super_users=0.5", "strategy.referral.reward=50",
              "strategy.koc_program.selection=reach", "channel=wecom_then_personal",
              "population.n_users=3000", "days=90", "market=car"]


def test_docs_table_of_mechanisms_is_generated_and_current():
    text = (ROOT / "docs" / "mechanisms.md").read_text()
    assert text == mechanisms_markdown(), "docs/mechanisms.md is stale: run python scripts/gen_docs.py"
    for cls in PHASES:
        assert f"## `{cls.name}`" in text
        for key in cls.reads:
            assert f"`{key}`" in text


@pytest.mark.parametrize("overrides", [EVERYTHING, ["experiment=bass_validation",
                                                    "population.n_users=500", "days=30"]],
                         ids=["every_lever", "bass"])
def test_every_mechanism_runs_reading_only_declared_keys(overrides):
    m = sim.SiyuModel(sim.load_config(overrides))
    m.run()  # an undeclared read raises UndeclaredRead
    assert m.steps == m.config.days


def test_an_undeclared_read_fails_with_the_key_and_the_fix():
    class Sloppy(Mechanism):
        name = "sloppy"
        reads = ("strategy.promotion",)

        def step(self, day):
            return self.cfg.strategy.service.resolve_prob

    m = sim.SiyuModel(sim.load_config(["population.n_users=200", "days=5"]))
    mech = Sloppy(m)
    assert mech.cfg.strategy.promotion.depth == m.config.strategy.promotion.depth
    with pytest.raises(UndeclaredRead, match=r"'sloppy' reads config key "
                                             r"'strategy.service' .*add it to sloppy.reads"):
        mech.step(1)
    with pytest.raises(AttributeError):
        mech.cfg.days = 3  # the config is read-only inside the model


def test_today_has_exactly_the_declared_results():
    m = sim.SiyuModel(sim.load_config(["population.n_users=200", "days=5"]))
    declared = {r.name for r in RESULTS}
    assert set(m.today.__slots__) == declared
    m.today.new_trials += 1
    with pytest.raises(AttributeError):
        m.today.new_trial = 1  # a typo is refused, not silently kept
    assert SERIES == tuple(r.name for r in RESULTS if r.kind != "signal")
    m.run()
    assert tuple(m.series()) == SERIES


def test_results_and_columns_are_declared_once():
    names = [r.name for r in RESULTS]
    assert len(names) == len(set(names))
    cols = [c.name for cls in PHASES for c in cls.columns]
    assert len(cols) == len(set(cols))
    with pytest.raises(ValueError, match="kind"):
        Result("x", "users", "doc", "flowish")


def test_columns_of_a_switched_off_writer_keep_their_neutral_fill():
    m = sim.SiyuModel(sim.load_config(["population.n_users=500", "days=20",
                                       "mechanisms.groups=false", "groups.neutral_activity=0.3"]))
    m.run()
    everyone = np.arange(m.users.n)
    assert np.all(m.group_activity(everyone) == np.float32(0.3))
    assert m.user(7).group_activity == pytest.approx(0.3)
    assert np.all(m.users.group == -1)


def test_run_totals_in_the_summary_come_from_the_declared_results():
    m = sim.SiyuModel(sim.load_config(["population.n_users=2000", "days=60"]))
    m.run()
    s, series = m.summary(), m.series()
    for r in RESULTS:
        if r.total:
            assert s[r.total] == pytest.approx(series[r.name].sum()), r.name


def test_no_mechanism_looks_up_another():
    for path in (ROOT / "sim" / "core" / "mechanisms").glob("*.py"):
        text = path.read_text()
        assert not re.search(r"model\.mechanisms?\b", text), \
            f"{path.name} looks a sibling mechanism up; share a column or a function instead"
        assert "getattr(mech" not in text


def test_every_way_in_goes_through_join_and_lands_in_the_landing_channel():
    m = sim.SiyuModel(sim.load_config(["experiment=bass_validation", "channel=wecom",
                                       "population.n_users=400", "days=40"]))
    m.run()
    adopters = m.users.source == SOURCE_ADOPTION
    assert adopters.sum() > 0
    assert np.all(m.users.channel[adopters] == 1), "adopters land on WeCom, the landing channel"
    assert np.all(m.users.join_day[adopters] >= 1)


def test_run_model_stops_at_days_and_steps_is_the_day():
    m = sim.SiyuModel(sim.load_config(["population.n_users=300", "days=10"]))
    m.run_model()
    assert m.steps == 10 and m.day == 10 and not m.running
    assert len(m.series()["day"]) == 10 and m.series()["day"][-1] == 10


def test_handles_do_not_accumulate_in_model_agents():
    m = sim.SiyuModel(sim.load_config(["population.n_users=1000", "days=30"]))
    m.run()
    before = len(m.agents)
    for i in range(1000):
        assert isinstance(m.user(i), mesa.Agent)
    gid = int(m.users.group[m.members()][0])
    m.group(gid)
    assert len(m.agents) == before


def test_model_rng_refuses_and_names_the_streams_to_use():
    m = sim.SiyuModel(sim.load_config(["population.n_users=100", "days=5"]))
    with pytest.raises(AttributeError, match=r"model\.streams\["):
        m.rng.random()
    with pytest.raises(AttributeError, match="common-random-number"):
        m.random.random()


def test_the_brand_books_its_accounts_in_the_step():
    m = sim.SiyuModel(sim.load_config(["population.n_users=2000", "days=60"]))
    m.run()
    assert m.brand.revenue == m.series()["cum_revenue"][-1]
    assert m.brand.cost == m.series()["cum_cost"][-1]
