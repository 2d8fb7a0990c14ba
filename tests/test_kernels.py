"""The compiled kernels (sim/core/jit.py) against the numpy code they stand in for, the
reference: the same scenarios run both ways give the same numbers, bit for bit, in every
user column and every daily series."""

from __future__ import annotations

import numpy as np
import pytest
from test_invariants import SCENARIOS

from sim import SiyuModel
from sim.core import jit

pytestmark = pytest.mark.skipif(not jit.AVAILABLE, reason="numba is not installed")

# every mechanism acts in at least one (tests/test_invariants.py), plus a presale launch and
# warming-up WeCom accounts (touchpoints), and membership with paid VIP on promotions
EXTRA = {
    "presale_wecom": [
        "market=phone", "channel=wecom_then_personal", "population.n_users=2500", "days=200",
        "seed=31", "market.initial_member_share=0.1", "market.launch_every_days=90",
        "touchpoints.presale_join_prob=0.05", "channel.accounts_warmed=false",
        "strategy.referral.per_year=3",
    ],
    "promotion_vip_fresh_food": [
        "strategy=promotion_heavy", "market=fresh_food", "strategy.membership.enabled=true",
        "strategy.membership.vip=true", "population.n_users=2500", "days=200", "seed=37",
        "market.initial_member_share=0.1",
    ],
}
CASES = {name: [*o, "days=120"] for name, o in {**SCENARIOS, **EXTRA}.items()}  # shorter runs


def run(make_config, overrides: list[str], mode: str, monkeypatch) -> SiyuModel:
    monkeypatch.setattr(jit, "MODE", mode)
    model = SiyuModel(make_config(*overrides))
    model.run()
    return model


def differences(a: SiyuModel, b: SiyuModel) -> list[str]:
    out = []
    for name in a.users.names():
        x, y = getattr(a.users, name), getattr(b.users, name)
        if x.dtype != y.dtype or not np.array_equal(x, y, equal_nan=x.dtype.kind == "f"):
            n = int(np.count_nonzero(x != y)) if x.shape == y.shape else -1
            out.append(f"column {name}: {n} users differ")
    sa, sb = a.series(), b.series()
    for name in sorted(sa):
        x, y = np.asarray(sa[name], float), np.asarray(sb[name], float)
        if not np.array_equal(x, y, equal_nan=True):
            day = int(np.flatnonzero(~((x == y) | (np.isnan(x) & np.isnan(y))))[0]) + 1
            out.append(f"series {name}: first differs on day {day}")
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_kernels_give_the_numpy_numbers(case, make_config, monkeypatch):
    """Kernels forced on for every array size against kernels off."""
    compiled = run(make_config, CASES[case], "numba", monkeypatch)
    reference = run(make_config, CASES[case], "numpy", monkeypatch)
    assert differences(compiled, reference) == []
    assert compiled.summary()["purchases"] > 0


def _threads_available() -> int:
    import numba

    return int(numba.config.NUMBA_NUM_THREADS)


@pytest.mark.parametrize("case", ["promotion_vip_fresh_food", "koc_membership_vip"])
def test_kernels_give_the_same_numbers_on_one_thread_and_two(case, make_config, monkeypatch):
    """The parallel kernels split their loops into fixed chunks (jit.NCHUNK) and join the
    chunks' counts and fired lists in order: a run on two threads is the run on one."""
    if _threads_available() < 2:
        pytest.skip("numba has one thread here")
    import numba

    monkeypatch.setattr(jit, "PARALLEL_MIN", 0)  # every kernel call threaded at 2 threads
    before = numba.get_num_threads()
    try:
        jit.set_threads(1)
        assert jit.threads() == 1
        one = run(make_config, CASES[case], "numba", monkeypatch)
        jit.set_threads(2)
        assert jit.threads() == 2
        two = run(make_config, CASES[case], "numba", monkeypatch)
    finally:
        numba.set_num_threads(before)
    assert differences(one, two) == []
    assert two.summary()["purchases"] > 0


def test_models_in_two_python_threads_give_their_own_numbers(make_config, monkeypatch):
    """Two models run at once from two Python threads (the dashboard's sessions): the
    parallel kernels take turns (one launch at a time) and each run gives its numbers."""
    import threading

    monkeypatch.setattr(jit, "PARALLEL_MIN", 0)
    overrides = [*CASES["service_led"], "days=60"]
    reference = run(make_config, overrides, "numba", monkeypatch)
    models = [SiyuModel(make_config(*overrides)) for _ in range(2)]
    errors: list[BaseException] = []

    def go(model):
        try:
            model.run()
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=go, args=(m,)) for m in models]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for model in models:
        assert differences(model, reference) == []


