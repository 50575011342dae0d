"""The added projection methods (PaCMAP, TriMap, Isomap, MDS, kernel PCA, spectral, LLE) and
Compare methods: determinism, values against scikit-learn / brute-force references, settings,
failures."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from test_reduce import clustered

import semanscope.reduce.settings as settings_mod
from semanscope.reduce import (
    METHODS,
    ProjectionCache,
    available_methods,
    compare_methods,
    project,
    resolve_settings,
    unavailable_methods,
)
from semanscope.reduce.manifold import euclidean_matrix, kernel_embedding, pca, smacof
from semanscope.reduce.projection import capped_threads, l2_normalize_rows

FAST = {  # small but valid settings that keep each test quick
    "pacmap": {"num_iters": 50},
    "trimap": {"n_iters": 60},
    "mds": {"max_iter": 30},
}
ADDED = ("pacmap", "trimap", "isomap", "mds", "kpca", "spectral", "lle")


def needs(method: str):
    return pytest.mark.skipif(method not in available_methods(), reason=f"{method} package not installed")


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    return clustered()  # 24 concepts x 5 languages, d = 32


def same_up_to_sign(a: np.ndarray, b: np.ndarray, atol: float) -> None:
    signs = np.sign((a * b).sum(axis=0))
    np.testing.assert_allclose(a, b * signs, atol=atol)


def arc(n: int = 60, span: float = 1.5 * np.pi, d: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` unit vectors on a ``span``-radian arc of a great circle in R^d, and their angles."""
    theta = np.linspace(0.0, span, n)
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, 2)))
    return np.c_[np.cos(theta), np.sin(theta)] @ q.T, theta


# ---------------------------------------------------------------------- every method
@pytest.mark.parametrize("method", ADDED)
@pytest.mark.parametrize("n_components", [2, 3])
def test_shape_dtype_and_determinism(X, method, n_components):
    if method not in available_methods():
        pytest.skip(f"{method} package not installed")
    kw = FAST.get(method, {})
    a = project(X, method, n_components=n_components, seed=3, **kw)
    assert a.shape == (X.shape[0], n_components) and a.dtype == np.float64 and np.isfinite(a).all()
    np.testing.assert_array_equal(a, project(X, method, n_components=n_components, seed=3, **kw))


@pytest.mark.parametrize("method", ["pacmap", "trimap", "isomap", "mds", "kpca", "spectral"])
def test_translations_land_closer_than_strangers(X, method):
    if method not in available_methods():
        pytest.skip(f"{method} package not installed")
    Y = project(X, method, n_components=2, **FAST.get(method, {}))
    concept = np.repeat(np.arange(24), 5)
    d = np.linalg.norm(Y[:, None] - Y[None], axis=-1)
    same = (concept[:, None] == concept[None]) & ~np.eye(len(Y), dtype=bool)
    assert d[same].mean() < 0.5 * d[concept[:, None] != concept[None]].mean()


@pytest.mark.parametrize("method", ["pacmap", "trimap"])
def test_seed_changes_the_stochastic_methods(X, method):
    if method not in available_methods():
        pytest.skip(f"{method} package not installed")
    kw = FAST[method]
    assert not np.allclose(project(X, method, seed=0, **kw), project(X, method, seed=1, **kw))


# ---------------------------------------------------------------------- maths references
@pytest.mark.parametrize("m", [7, 60])
def test_kernel_embedding_matches_dense_eigendecomposition(m):
    rng = np.random.default_rng(m)
    A = rng.normal(size=(m, 5))
    K = A @ A.T + 0.1 * np.eye(m)
    J = np.eye(m) - 1.0 / m
    values, vectors = np.linalg.eigh(J @ K @ J)
    ref = vectors[:, ::-1][:, :3] * np.sqrt(values[::-1][:3])
    Y = kernel_embedding(K.copy(), 3, seed=0)
    same_up_to_sign(Y, ref, atol=1e-8)
    for k in range(3):  # sign convention: largest-magnitude entry positive
        assert Y[np.abs(Y[:, k]).argmax(), k] > 0


def test_euclidean_matrix_blocks_match_scipy(monkeypatch):
    from scipy.spatial.distance import cdist

    import semanscope.reduce.manifold as manifold

    monkeypatch.setattr(manifold, "BLOCK_ROWS", 7)  # several blocks and a ragged last one
    A = np.random.default_rng(0).normal(size=(30, 4))
    np.testing.assert_allclose(euclidean_matrix(A), cdist(A, A), atol=1e-12)


def test_smacof_matches_scikit_learn_step_for_step(monkeypatch):
    from sklearn.manifold import smacof as sk_smacof

    import semanscope.reduce.manifold as manifold

    monkeypatch.setattr(manifold, "BLOCK_ROWS", 8)
    rng = np.random.default_rng(0)
    P = rng.normal(size=(25, 5))  # not embeddable in 2D: the stress stays > 0
    delta = euclidean_matrix(P)
    init = rng.normal(size=(25, 2))
    ours, stress, n_iter = smacof(delta, init, max_iter=12, eps=0.0)
    ref, ref_stress, ref_iter = sk_smacof(
        delta, metric=True, init=init, n_init=1, max_iter=12, eps=0.0, return_n_iter=True, normalized_stress=False
    )
    assert n_iter == ref_iter == 12
    np.testing.assert_allclose(ours, ref, atol=1e-9)
    assert stress == pytest.approx(ref_stress, rel=1e-9)


