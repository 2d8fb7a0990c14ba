"""Tests for sim.core.graph: CSR invariants, generators, queries and the edge-list loader."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse

from sim.core import graph as g
from sim.core.graph import GraphFileError, SocialGraph


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def rows_of(G: SocialGraph) -> np.ndarray:
    return np.repeat(np.arange(G.n), np.diff(G.indptr))


def assert_valid_csr(G: SocialGraph) -> None:
    """Undirected CSR invariants every non-complete graph must satisfy."""
    assert G.indptr.dtype == np.int64 and G.indices.dtype == np.int32
    assert G.indptr.shape == (G.n + 1,) and G.indptr[0] == 0 and G.indptr[-1] == G.indices.size
    assert np.all(np.diff(G.indptr) >= 0)
    r = rows_of(G)
    c = G.indices.astype(np.int64)
    assert np.all((c >= 0) & (c < G.n))
    assert not np.any(r == c), "self loop"
    # strictly increasing within rows => sorted and no duplicates
    same_row = r[1:] == r[:-1]
    assert np.all(c[1:][same_row] > c[:-1][same_row]), "rows unsorted or duplicate"
    # symmetric: every stored (a, b) also stored as (b, a)
    assert np.all(G.has_edge(r, c)) and np.all(G.has_edge(c, r))
    fwd = np.sort(r * G.n + c)
    bwd = np.sort(c * G.n + r)
    assert np.array_equal(fwd, bwd)
    assert G.n_edges * 2 == G.indices.size
    assert np.array_equal(G.degree(), np.diff(G.indptr))


# ----------------------------------------------------------------- from_edges
def test_from_edges_symmetrises_and_cleans():
    G = g.from_edges(6, np.array([0, 1, 2, 2, 5, 3, 3]), np.array([1, 0, 3, 2, 0, 1, 2]), "edge_list")
    assert_valid_csr(G)
    assert G.n_edges == 4  # (0,1) (2,3) (0,5) (1,3); dup and self loop dropped
    assert G.degree().tolist() == [2, 2, 1, 2, 0, 1]
    assert G.indices[G.indptr[0] : G.indptr[1]].tolist() == [1, 5]
    assert G.degree(np.array([4, 3])).tolist() == [0, 2]
    assert G.kind == "edge_list" and not G.is_complete


def test_from_edges_empty_and_out_of_range():
    G = g.from_edges(3, np.array([], np.int64), np.array([], np.int64), "edge_list")
    assert_valid_csr(G)
    assert G.n_edges == 0
    with pytest.raises(ValueError):
        g.from_edges(3, np.array([0]), np.array([3]), "edge_list")
    with pytest.raises(ValueError):
        g.from_edges(3, np.array([-1]), np.array([1]), "edge_list")


def test_arrays_read_only():
    G = g.small_world(20, 4, 0.0, rng())
    with pytest.raises(ValueError):
        G.indices[0] = 1


def test_from_edges_matches_scipy_random():
    r = rng(3)
    n = 300
    src, dst = r.integers(0, n, 2000), r.integers(0, n, 2000)
    G = g.from_edges(n, src, dst, "edge_list")
    assert_valid_csr(G)
    A = scipy.sparse.coo_matrix((np.ones(src.size), (src, dst)), shape=(n, n))
    A = ((A + A.T) > 0).astype(np.int8).tolil()
    A.setdiag(0)
    A = A.tocsr()
    A.eliminate_zeros()
    A.sort_indices()
    assert np.array_equal(A.indptr, G.indptr) and np.array_equal(A.indices, G.indices)
    assert (G.to_scipy() != A).nnz == 0


@pytest.mark.parametrize("n, m_edges", [(2, 1), (7, 0), (300, 2000), (50, 20000),
                                         (20000, 120000)])
def test_from_edges_compiled_is_the_numpy_csr(n, m_edges, monkeypatch):
    """The counting-sort kernel used for large edge lists gives the two sorts' CSR arrays:
    duplicates both ways round, self loops, hubs with long rows, isolated nodes."""
    from sim.core import jit

    if not jit.AVAILABLE:
        pytest.skip("numba is not installed")
    r = rng(n + m_edges)
    src = r.integers(0, n, m_edges)
    dst = r.integers(0, max(1, n // 7) if n > 100 else n, m_edges).astype(np.int32)  # hubs
    both = [src, dst], [np.r_[src, dst], np.r_[dst, src]]  # every edge twice, both ways
    for s, d in both:
        monkeypatch.setattr(jit, "MODE", "numba")
        compiled = g.from_edges(n, s, d, "edge_list")
        monkeypatch.setattr(jit, "MODE", "numpy")
        reference = g.from_edges(n, s, d, "edge_list")
        assert_valid_csr(compiled)
        assert compiled.indptr.dtype == reference.indptr.dtype
        assert compiled.indices.dtype == reference.indices.dtype
        assert np.array_equal(compiled.indptr, reference.indptr)
        assert np.array_equal(compiled.indices, reference.indices)


# ----------------------------------------------------------------- generators
def test_scale_free_degrees_and_tail():
    m = 3
    G = g.scale_free(20000, m, rng(1))
    assert_valid_csr(G)
    d = G.degree()
    assert G.kind == "scale_free"
    assert abs(d.mean() - 2 * m) < 0.1
    assert d.min() >= m  # BA: every node brings m distinct edges
    assert d.max() > 10 * d.mean()
    # power-law exponent ~3 (discrete MLE, Clauset et al. 2009 approximation)
    x = d[d >= 10]
    alpha = 1 + x.size / np.log(x / 9.5).sum()
    assert 2.5 < alpha < 3.5


@pytest.mark.parametrize("n,m", [(1, 1), (3, 2), (4, 3), (5, 1), (50, 4)])
def test_scale_free_small(n, m):
    G = g.scale_free(n, m, rng(2))
    assert_valid_csr(G)
    assert G.n == n
    if n > 1:
        assert G.degree().min() >= 1


def test_small_world_lattice_exact():
    n, k = 30, 6
    G = g.small_world(n, k, 0.0, rng())
    assert_valid_csr(G)
    assert np.all(G.degree() == k)
    i = np.arange(n)
    for j in range(1, k // 2 + 1):
        assert np.all(G.has_edge(i, (i + j) % n))
        assert np.all(G.has_edge(i, (i - j) % n))
    assert not np.any(G.has_edge(i, (i + k // 2 + 1) % n))


def test_small_world_rewired():
    n, k = 5000, 10
    G = g.small_world(n, k, 0.2, rng(4))
    assert_valid_csr(G)
    assert abs(G.degree().mean() - k) < 0.05
    i = np.arange(n)
    lattice_kept = np.mean([G.has_edge(i, (i + j) % n).mean() for j in range(1, k // 2 + 1)])
    assert 0.75 < lattice_kept < 0.85  # ~1-p of lattice edges survive
    G1 = g.small_world(n, k, 1.0, rng(4))
    assert_valid_csr(G1)


def test_small_world_bad_args():
    with pytest.raises(ValueError):
        g.small_world(10, 3, 0.1, rng())
    with pytest.raises(ValueError):
        g.small_world(10, 10, 0.1, rng())
    with pytest.raises(ValueError):
        g.small_world(10, 4, 1.5, rng())


def test_same_seed_same_graph():
    for make in (lambda s: g.scale_free(3000, 2, rng(s)), lambda s: g.small_world(3000, 4, 0.3, rng(s))):
        a, b, c = make(7), make(7), make(8)
        assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
        assert not (np.array_equal(a.indptr, c.indptr) and np.array_equal(a.indices, c.indices))


# --------------------------------------------------------------------- queries
def test_sample_neighbors_true_neighbours_and_coverage():
    G = g.scale_free(2000, 3, rng(5))
    r = rng(6)
    users = r.integers(0, G.n, 50000)
    nb = G.sample_neighbors(users, r.random(users.size))
    assert nb.dtype == np.int64
    assert np.all(G.has_edge(users, nb))
    # u spread over [0,1) hits every neighbour of a node exactly once
    for v in (0, 17, int(np.argmax(G.degree()))):
        d = int(G.degree(np.array([v]))[0])
        u = (np.arange(d) + 0.5) / d
        got = G.sample_neighbors(np.full(d, v), u)
        assert np.array_equal(got, G.indices[G.indptr[v] : G.indptr[v + 1]])
    # deterministic given u, and u just below 1 stays in the row
    assert np.array_equal(G.sample_neighbors(users[:100], np.full(100, 0.3)), G.sample_neighbors(users[:100], np.full(100, 0.3)))
    top = G.sample_neighbors(users[:100], np.full(100, np.nextafter(1.0, 0)))
    assert np.all(G.has_edge(users[:100], top))


def test_sample_neighbors_isolated():
    G = g.from_edges(5, np.array([0, 1]), np.array([1, 2]), "edge_list")
    out = G.sample_neighbors(np.array([3, 4, 0, 1, 1]), np.array([0.5, 0.0, 0.9, 0.2, 0.7]))
    assert out.tolist() == [-1, -1, 1, 0, 2]
    with pytest.raises(IndexError):
        G.sample_neighbors(np.array([-1]), np.array([0.5]))
    with pytest.raises(IndexError):
        G.has_edge(np.array([5]), np.array([0]))


def test_sample_neighbors_complete():
    n = 7
    C = g.complete(n)
    users = np.repeat(np.arange(n), 6)
    u = np.tile((np.arange(6) + 0.5) / 6, n)
    nb = C.sample_neighbors(users, u)
    assert np.all(nb != users) and np.all((nb >= 0) & (nb < n))
    for v in range(n):
        assert sorted(nb[users == v].tolist()) == [w for w in range(n) if w != v]
    assert g.complete(1).sample_neighbors(np.array([0]), np.array([0.3])).tolist() == [-1]


def brute_share(G: SocialGraph, flag: np.ndarray) -> np.ndarray:
    out = np.zeros(G.n)
    for v in range(G.n):
        nb = G.indices[G.indptr[v] : G.indptr[v + 1]]
        out[v] = flag[nb].mean() if nb.size else 0.0
    return out


def test_neighbor_share_matches_brute_force():
    r = rng(8)
    G = g.from_edges(60, r.integers(0, 60, 50), r.integers(0, 60, 50), "edge_list")
    assert np.any(G.degree() == 0)  # exercise isolated rows
    flag = r.random(60) < 0.4
    assert np.allclose(G.neighbor_share(flag), brute_share(G, flag))
    A = G.to_scipy()
    deg = G.degree()
    ref = np.divide(A @ flag.astype(float), deg, out=np.zeros(G.n), where=deg > 0)
    assert np.allclose(G.neighbor_share(flag), ref)


def test_neighbor_share_complete():
    n = 9
    flag = np.array([1, 0, 1, 1, 0, 0, 0, 1, 0], bool)
    share = g.complete(n).neighbor_share(flag)
    expect = [(flag.sum() - flag[i]) / (n - 1) for i in range(n)]
    assert np.allclose(share, expect)
    assert g.complete(1).neighbor_share(np.array([True])).tolist() == [0.0]


def test_has_edge_random_queries():
    G = g.scale_free(500, 2, rng(9))
    dense = G.to_scipy().toarray() > 0
    r = rng(10)
    a, b = r.integers(0, 500, 20000), r.integers(0, 500, 20000)
    assert np.array_equal(G.has_edge(a, b), dense[a, b])
    assert G.has_edge(np.array(3), np.array(3)).shape == ()
    E = g.from_edges(4, np.array([], int), np.array([], int), "edge_list")
    assert not E.has_edge(np.array([0, 1]), np.array([1, 2])).any()


def test_complete_graph():
    C = g.complete(5)
    assert C.is_complete and C.indptr is None and C.indices is None and C.kind == "complete"
    assert C.degree().tolist() == [4] * 5
    assert C.degree(np.array([1, 2])).tolist() == [4, 4]
    assert C.n_edges == 10
    assert repr(C) == "SocialGraph(kind='complete', n=5, n_edges=10)"
    assert C.has_edge(np.array([0, 1, 2]), np.array([1, 1, 4])).tolist() == [True, False, True]
    with pytest.raises(ValueError):
        C.to_scipy()


def test_to_scipy():
    G = g.small_world(40, 4, 0.3, rng(11))
    A = G.to_scipy()
    assert isinstance(A, scipy.sparse.csr_matrix) and A.shape == (40, 40)
    assert (A != A.T).nnz == 0 and A.sum() == 2 * G.n_edges


# ------------------------------------------------------------ load_edge_list
def test_load_edge_list_round_trip(tmp_path):
    G = g.scale_free(300, 2, rng(12))
    r = rows_of(G)
    keep = r < G.indices  # each undirected edge once
    p = tmp_path / "edges.txt"
    lines = ["# header comment", ""]
    for i, (a, b) in enumerate(zip(r[keep], G.indices[keep], strict=False)):
        lines.append(f"{a},{b}" if i % 3 == 0 else f"  {a}\t{b}  # trailing" if i % 3 == 1 else f"{b} {a}\r")
    p.write_text("\n".join(lines))  # no trailing newline
    H = g.load_edge_list(p, 300)
    assert H.kind == "edge_list"
    assert np.array_equal(H.indptr, G.indptr) and np.array_equal(H.indices, G.indices)
    assert_valid_csr(H)


def test_load_edge_list_chunked(tmp_path, monkeypatch):
    # small chunks: lines straddle chunk boundaries; error line numbers stay global
    monkeypatch.setattr(g, "_CHUNK_BYTES", 64)
    r = rng(13)
    src, dst = r.integers(0, 1000, 400), r.integers(0, 1000, 400)
    p = tmp_path / "e.txt"
    p.write_text("".join(f"{a} {b}\n" for a, b in zip(src, dst, strict=False)))
    H = g.load_edge_list(p, 1000)
    G = g.from_edges(1000, src, dst, "edge_list")
    assert np.array_equal(H.indptr, G.indptr) and np.array_equal(H.indices, G.indices)
    lines = [f"{a} {b}" for a, b in zip(src, dst, strict=False)]
    lines[250] = "1 2 3"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(GraphFileError, match=r"line 251: expected two integer user ids, got '1 2 3'"):
        g.load_edge_list(p, 1000)
    lines[250] = "1 2"
    lines[333] = "5 1000"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(GraphFileError, match=r"line 334: user id 1000 out of range 0\.\.999"):
        g.load_edge_list(p, 1000)


@pytest.mark.parametrize(
    "content,line,what",
    [
        ("0 1\n1 2\n# c\n\n3 4\n5 6\na b c\n", 7, "expected two integer user ids, got 'a b c'"),
        ("0 1\n2\n", 2, "expected two integer user ids, got '2'"),
        ("0 1\n1 x2\n", 2, "expected two integer user ids, got '1 x2'"),
        ("0 1\n1 2.5\n", 2, "expected two integer user ids, got '1 2.5'"),
        ("0 1\n1 -\n", 2, "expected two integer user ids, got '1 -'"),
        ("0 1\n1 2\n25 3\n", 3, "user id 25 out of range 0..19 (population.n_users=20)"),
        ("0 1\n-1 3\n", 2, "user id -1 out of range 0..19 (population.n_users=20)"),
        ("0 99999999999999999999999\n", 1, "user id 99999999999999999999999 out of range"),
        ("0 1\n1 20 7\n30 1\n", 2, "expected two integer user ids"),  # first bad line wins
        ("0 1\n40 1\n1 x\n", 2, "user id 40 out of range"),
    ],
)
def test_load_edge_list_errors(tmp_path, content, line, what):
    p = tmp_path / "edges.txt"
    p.write_text(content)
    with pytest.raises(GraphFileError) as ei:
        g.load_edge_list(p, 20)
    msg = str(ei.value)
    assert "\n" not in msg
    assert msg.startswith(f"graph.path={p} line {line}: ")
    assert what in msg


def test_load_edge_list_file_errors(tmp_path):
    missing = tmp_path / "nope.txt"
    with pytest.raises(GraphFileError, match=r"^graph\.path=.*nope\.txt: file not found$"):
        g.load_edge_list(missing, 20)
    for content in ("", "# only a comment\n\n   \n"):
        p = tmp_path / "empty.txt"
        p.write_text(content)
        with pytest.raises(GraphFileError, match=r"^graph\.path=.*empty\.txt: no edges$"):
            g.load_edge_list(p, 20)
    with pytest.raises(GraphFileError, match=r"^graph\.path=.*: is a directory"):
        g.load_edge_list(tmp_path, 20)
    assert issubclass(GraphFileError, ValueError)


def test_build_graph_dispatch(tmp_path):
    from types import SimpleNamespace as NS

    class Streams:
        def generator(self, name):
            return np.random.default_rng(5)

    def cfg(**kw):
        base = dict(kind="scale_free", m=2, k=4, p_rewire=0.1, path=None)
        base.update(kw)
        return NS(graph=NS(**base), population=NS(n_users=50))

    assert g.build_graph(cfg(), Streams()).kind == "scale_free"
    sw = g.build_graph(cfg(kind="small_world"), Streams())
    assert sw.kind == "small_world" and sw.n == 50
    assert g.build_graph(cfg(kind="complete"), Streams()).is_complete
    p = tmp_path / "e.txt"
    p.write_text("0 1\n1 2\n")
    assert g.build_graph(cfg(kind="edge_list", path=str(p)), Streams()).n_edges == 2
    with pytest.raises(ValueError):
        g.build_graph(cfg(kind="bogus"), Streams())
