"""The indexes that make a day cost what is due that day, not the population, against the
plain scans they replace (the reference): the same users, day by day, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from sim import SiyuModel, load_config
from sim.core import jit
from sim.core.clocks import DueCalendar, IndexedClock
from sim.core.mechanisms.funnel import Funnel
from sim.core.mechanisms.purchase import Purchase
from sim.core.mechanisms.referral import Referral
from sim.core.mechanisms.service import Service


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
    """Each mechanism checks its index against the full scan every day (``scan_all``), with
    the compiled kernels on (service's index of who heard word of mouth shrinks in one)."""
    monkeypatch.setattr(jit, "MODE", "numba")
    for cls in (Purchase, Funnel, Referral, Service):
        monkeypatch.setattr(cls, "scan_all", True)
    monkeypatch.setattr(IndexedClock, "check_all", True)
    cfg = load_config(["population.n_users=3000", "days=150", "output.progress=false",
                       *overrides])
    model = SiyuModel(cfg)
    model.run()  # raises AssertionError on the first day an index and its scan differ
    s = model.summary()
    assert s["purchases"] > 0 and s["public_purchases"] > 0


def test_indexed_clock_matches_the_column_clock():
    """Users join and leave a daily index (started, stopped, re-joining, some the same day);
    the compact clock fires the same users on the same days and ends with the same column."""
    from sim.core.clocks import Clock
    from sim.core.columns import Columns
    from sim.core.rng import Streams

    n, rng = 3000, np.random.default_rng(5)
    clocks = []
    for cls in (Clock, IndexedClock):
        t = Columns(n)
        t.add("x_R", np.float64, np.inf)
        t.add("x_k", np.int32, 0)
        clocks.append(cls(t, "x", Streams(9)["x.clock"]))
    member = rng.random(n) < 0.3
    for c in clocks:
        c.start(np.flatnonzero(member))
    static = rng.random(n)
    follow = clocks[1].follow(static)
    clocks[1].check_all = True
    index = np.flatnonzero(member)
    hazard_of = rng.uniform(0.001, 0.05, n)
    for day in range(1, 200):
        # some join (started), some leave (stopped), a few of them the same day
        join = np.flatnonzero(~member & (rng.random(n) < 0.01))
        leave = np.flatnonzero(member & (rng.random(n) < 0.01))
        member[join] = True
        member[leave] = False
        back = leave[: len(leave) // 4]  # left and came back before the next advance
        member[back] = True
        for c in clocks:
            c.start(join)
            c.stop(leave)
            c.start(back)
        index = np.flatnonzero(member) if (len(join) or len(leave)) else index
        hz = hazard_of[index] * (1 + 0.1 * np.sin(day))
        clocks[1].align(index)
        assert np.array_equal(clocks[1].rider(follow), static[index]), day
        fired = [c.advance(index, hz) for c in clocks]
        assert np.array_equal(fired[0], fired[1]), day
        for c in clocks:
            c.fire(fired[0])
    assert np.array_equal(clocks[0].R, clocks[1].R)  # R syncs the compact values back


@pytest.mark.parametrize("mode", ["numba", "numpy"])
def test_members_index_merges_joins_and_leaves_in_order(monkeypatch, mode):
    """The joins and leaves since the members index was last read are merged into it at
    once, each user in or out as their last join or leave says: joins, a leave of old and
    new members, a rejoin of some who just left, another leave; the count meanwhile, and
    the index when read, are the users in state member."""
    from sim.core.columns import CHURNED, MEMBER, PROSPECT, SOURCE_RECALL, SOURCE_REFERRAL, SOURCE_STORE

    monkeypatch.setattr(jit, "MODE", mode)
    cfg = load_config(["population.n_users=3000", "days=10", "output.progress=false",
                       "market.initial_member_share=0.15"])
    m = SiyuModel(cfg)
    u = m.users
    start = m.members().copy()
    prospects = np.flatnonzero(u.state == PROSPECT)
    a, b = prospects[:40:2], prospects[1:40:2]  # interleaved with each other
    m.join(a, 1, SOURCE_STORE)
    m.join(b, 1, SOURCE_REFERRAL, by=start[:len(b)])
    gone = np.union1d(start[::7], a[::3])
    m.leave(gone, 1)
    assert (u.state[gone] == CHURNED).all()
    back = gone[:5]
    m.join(back, 1, SOURCE_RECALL)
    m.leave(b[:4], 1)
    expect = np.setdiff1d(np.union1d(np.union1d(start, a), b), np.setdiff1d(gone, back))
    expect = np.setdiff1d(expect, b[:4])
    assert m.n_members == len(expect)
    got = m.members()
    assert np.array_equal(got, expect) and np.array_equal(got, np.flatnonzero(u.state == MEMBER))
    assert got is m.members()  # merged once: read again, the same array
    m.leave(got[:3].copy(), 1)
    assert np.array_equal(m.members(), np.flatnonzero(u.state == MEMBER))


@pytest.mark.parametrize("layout", ["index", "append"])
def test_a_state_rider_keeps_the_members_values(layout):
    """A clock's state rider (``follow(..., state=True)``) holds the values of the users in
    its layout: decayed in place daily, added to at their slots (``locate``), zeroed as they
    leave and written back to the column as the clock stops; users outside the layout
    (joined since the last pass in the index layout) are written in the column; ``sync``
    writes the members' values back. Against the same
    arithmetic on a plain column, day by day, in the index layout and the append layout
    (dead slots, compactions)."""
    from sim.core.clocks import AppendClock
    from sim.core.columns import Columns
    from sim.core.rng import Streams

    n, rng = 3000, np.random.default_rng(11)
    t = Columns(n)
    t.add("x_R", np.float64, np.inf)
    t.add("x_k", np.int32, 0)
    t.add("extra", np.float32, 0.0)
    clock = AppendClock(t, "x", Streams(9)["x.clock"])
    clock.check_all = True
    handle = clock.follow(lambda: t.extra, state=True)
    ref = np.zeros(n, np.float32)  # the reference: the same updates on a column
    q, add = np.float32(0.9), np.float32(0.25)

    def put(ids, value, plus):
        pos, inside = clock.locate(ids)
        rider = clock.rider(handle)
        if inside.any():
            if plus:
                rider[pos[inside]] += value
            else:
                rider[pos[inside]] = value
        if plus:
            t.extra[ids[~inside]] += value
        else:
            t.extra[ids[~inside]] = value

    member = rng.random(n) < 0.3
    clock.start(np.flatnonzero(member))
    index = np.flatnonzero(member)
    for day in range(1, 150):
        join = np.flatnonzero(~member & (rng.random(n) < 0.01))
        leave = np.flatnonzero(member & (rng.random(n) < 0.01))
        member[join] = True
        clock.start(join)
        buy = np.flatnonzero(member & (rng.random(n) < 0.05))  # joiners among them
        put(buy, add, True)
        ref[buy] += add
        member[leave] = False
        put(leave, np.float32(0.0), False)
        ref[leave] = 0.0
        clock.stop(leave)
        back = leave[: len(leave) // 3]  # left and came back the same day, and buy
        member[back] = True
        clock.start(back)
        put(back, add, True)
        ref[back] += add
        index = np.flatnonzero(member)
        if layout == "append":
            ids = clock.over(index, day, every=16)
            rider = clock.rider(handle)
            live = ids >= 0
            assert np.array_equal(rider[live], ref[ids[live]]), day
            rider *= q
        else:
            clock.align(index)
            rider = clock.rider(handle)
            assert np.array_equal(rider, ref[index]), day
            rider *= q
        ref[index] *= q
        if day % 40 == 0:  # the column, brought up to date, is the reference's
            clock.sync()
            assert np.array_equal(t.extra, ref), day
    clock.sync()
    assert np.array_equal(t.extra, ref)
    assert ref[member].any() and not ref[~member].any()
