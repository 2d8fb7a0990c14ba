"""sim/data/io.py: atomic writes (whole file or none) and JSON without NaN; run()'s file set."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.data.io import atomic_path, read_parquet, write_atomic, write_json, write_parquet


def strict_json(text: str):
    def no_constant(name):
        raise ValueError(f"non-standard JSON constant {name}")
    return json.loads(text, parse_constant=no_constant)


def as_json(x):
    """What summary.json should hold for an in-memory value (non-finite floats -> None)."""
    if isinstance(x, dict):
        return {str(k): as_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [as_json(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, Path):
        return str(x)
    return x


def temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob("*") if p.name.endswith(".tmp"))


class Boom(Exception):
    pass


def half_writer(exc: BaseException):
    """A writer that writes part of a file, then fails."""
    def write(tmp: Path) -> None:
        tmp.write_bytes(b"PARTIAL")
        raise exc
    return write


# ------------------------------------------------------------------ atomic writes


@pytest.mark.parametrize("exc", [Boom("disk full"), KeyboardInterrupt()],
                         ids=["exception", "keyboard_interrupt"])
def test_a_failing_writer_leaves_the_previous_file_intact_and_no_temp_file(tmp_path, exc):
    target = tmp_path / "summary.json"
    write_json(target, {"members_end": 42})
    before = target.read_bytes()
    with pytest.raises(type(exc)):
        write_atomic(target, half_writer(exc))
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_a_failing_first_write_creates_no_file(tmp_path):
    target = tmp_path / "sub" / "series.parquet"
    with pytest.raises(Boom):
        write_atomic(target, half_writer(Boom()))
    assert not target.exists()
    assert temp_files(tmp_path) == []


def test_the_temporary_file_is_hidden_beside_the_target(tmp_path):
    target = tmp_path / "out.bin"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path
        assert tmp.name.startswith(".") and tmp.name.endswith(".tmp")
        assert not target.exists()  # the target appears only when the write completes
        tmp.write_bytes(b"whole")
    assert target.read_bytes() == b"whole"
    assert temp_files(tmp_path) == []


def test_a_successful_write_replaces_the_file_whole(tmp_path):
    target = tmp_path / "summary.json"
    write_json(target, {"v": "a" * 10_000})
    write_json(target, {"v": 1})
    assert strict_json(target.read_text()) == {"v": 1}
    assert temp_files(tmp_path) == []


def test_written_files_get_the_permissions_of_an_ordinary_file(tmp_path):
    """Outputs are for readers other than the writer (reports, collaborators): a file written
    atomically should get the mode open() would give it (0o666 & ~umask), not mkstemp's 0600."""
    umask = os.umask(0o022)
    os.umask(umask)
    ordinary = tmp_path / "ordinary.txt"
    ordinary.write_text("x")
    for path in (write_json(tmp_path / "summary.json", {"a": 1}),
                 write_parquet(tmp_path / "series.parquet", {"day": np.arange(1, 4)})):
        assert oct(path.stat().st_mode & 0o777) == oct(ordinary.stat().st_mode & 0o777), path.name


# ------------------------------------------------------------------ JSON


@pytest.mark.parametrize("value", [
    float("nan"), float("inf"), float("-inf"),
    np.float64("nan"), np.float32("nan"), np.float64("inf"),
], ids=["nan", "inf", "-inf", "np.float64_nan", "np.float32_nan", "np.float64_inf"])
def test_write_json_turns_non_finite_numbers_into_null(tmp_path, value):
    path = write_json(tmp_path / "s.json", {"roi": value, "nested": {"x": [1.5, value]}})
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text, text
    assert strict_json(text) == {"roi": None, "nested": {"x": [1.5, None]}}


def test_write_json_converts_numpy_scalars_and_paths(tmp_path):
    data = {"n": np.int64(3), "share": np.float64(0.25), "ok": np.bool_(True),
            "dir": Path("/x/y"), "pair": (1, 2)}
    out = strict_json(write_json(tmp_path / "s.json", data).read_text())
    assert out == {"n": 3, "share": 0.25, "ok": True, "dir": "/x/y", "pair": [1, 2]}
    assert type(out["n"]) is int and type(out["ok"]) is bool


