"""The dashboard as a strategist uses it: start the server, drive it in headless Chromium.

Starts ``python -m sim.dashboard`` on a free port of 127.0.0.1, opens the page with Python
Playwright driving Debian's Chromium (never a downloaded browser), changes parameters (a
second strategy to compare with, a lever), presses Reset, Step and Play, and checks that the
KPI table and the plots render and change. The page's screenshot is kept in
``tests/artifacts/dashboard.png``. Skipped only when Chromium or Playwright is missing. The
front-end files must be fetched first (``bash scripts/fetch_solara_assets.sh``): the test
runs offline and fails if the server had to ask a CDN for anything.
"""

from __future__ import annotations

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

pytestmark = pytest.mark.slow


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
                    f"{', '.join(gone)}; run: bash scripts/fetch_solara_assets.sh")
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
    m = re.search(r"Day (\d+) of", text)
    assert m, f"no day in the KPI table caption: {text!r}"
    return int(m.group(1))


def _wait_day(page, cond, what: str, timeout_s: float = 30) -> int:
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


def _wait_stable(page, quiet_s: float = 2.0, timeout_s: float = 20) -> int:
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


def _select(page, label: str, option: str) -> None:
    page.locator(".v-select", has_text=label).first.click()
    page.locator(".menuable__content__active .v-list-item",
                 has_text=re.compile(rf"^\s*{re.escape(option)}\s*$")).first.click()
    page.wait_for_timeout(300)


def _plots_png(page) -> dict[str, bytes]:
    """Screenshots of each KPI plot (what the user sees, not the image URLs)."""
    out = {}
    for img in page.locator("img.siyu-plot").all():
        name = next(c for c in img.get_attribute("class").split() if c.startswith("siyu-plot-"))
        out[name] = img.screenshot()
    return out


def test_dashboard_step_play_and_compare(sync_api, server):
    url, log = server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    import sim

    default = sim.load_config([]).strategy.name  # what the page starts with
    other = next(p.stem for p in sorted((ROOT / "conf" / "strategy").glob("*.yaml"))
                 if p.stem != default)  # a second preset to compare with
    t0 = time.monotonic()

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # tall enough for the whole grid: the screenshot then shows every panel
            page = browser.new_page(viewport={"width": 1400, "height": 1900})
            page.set_default_timeout(UI_TIMEOUT_MS)
            failed: list[str] = []
            page.on("requestfailed", lambda r: failed.append(f"failed {r.url}"))
            page.on("response", lambda r: failed.append(f"{r.status} {r.url}")
                    if r.status >= 400 else None)
            page.goto(url)

            # the page: KPI table at day 0, the network view, one image per KPI plot
            page.locator(".siyu-caption", has_text="Day 0 of").wait_for()
            page.locator("img.siyu-network").wait_for()
            page.locator("img.siyu-plot-revenue").wait_for()
            # the six plots arrive one by one: wait for all of them (a busy machine is slow)
            sync_api.expect(page.locator("img.siyu-plot")).to_have_count(6, timeout=UI_TIMEOUT_MS)
            assert page.locator("table.siyu-kpis th").all_inner_texts()[1] == f"A: {default}"

            # change parameters: compare with another preset; apply a lever (promotions/week)
            _select(page, "Compare with", other)
            page.locator(".v-input--checkbox", has_text="Apply the lever sliders").click()
            slider = page.locator(".v-input", has_text="Promotions per week").locator(
                ".v-slider").first
            box = slider.bounding_box()
            page.mouse.click(box["x"] + 0.5 * box["width"], box["y"] + box["height"] / 2)
            page.get_by_role("button", name="Reset").click()
            page.locator("table.siyu-kpis th", has_text=f"B: {other}").wait_for()
            header = page.locator("table.siyu-kpis th").all_inner_texts()
            assert header[1] == f"A: {default} + levers" and header[3] == "B - A", header
            levers = page.locator(".siyu-caption", has_text="A's levers").inner_text()
            assert re.search(r"promotions/week [\d.]+ → [\d.]+", levers), levers
            assert _kpi(page, "Members") == ["n/a", "n/a", "n/a"]
            sync_api.expect(page.locator("img.siyu-plot")).to_have_count(6, timeout=UI_TIMEOUT_MS)
            before = _plots_png(page)

            # Step: one press advances the render interval (7 days)
            page.get_by_role("button", name="Step").click()
            day = _wait_day(page, lambda d: d > 0, "a step")
            assert day == 7
            members = _kpi(page, "Members")
            assert all(re.fullmatch(r"[\d,]+", v) for v in members[:2]), members

            # Play, let it run, pause
            page.get_by_role("button", name="▶").click()
            day = _wait_day(page, lambda d: d >= 35, "day 35 while playing")
            page.get_by_role("button", name="❚❚").click()
            page.get_by_role("button", name="▶").wait_for()  # paused
            day = _wait_stable(page)  # the last redraw (of the batch in flight) has arrived
            assert day >= 35
            after = _plots_png(page)
            changed = [k for k in after if after[k] != before.get(k)]
            assert len(changed) == 6, f"plots unchanged after playing: {set(after) - set(changed)}"
            revenue = _kpi(page, "Revenue (yuan)")
            assert revenue[0] != "n/a" and revenue[1] != "n/a", revenue
            assert not page.get_by_text("error in step").count()

            page.locator(".siyu-caption").first.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "dashboard.png"))
            assert not failed, failed
        finally:
            browser.close()

    server_log = log.read_text()
    assert "Could not load URL" not in server_log, server_log[-3000:]
    assert "Traceback" not in server_log, server_log[-3000:]
    assert time.monotonic() - t0 < 120