@pytest.fixture
def two_split_threads(monkeypatch):
    """numba loaded and two threads for :func:`jit.split` from 1,000 elements (restored
    after); skips where numba has one thread."""
    if _threads_available() < 2:
        pytest.skip("numba has one thread here")
    import numba

    monkeypatch.setattr(jit, "MODE", "numba")
    monkeypatch.setattr(jit, "PARALLEL_MIN", 1000)
    jit.preload()
    before = numba.get_num_threads()
    jit.set_threads(2)
    yield
    numba.set_num_threads(before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_split_inplace_gives_numpys_exp(dtype, two_split_threads):
    """numpy's exp in place, in one part per thread: the same array as one call."""
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(30_011) * 20).astype(dtype)
    x[:4] = [0, -np.inf, np.inf, np.nan]
    ref = np.exp(x)
    for lo in (0, 1, 3):  # parts starting off any alignment
        got = x[lo:].copy()
        assert jit.split_inplace(np.exp, got) is got
        assert np.array_equal(got, ref[lo:], equal_nan=True)


def test_split_gives_the_function_numbers(two_split_threads):
    """numpy's powers on a promotion day (Purchase._shift), cut into one part per thread and
    joined: the same array as one call, bit for bit."""
    from sim.core.mechanisms.purchase import Purchase

    rng = np.random.default_rng(5)
    n = 30_007
    scale, a0 = rng.random(n) * 500 + 100, rng.random(n) * 300
    mult = (1 + rng.random(n)).astype(np.float32)
    p = Purchase.__new__(Purchase)
    p.shape = 1.7
    ref = p._shift(scale, a0, mult)
    got = jit.split(p._shift, scale, a0, mult)
    small = jit.split(p._shift, scale[:100], a0[:100], mult[:100])
    assert got.dtype == ref.dtype and np.array_equal(got, ref)
    assert np.array_equal(small, ref[:100])


@pytest.mark.parametrize("n", [1, 63, 64, 65, 1000])
def test_fired_lists_keep_the_index_order_across_chunks(n, monkeypatch):
    """A parallel kernel's chunks list their fired users from their own start; the joined
    list is numpy's ``ids[left <= 0]`` for any length (fewer ids than chunks included)."""
    from sim.core.clocks import advance_column

    monkeypatch.setattr(jit, "MODE", "numba")
    monkeypatch.setattr(jit, "PARALLEL_MIN", 0)
    rng = np.random.default_rng(n)
    R = rng.exponential(size=3 * n + 3)
    ids = np.sort(rng.choice(len(R), n, replace=False)).astype(np.int64)
    h = rng.random(n) * 2
    left = R[ids] - h
    fired = advance_column(R, ids, h)
    assert np.array_equal(fired, ids[left <= 0])
    assert np.array_equal(R[ids], left)
    if n >= 64:
        assert 0 < len(fired) < n


@pytest.mark.parametrize("case", ["exact", "tiny", "above_one", "nan", "big_group"])
def test_group_sums_are_numpys_bincount(case, monkeypatch):
    """The groups' satisfaction sums, added in parallel as fixed-point integers when that is
    exact, else serially: numpy's ``bincount`` sums (member order) bit for bit either way,
    over the members or over a clock's slots (any order, dead slots)."""
    from sim.core.mechanisms.groups import _group_sums

    monkeypatch.setattr(jit, "MODE", "numba")
    monkeypatch.setattr(jit, "PARALLEL_MIN", 0)
    rng = np.random.default_rng(7)
    n_users, n_groups = 50_000, 40
    members = np.sort(rng.choice(n_users, 20_000, replace=False)).astype(np.int32)
    group = rng.integers(-1, n_groups, n_users).astype(np.int32)
    sat = rng.random(n_users, dtype=np.float32)
    if case == "big_group":  # 2**13 members in one group: its float64 sum rounds
        group[members[:9000]] = 3
        sat[members[:9000]] = 1.0
        sat[members[8500:8600]] = np.float32(2.0**-17 * (1 + 2.0**-23))
    odd = members[group[members] >= 0][:5]
    sat[odd] = {"exact": [0.0, 1.0, 2.0**-17, 0.5, 0.25], "tiny": 1e-7,
                "above_one": 1.5, "nan": np.nan, "big_group": 0.1}[case]
    gm = group[members]
    want_n = np.bincount(gm[gm >= 0], minlength=n_groups)
    want_s = np.bincount(gm[gm >= 0], weights=sat[members][gm >= 0], minlength=n_groups)
    # the members as a clock's append layout holds them: shuffled, with dead slots (-1)
    slots = np.insert(rng.permutation(members), rng.integers(0, len(members), 500), -1)
    for compact in (False, True):
        ids = slots if compact else members
        gid = (np.where(ids >= 0, group[ids], -1).astype(np.int32) if compact
               else np.full(len(members), -9, dtype=np.int32))
        count, sums = _group_sums(ids, gid if compact else group, compact, sat, gid,
                                  n_groups, members, group)
        if not compact:
            assert np.array_equal(gid, gm)
        assert np.array_equal(count, want_n)
        assert np.array_equal(sums, want_s, equal_nan=True)


