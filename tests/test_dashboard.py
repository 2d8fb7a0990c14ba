"""The dashboard as a strategist uses it: start the server, drive it in headless Chromium.

Starts ``python -m sim.dashboard`` on a free port of 127.0.0.1, opens the page with Python
Playwright driving Debian's Chromium (never a downloaded browser), reads the levers (value,
unit, description, metadata), switches the language, picks an arm to compare with and moves a
lever, presses Reset, Step and Play, checks the KPI table (paired intervals over seeds), the
plots and the network view render and change, and downloads the series and the summary.
Screenshots are kept in ``tests/artifacts/`` (``dashboard.png``, ``dashboard_zh.png``).
Skipped only when Chromium or Playwright is missing. The front-end files come with
``bash scripts/setup.sh``: the test runs offline and fails if the server asked a CDN for
anything.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).absolute().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("SIYU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SERVER_START_S = 45
UI_TIMEOUT_MS = 30_000
FIRST_PAGE_MS = 120_000



def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the dashboard server exited with {proc.returncode}:\n"
                        + log.read_text()[-3000:])
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"the dashboard server did not answer within {SERVER_START_S} s:\n"
                + log.read_text()[-3000:])


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server and anything it started (its own process group)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture
def sync_api():
    """Playwright's sync API, after checking the browser is there (else skip)."""
    api = pytest.importorskip("playwright.sync_api",
                              reason="Python playwright is not installed (pip install -e '.[viz]')")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian: apt-get install -y chromium)")
    return api


@pytest.fixture
def server(sync_api, tmp_path):
    from sim.dashboard import assets

    gone = assets.missing()
    if gone:
        pytest.fail(f"Solara's front-end files are missing in {assets.default_dir()}: "
                    f"{', '.join(gone)}; run: bash scripts/setup.sh (or scripts/fetch_solara_assets.sh)")
    port = _free_port()
    log = tmp_path / "server.log"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim.dashboard", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        _wait_for_server(url, proc, log)
        yield url, log
    finally:
        _stop(proc)


def _day(page) -> int:
    text = page.locator(".siyu-caption").first.inner_text()
    m = re.search(r"(?:Day|第) (\d+) (?:of|天)", text)
    assert m, f"no day in the KPI table caption: {text!r}"
    return int(m.group(1))


def _wait_day(page, cond, what: str, timeout_s: float = 60) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            day = _day(page)
        except Exception:  # noqa: BLE001 - the table is being re-rendered
            day = None
        if day is not None and cond(day):
            return day
        page.wait_for_timeout(200)
    raise AssertionError(f"timed out waiting for {what}; last caption: "
                         f"{page.locator('.siyu-caption').first.inner_text()!r}")


def _wait_stable(page, quiet_s: float = 2.0, timeout_s: float = 30) -> int:
    """The day shown once it has stopped changing for ``quiet_s`` seconds."""
    deadline = time.monotonic() + timeout_s
    day, since = _day(page), time.monotonic()
    while time.monotonic() < deadline:
        page.wait_for_timeout(250)
        now = _day(page)
        if now != day:
            day, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return day
    raise AssertionError(f"the day kept changing after pause (last {day})")


def _kpi(page, row: str) -> list[str]:
    cells = page.locator("table.siyu-kpis tr", has_text=row).first.locator("td")
    return [c.inner_text() for c in cells.all()][1:]


def _select(page, name: str, option: str) -> None:
    page.locator(f".siyu-select-{name}").first.click()
    page.locator(".menuable__content__active .v-list-item",
                 has_text=re.compile(rf"\({re.escape(option)}\)|^\s*{re.escape(option)}\s*$")
                 ).first.click()
    page.wait_for_timeout(300)


def _plots_png(page) -> dict[str, bytes]:
    """Screenshots of each KPI plot (what the user sees, not the image URLs)."""
    out = {}
    for img in page.locator("img.siyu-plot").all():
        name = next(c for c in img.get_attribute("class").split() if c.startswith("siyu-plot-"))
        out[name] = img.screenshot()
    return out


def _download(page, label: str, sync_api) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("button", name=label).click()
    return Path(info.value.path()).read_bytes()