def test_smacof_lowers_stress_and_stops_on_eps():
    rng = np.random.default_rng(1)
    delta = euclidean_matrix(rng.normal(size=(40, 6)))
    init = pca(rng.normal(size=(40, 6)), 2)
    stresses = [smacof(delta, init, max_iter=k, eps=0.0)[1] for k in (0, 1, 5, 20)]
    assert all(b <= a for a, b in zip(stresses, stresses[1:], strict=False))
    _, _, n_iter = smacof(delta, init, max_iter=500, eps=1e-3)
    assert 1 <= n_iter < 500


def test_mds_recovers_distances_that_fit_in_3d():
    rng = np.random.default_rng(2)
    U = l2_normalize_rows(rng.normal(size=(40, 3)))  # unit vectors of R^3 ...
    q, _ = np.linalg.qr(rng.normal(size=(10, 3)))
    X = U @ q.T  # ... rotated into R^10: still unit rows with the same distances
    Y = project(X, "mds", n_components=3)
    np.testing.assert_allclose(euclidean_matrix(Y), euclidean_matrix(U), atol=1e-6)


def test_isomap_matches_scikit_learn(X):
    from sklearn.manifold import Isomap

    Xn = l2_normalize_rows(X.astype(np.float64))
    ref = Isomap(n_neighbors=15, n_components=3).fit_transform(Xn)
    same_up_to_sign(project(X, "isomap", n_components=3), ref, atol=1e-6)


def test_isomap_unrolls_an_arc_to_its_arc_length():
    X, theta = arc()
    Y = project(X, "isomap", n_components=2, n_neighbors=4)
    along = Y[:, 0] * np.sign(np.corrcoef(Y[:, 0], theta)[0, 1])
    # geodesic = arc length (chords of 4.6 degrees are 0.03% shorter than their arcs)
    np.testing.assert_allclose(along - along[0], theta - theta[0], rtol=2e-3, atol=2e-3)
    assert np.abs(Y[:, 1]).max() < 0.01 * np.ptp(Y[:, 0])
    pca_span = np.ptp(project(X, "pca", n_components=2)[:, 0])
    assert pca_span < 0.5 * np.ptp(Y[:, 0])  # PCA folds the 270-degree arc, Isomap does not


def test_kpca_cosine_is_pca_and_rbf_matches_scikit_learn(X):
    from sklearn.decomposition import KernelPCA

    same_up_to_sign(project(X, "kpca", n_components=3, kernel="cosine"), project(X, "pca", n_components=3), 1e-8)
    Xn = l2_normalize_rows(X.astype(np.float64))
    ref = KernelPCA(n_components=3, kernel="rbf", gamma=0.7, eigen_solver="dense").fit_transform(Xn)
    same_up_to_sign(project(X, "kpca", n_components=3, gamma=0.7), ref, atol=1e-8)


def test_spectral_matches_scikit_learn_nearest_neighbors_affinity(X):
    from sklearn.manifold import SpectralEmbedding

    Xn = l2_normalize_rows(X.astype(np.float64))
    ref = SpectralEmbedding(n_components=2, n_neighbors=15, random_state=4, eigen_solver="arpack").fit_transform(Xn)
    np.testing.assert_allclose(project(X, "spectral", n_components=2, seed=4), ref, atol=1e-8)


def test_spectral_maps_a_ring_to_a_circle():
    X, theta = arc(n=80, span=2 * np.pi * 79 / 80)
    Y = project(X, "spectral", n_components=2, n_neighbors=6)
    radius = np.linalg.norm(Y - Y.mean(axis=0), axis=1)
    assert radius.std() < 0.05 * radius.mean()


def test_lle_orders_points_along_an_arc():
    from scipy.stats import spearmanr

    X, theta = arc()
    Y = project(X, "lle", n_components=2, n_neighbors=6)
    assert abs(spearmanr(Y[:, 0], theta).statistic) > 0.99