@pytest.mark.parametrize("n", [0, 1, 5, 1000, 20000])
def test_insert_and_delete_are_numpys(n, monkeypatch):
    monkeypatch.setattr(jit, "MODE", "numba")
    rng = np.random.default_rng(n)
    arr = np.sort(rng.choice(10 * n + 10, n, replace=False)).astype(np.int64)
    for k in (0, 1, 3, n + 2):
        at = np.sort(rng.integers(0, n + 1, k))
        values = rng.integers(0, 10**6, k)
        assert np.array_equal(jit.insert(arr, at, values), np.insert(arr, at, values))
        pos = np.sort(rng.choice(max(n, 1), min(k, n), replace=False)) if n else at[:0]
        assert np.array_equal(jit.delete(arr, pos), np.delete(arr, pos))
        for d in (0, 1, min(3, n)):
            pos = np.sort(rng.choice(max(n, 1), d, replace=False)) if n else at[:0]
            at2 = np.sort(rng.integers(0, n - len(pos) + 1, k))
            assert np.array_equal(jit.splice(arr, pos, at2, values),
                                  np.insert(np.delete(arr, pos), at2, values))
    chunks = [np.array([3, 1, 3]), np.array([2])]
    assert np.array_equal(jit.sorted_unique(chunks, arr[:0]), [1, 2, 3])
    assert np.array_equal(jit.sorted_unique([np.array([1, 4])], arr[:0]), [1, 4])
    f = rng.random(n).astype(np.float32)
    at = np.sort(rng.integers(0, n + 1, 4))
    assert np.array_equal(jit.insert(f, at, np.arange(4.0)), np.insert(f, at, np.arange(4.0)))


