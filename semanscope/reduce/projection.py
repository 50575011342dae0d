"""2D/3D projections of embeddings: PHATE, PCA, t-SNE (scikit-learn) and UMAP (when installed).

Every method sees cosine geometry: rows are L2-normalised first (``x / ||x||``, zero rows kept
at zero), so Euclidean distances between inputs are ``sqrt(2 - 2 cos)``, a monotone function
of cosine distance. Output is always float64 ``(M, n_components)``, deterministic for a fixed
``seed``.

Settings per method (defaults in :data:`DEFAULTS`, unknown names are rejected):

* ``phate`` - tuned for ~3k-10k points on 2 cores: ``knn=5``, ``decay=40``, ``t="auto"``
  (von Neumann entropy knee; a fixed ``t=20`` cuts the 5k-point time by ~40%),
  ``n_landmark=2000`` with ``random_landmarking=True`` (landmarks are random points, each
  point joins its nearest landmark; this replaces PHATE's spectral clustering + k-means,
  about half of the run time at 10k points), ``n_pca=100``, ``gamma=1``,
  ``mds_solver="sgd"``, ``n_jobs=2``. Time is dominated by the 2000-landmark steps
  (t search, diffusion potential, MDS), so 5k and 10k points cost about the same.
* ``pca`` - exact PCA by SVD of the centred matrix: ``Y = Xc V_k`` with ``Xc = U S V^T``;
  component signs fixed so the largest-magnitude loading of each component is positive.
  No settings.
* ``tsne`` - ``perplexity=30`` (must be < M), ``max_iter=1000``, ``early_exaggeration=12``,
  ``n_jobs=2``; PCA initialisation.
* ``umap`` - only when ``umap-learn`` is importable: ``n_neighbors=15`` (must be < M),
  ``min_dist=0.1``.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

# progress(message, fraction_done in [0, 1]); called at start (0.0) and end (1.0) at least
ProjectionProgress = Callable[[str, float], None]

METHODS: tuple[str, ...] = ("phate", "pca", "tsne", "umap")

DEFAULTS: dict[str, dict[str, Any]] = {
    "phate": {
        "knn": 5,
        "decay": 40.0,
        "t": "auto",
        "n_landmark": 2000,
        "random_landmarking": True,
        "n_pca": 100,
        "gamma": 1.0,
        "mds_solver": "sgd",
        "n_jobs": 2,
    },
    "pca": {},
    "tsne": {"perplexity": 30.0, "max_iter": 1000, "early_exaggeration": 12.0, "n_jobs": 2},
    "umap": {"n_neighbors": 15, "min_dist": 0.1},
}


# module providing each method (imported lazily: phate alone takes seconds to import)
BACKENDS: dict[str, str] = {"phate": "phate", "tsne": "sklearn.manifold", "umap": "umap"}


def available_methods() -> tuple[str, ...]:
    """Methods usable here: all of :data:`METHODS` except ``umap`` when umap-learn is missing."""
    has_umap = importlib.util.find_spec("umap") is not None
    return tuple(m for m in METHODS if m != "umap" or has_umap)


# ---------------------------------------------------------------------- validation
def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _is_real(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and np.isfinite(v)


def _check_int(method: str, name: str, v: Any, lo: int, hi: int | None = None, why: str = "") -> int:
    if not _is_int(v) or v < lo or (hi is not None and v > hi):
        rng = f">= {lo}" if hi is None else f"between {lo} and {hi}"
        raise ValueError(f"{method}: {name} must be an integer {rng}{why}; got {v!r}")
    return int(v)


def _check_real(method: str, name: str, v: Any, lo: float, hi: float | None = None, strict: bool = False) -> float:
    bad_lo = not _is_real(v) or (v <= lo if strict else v < lo)
    if bad_lo or (hi is not None and v >= hi):
        op = ">" if strict else ">="
        rng = f"{op} {lo}" + ("" if hi is None else f" and < {hi}")
        raise ValueError(f"{method}: {name} must be a number {rng}; got {v!r}")
    return float(v)


def resolve_settings(method: str, n_points: int, settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Defaults of ``method`` overridden by ``settings``, validated for ``n_points`` rows.

    Raises ``ValueError`` naming the method and setting (unknown names, wrong types, values
    out of range such as ``knn >= n_points``). The result is what :func:`project` runs and
    what the projection cache keys on (so an explicit default equals an omitted one).
    """
    if method not in METHODS:
        raise ValueError(f"unknown projection method {method!r}; choose one of {list(METHODS)}")
    if method not in available_methods():
        raise ValueError(
            f"{method} needs the umap-learn package (pip install umap-learn); available: {list(available_methods())}"
        )
    given = dict(settings or {})
    unknown = sorted(set(given) - set(DEFAULTS[method]))
    if unknown:
        allowed = sorted(DEFAULTS[method]) or "none"
        raise ValueError(f"{method}: unknown setting(s) {unknown}; allowed: {allowed}")
    s = {**DEFAULTS[method], **given}
    m = n_points
    if method == "phate":
        s["knn"] = _check_int(method, "knn", s["knn"], 1, m - 1, f" (fewer than the {m} points)")
        s["decay"] = None if s["decay"] is None else _check_real(method, "decay", s["decay"], 0.0, strict=True)
        if s["t"] != "auto":
            s["t"] = _check_int(method, "t", s["t"], 1, why=' or "auto"')
        s["n_landmark"] = None if s["n_landmark"] is None else _check_int(method, "n_landmark", s["n_landmark"], 2)
        if not isinstance(s["random_landmarking"], bool):
            raise ValueError(f"phate: random_landmarking must be True or False; got {s['random_landmarking']!r}")
        s["n_pca"] = None if s["n_pca"] is None else _check_int(method, "n_pca", s["n_pca"], 1)
        s["gamma"] = _check_real(method, "gamma", s["gamma"], -1.0)
        if s["gamma"] > 1:
            raise ValueError(f"phate: gamma must be between -1 and 1; got {s['gamma']!r}")
        if s["mds_solver"] not in ("sgd", "smacof"):
            raise ValueError(f"phate: mds_solver must be 'sgd' or 'smacof'; got {s['mds_solver']!r}")
        s["n_jobs"] = _check_int(method, "n_jobs", s["n_jobs"], 1)
    elif method == "tsne":
        s["perplexity"] = _check_real(method, "perplexity", s["perplexity"], 0.0, hi=float(m), strict=True)
        s["max_iter"] = _check_int(method, "max_iter", s["max_iter"], 250)
        s["early_exaggeration"] = _check_real(method, "early_exaggeration", s["early_exaggeration"], 1.0)
        s["n_jobs"] = _check_int(method, "n_jobs", s["n_jobs"], 1)
    elif method == "umap":
        s["n_neighbors"] = _check_int(
            method, "n_neighbors", s["n_neighbors"], 2, m - 1, f" (fewer than the {m} points)"
        )
        s["min_dist"] = _check_real(method, "min_dist", s["min_dist"], 0.0)
    return s