# ---------------------------------------------------------------------- settings and limits
@pytest.mark.parametrize(
    "method, kwargs, match",
    [
        ("isomap", dict(n_neighbors=10), r"isomap: n_neighbors must be an integer between 1 and 9"),
        ("spectral", dict(n_neighbors=0), r"spectral: n_neighbors must be an integer between 1 and 9"),
        ("lle", dict(n_neighbors=3), r"lle: n_neighbors must be an integer between 4 and 9"),
        ("lle", dict(n_neighbors=5, method="hessian"), r"lle: method must be one of \['standard', 'modified'\]"),
        ("lle", dict(n_neighbors=5, reg=0), r"lle: reg must be a number > 0"),
        ("mds", dict(max_iter=0), r"mds: max_iter must be an integer >= 1"),
        ("mds", dict(eps=-1.0), r"mds: eps must be a number >= 0"),
        ("kpca", dict(kernel="poly"), r"kpca: kernel must be one of \['rbf', 'cosine'\]"),
        ("kpca", dict(gamma=0), r"kpca: gamma must be a number > 0"),
        ("kpca", dict(degree=3), r"kpca: unknown setting\(s\) \['degree'\]; allowed: \['gamma', 'kernel'\]"),
        ("pacmap", dict(n_neighbors=10), r"pacmap: n_neighbors must be an integer between 1 and 9"),
        ("pacmap", dict(n_neighbors=5, MN_ratio=0), r"pacmap: MN_ratio must be a number > 0"),
        ("trimap", dict(n_inliers=6, n_outliers=3), r"n_inliers \+ n_outliers must be fewer than the 9 other points"),
        ("trimap", dict(n_inliers=3, n_outliers=2, n_random=-1), r"trimap: n_random must be an integer >= 0"),
    ],
)
def test_settings_validation_messages(method, kwargs, match):
    if method not in available_methods():
        pytest.skip(f"{method} package not installed")
    with pytest.raises(ValueError, match=match):
        resolve_settings(method, 10, kwargs)


def test_kpca_cosine_ignores_gamma_so_one_cache_entry():
    assert resolve_settings("kpca", 50, {"kernel": "cosine", "gamma": 3.0}) == {"kernel": "cosine", "gamma": None}


def test_dense_methods_refuse_too_many_points(monkeypatch):
    monkeypatch.setattr(settings_mod, "MAX_DENSE_POINTS", 100)
    for method in settings_mod.DENSE_METHODS:
        with pytest.raises(ValueError, match=rf"{method} holds a 120 x 120 matrix .* at most 100 points"):
            resolve_settings(method, 120)
    assert resolve_settings("spectral", 120)["n_neighbors"] == 15  # graph methods have no such limit


@pytest.mark.parametrize("method", ["isomap", "spectral", "lle"])
def test_disconnected_neighbour_graph_is_a_clear_error(method):
    X = np.repeat(np.eye(6)[:2], 10, axis=0) + 1e-3 * np.random.default_rng(0).normal(size=(20, 6))
    with pytest.raises(ValueError, match=rf"{method}: the 5-nearest-neighbour graph falls into 2 disconnected parts"):
        project(X, method, n_components=2, n_neighbors=5)


def test_available_methods_follow_importable_packages(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "faiss" else real(name))
    assert "pacmap" not in available_methods() and "isomap" in available_methods()
    assert unavailable_methods()["pacmap"] == "needs the pacmap package (pip install pacmap)"
    assert set(unavailable_methods()) | set(available_methods()) == set(METHODS)
    with pytest.raises(ValueError, match=r"pacmap needs the pacmap package \(pip install pacmap\)"):
        resolve_settings("pacmap", 50)


@needs("pacmap")
def test_numba_pool_capped_during_the_run_and_restored(X):
    import numba

    before = numba.get_num_threads()
    with capped_threads(1):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
    project(X, "pacmap", **FAST["pacmap"])
    assert numba.get_num_threads() == before


# ---------------------------------------------------------------------- compare methods
def test_compare_methods_runs_each_and_keeps_failures_as_data(X):
    calls: list[tuple[str, float]] = []
    runs = compare_methods(
        X,
        ["pca", "isomap", "kpca", "pca"],
        seed=1,
        settings={"isomap": {"n_neighbors": 500}, "kpca": {"kernel": "cosine"}, "tsne": {"perplexity": 5}},
        progress=lambda message, fraction: calls.append((message, fraction)),
    )
    assert list(runs) == ["pca", "isomap", "kpca"]  # asked order, duplicate dropped
    assert runs["pca"].ok and runs["pca"].coords.shape == (120, 2) and runs["pca"].seconds >= 0
    assert not runs["isomap"].ok and runs["isomap"].coords is None
    assert "n_neighbors must be an integer between 1 and 119" in runs["isomap"].error
    assert runs["kpca"].ok and runs["kpca"].settings == {"kernel": "cosine"}
    np.testing.assert_array_equal(runs["pca"].coords, project(X, "pca", 2, seed=1))
    fractions = [f for _, f in calls]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert calls[0][0].startswith("[1/3] pca") and any(m.startswith("[2/3] isomap: failed") for m, _ in calls)


def test_compare_methods_go_through_the_cache(X):
    cache = ProjectionCache()
    first = compare_methods(X, ["pca", "spectral"], cache=cache)
    again = compare_methods(X, ["spectral", "pca"], cache=cache)
    assert cache.misses == 2 and cache.hits == 2
    for method in ("pca", "spectral"):
        np.testing.assert_array_equal(first[method].coords, again[method].coords)


def test_compare_methods_needs_a_method(X):
    with pytest.raises(ValueError, match="at least one projection method"):
        compare_methods(X, [])
