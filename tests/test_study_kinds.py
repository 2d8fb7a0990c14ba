"""The study kinds at small size: a lever factorial (why), plausible worlds (how sure),
horizons (when), an optimiser (what to do), and the one-page executive summary in Chinese
or English (with a CJK font that draws Chinese, not boxes) and as a PDF."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.experiments import design as dsn
from sim.experiments.attribution import effects_of
from sim.experiments.horizons import _cross_day
from sim.experiments.robustness import prim
from sim.experiments.study import StudySpec
from sim.i18n import TEXT

REPO = Path(__file__).resolve().parents[1]
SMALL = ["population.n_users=600", "days=40", "market=fresh_food", "seed=1,2"]


# The command-line guard (sim/cli.py main) refuses hydra.callbacks.* overrides, which the
# tests use to shrink a study's design (worlds, trials, levers); such sweeps go through the
# same Hydra app without the guard. Everything else runs exactly as `python -m sim -m`.
APP = ("import sys; from sim.config import register_configs; from sim.cli import _app; "
       "register_configs(); sys.argv[0] = 'sim'; _app()")


def study(name: str, out: Path, *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    entry = ["-c", APP] if any("hydra.callbacks." in e for e in extra) else ["-m", "sim"]
    proc = subprocess.run([sys.executable, *entry, "-m", f"experiment={name}", *SMALL,
                           f"hydra.sweep.dir={out}", *extra], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


# --------------------------------------------------------------------------- the math


def test_shapley_shares_add_up_to_the_total_and_equal_main_effects_when_additive():
    rng = np.random.default_rng(1)
    k = 3
    w = rng.normal(size=k)
    additive = {c: float(np.dot(w, c)) for c in itertools.product((0, 1), repeat=k)}
    e = effects_of(additive, k)
    assert sum(e[("shapley", (j,))] for j in range(k)) == pytest.approx(e[("total", ())])
    for j in range(k):
        assert e[("shapley", (j,))] == pytest.approx(w[j])
        assert e[("main", (j,))] == pytest.approx(w[j])
    assert all(abs(v) < 1e-12 for (kind, _), v in e.items() if kind == "interaction")
    # a pure interaction: the effect of lever 0 exists only with lever 1 on
    inter = {c: float(c[0] * c[1]) for c in itertools.product((0, 1), repeat=k)}
    e = effects_of(inter, k)
    assert e[("total", ())] == 1.0
    assert e[("shapley", (0,))] == pytest.approx(0.5) and e[("shapley", (1,))] == pytest.approx(0.5)
    assert e[("shapley", (2,))] == 0 and e[("interaction", (0, 1))] == pytest.approx(0.5)


def test_prim_finds_the_region_where_the_verdict_flips():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(400, 5))
    y = (x[:, 2] > 0.7).astype(float)  # flips only when assumption 2 is high
    box = prim(x, y, [f"p{i}" for i in range(5)])
    assert box is not None and set(box.limits) == {"p2"}, box
    lo, hi = box.limits["p2"]
    assert 0.6 < lo <= 0.75 and hi == 1.0
    assert box.density > 0.9 and box.coverage > 0.8
    assert prim(x, np.zeros(400), ["p"] * 5) is None, "no flips, no box"


def test_crossing_day_is_the_day_from_which_the_sign_holds():
    d = np.array([0.0, -1, -2, -1, 0.5, -0.1, 1, 2, 3])
    assert _cross_day(d) == 7  # last negative on day 6
    assert _cross_day(np.array([0.0, 1, 2])) is None, "ahead from the start (day 1 at 0)"
    assert _cross_day(np.array([1.0, -1, -2])) == 2


def test_the_levers_study_crosses_frequency_depth_service_and_content():
    from omegaconf import OmegaConf

    from sim.paths import EXPERIMENTS_DIR

    node = OmegaConf.load(EXPERIMENTS_DIR / "promo_vs_service_levers.yaml")
    d = OmegaConf.to_container(node.hydra.callbacks.study)
    d.pop("_target_")
    groups = dsn.lever_groups(StudySpec.from_dict(d))
    assert list(groups) == ["frequency", "depth", "service", "content"], \
        "every differing lever falls in a named factor (no 'other')"


def test_levers_are_read_from_the_presets_and_grouped():
    diff = dsn.differing_levers("promotion_heavy", "service_led")
    assert {"strategy.promotion.per_week", "strategy.service.resolve_prob",
            "strategy.content.per_week"} <= set(diff)
    assert "strategy.name" not in diff
    spec = StudySpec(name="t", kind="factorial", baseline="promotion_heavy",
                     challenger="service_led", levers={"frequency": ["strategy.promotion.per_week"]})
    groups = dsn.lever_groups(spec)
    assert list(groups) == ["frequency", "other"]
    assert set(groups["other"]) == set(diff) - {"strategy.promotion.per_week"}
    auto = dsn.lever_groups(StudySpec(name="t", kind="factorial", baseline="promotion_heavy",
                                      challenger="service_led"))
    assert set(auto) == {k.split(".")[1] for k in diff}, "default: one factor per section"


def test_uncertain_parameters_are_assumptions_sampled_in_a_band_within_their_range():
    spec = StudySpec(name="t", kind="uncertainty", baseline="promotion_heavy",
                     challenger="service_led", worlds=5)
    params = dsn.uncertain_parameters(spec)
    levers = set(dsn.differing_levers("promotion_heavy", "service_led"))
    assert params and all(p["source"].lower().startswith("assumption") for p in params)
    assert not {p["key"] for p in params} & levers, "the arms' own levers are not worlds"
    assert not any(p["key"].startswith("market.segments.") for p in params)
    for p in params:
        for u in (0.0, 0.5, 0.999):
            v = dsn.world_value(p["default"], u, 2.0, p)
            assert (p["lo"] is None or v >= p["lo"]) and (p["hi"] is None or v <= p["hi"])
            if p["default"] and (p["hi"] is None or 2 * p["default"] <= p["hi"]):
                assert p["default"] / 2 - 1e-9 <= v <= 2 * p["default"] + 1e-9


def test_every_report_text_has_both_languages_and_the_same_placeholders():
    import string

    keys = [k for k in TEXT if k.startswith("report.")]
    assert len(keys) > 100
    for k in keys:
        zh, en = TEXT[k]["zh"], TEXT[k]["en"]
        names = [{f for _, f, _, _ in string.Formatter().parse(t) if f} for t in (zh, en)]
        assert names[0] == names[1], f"{k}: placeholders differ between zh and en"


# --------------------------------------------------------------------------- fonts


def test_chinese_figure_text_is_drawn_with_real_glyphs_not_boxes():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from sim.experiments.fonts import cjk_family, figure_fonts, missing_glyphs
    from sim.figures import subplots
    from sim.i18n import tr

    assert cjk_family(), "a CJK font is installed (the sweep extra's mplfonts)"

    def render(text: str, lang: str = "zh") -> np.ndarray:
        with figure_fonts(lang):
            fig, ax = subplots(figsize=(2, 1))
            ax.set_axis_off()
            fig.text(0.1, 0.4, text, fontsize=24)
            assert not missing_glyphs(fig), f"{text!r} has characters without a glyph"
            canvas = FigureCanvasAgg(fig)
            canvas.draw()
            return np.asarray(canvas.buffer_rgba())[..., 0].copy()

    with figure_fonts("zh"):
        fig, ax = subplots()
        ax.set_title(tr("report.f.forest_title", "zh"))
        ax.set_xlabel(tr("report.kpi.gross_profit", "zh") + " 1,234万")
        assert missing_glyphs(fig) == []
    # four different characters draw four different shapes; a missing glyph would draw
    # the same box four times
    shapes = [render(ch) for ch in "私域毛利"]
    for a, b in itertools.combinations(shapes, 2):
        assert (a != b).sum() > 50, "distinct characters render as distinct glyphs"
    assert (shapes[0] < 128).sum() > 30, "ink was drawn"


# --------------------------------------------------------------------------- the kinds


@pytest.fixture(scope="module")
def factorial(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("kinds") / "promo_vs_service_levers" / "small"
    # two factors (promotion levers, the rest) keep it small: 4 cells x 2 seeds
    return out, study("promo_vs_service_levers", out, "report.lang=en",
                      "~hydra.callbacks.study.levers",
                      "+hydra.callbacks.study.levers={promotion: [strategy.promotion]}")


def test_factorial_runs_every_cell_on_every_seed_and_attributes_the_difference(factorial):
    out, proc = factorial
    d = json.loads((out / "design.json").read_text())
    k = len(d["factors"])
    assert list(d["factors"]) == ["promotion", "other"]
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 2 ** k * 2 and runs.groupby("arm").size().eq(2).all()
    a = pd.read_csv(out / "attribution.csv")
    total = a[a["kind"] == "total"]["mean"].iloc[0]
    assert a[a["kind"] == "shapley"]["mean"].sum() == pytest.approx(total, rel=1e-9)
    # the total is the paired difference of the corner cells, i.e. of the two presets, in
    # the decision KPI (incremental gross profit: the study runs counterfactuals)
    kpi = "incremental_gross_profit" if "incremental_gross_profit" in runs else "gross_profit"
    gp = runs.set_index(["arm", "seed"])[kpi]
    want = np.mean([gp[f"cell_{'1' * k}", s] - gp[f"cell_{'0' * k}", s] for s in (1, 2)])
    assert total == pytest.approx(want)
    assert "[8/8]" in proc.stderr and "left" in proc.stderr, "progress with time left"
    assert "Recommendation" in proc.stdout, "the executive summary is printed at the end"
    html = (out / "report.html").read_text(encoding="utf-8")
    for text in ("Executive summary", "Why: the difference attributed to levers",
                 "Shapley attribution", "When: KPIs at horizons"):
        assert text in html, text


def test_the_all_on_cell_is_the_challenger_preset(factorial):
    """Cell 1...1 sets every differing lever to the challenger's value: it runs exactly as
    strategy=service_led on the same seed (common random numbers)."""
    out, _ = factorial
    runs = pd.read_parquet(out / "runs.parquet")
    row = runs[(runs["arm"] == "cell_11") & (runs["seed"] == 2)].iloc[0]
    cfg = sim.load_config(["market=fresh_food", "strategy=service_led", "seed=2",
                           "population.n_users=600", "days=40", "output.progress=false"])
    model = sim.SiyuModel(cfg)
    model.run()
    direct = model.summary()
    for kpi in ("gross_profit", "monthly_churn_rate", "purchases", "cost"):
        assert row[kpi] == pytest.approx(direct[kpi], rel=1e-12), kpi


def test_horizons_end_at_the_runs_summary(factorial):
    out, _ = factorial
    h = pd.read_csv(out / "horizons.csv")
    assert sorted(h["day"].unique()) == [30, 40], "horizons capped at the run's length"
    runs = pd.read_parquet(out / "runs.parquet")
    gp = runs.set_index(["arm", "seed"])["gross_profit"]
    last = h[(h["kpi"] == "cum_gross_profit") & (h["day"] == 40)].iloc[0]
    want = np.mean([gp["cell_11", s] - gp["cell_00", s] for s in (1, 2)])
    assert last["diff"] == pytest.approx(want, rel=1e-6), "series and summary agree"


def test_the_comparison_summary_gives_the_lever_attribution_as_its_reasons(factorial):
    """promo_vs_service beside promo_vs_service_levers of the same size: the comparison's
    executive summary takes its reasons from the attribution."""
    out, _ = factorial
    compare = out.parent.parent / "promo_vs_service" / out.name
    proc = study("promo_vs_service", compare, "report.lang=en")
    why = proc.stdout.split("Why:", 1)[1]
    assert "promotion" in why and "of the difference" in why, why


def test_report_rebuilds_in_chinese_and_as_a_pdf(factorial, tmp_path):
    from sim.experiments.__main__ import main
    from sim.experiments.pdf import write_pdf
    from sim.experiments.report import build

    out, _ = factorial
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    assert main(["report", str(copy), "--lang", "zh", "--pdf"]) == 0
    html = (copy / "report.html").read_text(encoding="utf-8")
    assert "执行摘要" in html and "建议" in html and "Executive summary" not in html
    assert (copy / "report.pdf").read_bytes()[:5] == b"%PDF-"
    built = build(copy, "en")
    write_pdf(built, browser=None)  # the fallback without a browser
    assert (copy / "report.pdf").read_bytes()[:5] == b"%PDF-"


def test_uncertainty_states_robustness_over_worlds(tmp_path):
    out = tmp_path / "worlds"
    proc = study("promo_vs_service_worlds", out, "hydra.callbacks.study.worlds=4",
                 "report.lang=en", "counterfactual=false")
    d = json.loads((out / "design.json").read_text())
    assert len(d["points"]) == 8 and d["parameters"]
    w = pd.read_csv(out / "worlds.csv")
    assert sorted(w["world"]) == [1, 2, 3, 4] and (w["n"] == 2).all()
    # the two arms of a world share its assumption values; worlds differ
    runs = pd.read_parquet(out / "runs.parquet")
    key = d["parameters"][0]["key"]
    vals = runs.groupby(runs["arm"].str[:4])[key].nunique()
    assert (vals == 1).all() and runs[key].nunique() == 4
    assert "plausible worlds" in proc.stdout
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "How sure" in html and "Scenario discovery" in html


@pytest.mark.slow
def test_optimiser_finds_a_front_writes_presets_and_resumes(tmp_path):
    out = tmp_path / "opt"
    extra = ["hydra.callbacks.study.trials=4", "hydra.callbacks.study.batch=2",
             "report.lang=en", "counterfactual=false"]
    study("promo_vs_service_optimise", out, *extra)
    t = pd.read_csv(out / "trials.csv")
    assert (t["role"] == "trial").sum() >= 3 and t["pareto"].any()
    front = t[t["pareto"] & (t["role"] == "trial")]["point"]
    assert sorted(p.stem for p in (out / "presets").glob("*.yaml")) == sorted(front)
    for p in (out / "presets").glob("*.yaml"):
        assert f"name: {p.stem}" in p.read_text(), "a preset named for its point"
    # kill half-way: a trial's run lost its summary; the re-run asks the same trials again
    victim = sorted(out.glob("t_*/*/summary.json"))[0]
    victim.unlink()
    proc = study("promo_vs_service_optimise", out, *extra)
    log = proc.stdout + proc.stderr
    assert log.count("skipped") == len(t) * 2 - 1, "only the lost run is run again"
    again = pd.read_csv(out / "trials.csv")
    pd.testing.assert_frame_equal(again, t)