def check_input(X: np.ndarray, n_components: int, seed: int) -> np.ndarray:
    """Validate the embedding matrix and common arguments; return ``X`` as float64 (M, d)."""
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"embeddings must be a 2-D array (points x dimensions); got shape {X.shape}")
    if n_components not in (2, 3) or not _is_int(n_components):
        raise ValueError(f"n_components must be 2 or 3; got {n_components!r}")
    m, d = X.shape
    if m < n_components + 2:
        raise ValueError(f"need at least {n_components + 2} points to project to {n_components}D; got {m}")
    if d < n_components:
        raise ValueError(f"embeddings have {d} dimensions, fewer than n_components={n_components}")
    if not _is_int(seed) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    X = X.astype(np.float64, copy=False)
    if not np.isfinite(X).all():
        raise ValueError("embeddings contain NaN or infinite values")
    return X


# ---------------------------------------------------------------------- maths
def l2_normalize_rows(X: np.ndarray) -> np.ndarray:
    """``X[i] / ||X[i]||`` per row; all-zero rows stay zero."""
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(norms > 0, norms, 1.0)


def pca(X: np.ndarray, n_components: int) -> np.ndarray:
    """Exact PCA scores ``Xc V_k`` (``Xc`` = column-centred ``X``, ``Xc = U S V^T``).

    Column ``j`` has variance ``S_j^2 / (M - 1)``, in decreasing order. Signs are fixed so
    the largest-|.| loading of each component is positive (deterministic output).
    """
    Xc = X - X.mean(axis=0)
    _, _, vt = np.linalg.svd(Xc, full_matrices=False)
    v = vt[:n_components]
    signs = np.sign(v[np.arange(n_components), np.abs(v).argmax(axis=1)])
    v = v * np.where(signs == 0, 1.0, signs)[:, None]
    return Xc @ v.T