@pytest.mark.parametrize("n", [1, 63, 64, 65, 5000])
def test_splice_across_chunks_is_numpys(n, monkeypatch):
    """The splice runs in chunks of the kept elements: runs of deletions and of insertions
    across chunk bounds, at both ends, everything deleted, repeated deletions (np.delete
    deletes once) and repeated insertion points; threaded from any size."""
    monkeypatch.setattr(jit, "MODE", "numba")
    monkeypatch.setattr(jit, "PARALLEL_MIN", 0)
    rng = np.random.default_rng(n)
    arr = np.arange(n, dtype=np.int64) * 3
    kept = np.arange(n)
    cases = [
        (kept[: n // 2], np.zeros(0, np.int64)),                   # a run of deletions
        (kept[n // 3:], np.full(7, n // 3)),                        # delete the tail, add after
        (kept, np.zeros(5, np.int64)),                              # everything deleted
        (kept[:0], np.sort(np.r_[np.zeros(3), np.full(3, n), rng.integers(0, n + 1, 50)])),
        (np.sort(rng.choice(n, n // 7, replace=False)), None),
    ]
    for pos, at in cases:
        pos = pos.astype(np.int64)
        if at is None:
            at = np.sort(rng.integers(0, n - len(pos) + 1, max(1, n // 5)))
        at = at.astype(np.int64)
        values = -np.arange(1, len(at) + 1)
        want = np.insert(np.delete(arr, pos), at, values)
        assert np.array_equal(jit.splice(arr, pos, at, values), want), (len(pos), len(at))
        buf = np.full(len(want) + 3, 99, dtype=arr.dtype)  # into part of a larger buffer
        assert jit.splice(arr, pos, at, values, out=buf[:len(want)]).base is buf
        assert np.array_equal(buf[:len(want)], want) and (buf[len(want):] == 99).all()
        if len(at):
            assert np.array_equal(jit.insert(arr, at, values), np.insert(arr, at, values))
        if len(pos):
            twice = np.sort(np.r_[pos, pos[: len(pos) // 2]])
            assert np.array_equal(jit.delete(arr, twice), np.delete(arr, twice))


def test_a_preloaded_process_draws_compiled_at_any_size_with_the_same_numbers(make_config,
                                                                             monkeypatch):
    """A sweep's worker loads the draws' kernel first (jit.preload): a small run then draws
    compiled from its first day and gives the numbers it gives on numpy's draws."""
    overrides = [*CASES["presale_wecom"], "days=60"]
    monkeypatch.setattr(jit, "MODE", "auto")
    monkeypatch.setattr(jit, "_loaded", False)
    assert not jit.live(100)
    reference = SiyuModel(make_config(*overrides))
    reference.run()
    assert not jit._loaded, "the reference run drew on numpy's path"
    jit.preload()
    assert jit.live(1) and jit.live(100)
    compiled = SiyuModel(make_config(*overrides))
    compiled.run()
    assert differences(compiled, reference) == []
    assert compiled.summary()["purchases"] > 0
    monkeypatch.setattr(jit, "MODE", "numpy")
    monkeypatch.setattr(jit, "_loaded", False)
    jit.preload()  # nothing in numpy mode
    assert not jit._loaded


@pytest.mark.parametrize("high", [3, 2**15 - 1, 2**15, 2**40])
def test_stable_order_is_numpys(high):
    """The int16 shortcut gives numpy's stable argsort, ties in arrival order, at the edge of
    the 16-bit range and beyond it."""
    from sim.core.columns import stable_order

    rng = np.random.default_rng(high % 1000)
    for n in (0, 1, 9, 50_000):
        for lo in (0, -high):
            keys = rng.integers(lo, high, n, endpoint=True)
            assert np.array_equal(stable_order(keys), np.argsort(keys, kind="stable"))


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_, np.float32])
def test_unique_is_numpys(dtype):
    """The sort-based ``unique`` the kernels' callers use gives numpy's arrays: the values,
    each value's first index and its count, in numpy's dtypes; floats go to numpy."""
    from sim.core.columns import unique

    rng = np.random.default_rng(7)
    for n in (0, 1, 2, 9, 5000):
        a = rng.integers(0, 40, n).astype(dtype)
        for flags in ((False, False), (True, False), (False, True), (True, True)):
            got = unique(a, *flags)
            want = np.unique(a, return_index=flags[0], return_counts=flags[1])
            got, want = (got, want) if isinstance(got, tuple) else ((got,), (want,))
            assert len(got) == len(want)
            for g, w in zip(got, want, strict=True):
                assert g.dtype == w.dtype and np.array_equal(g, w)


def test_kernels_switch_is_checked():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-c", "import sim.core.jit"], capture_output=True,
                       text=True, env={"SIYU_KERNELS": "fast", "PATH": ""})
    assert r.returncode != 0
    assert "SIYU_KERNELS='fast' is not allowed; allowed: auto, numba, numpy" in r.stderr


@pytest.mark.parametrize("hazard", ["scalar", "float32", "float64", "unsorted"])
def test_clock_advance_kernel_is_numpys(hazard, monkeypatch):
    """Clock.advance's fused loop against its numpy lines: R left, ids fired, in order."""
    from sim.core.clocks import advance_column

    monkeypatch.setattr(jit, "MODE", "numba")
    rng = np.random.default_rng(1)
    R = rng.exponential(size=5000)
    R[rng.random(5000) < 0.1] = np.inf
    ids = np.sort(rng.choice(5000, 2000, replace=False))
    if hazard == "unsorted":
        ids = ids[::-1].copy()
    h = {"scalar": 0.3, "float64": rng.random(2000) * 2}.get(
        hazard, rng.random(2000).astype(np.float32) * 2)
    ref = R.copy()
    left = ref[ids]
    left -= h
    ref[ids] = left
    fired = advance_column(R, ids, h)
    if hazard == "unsorted":  # not the kernel's case: nothing changed, numpy runs
        assert fired is None and not np.array_equal(R, ref)
        return
    assert np.array_equal(R, ref) and np.array_equal(fired, ids[left <= 0]) and len(fired)


@pytest.mark.parametrize("case", ["service_led", "koc_membership_vip", "presale_wecom"])
def test_switching_to_kernels_mid_run_gives_the_numpy_numbers(case, make_config, monkeypatch):
    """In ``auto`` mode a phase switches to its kernel the day its arrays reach MIN_SIZE
    (members grow); the state each path leaves must be what the other expects."""
    reference = run(make_config, CASES[case], "numpy", monkeypatch)
    counts = np.asarray(reference.series()["n_members"])
    start, end = int(counts[0]), int(counts[-1])
    assert end > start + 20, "the scenario must grow to cross the threshold"
    monkeypatch.setattr(jit, "MIN_SIZE", (start + end) // 2)
    switched = run(make_config, CASES[case], "auto", monkeypatch)
    assert differences(switched, reference) == []


def test_switching_back_to_numpy_mid_run_gives_the_numpy_numbers(make_config, monkeypatch):
    """Members shrink (official-account followers leave): the phases that ran their kernels
    over the clocks' append layouts go back to the numpy lines and the index layout the day
    the members fall below MIN_SIZE."""
    overrides = ["channel=official_account", "touchpoints.divert_per_month=0",
                 "population.n_users=2500", "days=120", "seed=41",
                 "market.initial_member_share=0.15"]
    reference = run(make_config, overrides, "numpy", monkeypatch)
    counts = np.asarray(reference.series()["n_members"])
    start, end = int(counts[0]), int(counts[-1])
    assert end < start - 40, "the scenario must shrink to cross the threshold"
    monkeypatch.setattr(jit, "MIN_SIZE", (start + end) // 2)
    switched = run(make_config, overrides, "auto", monkeypatch)
    assert differences(switched, reference) == []


@pytest.mark.parametrize("n", [0, 1, 2, 1000])
def test_uniform_kernel_is_numpys(n, monkeypatch):
    """Stream.uniform's compiled loop against its numpy lines (the SplitMix64 finaliser on
    uint64, which wraps alike, and the exact conversion to float64): the same draws for a
    day counter, a per-user counter (negative ones wrap as numpy's cast does) and one value."""
    from sim.core import rng

    s = rng.Stream(7, "referral.target")
    g = np.random.default_rng(n)
    ids = np.sort(g.choice(10**7, n, replace=False))
    for counter in (3, np.int32(5), -1, np.array([9]), g.integers(-5, 100, n).astype(np.int32),
                    g.integers(0, 2**40, n)):
        reference = (s.bits(ids, counter) >> rng._S11).astype(np.float64) * rng._INV53
        monkeypatch.setattr(jit, "MODE", "numba")
        drawn = s.uniform(ids, counter)
        monkeypatch.setattr(jit, "MODE", "numpy")
        assert drawn.dtype == reference.dtype and np.array_equal(drawn, reference)
        assert np.array_equal(s.uniform(ids, counter), reference)


def test_filed_owner_clocks_run_out_on_the_day_the_daily_subtraction_gives():
    """FrozenOwners (the referral clocks of owners outside the private domain, filed by the
    day they run out) against the daily float64 subtraction of a float32 hazard it replaces:
    the same day, and the same value left on every day before it; a hazard too small for
    the subtraction to be exact is refused (it stays in the daily pass)."""
    from sim.core.mechanisms.referral import FrozenOwners

    g = np.random.default_rng(3)
    n = 4000
    left = -np.log1p(-g.random(n))
    h = (g.random(n) * np.float32(0.3)).astype(np.float32).astype(np.float64)
    h[:50] = 0.0                                   # never runs out
    h[50:100] = left[50:100] * 1.5                 # runs out on the first day
    h[100:150] = np.float32(1e-12)                 # too small: not exact, refused
    f = FrozenOwners(n)
    ids = np.arange(n)
    refused = f.file(ids, left.copy(), h, day0=10)
    assert refused[100:150].all() and not refused[:100].any() and refused.sum() < 60
    ok = ids[~refused]
    x = left.copy()
    fired_on = np.full(n, -1)
    for day in range(11, 400):
        alive = fired_on < 0
        x[alive] = x[alive] - h[alive]  # the daily pass
        if day % 37 == 0:  # the value left, as if the owner came back today
            probe = ok[(fired_on[ok] < 0) & (x[ok] > 0)]
            assert np.array_equal(f.left_after(probe, day), x[probe])
        fired_on[alive & (x <= 0)] = day
        due = f.due_on(day)
        expect = ok[fired_on[ok] == day]
        assert np.array_equal(due, expect), day
    assert (fired_on[:50] == -1).all() and (fired_on[50:100] == 11).all()
    assert f.count == np.count_nonzero(fired_on[ok] == -1)


def test_multiple_is_fmods():
    """The filing's test that a hazard is a whole multiple of the spacing of the hazard left:
    ``np.fmod(h, unit) == 0``, on float32 hazards and spacings of any size."""
    from sim.core.mechanisms.referral import _multiple

    rng = np.random.default_rng(11)
    h = np.concatenate([rng.random(20_000).astype(np.float32).astype(np.float64) * 10.0**k
                        for k in (-40, -8, -3, 0, 3)])
    h = np.concatenate([h, [0.0, 2.0**-149, 1.0, 3.0, 2.0**100]])
    left = np.concatenate([rng.exponential(size=len(h) // 2),
                           10.0 ** rng.uniform(-320, 300, len(h) - len(h) // 2)])
    unit = np.spacing(left)
    assert (unit > 0).all()
    want = np.fmod(h, unit) == 0
    assert want.any() and not want.all()
    assert np.array_equal(_multiple(h, unit), want)


def test_due_queue_gives_each_id_on_its_day():
    from sim.core.mechanisms.referral import DueQueue

    g = np.random.default_rng(5)
    q = DueQueue()
    expected: dict[int, list[int]] = {}
    next_id = 0
    day = 0
    while day < 300:  # days taken one by one, then with gaps across merges (days skipped)
        day += 1 if day < 120 else int(g.integers(1, 50))
        k = int(g.integers(0, 40))
        ids = np.arange(next_id, next_id + k)
        next_id += k
        due = day + g.integers(1, 100, k)  # near (before the next merge) and far
        q.add(ids, due)
        for i, d in zip(ids.tolist(), due.tolist(), strict=True):
            expected.setdefault(d, []).append(i)
        got = np.sort(q.take(day))
        want = sorted(i for d in [d for d in expected if d <= day] for i in expected.pop(d))
        assert np.array_equal(got, want), day


def test_kernels_file_the_outside_owners_clocks(make_config, monkeypatch):
    """With the kernels, the clocks of owners outside the private domain leave the daily
    pass (filed) and come back when they join; every 32 days the held owners are checked
    against the model's owners index, and the run gives the numpy path's numbers (above)."""
    monkeypatch.setattr(jit, "MODE", "numba")
    cfg = make_config(*CASES["presale_wecom"])
    model = SiyuModel(cfg)
    ref = model.mechanisms["referral"]
    monkeypatch.setattr(type(ref.clock), "check_all", True)
    back = []
    model.run(5)
    f = ref._frozen
    assert f is not None and f.count > 0
    orig = f.take

    def take(ids, day):
        back.append(len(ids))
        return orig(ids, day)

    monkeypatch.setattr(f, "take", take)
    model.run()
    owners = model.owners()
    assert ref.clock.live + f.count == len(owners)
    assert f.count > 0 and sum(back) > 0  # owners came back into the private domain


def test_referral_switching_to_its_kernels_mid_run_files_the_outside_owners(make_config,
                                                                              monkeypatch):
    """The owners cross MIN_SIZE mid-run: the referral clock moves from the index layout (numpy)
    to the kernels' layout and files the clocks of the owners outside the private domain then;
    the numbers are the numpy path's."""
    overrides = CASES["presale_wecom"]
    reference = run(make_config, overrides, "numpy", monkeypatch)
    start = int(np.count_nonzero(SiyuModel(make_config(*overrides)).users.owner))
    end = len(reference.owners())
    assert end > start + 20
    monkeypatch.setattr(jit, "MIN_SIZE", (start + end) // 2)
    switched = run(make_config, overrides, "auto", monkeypatch)
    ref = switched.mechanisms["referral"]
    assert ref._frozen is not None and ref._frozen.count > 0  # it did switch, and file
    assert differences(switched, reference) == []