def test_dashboard_step_play_compare_and_download(sync_api, server):
    url, log = server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    import sim
    from sim.dashboard.model import available_levers
    from sim.i18n import tr

    default = sim.load_config([]).strategy.name  # what the page starts with
    other = next(p.stem for p in sorted((ROOT / "conf" / "strategy").glob("*.yaml"))
                 if p.stem != default)  # a preset to compare with

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # tall enough for the whole page: the screenshot then shows every panel
            page = browser.new_page(viewport={"width": 1500, "height": 2000},
                                    accept_downloads=True)
            page.set_default_timeout(UI_TIMEOUT_MS)
            failed: list[str] = []
            page.on("requestfailed", lambda r: failed.append(f"failed {r.url}"))
            page.on("response", lambda r: failed.append(f"{r.status} {r.url}")
                    if r.status >= 400 else None)
            page.goto(url)

            # it opens in Chinese at day 0: a note instead of empty axes, levers with values
            # the first page composes presets and builds 10 models: slow on a busy machine
            page.locator(".siyu-caption", has_text="第 0 天").wait_for(timeout=FIRST_PAGE_MS)
            assert page.locator(".siyu-note-members").inner_text() == tr("dash.day0", "zh")
            assert page.locator("img.siyu-plot").count() == 0
            assert "PAGE 0" not in page.locator("body").inner_text().upper()
            for name in available_levers():
                lever = page.locator(f".siyu-lever-{name}")
                head = lever.locator(".siyu-lever-head").inner_text()
                assert tr(f"dash.lever.{name}", "zh") in head, head
                assert tr(f"dash.lever.{name}.unit", "zh") in head, head
                assert re.search(r"[\d.]+", lever.locator(".siyu-value").inner_text()), head
                assert lever.locator(".siyu-help").inner_text() == \
                    tr(f"dash.lever.{name}.help", "zh")
                assert "." in lever.locator(".siyu-meta").inner_text()  # the config key
            page.screenshot(path=str(ARTIFACTS / "dashboard_zh.png"))

            # English, then an arm: another preset with a lever moved
            page.locator(".siyu-lang-en").click()
            page.locator(".siyu-caption", has_text="Day 0 of").wait_for()
            _select(page, "compare", other)
            page.locator(".v-input--checkbox", has_text="Apply these levers").click()
            lever = page.locator(".siyu-lever-promo_per_week")
            sync_api.expect(lever.locator(".v-slider--disabled")).to_have_count(0)
            before = lever.locator(".siyu-value").inner_text()
            box = lever.locator(".v-slider").first.bounding_box()
            page.mouse.click(box["x"] + 0.9 * box["width"], box["y"] + box["height"] / 2)
            sync_api.expect(lever.locator(".siyu-value")).not_to_have_text(before)
            page.locator(".siyu-pending").wait_for()  # changed settings wait for Reset
            page.locator(".siyu-reset").click()
            page.locator("table.siyu-kpis th", has_text="Arm:").wait_for()
            header = page.locator("table.siyu-kpis th").all_inner_texts()
            assert header[1].startswith("Baseline: ") and header[2].endswith("+ levers"), header
            assert header[3] == "arm − baseline [95% CI]" and header[4] == "verdict", header
            sync_api.expect(page.locator(".siyu-pending")).to_have_count(0)
            levers = page.locator(".siyu-caption", has_text="Arm's levers").inner_text()
            assert re.search(r"Promotions [\d.]+ → [\d.]+", levers), levers
            assert "5 seeds (1–5)" in page.locator(".siyu-caption").first.inner_text()

            # Step: one press advances a week
            page.locator(".siyu-step").click()
            assert _wait_day(page, lambda d: d > 0, "a step") == 7
            members = _kpi(page, "members at end")
            assert all(re.fullmatch(r"[\d,]+", v) for v in members[:2]), members
            assert re.fullmatch(r"[+-]?[\d,]+ \[[+-]?[\d,]+, [+-]?[\d,]+\]", members[2]), members
            assert members[3] in ("better", "worse", "n.s."), members
            sync_api.expect(page.locator("img.siyu-plot")).to_have_count(6)
            sync_api.expect(page.locator("img.siyu-network")).to_have_count(2)
            counts = page.locator(".siyu-network-panel .siyu-axis").first.inner_text()
            assert re.search(r"Shown: \d+ of \d+ stores, \d+ of [\d,]+ members", counts), counts
            before = _plots_png(page)

            # Play, let it run, pause
            page.locator(".siyu-play").click()
            _wait_day(page, lambda d: d >= 35, "day 35 while playing")
            page.locator(".siyu-play").click()
            sync_api.expect(page.locator(".siyu-play")).to_have_text(re.compile("Play"))
            day = _wait_stable(page)
            assert day >= 35
            after = _plots_png(page)
            changed = [k for k in after if after[k] != before.get(k)]
            assert len(changed) == 6, f"plots unchanged after playing: {set(after) - set(changed)}"
            revenue = _kpi(page, "revenue")
            assert revenue[0] != "n/a" and revenue[1] != "n/a", revenue

            # downloads: every scenario x seed x day, and the summary with the differences
            rows = list(csv.DictReader(io.StringIO(
                _download(page, "Download daily series (CSV)", sync_api).decode())))
            assert len(rows) == 2 * 5 * day
            assert {r["scenario"] for r in rows} == {"baseline", "arm"}
            assert {r["seed"] for r in rows} == {"1", "2", "3", "4", "5"}
            assert {"day", "n_members", "cum_revenue"} <= set(rows[0])
            summary = json.loads(_download(page, "Download summary (JSON)", sync_api))
            assert summary["day"] == day and summary["seeds"] == [1, 2, 3, 4, 5]
            assert summary["scenarios"]["arm"]["strategy"] == other
            assert len(summary["arm_minus_baseline"]["revenue"]["ci95"]) == 2

            page.locator(".siyu-caption").first.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
            # back to Chinese, the same run
            page.locator(".siyu-lang-zh").click()
            page.locator(".siyu-caption", has_text=f"第 {day} 天").wait_for()
            assert page.locator("table.siyu-kpis th").all_inner_texts()[3].startswith("方案 − 基线")
            assert not page.locator(".v-alert.error").count()
            assert not failed, failed
        finally:
            browser.close()

    server_log = log.read_text()
    assert "Could not load URL" not in server_log, server_log[-3000:]
    assert "Traceback" not in server_log, server_log[-3000:]