def _phate(X: np.ndarray, n_components: int, seed: int, s: dict[str, Any], progress: ProjectionProgress) -> np.ndarray:
    import phate

    op = phate.PHATE(
        n_components=n_components,
        knn=s["knn"],
        decay=s["decay"],
        t=s["t"],
        n_landmark=s["n_landmark"],
        random_landmarking=s["random_landmarking"] and s["n_landmark"] is not None,
        n_pca=s["n_pca"],
        gamma=s["gamma"],
        mds_solver=s["mds_solver"],
        n_jobs=s["n_jobs"],
        random_state=seed,
        verbose=0,
    )
    op.fit(X)
    progress("phate: graph built, running diffusion + MDS", 0.4)
    return op.transform()


def _tsne(X: np.ndarray, n_components: int, seed: int, s: dict[str, Any]) -> np.ndarray:
    from sklearn.manifold import TSNE

    return TSNE(
        n_components=n_components,
        perplexity=s["perplexity"],
        max_iter=s["max_iter"],
        early_exaggeration=s["early_exaggeration"],
        n_jobs=s["n_jobs"],
        init="pca",
        random_state=seed,
    ).fit_transform(X)


def _umap(X: np.ndarray, n_components: int, seed: int, s: dict[str, Any]) -> np.ndarray:
    import umap

    return umap.UMAP(
        n_components=n_components, n_neighbors=s["n_neighbors"], min_dist=s["min_dist"], random_state=seed
    ).fit_transform(X)


def project(
    X: np.ndarray,
    method: str = "phate",
    n_components: int = 3,
    seed: int = 0,
    progress: ProjectionProgress | None = None,
    native_threads: int | None = 1,
    **settings: Any,
) -> np.ndarray:
    """Project the rows of ``X`` (M, d) to float64 (M, n_components) with ``method``.

    Rows are L2-normalised first (cosine geometry). ``settings`` override :data:`DEFAULTS`
    and are validated by :func:`resolve_settings`. ``progress(message, fraction)`` is called
    with 0.0 at the start and 1.0 at the end (PHATE also reports after its graph is built).

    ``native_threads`` caps the BLAS/OpenMP thread pools during the run (None = library
    default, one thread per visible core). The default 1 is deliberate: on a busy or
    CPU-quota-limited machine the pools' spin-waiting threads made PHATE (1k points) 5x and
    t-SNE (48 points) ~90x slower; parallelism comes from the ``n_jobs`` settings instead.
    """
    X = check_input(X, n_components, seed)
    s = resolve_settings(method, X.shape[0], settings)
    if native_threads is not None:
        _check_int("project", "native_threads", native_threads, 1)
    report = progress or (lambda message, fraction: None)
    report(f"{method}: projecting {X.shape[0]} points to {n_components}D", 0.0)
    Xn = l2_normalize_rows(X)
    if method in BACKENDS:
        importlib.import_module(BACKENDS[method])  # load its native libraries before capping their pools
    limit = threadpool_limits(native_threads) if native_threads is not None else contextlib.nullcontext()
    with limit:
        if method == "phate":
            Y = _phate(Xn, n_components, seed, s, report)
        elif method == "pca":
            Y = pca(Xn, n_components)
        elif method == "tsne":
            Y = _tsne(Xn, n_components, seed, s)
        else:
            Y = _umap(Xn, n_components, seed, s)
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    report(f"{method}: done", 1.0)
    return Y
