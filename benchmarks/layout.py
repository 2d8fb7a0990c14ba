"""What the user table's layout costs a member-heavy day: the same fused pass over the
members, on population-sized columns (today: member ids spread over all users) and on
compact arrays in member order (a member-major layout).

    .venv/bin/python benchmarks/layout.py                 # 10M users, 1.4M members (~1 min)
    .venv/bin/python benchmarks/layout.py --users 3000000 --members 300000

A pass reads four float32 columns and one int8 column per member and writes two float32
ones: the shape of the model's phase kernels (service, churn, messaging, groups). At the
member-heavy size each member's few bytes sit in their own cache line of each column, so
a pass over population-sized columns moves whole columns through memory; on compact
arrays it moves only the members' bytes. The ratio is what a member-major layout would
buy the model's kernels (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sim.core import jit


@jit.kernel
def _scattered(ids, a, b, c, d, ch, out1, out2):  # pragma: no cover - compiled
    s = 0.0
    for j in range(ids.shape[0]):
        i = ids[j]
        x = a[i] * np.float32(0.5) + b[i] - c[i] * d[i] + np.float32(ch[i])
        out1[i] = x
        out2[i] = a[i] + x
        s += x
    return s


@jit.kernel
def _compact(a, b, c, d, ch, out1, out2):  # pragma: no cover - compiled
    s = 0.0
    for j in range(a.shape[0]):
        x = a[j] * np.float32(0.5) + b[j] - c[j] * d[j] + np.float32(ch[j])
        out1[j] = x
        out2[j] = a[j] + x
        s += x
    return s


def best_ms(f, repeat: int) -> float:
    f()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return 1000 * min(times)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=10_000_000)
    ap.add_argument("--members", type=int, default=1_400_000)
    ap.add_argument("--repeat", type=int, default=20)
    a = ap.parse_args(argv)
    if not 0 < a.members <= a.users:
        raise SystemExit(f"--members={a.members}: allowed 1..--users ({a.users})")
    rng = np.random.default_rng(0)
    ids = np.sort(rng.choice(a.users, a.members, replace=False))
    cols = [rng.random(a.users, dtype=np.float32) for _ in range(4)]
    ch = rng.integers(0, 3, a.users).astype(np.int8)
    out = [np.zeros(a.users, np.float32) for _ in range(2)]
    compact = [c[ids] for c in cols] + [ch[ids]] + [o[ids] for o in out]
    s1 = best_ms(lambda: _scattered(ids, *cols, ch, *out), a.repeat)
    s2 = best_ms(lambda: _compact(*compact), a.repeat)
    s3 = best_ms(lambda: cols[0][ids], a.repeat)
    print(f"{a.users:,} users, {a.members:,} members ({a.members / a.users:.0%}); "
          f"a pass reading 4 float32 + 1 int8 and writing 2 float32 per member:")
    print(f"  population-sized columns: {s1:6.2f} ms   ({1e6 * s1 / a.members:5.2f} ns/member)")
    print(f"  compact, member order:    {s2:6.2f} ms   ({1e6 * s2 / a.members:5.2f} ns/member)")
    print(f"  ratio {s1 / s2:.1f}x;  one numpy gather of a float32 column: {s3:.2f} ms")


if __name__ == "__main__":
    main()
