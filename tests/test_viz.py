"""The dashboard's pieces without a browser: the paired multi-seed model, the levers and their
metadata, the KPI table's paired intervals, the figures, the downloads, the texts and the
asset list."""

from __future__ import annotations

import csv
import importlib
import inspect
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.dashboard import assets, export, network, plots
from sim.dashboard.model import (
    LEVERS,
    NONE,
    DashboardModel,
    available_levers,
    parameter_metadata,
    presets,
)
from sim.i18n import LANGS, TEXT, tr

ROOT = Path(sim.__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n"
SMALL = {"n_users": 2000, "n_seeds": 3, "days": 40}


@pytest.fixture(scope="module")
def compared():
    """promotion_heavy (baseline) vs service_led with a lever moved, 3 seeds, 20 days run."""
    dash = DashboardModel(strategy="promotion_heavy", compare="service_led", apply_levers=True,
                          content_per_week=6.0, **SMALL)
    for _ in range(20):
        dash.step()
    return dash


def test_presets_are_the_conf_folders():
    for group in ("market", "strategy", "dealer", "channel"):
        assert presets(group) == tuple(sorted(p.stem for p in (ROOT / "conf" / group).glob("*.yaml")))
    assert "edge_list" not in presets("graph")  # needs a file: not offered


def test_parameters_are_keyword_only_with_defaults():
    params = inspect.signature(DashboardModel.__init__).parameters
    for name, p in params.items():
        if name != "self":
            assert p.kind is p.KEYWORD_ONLY and p.default is not p.empty, name
    assert set(LEVERS) <= set(params)
    assert params["n_users"].default >= 20_000, "a default large enough for smooth curves"
    assert params["n_seeds"].default >= 3, "the comparison runs several seeds"


def test_every_lever_has_its_range_unit_and_source_from_the_parameter_metadata():
    meta = parameter_metadata()
    levers = available_levers()
    assert len(levers) >= 6
    for name, lever in levers.items():
        row = meta[lever.key(sim.load_config([]))]
        assert row["unit"], f"{name}: the parameter declares no unit"
        assert lever.lo == row["lo"] and lever.hi <= row["hi"], name
        assert lever.lo < lever.hi and 0 < lever.step <= lever.hi - lever.lo, name
        for lang in LANGS:  # what the page shows next to it
            assert tr(f"dash.lever.{name}", lang) and tr(f"dash.lever.{name}.unit", lang)
            assert tr(f"dash.lever.{name}.help", lang)


def test_scenarios_share_seeds_and_graphs_and_step_together(compared):
    dash = compared
    assert dash.names == ["baseline", "arm"] and dash.seeds == [1, 2, 3]
    for i, seed in enumerate(dash.seeds):
        base, arm = dash.scenarios["baseline"][i], dash.scenarios["arm"][i]
        assert base.config.seed == arm.config.seed == seed
        assert base.graph is arm.graph, "one graph per seed, shared by both scenarios"
        assert base.config.strategy.name == "promotion_heavy"
        assert arm.config.strategy.name == "service_led"
    # common random numbers: the same population on a seed, another one on the next seed
    a0, a1 = (dash.scenarios["arm"][i].users.segment for i in (0, 1))
    assert np.array_equal(dash.scenarios["baseline"][0].users.segment, a0)
    assert not np.array_equal(a0, a1)
    assert all(m.day == 20 for ms in dash.scenarios.values() for m in ms)
    snap = dash.snapshot()
    assert snap["day"] == 20 and all(len(s["n_members"]) == 20 for s in snap["series"]["arm"])


def test_the_baseline_alone_unless_comparing_or_moving_levers():
    assert DashboardModel(n_users=500, n_seeds=1).names == ["baseline"]
    moved = DashboardModel(n_users=500, n_seeds=1, compare=NONE, apply_levers=True,
                           promo_per_week=5.0)
    assert moved.names == ["baseline", "arm"] and moved.arm_strategy == moved.strategy
    assert moved.lever_changes["promo_per_week"][1] == 5.0
    ignored = DashboardModel(n_users=500, n_seeds=1, compare="service_led", promo_per_week=5.0)
    assert ignored.lever_changes == {}, "levers apply only when apply_levers is on"


def test_table_gives_paired_intervals_over_seeds(compared):
    caption, header, rows, classes = plots.kpi_table(compared, "en")
    assert header == ["KPI", "Baseline: promotion-heavy", "Arm: service-led + levers",
                      "arm − baseline [95% CI]", "verdict"]
    assert caption[0].startswith("Day 20 of 40") and "3 seeds (1–3)" in caption[0]
    assert "Content posts 2 → 6" in caption[1] or "→ 6" in caption[1], caption[1]
    diffs = plots.differences(compared)
    snap = compared.snapshot()
    for row, cls, (key, _kind, better) in zip(rows, classes, plots.TABLE_ROWS, strict=True):
        ci = diffs[key]
        base = [r[key] for r in snap["summary"]["baseline"]]
        arm = [r[key] for r in snap["summary"]["arm"]]
        pairs = [(a, b) for a, b in zip(arm, base, strict=True)
                 if np.isfinite(a) and np.isfinite(b)]
        if len(pairs) >= 2:  # the interval is the paired t interval of arm - baseline
            assert ci.mean == pytest.approx(np.mean([a - b for a, b in pairs]))
            assert ci.lo <= ci.mean <= ci.hi
            assert cls == plots.verdict(ci, better)
            assert row[4] == tr(f"dash.verdict.{cls}", "en")
    members = rows[0]
    assert re.fullmatch(r"[+-]?[\d,]+ \[[+-]?[\d,]+, [+-]?[\d,]+\]", members[3]), members


def test_verdicts_follow_the_direction_the_brand_wants():
    from sim.experiments.stats import t_interval

    up, down, zero = t_interval([1.0, 1.1, 1.2]), t_interval([-1.0, -1.1, -1.2]), \
        t_interval([-1.0, 1.0, 0.5])
    assert plots.verdict(up, +1) == "better" and plots.verdict(up, -1) == "worse"
    assert plots.verdict(down, -1) == "better" and plots.verdict(zero, +1) == "ns"
    assert plots.verdict(up, 0) == "higher" and plots.verdict(t_interval([1.0]), +1) == "one_seed"


def test_figures_are_numbers_only_and_day_zero_has_no_axes(compared):
    fresh = DashboardModel(n_users=500, n_seeds=2, days=10)
    for name in plots.KPI_PLOTS:
        assert plots.kpi_png(fresh.snapshot(), name) is None, "day 0: a note, not empty axes"
        assert plots.kpi_png(compared.snapshot(), name, "zh").startswith(PNG)
        assert plots.unit_text(name, "zh", compared.snapshot())
    png, counts = network.network_png(compared.scenarios["arm"][0])
    assert png.startswith(PNG)
    assert counts["stores_shown"] <= network.MAX_STORES
    assert counts["shown_members"] + counts["shown_churned"] <= network.MAX_USERS


def test_money_axes_scale_to_the_language():
    assert plots.money_scale(3e7, "zh") == (1e4, "万元")
    assert plots.money_scale(3e9, "zh") == (1e8, "亿元")
    assert plots.money_scale(3e7, "en") == (1e6, "million yuan")
    assert plots.money_scale(50, "en") == (1.0, "yuan")


def test_network_view_is_the_private_domains_structure_on_a_sample():
    dash = DashboardModel(n_users=20_000, n_seeds=1, strategy="koc_program", days=60)
    for _ in range(60):
        dash.step()
    model = dash.scenarios["baseline"][0]
    st = network.structure(model, max_stores=4, max_users=200)
    n_stores = int(model.users.store.max()) + 1
    assert st["n_stores"] == n_stores and st["stores_shown"] == min(4, n_stores)
    staff = model.config.strategy.acquisition.staff_per_store
    assert len(st["staff_xy"]) == st["stores_shown"] * staff
    assert len(st["group_xy"]) >= st["stores_shown"], "every shown store has a group"
    assert len(st["ids"]) == 200 and len(np.unique(st["ids"])) == 200
    assert np.all(model.users.store[st["ids"]] < 4)
    assert st["shown_kocs"] > 0
    # a fixed sample: the same users drawn again on the same day
    assert np.array_equal(network.structure(model, 4, 200)["ids"], st["ids"])


def test_downloads_hold_every_scenario_seed_and_day(compared):
    rows = list(csv.DictReader(io.StringIO(export.series_csv(compared).decode())))
    assert len(rows) == 2 * 3 * 20
    assert {(r["scenario"], r["seed"]) for r in rows} == {
        (s, str(k)) for s in ("baseline", "arm") for k in (1, 2, 3)}
    arm1 = [r for r in rows if r["scenario"] == "arm" and r["seed"] == "1"]
    series = compared.scenarios["arm"][0].series()
    assert [float(r["n_members"]) for r in arm1] == pytest.approx(list(series["n_members"]))
    summary = json.loads(export.summary_json(compared))
    assert summary["day"] == 20 and summary["seeds"] == [1, 2, 3]
    assert summary["scenarios"]["arm"]["levers_moved"]["content_per_week"]["arm"] == 6.0
    revenue = summary["arm_minus_baseline"]["revenue"]
    assert revenue["n"] == 3 and revenue["ci95"][0] <= revenue["mean"] <= revenue["ci95"][1]
    per_seed = summary["scenarios"]["baseline"]["per_seed"]["2"]
    assert per_seed["revenue"] == pytest.approx(compared.scenarios["baseline"][1].summary()["revenue"])


def test_every_dashboard_text_has_both_languages():
    keys = [k for k in TEXT if k.startswith("dash.")]
    assert len(keys) > 50
    for key in keys:
        assert set(TEXT[key]) == set(LANGS) and all(TEXT[key].values()), key
    # the dashboard's code asks only for keys that exist
    source = "\n".join(p.read_text() for p in (ROOT / "sim" / "dashboard").glob("*.py"))
    for key in re.findall(r'"(dash\.[a-z_.]+)"', source):
        assert key in TEXT or key.endswith("."), f"{key} is not in sim/i18n.py"


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


def test_fetch_checks_the_registry_hash_and_unpacks_whole_packages(tmp_path, monkeypatch):
    import base64
    import hashlib
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in (("package/package.json", b"{}"), ("package/dist/app.js", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    tgz = buf.getvalue()
    good = "sha512-" + base64.b64encode(hashlib.sha512(tgz).digest()).decode()
    monkeypatch.setattr(assets, "required", lambda: ["@scope/pkg@1.0.0"])

    def fake_get(url, integrity):
        if url.endswith("/1.0.0"):
            return json.dumps({"dist": {"tarball": "https://x/pkg.tgz",
                                        "integrity": integrity}}).encode()
        return tgz

    monkeypatch.setattr(assets, "_get", lambda url, timeout=60: fake_get(url, "sha512-AAAA"))
    with pytest.raises(assets.FetchError, match="does not match"):
        assets.fetch(tmp_path, log=lambda m: None)
    assert not (tmp_path / "@scope" / "pkg@1.0.0").exists(), "nothing half there"
    monkeypatch.setattr(assets, "_get", lambda url, timeout=60: fake_get(url, good))
    assert assets.fetch(tmp_path, log=lambda m: None) == ["@scope/pkg@1.0.0"]
    assert (tmp_path / "@scope" / "pkg@1.0.0" / "dist" / "app.js").read_bytes() == b"x"
    assert assets.missing(tmp_path) == [] and assets.fetch(tmp_path, log=lambda m: None) == []


def test_importing_the_app_builds_no_model(monkeypatch):
    pytest.importorskip("solara", reason="the dashboard needs the viz extra (pip install -e '.[viz]')")
    built = []
    monkeypatch.setattr(sim.SiyuModel, "__init__",
                        lambda self, *a, **k: built.append(1) or None)
    app = importlib.reload(importlib.import_module("sim.dashboard.app"))
    assert built == []
    assert callable(app.Page) and callable(app.main)
