"""The indexes that make a day cost what is due that day, not the population, against the
plain scans they replace (the reference): the same users, day by day, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from sim import SiyuModel, load_config
from sim.core.clocks import DueCalendar
from sim.core.mechanisms.funnel import Funnel
from sim.core.mechanisms.purchase import Purchase
from sim.core.mechanisms.referral import Referral


def test_due_calendar_matches_a_scan():
    """Random filings and moves (earlier, later, to inf): each day's take, checked against
    the column, is exactly the scan ``flatnonzero(due <= day)`` of the ids not yet taken."""
    rng = np.random.default_rng(3)
    n, days = 2000, 300
    due = rng.uniform(-5, 400, n)
    due[rng.random(n) < 0.1] = np.inf
    cal = DueCalendar(first_day=1, shift=3)
    cal.add(np.arange(n), due)
    for day in range(1, days + 1):
        # some ids move (earlier or later); each move is filed again, as the mechanisms do
        moved = rng.choice(n, 20, replace=False)
        due[moved] = np.where(rng.random(20) < 0.5, day - 1 + rng.uniform(0, 3, 20),
                              day + rng.uniform(0, 200, 20))
        due[moved[:2]] = np.inf
        cal.add(moved, due[moved])
        got = np.unique(cal.take(day))
        got = got[due[got] <= day]
        assert np.array_equal(got, np.flatnonzero(due <= day)), day
        # what fired is rescheduled later (or stopped), as a need clock restarts
        nxt = day + rng.uniform(0.01, 150, len(got))
        nxt[rng.random(len(got)) < 0.05] = np.inf
        due[got] = nxt
        cal.add(got, nxt)


@pytest.mark.parametrize("overrides", [
    ["strategy=promotion_heavy", "market.initial_member_share=0.1"],  # promotions move due days
    ["strategy=koc_program", "market=car"],                            # leads and trials
    ["strategy=membership_vip", "market=fresh_food"],                  # short cycles, VIPs
])
def test_indexes_match_the_scans_every_day(monkeypatch, overrides):
    """Each mechanism checks its index against the full scan every day (``scan_all``)."""
    for cls in (Purchase, Funnel, Referral):
        monkeypatch.setattr(cls, "scan_all", True)
    cfg = load_config(["population.n_users=3000", "days=150", "output.progress=false",
                       *overrides])
    model = SiyuModel(cfg)
    model.run()  # raises AssertionError on the first day an index and its scan differ
    s = model.summary()
    assert s["purchases"] > 0 and s["public_purchases"] > 0
