"""What can be asked of a projection: the methods, their settings and defaults, and validation.

Settings per method (defaults in :data:`DEFAULTS`, unknown names are rejected); ``M`` is the
number of points:

* ``phate`` - tuned for ~3k-10k points on 2 cores: ``knn=5``, ``decay=40``, ``t="auto"``
  (von Neumann entropy knee; a fixed ``t=20`` cuts the 5k-point time by ~40%),
  ``n_landmark=2000`` with ``random_landmarking=True`` (landmarks are random points, each
  point joins its nearest landmark; this replaces PHATE's spectral clustering + k-means,
  about half of the run time at 10k points), ``n_pca=100``, ``gamma=1``,
  ``mds_solver="sgd"``, ``n_jobs=2``. Time is dominated by the 2000-landmark steps
  (t search, diffusion potential, MDS), so 5k and 10k points cost about the same.
* ``pca`` - exact PCA; no settings.
* ``tsne`` - ``perplexity=30`` (must be < M), ``max_iter=1000``, ``early_exaggeration=12``,
  ``n_jobs=2``; PCA initialisation.
* ``umap`` - only when ``umap-learn`` is importable: ``n_neighbors=15`` (< M), ``min_dist=0.1``.
* ``pacmap`` - only when ``pacmap`` is importable: ``n_neighbors=10`` (< M; the PaCMAP
  paper's value below 10k points), ``MN_ratio=0.5`` (mid-near pairs per neighbour pair),
  ``FP_ratio=2.0`` (further pairs per neighbour pair), ``num_iters=250`` (iterations of the
  last, local phase; the first two phases run 100 each).
* ``trimap`` - only when ``trimap`` is importable: ``n_inliers=12``, ``n_outliers=4``
  (``n_inliers + n_outliers < M - 1``), ``n_random=3``, ``n_iters=400``.
* ``isomap`` - ``n_neighbors=15`` (< M); the k-nearest-neighbour graph must be connected.
* ``mds`` - metric MDS (SMACOF): ``max_iter=100``, ``eps=1e-4`` (stop when an iteration
  lowers the stress by less than ``eps`` x half the sum of squared embedding distances).
* ``kpca`` - kernel PCA: ``kernel="rbf"`` (``exp(-gamma ||x - y||^2)``, on unit rows
  ``exp(-2 gamma (1 - cos))``) or ``"cosine"`` (``cos(x, y)``: equals ``pca``), ``gamma=1.0``
  (rbf only; set to None for ``cosine``).
* ``spectral`` - Laplacian eigenmaps: ``n_neighbors=15`` (< M); the graph must be connected.
* ``lle`` - locally linear embedding: ``n_neighbors=15`` (4 <= k < M), ``method="standard"``
  or ``"modified"``, ``reg=1e-3``; the graph must be connected.

``isomap``, ``mds`` and ``kpca`` hold an M x M matrix (geodesic distances, dissimilarities,
kernel) in memory, so they accept at most :data:`MAX_DENSE_POINTS` points.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

# progress(message, fraction_done in [0, 1]); called at start (0.0) and end (1.0) at least
ProjectionProgress = Callable[[str, float], None]

METHODS: tuple[str, ...] = (
    "phate",
    "pca",
    "tsne",
    "umap",
    "pacmap",
    "trimap",
    "isomap",
    "mds",
    "kpca",
    "spectral",
    "lle",
)

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
    "pacmap": {"n_neighbors": 10, "MN_ratio": 0.5, "FP_ratio": 2.0, "num_iters": 250},
    "trimap": {"n_inliers": 12, "n_outliers": 4, "n_random": 3, "n_iters": 400},
    "isomap": {"n_neighbors": 15},
    "mds": {"max_iter": 100, "eps": 1e-4},
    "kpca": {"kernel": "rbf", "gamma": 1.0},
    "spectral": {"n_neighbors": 15},
    "lle": {"n_neighbors": 15, "method": "standard", "reg": 1e-3},
}

# optional methods: the modules each needs, and the PyPI package to install
REQUIRES: dict[str, tuple[str, ...]] = {
    "umap": ("umap",),
    "pacmap": ("pacmap", "numba", "faiss"),
    "trimap": ("trimap", "torch"),
}
PACKAGES: dict[str, str] = {"umap": "umap-learn", "pacmap": "pacmap", "trimap": "trimap"}

DENSE_METHODS: tuple[str, ...] = ("isomap", "mds", "kpca")
MAX_DENSE_POINTS = 8000
"""Most points for :data:`DENSE_METHODS`: one 8000 x 8000 float64 matrix is 512 MB."""


def available_methods() -> tuple[str, ...]:
    """Methods usable here: :data:`METHODS` less the optional ones whose modules are missing."""
    return tuple(
        m for m in METHODS if all(importlib.util.find_spec(module) is not None for module in REQUIRES.get(m, ()))
    )


def unavailable_methods() -> dict[str, str]:
    """Optional methods whose modules are missing here, each with the reason:
    ``{method: "needs the <package> package (pip install <package>)"}``, in :data:`METHODS` order."""
    usable = available_methods()
    return {m: f"needs the {PACKAGES[m]} package (pip install {PACKAGES[m]})" for m in METHODS if m not in usable}


# ---------------------------------------------------------------------- checks
def is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _is_real(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and np.isfinite(v)


def check_int(method: str, name: str, v: Any, lo: int, hi: int | None = None, why: str = "") -> int:
    if not is_int(v) or v < lo or (hi is not None and v > hi):
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


def _check_choice(method: str, name: str, v: Any, choices: tuple[str, ...]) -> str:
    if v not in choices:
        raise ValueError(f"{method}: {name} must be one of {list(choices)}; got {v!r}")
    return str(v)


def _neighbours(method: str, name: str, v: Any, m: int, lo: int = 1) -> int:
    return check_int(method, name, v, lo, m - 1, f" (fewer than the {m} points)")


# ---------------------------------------------------------------------- per method
def _phate(s: dict[str, Any], m: int) -> None:
    s["knn"] = _neighbours("phate", "knn", s["knn"], m)
    s["decay"] = None if s["decay"] is None else _check_real("phate", "decay", s["decay"], 0.0, strict=True)
    if s["t"] != "auto":
        s["t"] = check_int("phate", "t", s["t"], 1, why=' or "auto"')
    s["n_landmark"] = None if s["n_landmark"] is None else check_int("phate", "n_landmark", s["n_landmark"], 2)
    if not isinstance(s["random_landmarking"], bool):
        raise ValueError(f"phate: random_landmarking must be True or False; got {s['random_landmarking']!r}")
    s["n_pca"] = None if s["n_pca"] is None else check_int("phate", "n_pca", s["n_pca"], 1)
    s["gamma"] = _check_real("phate", "gamma", s["gamma"], -1.0)
    if s["gamma"] > 1:
        raise ValueError(f"phate: gamma must be between -1 and 1; got {s['gamma']!r}")
    if s["mds_solver"] not in ("sgd", "smacof"):
        raise ValueError(f"phate: mds_solver must be 'sgd' or 'smacof'; got {s['mds_solver']!r}")
    s["n_jobs"] = check_int("phate", "n_jobs", s["n_jobs"], 1)


def _tsne(s: dict[str, Any], m: int) -> None:
    s["perplexity"] = _check_real("tsne", "perplexity", s["perplexity"], 0.0, hi=float(m), strict=True)
    s["max_iter"] = check_int("tsne", "max_iter", s["max_iter"], 250)
    s["early_exaggeration"] = _check_real("tsne", "early_exaggeration", s["early_exaggeration"], 1.0)
    s["n_jobs"] = check_int("tsne", "n_jobs", s["n_jobs"], 1)


def _umap(s: dict[str, Any], m: int) -> None:
    s["n_neighbors"] = _neighbours("umap", "n_neighbors", s["n_neighbors"], m, lo=2)
    s["min_dist"] = _check_real("umap", "min_dist", s["min_dist"], 0.0)


def _pacmap(s: dict[str, Any], m: int) -> None:
    s["n_neighbors"] = _neighbours("pacmap", "n_neighbors", s["n_neighbors"], m)
    s["MN_ratio"] = _check_real("pacmap", "MN_ratio", s["MN_ratio"], 0.0, strict=True)
    s["FP_ratio"] = _check_real("pacmap", "FP_ratio", s["FP_ratio"], 0.0, strict=True)
    s["num_iters"] = check_int("pacmap", "num_iters", s["num_iters"], 1)


def _trimap(s: dict[str, Any], m: int) -> None:
    s["n_inliers"] = check_int("trimap", "n_inliers", s["n_inliers"], 1)
    s["n_outliers"] = check_int("trimap", "n_outliers", s["n_outliers"], 1)
    if s["n_inliers"] + s["n_outliers"] >= m - 1:
        raise ValueError(
            f"trimap: n_inliers + n_outliers must be fewer than the {m - 1} other points; "
            f"got {s['n_inliers']} + {s['n_outliers']}"
        )
    s["n_random"] = check_int("trimap", "n_random", s["n_random"], 0)
    s["n_iters"] = check_int("trimap", "n_iters", s["n_iters"], 1)


Validator = Callable[[dict[str, Any], int], None]


def _graph(method: str) -> Validator:
    def check(s: dict[str, Any], m: int) -> None:
        s["n_neighbors"] = _neighbours(method, "n_neighbors", s["n_neighbors"], m)

    return check


def _mds(s: dict[str, Any], m: int) -> None:
    s["max_iter"] = check_int("mds", "max_iter", s["max_iter"], 1)
    s["eps"] = _check_real("mds", "eps", s["eps"], 0.0)


def _kpca(s: dict[str, Any], m: int) -> None:
    s["kernel"] = _check_choice("kpca", "kernel", s["kernel"], ("rbf", "cosine"))
    if s["kernel"] == "cosine":
        s["gamma"] = None  # unused: one cache entry whatever gamma says
    else:
        s["gamma"] = _check_real("kpca", "gamma", s["gamma"], 0.0, strict=True)


def _lle(s: dict[str, Any], m: int) -> None:
    s["n_neighbors"] = _neighbours("lle", "n_neighbors", s["n_neighbors"], m, lo=4)
    s["method"] = _check_choice("lle", "method", s["method"], ("standard", "modified"))
    s["reg"] = _check_real("lle", "reg", s["reg"], 0.0, strict=True)


_VALIDATORS: dict[str, Validator] = {
    "phate": _phate,
    "tsne": _tsne,
    "umap": _umap,
    "pacmap": _pacmap,
    "trimap": _trimap,
    "isomap": _graph("isomap"),
    "mds": _mds,
    "kpca": _kpca,
    "spectral": _graph("spectral"),
    "lle": _lle,
}


def resolve_settings(method: str, n_points: int, settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Defaults of ``method`` overridden by ``settings``, validated for ``n_points`` rows.

    Raises ``ValueError`` naming the method and setting (unknown names, wrong types, values
    out of range such as ``knn >= n_points``), a missing optional package, or too many points
    for a method that holds an M x M matrix. The result is what
    :func:`~semanscope.reduce.projection.project` runs and what the projection cache keys on
    (so an explicit default equals an omitted one).
    """
    if method not in METHODS:
        raise ValueError(f"unknown projection method {method!r}; choose one of {list(METHODS)}")
    missing = unavailable_methods()
    if method in missing:
        raise ValueError(f"{method} {missing[method]}; available: {list(available_methods())}")
    if method in DENSE_METHODS and n_points > MAX_DENSE_POINTS:
        mb = n_points * n_points * 8 / 2**20
        raise ValueError(
            f"{method} holds a {n_points:,} x {n_points:,} matrix in memory ({mb:,.0f} MB); it accepts at most "
            f"{MAX_DENSE_POINTS:,} points. Choose fewer concepts or languages, or a method without that limit "
            "(phate, pca, tsne, pacmap, trimap, spectral, lle)."
        )
    given = dict(settings or {})
    unknown = sorted(set(given) - set(DEFAULTS[method]))
    if unknown:
        allowed = sorted(DEFAULTS[method]) or "none"
        raise ValueError(f"{method}: unknown setting(s) {unknown}; allowed: {allowed}")
    s = {**DEFAULTS[method], **given}
    if method in _VALIDATORS:
        _VALIDATORS[method](s, n_points)
    return s


def check_input(X: np.ndarray, n_components: int, seed: int) -> np.ndarray:
    """Validate the embedding matrix and common arguments; return ``X`` as float64 (M, d)."""
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"embeddings must be a 2-D array (points x dimensions); got shape {X.shape}")
    if n_components not in (2, 3) or not is_int(n_components):
        raise ValueError(f"n_components must be 2 or 3; got {n_components!r}")
    m, d = X.shape
    if m < n_components + 2:
        raise ValueError(f"need at least {n_components + 2} points to project to {n_components}D; got {m}")
    if d < n_components:
        raise ValueError(f"embeddings have {d} dimensions, fewer than n_components={n_components}")
    if not is_int(seed) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    X = X.astype(np.float64, copy=False)
    if not np.isfinite(X).all():
        raise ValueError("embeddings contain NaN or infinite values")
    return X