def test_write_parquet_round_trips_columns_exactly(tmp_path):
    cols = {"day": np.arange(1, 11, dtype=np.int64),
            "share": np.linspace(0, 1, 10),
            "nps": np.array([np.nan] + [1.0] * 9)}
    back = read_parquet(write_parquet(tmp_path / "s.parquet", cols))
    assert list(back) == list(cols)
    for name, col in cols.items():
        assert back[name].dtype == col.dtype
        assert np.array_equal(back[name], col, equal_nan=True), name


# ------------------------------------------------------------------ run()'s files


SMALL = ["population.n_users=500", "days=20", "seed=2", "output.progress=false"]


def test_run_without_figures_writes_summary_and_series_only(tmp_path):
    cfg = sim.load_config([*SMALL, "output.figures=false"])
    result = sim.run(cfg, tmp_path, echo=None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["series.parquet", "summary.json"]
    assert {p.name for p in result.files} == {"series.parquet", "summary.json"}
    summary = strict_json((tmp_path / "summary.json").read_text())
    # summary.json holds what run() returned (NaN written as null)
    assert summary == as_json(result.summary)
    assert len(read_parquet(tmp_path / "series.parquet")["day"]) == 20


def test_summary_json_is_written_last_so_a_failed_run_has_none(tmp_path, monkeypatch):
    """run(): 'summary.json last: its presence marks a finished run'."""
    def broken_figures(*args, **kwargs):
        raise Boom("matplotlib died")

    monkeypatch.setattr(importlib.import_module("sim.run"), "draw_figures", broken_figures)
    cfg = sim.load_config(SMALL)
    with pytest.raises(Boom):
        sim.run(cfg, tmp_path, echo=None)
    assert not (tmp_path / "summary.json").exists()
    assert temp_files(tmp_path) == []


def test_run_echoes_the_human_summary_to_the_given_stream(tmp_path):
    cfg = sim.load_config([*SMALL, "output.figures=false", "report.lang=en"])
    buf = io.StringIO()
    result = sim.run(cfg, tmp_path, echo=buf)
    out = buf.getvalue()
    assert out.startswith("siyu-sim: market=phone strategy=service_led n_users=500 days=20 seed=2")
    assert f"files: {tmp_path}/summary.json" in out
    assert math.isfinite(result.summary["cost"])


def test_the_human_summary_is_in_report_lang_with_money_as_strategists_write_it(tmp_path):
    from sim.i18n import money
    from sim.run import human_summary

    cfg = sim.load_config([*SMALL, "output.figures=false"])  # report.lang: zh by default
    assert cfg.report.lang == "zh"
    buf = io.StringIO()
    result = sim.run(cfg, tmp_path, echo=buf)
    zh = buf.getvalue()
    assert zh.startswith("siyu-sim: market=phone strategy=service_led n_users=500")
    for word in ("私域成员", "月流失率", "复购率", "老带新占比", "收入", "投资回报率", "文件："):
        assert word in zh, word
    assert f"成本 {money(result.summary['cost'], 'zh')} 元" in zh
    s = dict(result.summary, revenue=123_456_789.0, cost=45_600.0)
    assert "收入 1.23亿 元，成本 4.56万 元" in human_summary(s, tmp_path, "zh")
    assert "revenue 123M yuan, cost 45.6k yuan" in human_summary(s, tmp_path, "en")


def test_run_echoes_to_the_current_sys_stdout(tmp_path):
    """run(echo=sys.stdout) is bound when sim.run is imported, so a later redirect of
    sys.stdout (contextlib.redirect_stdout, a notebook's capture) misses the summary."""
    cfg = sim.load_config([*SMALL, "output.figures=false"])
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        sim.run(cfg, tmp_path)
    assert "siyu-sim: market=phone" in buf.getvalue()
