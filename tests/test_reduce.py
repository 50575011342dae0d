"""Projections (semanscope.reduce): shapes, determinism, references for every method, cache, validation."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from cache_tamper import pickle_payload, update_values

import semanscope.reduce.cache as cache_mod
from semanscope.cache import CacheRepairedWarning, CacheUnavailableWarning
from semanscope.reduce import ProjectionCache, available_methods, project, project_cached, resolve_settings
from semanscope.reduce.projection import l2_normalize_rows, pca

FAST_PHATE = {"t": 5}  # fixed t skips the von Neumann entropy search; keeps tests quick


def clustered(n_concepts: int = 24, n_langs: int = 5, d: int = 32, seed: int = 0) -> np.ndarray:
    """Concepts x languages rows (concept-major): concept centre + language offset + noise."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_concepts, d))
    offsets = 0.5 * rng.normal(size=(n_langs, d))
    X = np.repeat(centres, n_langs, axis=0) + np.tile(offsets, (n_concepts, 1))
    return (X + 0.2 * rng.normal(size=X.shape)).astype(np.float32)


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    return clustered()


# ---------------------------------------------------------------------- maths
def test_l2_normalize_rows_unit_and_zero_rows():
    X = np.array([[3.0, 4.0], [0.0, 0.0], [-2.0, 0.0]])
    np.testing.assert_allclose(l2_normalize_rows(X), [[0.6, 0.8], [0.0, 0.0], [-1.0, 0.0]])


def test_pca_matches_eigendecomposition_and_sklearn(X):
    from sklearn.decomposition import PCA

    Xn = l2_normalize_rows(X.astype(np.float64))
    Y = project(X, "pca", n_components=3)
    # column variances = the 3 largest covariance eigenvalues, in decreasing order
    eig = np.sort(np.linalg.eigvalsh(np.cov(Xn, rowvar=False)))[::-1][:3]
    np.testing.assert_allclose(Y.var(axis=0, ddof=1), eig, rtol=1e-8)
    assert np.all(np.diff(Y.var(axis=0)) < 0)
    ref = PCA(3, svd_solver="full").fit_transform(Xn)
    signs = np.sign((Y * ref).sum(axis=0))
    np.testing.assert_allclose(Y, ref * signs, atol=1e-8)


def test_pca_sign_convention_largest_loading_positive():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 6)) * np.array([5, 3, 1, 0.5, 0.2, 0.1])
    Y = pca(X, 2)
    Xc = X - X.mean(axis=0)
    loadings = np.linalg.lstsq(Xc, Y, rcond=None)[0]  # (d, 2): Y = Xc V
    for j in range(2):
        assert loadings[np.abs(loadings[:, j]).argmax(), j] > 0
    np.testing.assert_allclose(pca(-X, 2), -Y, atol=1e-10)  # same axes after the sign fix, so scores flip


# ---------------------------------------------------------------------- methods
@pytest.mark.parametrize("n_components", [2, 3])
def test_phate_shape_dtype_and_determinism(X, n_components):
    a = project(X, "phate", n_components=n_components, seed=3, **FAST_PHATE)
    b = project(X, "phate", n_components=n_components, seed=3, **FAST_PHATE)
    assert a.shape == (X.shape[0], n_components) and a.dtype == np.float64
    assert np.isfinite(a).all()
    np.testing.assert_array_equal(a, b)


def test_phate_landmarks_deterministic_and_seed_matters(X):
    kw = dict(n_landmark=40, **FAST_PHATE)  # 120 points > 40 landmarks: random landmarking on
    a = project(X, "phate", seed=7, **kw)
    np.testing.assert_array_equal(a, project(X, "phate", seed=7, **kw))
    assert not np.allclose(a, project(X, "phate", seed=8, **kw))


def test_phate_default_settings_keep_translations_closer_than_strangers(X):
    Y = project(X, "phate")  # defaults, t="auto"
    concept = np.repeat(np.arange(24), 5)
    d = np.linalg.norm(Y[:, None] - Y[None], axis=-1)
    same = concept[:, None] == concept[None]
    off_diag = ~np.eye(len(Y), dtype=bool)
    assert d[same & off_diag].mean() < 0.5 * d[~same].mean()


def test_tsne_shape_and_determinism():
    X = clustered(n_concepts=12, n_langs=4, d=16)
    a = project(X, "tsne", n_components=2, seed=0, perplexity=10, max_iter=250)
    assert a.shape == (48, 2) and a.dtype == np.float64
    np.testing.assert_array_equal(a, project(X, "tsne", n_components=2, seed=0, perplexity=10, max_iter=250))


def test_progress_hook_reports_start_and_end(X):
    calls: list[tuple[str, float]] = []
    project(X, "pca", progress=lambda msg, frac: calls.append((msg, frac)))
    assert calls[0][1] == 0.0 and calls[-1][1] == 1.0
    calls.clear()
    project(X, "phate", progress=lambda msg, frac: calls.append((msg, frac)), **FAST_PHATE)
    fractions = [f for _, f in calls]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions) and len(fractions) >= 3


