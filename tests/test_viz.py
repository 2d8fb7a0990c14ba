"""The dashboard's pieces without a browser: the paired model, the figures, the asset list."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.dashboard import assets, network, plots
from sim.dashboard.model import LEVERS, NONE, DashboardModel, available_levers, presets

ROOT = Path(sim.__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n"


def test_presets_are_the_conf_folders():
    for group in ("market", "strategy"):
        assert presets(group) == tuple(sorted(p.stem for p in (ROOT / "conf" / group).glob("*.yaml")))
    assert "edge_list" not in presets("graph")  # needs a file: not offered


def test_parameters_are_keyword_only_with_defaults():
    params = inspect.signature(DashboardModel.__init__).parameters
    for name, p in params.items():
        if name != "self":
            assert p.kind is p.KEYWORD_ONLY and p.default is not p.empty, name
    assert set(LEVERS) <= set(params)


def test_two_strategies_share_the_seed_and_step_together():
    strategies = presets("strategy")
    dash = DashboardModel(strategy=strategies[0], compare=strategies[1], n_users=500, days=5)
    a, b = dash.scenarios.values()
    assert dash.labels == [f"A: {strategies[0]}", f"B: {strategies[1]}"]
    # common random numbers: one population, one graph
    assert np.array_equal(a.users.state, b.users.state)
    assert np.array_equal(a.users.segment, b.users.segment)
    assert np.array_equal(a.graph.indices, b.graph.indices)
    while dash.running:
        dash.step()
    assert dash.day == a.day == b.day == 5
    assert len(a.series()["n_members"]) == len(b.series()["n_members"]) == 5


def test_levers_move_scenario_a_only_when_applied():
    name, lever = next(iter(available_levers().items()))
    preset = DashboardModel(n_users=300, compare=NONE)
    base = preset.lever_values[name]
    new = lever.hi if base != lever.hi else lever.lo
    moved = DashboardModel(n_users=300, **{name: new})
    assert moved.lever_changes == {name: (base, new)} and moved.labels[0].endswith("+ levers")
    ignored = DashboardModel(n_users=300, apply_levers=False, **{name: new})
    assert ignored.lever_changes == {} and ignored.lever_values[name] == base


def test_table_and_figures_render():
    strategies = presets("strategy")
    dash = DashboardModel(compare=strategies[-1], n_users=400, days=30)
    caption, header, rows = plots.kpi_table(dash)
    assert header[-1] == "B - A" and all(r[1] == "n/a" for r in rows)  # nothing run yet
    for _ in range(10):
        dash.step()
    caption, header, rows = plots.kpi_table(dash)
    assert caption[0].startswith("Day 10 of 30")
    members = next(r for r in rows if r[0] == "Members")
    assert members[1] != "n/a" and members[2] != "n/a"
    for name in plots.KPI_PLOTS:
        assert plots.kpi_png(dash.scenarios, name).startswith(PNG)
    assert network.drawable(dash.scenarios[dash.labels[0]]) is None
    assert network.network_png(dash.scenarios, dash.day).startswith(PNG)
    assert "<table" in plots.kpi_table_html(dash)


def test_network_view_only_for_small_sparse_graphs():
    big = DashboardModel(n_users=network.MAX_NODES + 1)
    assert "at most" in network.drawable(big.scenarios[big.labels[0]])
    complete = DashboardModel(n_users=200, graph="complete")
    assert "complete" in network.drawable(complete.scenarios[complete.labels[0]])


def test_layout_is_cached_per_graph():
    dash = DashboardModel(n_users=300)
    g = dash.scenarios[dash.labels[0]].graph
    pos = network.layout(g.indptr, g.indices)
    assert pos.shape == (300, 2) and np.isfinite(pos).all()
    assert network.layout(g.indptr, g.indices) is pos


def test_asset_list_names_exact_versions(tmp_path):
    specs = assets.required()
    assert len(specs) == 4
    for spec in specs:
        name, version = spec.rsplit("@", 1)
        assert name and version[0].isdigit(), spec
    assert assets.missing(tmp_path) == specs
    for spec in specs:
        (tmp_path / spec).mkdir(parents=True)
        (tmp_path / spec / "package.json").write_text("{}")
    assert assets.missing(tmp_path) == []


def test_importing_the_app_builds_no_model(monkeypatch):
    pytest.importorskip("solara", reason="the dashboard needs the viz extra (pip install -e '.[viz]')")
    built = []
    monkeypatch.setattr(sim.SiyuModel, "__init__",
                        lambda self, *a, **k: built.append(1) or None)
    app = importlib.reload(importlib.import_module("sim.dashboard.app"))
    assert built == []
    assert callable(app.Page) and callable(app.main)