def test_native_thread_pools_capped_during_projection(X):
    from threadpoolctl import threadpool_info

    seen: list[list[int]] = []

    def record(message: str, fraction: float) -> None:
        if 0 < fraction < 1:
            seen.append([pool["num_threads"] for pool in threadpool_info()])

    project(X, "phate", progress=record, **FAST_PHATE)  # PHATE reports mid-run, inside the cap
    assert seen and all(n == 1 for n in seen[0])
    seen.clear()
    project(X, "phate", progress=record, native_threads=2, **FAST_PHATE)
    assert all(n <= 2 for n in seen[0])
    with pytest.raises(ValueError, match="native_threads must be an integer >= 1"):
        project(X, "pca", native_threads=0)


# ---------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(method="phate", knn=10), r"knn must be an integer between 1 and 9 \(fewer than the 10 points\)"),
        (dict(method="phate", k=3), r"unknown setting\(s\) \['k'\]"),
        (dict(method="phate", t=0), r"t must be an integer >= 1"),
        (dict(method="phate", mds_solver="fast"), r"mds_solver must be 'sgd' or 'smacof'"),
        (dict(method="phate", decay=-1), r"decay must be a number > 0"),
        (dict(method="tsne", perplexity=10), r"perplexity must be a number > 0.0 and < 10"),
        (dict(method="pca", knn=3), r"pca: unknown setting\(s\) \['knn'\]; allowed: none"),
        (dict(method="forceatlas2"), r"unknown projection method 'forceatlas2'"),
        (dict(method="pca", n_components=4), r"n_components must be 2 or 3"),
        (dict(method="pca", seed=-1), r"seed must be a non-negative integer"),
    ],
)
def test_settings_validation_messages(kwargs, match):
    X = clustered(n_concepts=5, n_langs=2, d=8)
    with pytest.raises(ValueError, match=match):
        project(X, **kwargs)


def test_input_validation_messages():
    with pytest.raises(ValueError, match="2-D array"):
        project(np.zeros(10), "pca")
    bad = clustered(n_concepts=5, n_langs=2, d=8)
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        project(bad, "pca")
    with pytest.raises(ValueError, match="need at least 5 points"):
        project(np.ones((4, 8)), "pca")


def test_umap_only_when_installed():
    if "umap" in available_methods():
        assert resolve_settings("umap", 50)["n_neighbors"] == 15
    else:
        with pytest.raises(ValueError, match="umap-learn"):
            resolve_settings("umap", 50)


def test_resolved_settings_fill_defaults():
    s = resolve_settings("phate", 100, {"knn": 7})
    assert s["knn"] == 7 and s["decay"] == 40.0 and s["t"] == "auto" and s["n_landmark"] == 2000


# ---------------------------------------------------------------------- cache
@pytest.fixture
def counted(monkeypatch):
    calls = {"n": 0}
    real = cache_mod.project

    def counting(*args, **kwargs):
        calls["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(cache_mod, "project", counting)
    return calls


def test_cache_hit_skips_recompute(X, counted):
    cache = ProjectionCache()
    a = project_cached(X, "pca", cache=cache)
    b = project_cached(X, "pca", cache=cache)
    assert counted["n"] == 1 and cache.hits == 1 and cache.misses == 1
    np.testing.assert_array_equal(a, b)
    b[0, 0] = 123.0  # callers get copies
    assert project_cached(X, "pca", cache=cache)[0, 0] != 123.0


def test_cache_key_covers_settings_seed_and_data(X, counted):
    cache = ProjectionCache()
    project_cached(X, "phate", seed=0, cache=cache, **FAST_PHATE)
    project_cached(X, "phate", seed=0, cache=cache, knn=5, **FAST_PHATE)  # explicit default: same key
    assert counted["n"] == 1
    project_cached(X, "phate", seed=1, cache=cache, **FAST_PHATE)
    project_cached(X, "phate", seed=0, cache=cache, knn=6, **FAST_PHATE)
    project_cached(X, "pca", seed=0, cache=cache)
    Y = X.copy()
    Y[0, 0] += 1.0
    project_cached(Y, "pca", seed=0, cache=cache)
    project_cached(X.astype(np.float64), "pca", seed=0, cache=cache)  # dtype is part of the key
    assert counted["n"] == 6
    project_cached(X, "pca", seed=0, cache=cache, native_threads=2)  # speed only: same key
    assert counted["n"] == 6


def test_cache_lru_eviction_and_disk_persistence(X, counted, tmp_path):
    cache = ProjectionCache(max_items=1, directory=tmp_path)
    project_cached(X, "pca", cache=cache)
    project_cached(X, "pca", n_components=2, cache=cache)
    assert len(cache) == 1 and counted["n"] == 2
    project_cached(X, "pca", cache=cache)  # evicted from memory, found on disk
    assert counted["n"] == 2
    cache.close()
    reopened = ProjectionCache(directory=tmp_path)
    expected = project(X, "pca")
    np.testing.assert_array_equal(project_cached(X, "pca", cache=reopened), expected)
    assert counted["n"] == 2 and reopened.hits == 1
    reopened.close()


def test_cache_shared_by_threads_keeps_its_counts_and_bound(tmp_path):
    """Eight threads get/put on overlapping keys of one cache (as the app's sessions do): every
    lookup is counted once, memory stays within ``max_items`` and a hit is that key's array."""
    from concurrent.futures import ThreadPoolExecutor

    cache = ProjectionCache(max_items=4, directory=tmp_path)
    arrays = {f"k{i}": np.full((3, 2), float(i)) for i in range(10)}
    lookups_per_thread = 400

    def worker(seed: int) -> list[str]:
        wrong = []
        rng = np.random.default_rng(seed)
        for _ in range(lookups_per_thread):
            key = f"k{rng.integers(10)}"
            value = cache.get(key)
            if value is None:
                cache.put(key, arrays[key])
            elif not np.array_equal(value, arrays[key]):
                wrong.append(key)
            assert len(cache) <= cache.max_items
        return wrong

    with ThreadPoolExecutor(8) as pool:
        wrong = [k for found in pool.map(worker, range(8)) for k in found]
    cache.close()
    assert not wrong
    assert cache.hits + cache.misses == 8 * lookups_per_thread
    assert len(cache) == cache.max_items


def test_cache_reports_progress_on_hit(X):
    cache = ProjectionCache()
    project_cached(X, "pca", cache=cache)
    calls: list[float] = []
    project_cached(X, "pca", cache=cache, progress=lambda msg, frac: calls.append(frac))
    assert calls == [1.0]


# ---------------------------------------------------------------------- damaged or unusable disk cache
def test_pickled_projection_never_runs_code(X, counted, tmp_path):
    marker = tmp_path / "pwned"
    cache = ProjectionCache(directory=tmp_path / "proj")
    expected = project_cached(X, "pca", cache=cache)
    cache.close()
    assert update_values(tmp_path / "proj", "?", (pickle_payload(marker),)) == 1
    reopened = ProjectionCache(directory=tmp_path / "proj")
    with pytest.warns(CacheRepairedWarning, match="damaged projection"):
        np.testing.assert_array_equal(project_cached(X, "pca", cache=reopened), expected)
    reopened.close()
    assert not marker.exists() and counted["n"] == 2


@pytest.mark.parametrize("damage", ["substr(value, 1, length(value) / 2)", "zeroblob(length(value))"])
def test_damaged_projection_is_recomputed_and_replaced(X, counted, tmp_path, damage):
    cache = ProjectionCache(directory=tmp_path / "proj")
    expected = project_cached(X, "pca", cache=cache)
    cache.close()
    assert update_values(tmp_path / "proj", damage) == 1
    reopened = ProjectionCache(directory=tmp_path / "proj")
    with pytest.warns(CacheRepairedWarning):
        np.testing.assert_array_equal(project_cached(X, "pca", cache=reopened), expected)
    (problem,) = reopened.problems()
    assert problem.kind == "repaired" and "damaged projection" in problem.message
    reopened.close()
    again = ProjectionCache(directory=tmp_path / "proj")  # after another restart: the row was replaced
    np.testing.assert_array_equal(project_cached(X, "pca", cache=again), expected)
    assert counted["n"] == 2 and again.hits == 1 and not again.problems()
    again.close()


def test_projection_cache_on_an_unusable_folder_stays_in_memory(X, counted, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.warns(CacheUnavailableWarning, match="cannot open the projection cache"):
        cache = ProjectionCache(directory=blocker / "proj")
    project_cached(X, "pca", cache=cache)
    project_cached(X, "pca", cache=cache)
    assert counted["n"] == 1 and [p.kind for p in cache.problems()] == ["unavailable"]


def test_projection_cache_shared_by_threads(tmp_path):
    """Sessions of the app share one cache: concurrent get/put on a tiny LRU never fail and
    always return the value stored under the key."""
    cache = ProjectionCache(max_items=2, directory=tmp_path / "proj")
    values = {f"k{i}": np.full((4, 3), float(i)) for i in range(6)}
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for round_ in range(30):
                key = f"k{(offset + round_) % 6}"
                got = cache.get(key)
                if got is None:
                    cache.put(key, values[key])
                else:
                    np.testing.assert_array_equal(got, values[key])
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cache.close()
    assert not errors
    assert cache.hits + cache.misses == 4 * 30 and len(cache) == 2
