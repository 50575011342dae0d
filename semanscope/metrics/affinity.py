"""Semantic Affinity (SA): do an embedding model's translations sit together?

Inputs (everywhere): ``X`` (M, d) embeddings, one row per item of ``QuerySet.items()``;
``concept`` (M,) ints in [0, N); ``lang`` (M,) ints in [0, L). A (concept, language) cell may
hold several alternative texts (several rows). Optional ``text_ids`` (M,) ints: rows of the
same language with equal ids are the same text string and count once for H.

Cosine metric (rows normalised to unit length u; all formulas exact, O(M d)):

* mean pairwise cosine distance of n unit vectors
  ``D = 1 - (|sum u|^2 - n) / (n (n-1))``;
* horizontal spread ``H = mean_l H_l``, ``H_l`` = D over language l's unique texts (all concepts);
* vertical spread ``v_i = mean_{l<m} (1 - c_il . c_im)`` with ``c_il`` the mean unit vector of
  cell (i, l); ``1 - c_il . c_im`` is the mean cosine distance over the cross product of the two
  cells' alternatives, and ``sum_{l<m} c_il . c_im = (|sum_l c_il|^2 - sum_l |c_il|^2) / 2``;
* ``SR = mean_i v_i / H``, ``SA = 1 / (1 + SR)`` in (0, 1]; per concept ``SA_i = 1 / (1 + v_i / H)``.

Euclidean metric (raw vectors x, root-mean-square distances):

* mean pairwise squared distance ``(2 n sum|x|^2 - 2 |sum x|^2) / (n (n-1))``, ``H_l`` its square
  root over language l's unique texts, ``H = mean_l H_l``;
* cross mean squared distance of cells A, B: ``mean|a|^2 + mean|b|^2 - 2 mean(a) . mean(b)``;
  ``v_i = sqrt(mean_{l<m} cross(i,l ; i,m))``; SR, SA as above.

Both metrics share one computation on ``y = u`` (cosine) or ``y = x / max|x|`` (euclidean; the
scale is put back at the end): for unit vectors ``1 - u . w = |u - w|^2 / 2``, so every cosine
distance above is half the corresponding mean squared Euclidean distance of the unit vectors.
The code evaluates algebraically identical forms chosen to avoid catastrophic cancellation
(identical vectors give an exact 0, never a negative number under a square root):

* H, cosine: the formula above (``|u| = 1`` is known; absolute error ~1e-15);
  euclidean: ``2 / (n-1) * sum |y - mean(y)|^2`` (two-pass, centred);
* cross mean squared distance of cells = ``|mu_A - mu_B|^2 + s_A + s_B`` with ``s`` the mean
  squared distance of a cell's rows to its mean (centred, two-pass);
* ``sum_{l<m} |mu_l - mu_m|^2 = L sum_l |a_l|^2 - |sum_l a_l|^2`` with ``a_l = mu_l - mu_1`` (the
  ``|sum_l c_il|^2`` identity above, shifted by the concept's first cell mean).

Distances below ``ZERO_TOL`` (rounding noise, in units of unit vectors for cosine and of the
largest |x| for euclidean) are reported as exactly 0.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from semanscope.metrics.result_base import ConceptsByLanguages, ResultBase

METRICS = ("cosine", "euclidean")
WEIGHTINGS = ("concept", "expanded")
MAX_EXPANDED_ROWS = 2**16  # cross-product rows of one concept that the expanded weighting enumerates
ZERO_TOL = 1e-12
BLOCK_ROWS = 8192  # rows of X converted to float64 at a time
BOOT_ENTRIES = 2**22  # entries of the (B, N) bootstrap count matrix held at a time


# ------------------------------------------------------------------ pure helpers
def unit_rows(X: np.ndarray, peak: np.ndarray | None = None) -> np.ndarray:
    """``u_k = x_k / |x_k|`` as float64; zero rows stay zero.

    Each row is first divided by its largest |x| (``peak``, computed when not given) so the norm
    neither overflows nor underflows.
    """
    X = np.asarray(X)
    peak = np.abs(X).max(axis=1) if peak is None else np.asarray(peak, dtype=np.float64)
    Y = np.multiply(X, 1.0 / np.where(peak > 0, peak, 1.0)[:, None], dtype=np.float64)
    norm = np.sqrt(np.einsum("ij,ij->i", Y, Y))
    Y *= 1.0 / np.where(norm > 0, norm, 1.0)[:, None]
    return Y


def segment_sum(Y: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """``S_g = sum_{k : group_k = g} Y_k`` -> (n_groups, d) float64, via a sparse indicator product (O(M d))."""
    m = len(group)
    indicator = sp.csr_matrix((np.ones(m), (group, np.arange(m))), shape=(n_groups, m))
    return np.asarray(indicator @ np.asarray(Y, dtype=np.float64))


@dataclass(frozen=True)
class GroupMoments:
    """Per-group count ``n_g``, mean ``mu_g`` (G, d) and ``sse_g = sum |y - mu_g|^2`` (G,)."""

    count: np.ndarray
    mean: np.ndarray
    sse: np.ndarray


def group_moments(Y: np.ndarray, group: np.ndarray, n_groups: int) -> GroupMoments:
    """Two-pass (centred, numerically stable) count / mean / sum of squared deviations per group.

    Rows alone in their group add exactly 0 to ``sse`` and are skipped in the second pass.
    """
    count = np.bincount(group, minlength=n_groups)
    mean = segment_sum(Y, group, n_groups) / np.maximum(count, 1)[:, None]
    multi = count[group] > 1
    Ym, gm = (Y, group) if multi.all() else (Y[multi], group[multi])
    diff = Ym - mean[gm]
    sse = np.bincount(gm, weights=np.einsum("ij,ij->i", diff, diff), minlength=n_groups)
    return GroupMoments(count, mean, sse)


def merge_moments(a: GroupMoments, b: GroupMoments) -> GroupMoments:
    """Moments of the union of two row sets (Chan et al.):
    ``n = n_a + n_b``, ``mu = mu_a + (mu_b - mu_a) n_b / n``, ``sse = sse_a + sse_b + |mu_b - mu_a|^2 n_a n_b / n``.
    """
    count = a.count + b.count
    safe = np.maximum(count, 1)
    delta = b.mean - a.mean
    mean = a.mean + delta * (b.count / safe)[:, None]
    sse = a.sse + b.sse + np.einsum("ij,ij->i", delta, delta) * (a.count * b.count / safe)
    return GroupMoments(count, mean, sse)


def unit_sse(count: np.ndarray, unit_sum: np.ndarray) -> np.ndarray:
    """``sum |u - mean(u)|^2 = n - |sum u|^2 / n`` for sets of unit vectors (clipped at 0)."""
    sq = np.einsum("ij,ij->i", unit_sum, unit_sum)
    return np.maximum(count - sq / np.maximum(count, 1), 0.0)


def pairwise_msd(count: np.ndarray, sse: np.ndarray) -> np.ndarray:
    """Mean squared distance over the n(n-1) ordered pairs of a set: ``2 sse / (n - 1)`` (0 when n < 2)."""
    count = np.asarray(count, dtype=np.float64)
    return np.where(count > 1, 2.0 * np.asarray(sse) / np.maximum(count - 1, 1), 0.0)


def cross_msd(mean: np.ndarray, within: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cross mean squared distances between the cells of each concept.

    ``mean`` (n, L, d): cell means ``mu_il``; ``within`` (n, L): ``s_il`` = mean squared distance of
    cell (i, l)'s rows to ``mu_il``. Returns ``pair`` (n, L, L) with
    ``pair_ilm = |mu_il - mu_im|^2 + s_il + s_im`` (= mean over the cross product of the two cells'
    rows of |a - b|^2; diagonal = 2 s_il) and ``joint`` (n,) = ``mean_{l<m} pair_ilm`` from
    ``sum_{l<m} |a_l - a_m|^2 = L sum_l |a_l|^2 - |sum_l a_l|^2`` (the ``|sum_l c_il|^2`` identity).
    Means are shifted by the first language's, ``a_l = mu_il - mu_i1``: no cancellation, and
    identical translations give exactly 0. One batched Gram product ``a a^T``: O(n L^2 d).
    """
    L = mean.shape[1]
    a = mean - mean[:, :1]
    gram = np.matmul(a, a.transpose(0, 2, 1))
    sq = np.einsum("nll->nl", gram)
    pair = sq[:, :, None] + sq[:, None, :] - 2.0 * gram + within[:, :, None] + within[:, None, :]
    np.maximum(pair, 0.0, out=pair)
    pairs_sum = L * sq.sum(axis=1) - gram.sum(axis=(1, 2)) + (L - 1) * within.sum(axis=1)
    return np.maximum(pairs_sum / (L * (L - 1) / 2), 0.0), pair


def msd_to_distance(msd: np.ndarray, metric: str, scale: float = 1.0) -> np.ndarray:
    """Cosine: ``msd / 2`` (msd of unit vectors); euclidean: ``scale * sqrt(msd)`` (RMS distance).

    Values below ``ZERO_TOL`` (before scaling) become exactly 0.
    """
    msd = np.asarray(msd, dtype=np.float64)
    dist = msd / 2.0 if metric == "cosine" else np.sqrt(msd)
    return np.where(dist <= ZERO_TOL, 0.0, dist) * scale


def mean_pairwise_distance(X: np.ndarray, metric: str = "cosine") -> float:
    """Mean pairwise cosine distance ``1 - (|sum u|^2 - n)/(n(n-1))`` of the rows of X, or (euclidean)
    their RMS pairwise distance ``sqrt((2 n sum|x|^2 - 2|sum x|^2)/(n(n-1)))``. O(n d)."""
    check_metric(metric)
    n = np.array([len(X)])
    if metric == "cosine":
        sse = unit_sse(n, unit_rows(X).sum(axis=0, keepdims=True))
    else:
        sse = group_moments(np.asarray(X, dtype=np.float64), np.zeros(len(X), dtype=np.int64), 1).sse
    return float(msd_to_distance(pairwise_msd(n, sse), metric)[0])


def affinity_from_spread(v: np.ndarray | float, h: np.ndarray | float) -> np.ndarray:
    """``SA = 1 / (1 + v / h)`` elementwise; when ``h == 0``: 1 if ``v == 0`` (all identical), else NaN."""
    v = np.asarray(v, dtype=np.float64)
    h = np.asarray(h, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        sa = 1.0 / (1.0 + v / h)
    return np.where(h == 0, np.where(v == 0, 1.0, np.nan), sa)


def bootstrap_means(values: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Bootstrap over rows: ``out[b] = (c_b @ values) / n`` with ``c_b ~ Multinomial(n, 1/n)``.

    ``values`` (n, P) -> (n_boot, P). ``c_b`` are the counts of n uniform draws with replacement
    from ``np.random.default_rng(seed).integers``; the (B, n) count matrix is built ``BOOT_ENTRIES``
    entries at a time, so memory stays bounded for any B.
    """
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    rng = np.random.default_rng(seed)
    out = np.empty((n_boot, values.shape[1]))
    step = max(1, BOOT_ENTRIES // n)
    for b0 in range(0, n_boot, step):
        b = min(step, n_boot - b0)
        draws = rng.integers(0, n, size=(b, n)) + n * np.arange(b)[:, None]
        counts = np.bincount(draws.ravel(), minlength=b * n).reshape(b, n)
        out[b0 : b0 + b] = counts @ values / n
    return out


def check_bootstrap_args(n_boot: int, ci: float) -> None:
    """ValueError unless ``n_boot`` is an integer >= 0 and ``0 < ci < 1``."""
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise ValueError(f"n_boot must be a non-negative integer, got {n_boot!r}")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be in (0, 1), got {ci!r}")


def percentile_ci(samples: np.ndarray, ci: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval ``(q_{(1-ci)/2}, q_{(1+ci)/2})`` along axis 0."""
    low, high = np.percentile(samples, [50.0 * (1 - ci), 50.0 * (1 + ci)], axis=0)
    return low, high


# ------------------------------------------------------------------ input checks
@dataclass(frozen=True)
class PreparedInputs(ConceptsByLanguages):
    """Validated inputs restricted to usable rows, sorted by concept.

    ``rows`` index the caller's ``X``; ``concept`` (renumbered 0..n-1 over the kept concepts),
    ``lang``, ``text_ids`` and ``peak`` (largest |x| of each row) are aligned with ``rows``; the
    rows of kept concept c are ``rows[offsets[c]:offsets[c+1]]``. ``scale`` = largest |x| overall.
    """

    X: np.ndarray
    rows: np.ndarray
    consecutive: bool
    peak: np.ndarray
    concept: np.ndarray
    lang: np.ndarray
    text_ids: np.ndarray | None
    offsets: np.ndarray
    languages: tuple[str, ...]
    concept_ids: tuple[str, ...]
    dropped_concepts: tuple[str, ...]
    n_dropped_rows: int
    scale: float
    messages: tuple[str, ...]

    @property
    def usable(self) -> bool:
        """At least 3 concepts survive the removal of zero / non-finite rows."""
        return self.n_concepts >= 3

    @property
    def status(self) -> str:
        if not self.usable:
            return "invalid"
        return "warning" if self.n_dropped_rows else "ok"

    def blocks(self, max_rows: int | None = None) -> Iterator[tuple[int, int, slice]]:
        """Consecutive concept ranges [c0, c1) of at most ``max_rows`` (default ``BLOCK_ROWS``) rows,
        at least one concept each, with the slice of ``rows`` they cover."""
        max_rows = BLOCK_ROWS if max_rows is None else max_rows
        c0, n = 0, self.n_concepts
        while c0 < n:
            c1 = int(np.searchsorted(self.offsets, self.offsets[c0] + max_rows, side="right")) - 1
            c1 = min(max(c1, c0 + 1), n)
            yield c0, c1, slice(int(self.offsets[c0]), int(self.offsets[c1]))
            c0 = c1

    def load(self, part: slice) -> np.ndarray:
        """Rows ``rows[part]`` of X in its own dtype (a view when ``rows`` is a plain range)."""
        if self.consecutive and part.stop > part.start:
            return self.X[self.rows[part.start] : self.rows[part.stop - 1] + 1]
        return self.X[self.rows[part]]


def _int_array(name: str, value: npt.ArrayLike, m: int) -> np.ndarray:
    arr = np.asarray(value)
    if arr.shape != (m,):
        raise ValueError(f"{name} must be a 1-D array with one entry per row of X ({m}), got shape {arr.shape}")
    if m and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold integers, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def _labels(name: str, names: Sequence[str] | None, values: np.ndarray) -> tuple[str, ...]:
    if values.size and values.min() < 0:
        raise ValueError(f"{name} indices must be >= 0, got {values.min()}")
    top = int(values.max()) + 1 if values.size else 0
    if names is None:
        return tuple(str(i) for i in range(top))
    names = tuple(str(x) for x in names)
    if top > len(names):
        raise ValueError(f"{name} index {top - 1} is out of range for {len(names)} given names")
    return names


def check_metric(metric: str) -> None:
    """ValueError unless ``metric`` is one of :data:`METRICS`."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {list(METRICS)}")


def prepare_inputs(
    X: np.ndarray,
    concept: np.ndarray,
    lang: np.ndarray,
    *,
    text_ids: np.ndarray | None = None,
    languages: Sequence[str] | None = None,
    concept_ids: Sequence[str] | None = None,
) -> PreparedInputs:
    """Validate the inputs and drop unusable rows.

    Raises ValueError (with the reason) for: X not a 2-D real array with d >= 1; concept / lang /
    text_ids of the wrong shape or not integers; fewer than 2 languages or 3 concepts; concepts
    without a text in some language (how many, and the first). Rows with a non-finite or all-zero
    vector are then dropped (counted in a message); concepts left incomplete by that are excluded.
    N = ``len(concept_ids)`` if given else ``max(concept) + 1``; L likewise from ``languages``.
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must be a non-empty 2-D array (rows x dimensions), got shape {X.shape}")
    if not (np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)):
        raise ValueError(f"X must hold real numbers, got dtype {X.dtype}")
    m = X.shape[0]
    concept = _int_array("concept", concept, m)
    lang = _int_array("lang", lang, m)
    tids = None if text_ids is None else _int_array("text_ids", text_ids, m)
    langs = _labels("lang", languages, lang)
    cids = _labels("concept", concept_ids, concept)
    n_all, n_lang = len(cids), len(langs)
    if n_lang < 2:
        raise ValueError(f"need at least 2 languages, got {n_lang}")
    if n_all < 3:
        raise ValueError(f"need at least 3 concepts, got {n_all}")
    present = np.bincount(concept * n_lang + lang, minlength=n_all * n_lang).reshape(n_all, n_lang) > 0
    incomplete = np.flatnonzero(~present.all(axis=1))
    if incomplete.size:
        first = incomplete[0]
        missing = [langs[j] for j in np.flatnonzero(~present[first])]
        raise ValueError(
            f"{incomplete.size} of {n_all} concepts have no text in at least one language "
            f"(e.g. concept {cids[first]!r} lacks {missing}); remove them first, "
            "e.g. with QuerySet.subset(complete_only=True)"
        )

    peak = np.concatenate([np.abs(X[r0 : r0 + BLOCK_ROWS]).max(axis=1) for r0 in range(0, m, BLOCK_ROWS)])
    peak = peak.astype(np.float64)
    valid = np.isfinite(peak) & (peak > 0)  # NaN propagates through max
    messages: list[str] = []
    n_dropped = int(m - valid.sum())
    if n_dropped:
        messages.append(f"dropped {n_dropped} of {m} rows whose vector is all-zero or non-finite")
    cell_rows = np.bincount(concept[valid] * n_lang + lang[valid], minlength=n_all * n_lang).reshape(n_all, n_lang)
    keep_concept = np.all(cell_rows > 0, axis=1)
    dropped = tuple(cids[i] for i in np.flatnonzero(~keep_concept))
    if dropped:
        messages.append(
            f"excluded {len(dropped)} concept(s) left without a usable text in some language: "
            + ", ".join(dropped[:10])
            + (" ..." if len(dropped) > 10 else "")
        )
    n_kept = int(keep_concept.sum())
    if n_kept < 3:
        messages.append(f"only {n_kept} usable concept(s) remain; at least 3 are needed")
    renumber = np.cumsum(keep_concept) - 1
    used = np.flatnonzero(valid & keep_concept[concept])
    used = used[np.argsort(concept[used], kind="stable")]
    new_concept = renumber[concept[used]]
    return PreparedInputs(
        X=X,
        rows=used,
        consecutive=bool(np.all(np.diff(used) == 1)),
        peak=peak[used],
        concept=new_concept,
        lang=lang[used],
        text_ids=None if tids is None else tids[used],
        offsets=np.searchsorted(new_concept, np.arange(n_kept + 1)),
        languages=langs,
        concept_ids=tuple(cids[i] for i in np.flatnonzero(keep_concept)),
        dropped_concepts=dropped,
        n_dropped_rows=n_dropped,
        scale=float(peak[used].max()) if used.size else 0.0,
        messages=tuple(messages),
    )


# ------------------------------------------------------------------ result
@dataclass(frozen=True, eq=False)
class SAResult(ResultBase):
    """Semantic Affinity of one embedding matrix (see the module docstring for the formulas).

    ``status``: "ok"; "warning" (rows dropped, see messages); "collapsed" (some language's unique
    texts have mean cosine similarity above the threshold, or H == 0: scores are still defined);
    "invalid" (no meaningful score: fewer than 3 usable concepts, or H == 0 while some v_i > 0).
    SA, SR, SEM and SA_i are NaN only when status is "invalid"; a pair entry SA_lm is also NaN when
    H_lm == 0 while its translations differ (two languages each collapsed to one point, status
    "collapsed"). Per-concept arrays follow ``concept_ids`` (the concepts used); with
    ``weighting="expanded"`` ``v`` is the mean spread of the concept's cross-product rows and
    ``n_rows`` counts those rows (``n_rows == n_concepts`` for ``"concept"``). Pair matrices are
    symmetric (L, L) with a NaN diagonal (a language paired with itself is not a translation
    pair); ``pair_h`` holds (H_l + H_m) / 2 everywhere. ``ci_*`` are bootstrap percentile
    intervals over concepts with H held fixed (NaN when n_boot == 0), the primary interval.
    ``sem`` is Semanscope's propagated standard error of SA, ``sem_sr`` that of SR, and
    ``sem_vertical`` / ``sem_horizontal`` its two terms (:func:`affinity_result`).
    """

    sa: float
    sr: float
    h: float
    sem: float
    sem_sr: float
    sem_vertical: float
    sem_horizontal: float
    ci_low: float
    ci_high: float
    h_per_language: np.ndarray
    mean_similarity: np.ndarray
    v: np.ndarray
    sa_per_concept: np.ndarray
    worst: np.ndarray
    pair_sa: np.ndarray
    pair_ci_low: np.ndarray
    pair_ci_high: np.ndarray
    pair_v: np.ndarray
    pair_h: np.ndarray
    metric: str
    weighting: str
    n_rows: int

    def concept_table(self):
        """pandas DataFrame (concept, v, sa), lowest per-concept SA first."""
        import pandas as pd

        order = np.argsort(self.sa_per_concept, kind="stable")
        return pd.DataFrame(
            {
                "concept": [self.concept_ids[i] for i in order],
                "v": self.v[order],
                "sa": self.sa_per_concept[order],
            }
        )


def symmetric_matrix(values: np.ndarray, n_languages: int) -> np.ndarray:
    """(L, L) matrix from upper-triangle values (``np.triu_indices`` order), mirrored, NaN diagonal."""
    out = np.full((n_languages, n_languages), np.nan)
    iu = np.triu_indices(n_languages, 1)
    out[iu] = values
    out[iu[::-1]] = values
    return out


def first_occurrence(lang: np.ndarray, text_ids: np.ndarray | None) -> np.ndarray:
    """Mask of rows that are the first occurrence of their (language, text id); all True without ids."""
    if text_ids is None:
        return np.ones(len(lang), dtype=bool)
    _, tid = np.unique(text_ids, return_inverse=True)
    _, first = np.unique(lang * (tid.max() + 1) + tid, return_index=True)
    keep = np.zeros(len(lang), dtype=bool)
    keep[first] = True
    return keep


def _cell_first_rows(cell: np.ndarray) -> np.ndarray:
    """For each row, the position of the first row of its cell (its first alternative) in input order."""
    _, first, inverse = np.unique(cell, return_index=True, return_inverse=True)
    return first[inverse]


def _spreads(
    prep: PreparedInputs, metric: str, weighting: str = "concept"
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One pass over the rows in concept blocks.

    Returns per-concept joint msd (n,), pair msd (n, L, L), and for each language's unique texts
    their count (L,), the sum of their unit vectors (L, d) and their sum of squared deviations
    from the mean (L,) in the metric's space. Cosine: ``n - |sum u|^2 / n`` (exact, |u| = 1);
    euclidean: centred two-pass moments of the rows divided by ``prep.scale``. With
    ``weighting="expanded"`` each unique text counts for H with the vector of the first
    alternative of the cell it first occurs in (the original Semanscope's H, see
    :func:`semantic_affinity`).
    """
    n, L, d = prep.n_concepts, prep.n_languages, prep.X.shape[1]
    keep = first_occurrence(prep.lang, prep.text_ids)
    joint, pair = np.empty(n), np.empty((n, L, L))
    count, unit_sum = np.zeros(L, dtype=np.int64), np.zeros((L, d))
    lang_moments = GroupMoments(count.copy(), np.zeros((L, d)), np.zeros(L))
    for c0, c1, part in prep.blocks():
        nb, raw, lang = c1 - c0, prep.load(part), prep.lang[part]
        U = unit_rows(raw, prep.peak[part])
        Y = U if metric == "cosine" else np.multiply(raw, 1.0 / prep.scale, dtype=np.float64)
        cell = (prep.concept[part] - c0) * L + lang
        cells = group_moments(Y, cell, nb * L)
        within = (cells.sse / cells.count).reshape(nb, L)
        joint[c0:c1], pair[c0:c1] = cross_msd(cells.mean.reshape(nb, L, d), within)
        k = keep[part]
        if weighting == "expanded":
            src = _cell_first_rows(cell)[k]
            Uk, Yk, lk = U[src], Y[src], lang[k]
        else:
            Uk, Yk, lk = (U, Y, lang) if k.all() else (U[k], Y[k], lang[k])
        unit_sum += segment_sum(Uk, lk, L)
        count += np.bincount(lk, minlength=L)
        if metric == "euclidean":
            lang_moments = merge_moments(lang_moments, group_moments(Yk, lk, L))
    sse = unit_sse(count, unit_sum) if metric == "cosine" else lang_moments.sse
    return joint, pair, count, unit_sum, sse


@dataclass(frozen=True)
class ConceptSpreads:
    """Per-concept spreads and per-language statistics, everything SA needs.

    ``v`` (n,) and ``pair_v`` (n, P, ``np.triu_indices`` order) are per-concept vertical spreads;
    ``weight`` (n,) / ``pair_weight`` (n, P) the number of rows each concept stands for and
    ``v_var`` (n,) the variance of the concept's row spreads around ``v`` (None = one row per
    concept: weights 1, variance 0). ``h_lang`` (L,), ``lang_count`` (L,) and ``unit_sum`` (L, d) describe each
    language's unique texts (H_l, how many, the sum of their unit vectors).
    """

    v: np.ndarray
    pair_v: np.ndarray
    h_lang: np.ndarray
    lang_count: np.ndarray
    unit_sum: np.ndarray
    weight: np.ndarray | None = None
    pair_weight: np.ndarray | None = None
    v_var: np.ndarray | None = None


def _distances(prep: PreparedInputs, metric: str, weighting: str = "concept") -> ConceptSpreads:
    """:class:`ConceptSpreads` of the prepared rows, in the caller's units."""
    joint_msd, pair_msd, lang_count, unit_sum, lang_sse = _spreads(prep, metric, weighting)
    scale = 1.0 if metric == "cosine" else prep.scale
    iu = np.triu_indices(prep.n_languages, 1)
    v = msd_to_distance(joint_msd, metric, scale)
    pair_v = msd_to_distance(pair_msd[:, iu[0], iu[1]], metric, scale)
    h_lang = msd_to_distance(pairwise_msd(lang_count, lang_sse), metric, scale)
    spreads = ConceptSpreads(v, pair_v, h_lang, lang_count, unit_sum)
    return _expand(prep, metric, spreads) if weighting == "expanded" else spreads


def _expand(prep: PreparedInputs, metric: str, spreads: ConceptSpreads) -> ConceptSpreads:
    """Expanded weighting: every cross-product row of a concept's alternatives counts once.

    A concept with ``n_il`` alternatives in language l stands for ``R_i = prod_l n_il`` rows, one
    text per language each. Row spread from the mean over its L (L-1) / 2 language pairs of the
    squared distance ``|a - b|^2`` (of unit vectors for cosine, where ``1 - a.b = |a - b|^2 / 2``:
    the mean pairwise cosine distance; of the raw vectors for euclidean, whose square root is the
    RMS pairwise distance); the squared distances of every pair of alternatives of two cells are
    computed once and summed over the cross product by broadcasting. ``v_i`` is the mean over the
    concept's rows, ``v_var_i`` their variance around it. The pair (l, m) of a concept stands for
    ``n_il n_im`` rows (the study restricted to two languages), its spread is the mean distance
    over the cross product of the two cells (cosine ``1 - a.b``, euclidean ``|a - b|``).
    Concepts with one text per cell keep their spreads (weights 1). At most
    :data:`MAX_EXPANDED_ROWS` rows per concept are enumerated.
    """
    n, L = prep.n_concepts, prep.n_languages
    iu = np.triu_indices(L, 1)
    counts = np.bincount(prep.concept * L + prep.lang, minlength=n * L).reshape(n, L)
    weight = np.prod(counts.astype(np.float64), axis=1)
    pair_weight = (counts[:, iu[0]] * counts[:, iu[1]]).astype(np.float64)
    v, pair_v, v_var = spreads.v.copy(), spreads.pair_v.copy(), np.zeros(n)
    scale = 1.0 if metric == "cosine" else prep.scale
    for i in np.flatnonzero(weight > 1):
        if weight[i] > MAX_EXPANDED_ROWS:
            raise ValueError(
                f"concept {prep.concept_ids[i]!r} expands to {int(weight[i]):,} cross-product rows "
                f"(alternatives per language {counts[i].tolist()}); the expanded weighting enumerates at most "
                f"{MAX_EXPANDED_ROWS:,}; use weighting='concept'"
            )
        part = slice(int(prep.offsets[i]), int(prep.offsets[i + 1]))
        raw, lang = prep.load(part), prep.lang[part]
        Y = (
            unit_rows(raw, prep.peak[part])
            if metric == "cosine"
            else np.multiply(raw, 1.0 / prep.scale, dtype=np.float64)
        )
        cells = [Y[lang == j] for j in range(L)]
        shape = [len(cell) for cell in cells]
        total = np.zeros(shape)  # sum over language pairs of the squared distance, per cross-product row
        for p, (a, b) in enumerate(zip(*iu, strict=True)):
            diff = cells[a][:, None, :] - cells[b][None, :, :]
            sq = np.einsum("ijk,ijk->ij", diff, diff)  # |a - b|^2 of every pair of the two cells
            pair_v[i, p] = msd_to_distance(sq, metric, scale).mean()
            grid = [1] * L
            grid[a], grid[b] = shape[a], shape[b]
            total += sq.reshape(grid)
        rows = msd_to_distance(total.ravel() / len(iu[0]), metric, scale)
        v[i], v_var[i] = rows.mean(), rows.var()
    return ConceptSpreads(v, pair_v, spreads.h_lang, spreads.lang_count, spreads.unit_sum, weight, pair_weight, v_var)


def _weighted_mean(values: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    """Mean over concepts (axis 0), each weighted by the rows it stands for."""
    if weight is None:
        return values.mean(axis=0)
    return (weight * values).sum(axis=0) / weight.sum(axis=0)


def propagated_sem(
    v: np.ndarray, h_lang: np.ndarray, weight: np.ndarray | None = None, v_var: np.ndarray | None = None
) -> tuple[float, float, float, float]:
    """Semanscope's propagated standard error of SR and SA -> ``(sem_sr, sem, sem_vertical, sem_horizontal)``.

    With R rows (``sum(weight)``; N concepts when unweighted), row spreads of mean ``V`` and sample
    standard deviation ``s_V`` (ddof = 1: ``s_V^2 = sum_i w_i (var_i + (v_i - V)^2) / (R - 1)``
    with ``var_i`` = ``v_var``), H = mean_l H_l and
    ``s_H`` the sample standard deviation of the L values H_l (ddof = 1; 0 for one language):

    * ``SEM_V = s_V / sqrt(R)``, ``SEM_H = s_H / sqrt(L)``, ``SR = V / H``;
    * ``sem_sr = SR sqrt((SEM_V / V)^2 + (SEM_H / H)^2)`` (the ratio's error; 0 when SR = 0);
    * ``sem = sem_sr / (1 + SR)^2`` (dSA/dSR = -1/(1+SR)^2), split into its two terms
      ``sem_vertical = (SEM_V / H) / (1 + SR)^2`` and ``sem_horizontal = SR (SEM_H / H) / (1 + SR)^2``,
      ``sem = sqrt(sem_vertical^2 + sem_horizontal^2)``.
    """
    h = float(np.mean(h_lang))
    rows = float(len(v) if weight is None else weight.sum())
    mean = float(_weighted_mean(v, weight))
    spread = (v - mean) ** 2 + (0.0 if v_var is None else v_var)
    total = float(spread.sum() if weight is None else (weight * spread).sum())
    sem_v = np.sqrt(total / (rows - 1) / rows) if rows > 1 else 0.0
    L = len(h_lang)
    sem_h = float(np.std(h_lang, ddof=1)) / np.sqrt(L) if L > 1 else 0.0
    if not h > 0:
        return 0.0, 0.0, 0.0, 0.0
    sr = mean / h
    vertical, horizontal = sem_v / h, sr * sem_h / h
    sem_sr = float(np.hypot(vertical, horizontal))
    return sem_sr, sem_sr / (1.0 + sr) ** 2, vertical / (1.0 + sr) ** 2, horizontal / (1.0 + sr) ** 2


def affinity_result(
    spreads: ConceptSpreads,
    *,
    languages: Sequence[str],
    concept_ids: Sequence[str],
    metric: str,
    weighting: str = "concept",
    status: str = "ok",
    messages: Sequence[str] = (),
    dropped_concepts: Sequence[str] = (),
    n_dropped_rows: int = 0,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    worst_k: int = 10,
    collapse_threshold: float = 0.95,
) -> SAResult:
    """:class:`SAResult` from per-concept spreads (``concept_ids`` of the n concepts, in order).

    ``H = mean_l H_l``, ``SR = V / H`` with V the row-weighted mean of ``v`` (plain mean for
    ``weighting="concept"``), ``SA = 1 / (1 + SR)``, ``SA_i = 1 / (1 + v_i / H)``; per pair
    ``H_lm = (H_l + H_m) / 2`` and ``SA_lm = 1 / (1 + V_lm / H_lm)``. Collapse when a language's
    mean cosine similarity of unique texts ``1 - sse_l / (n_l - 1)`` exceeds
    ``collapse_threshold``; H == 0 is "collapsed" (SA = 1) if every v_i == 0, else "invalid".
    SEM: :func:`propagated_sem`. CI: percentile bootstrap over concepts (``bootstrap_means``:
    ``np.random.default_rng(seed)``, concepts in order) of V and every V_lm (ratios of weighted
    sums when weighted), H held fixed. ``status`` / ``messages`` come from the input checks
    ("invalid" or fewer than 3 concepts gives NaN scores).
    """
    check_bootstrap_args(n_boot, ci)
    if worst_k < 0:
        raise ValueError(f"worst_k must be >= 0, got {worst_k}")
    L, n = len(languages), len(spreads.v)
    if len(concept_ids) != n:
        raise ValueError(f"{len(concept_ids)} concept ids for {n} concepts")
    messages = list(messages)
    iu = np.triu_indices(L, 1)
    P = len(iu[0])
    nan = float("nan")
    sa = sr = sem = sem_sr = sem_vertical = sem_horizontal = h = nan
    sa_i, pair_sa, pair_v = np.full(n, nan), np.full(P, nan), np.full(P, nan)
    ci_low, ci_high = np.full(1 + P, nan), np.full(1 + P, nan)
    v, h_lang, similarity, h_pair = np.full(n, nan), np.full(L, nan), np.full(L, nan), np.full((L, L), nan)
    n_rows = n if spreads.weight is None else int(spreads.weight.sum())
    if n < 3:
        status = "invalid"
    if status != "invalid":
        v, h_lang, count = spreads.v, spreads.h_lang, spreads.lang_count
        h = float(h_lang.mean())
        h_pair = (h_lang[:, None] + h_lang[None, :]) / 2.0
        pair_v = _weighted_mean(spreads.pair_v, spreads.pair_weight)
        # mean pairwise cosine similarity (|sum u|^2 - n) / (n (n-1)) = 1 - unit_sse / (n-1); 1 for one text
        similarity = np.where(count > 1, 1.0 - unit_sse(count, spreads.unit_sum) / np.maximum(count - 1, 1), 1.0)
        hot = np.flatnonzero(similarity > collapse_threshold)
        if hot.size:
            status = "collapsed"
            messages.append(
                f"mean cosine similarity of unique texts above {collapse_threshold} in "
                + ", ".join(f"{languages[int(j)]} ({similarity[j]:.3f})" for j in hot)
            )
        if h == 0:
            if v.any():
                status = "invalid"
                messages.append("H = 0 (each language's texts coincide) but translations differ; SA undefined")
            else:
                status = "collapsed"
                messages.append("H = 0 and every v_i = 0 (all texts identical); SA set to 1")
    if status != "invalid":
        v_mean = float(_weighted_mean(v, spreads.weight))
        sa = float(affinity_from_spread(v_mean, h))
        sa_i = affinity_from_spread(v, h)
        pair_sa = affinity_from_spread(pair_v, h_pair[iu])
        sr = v_mean / h if h > 0 else 0.0  # H == 0 is only valid when every v_i == 0
        sem_sr, sem, sem_vertical, sem_horizontal = propagated_sem(v, h_lang, spreads.weight, spreads.v_var)
        if n_boot:
            boot = _bootstrap_spreads(spreads, n_boot, seed)
            boot_sa = affinity_from_spread(boot, np.concatenate([[h], h_pair[iu]])[None, :])
            ci_low, ci_high = percentile_ci(boot_sa, ci)
    return SAResult(
        sa=sa,
        sr=float(sr),
        h=h,
        sem=float(sem),
        sem_sr=float(sem_sr),
        sem_vertical=float(sem_vertical),
        sem_horizontal=float(sem_horizontal),
        ci_low=float(ci_low[0]),
        ci_high=float(ci_high[0]),
        h_per_language=h_lang,
        mean_similarity=similarity,
        v=v,
        sa_per_concept=sa_i,
        worst=np.argsort(sa_i, kind="stable")[:worst_k] if status != "invalid" else np.zeros(0, dtype=np.int64),
        pair_sa=symmetric_matrix(pair_sa, L),
        pair_ci_low=symmetric_matrix(ci_low[1:], L),
        pair_ci_high=symmetric_matrix(ci_high[1:], L),
        pair_v=symmetric_matrix(pair_v, L),
        pair_h=h_pair,
        status=status,
        messages=tuple(messages),
        languages=tuple(languages),
        concept_ids=tuple(concept_ids),
        dropped_concepts=tuple(dropped_concepts),
        n_dropped_rows=int(n_dropped_rows),
        metric=metric,
        weighting=weighting,
        n_rows=n_rows if status != "invalid" else 0,
        seed=seed,
        n_boot=int(n_boot),
        ci=ci,
    )


def _bootstrap_spreads(spreads: ConceptSpreads, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, 1 + P) resampled V and V_lm: plain means of ``[v | v^lm]``, or with weights the
    ratios ``sum_b w v / sum_b w`` of the same resampled concepts (one count matrix for all)."""
    values = np.column_stack([spreads.v, spreads.pair_v])
    if spreads.weight is None or spreads.pair_weight is None:
        return bootstrap_means(values, n_boot, seed)
    weights = np.column_stack([spreads.weight, spreads.pair_weight])
    sums = bootstrap_means(np.column_stack([weights * values, weights]), n_boot, seed)
    k = values.shape[1]
    return sums[:, :k] / sums[:, k:]


def concept_pair_spreads(
    X: np.ndarray,
    concept: np.ndarray,
    lang: np.ndarray,
    *,
    metric: str = "cosine",
    languages: Sequence[str] | None = None,
    concept_ids: Sequence[str] | None = None,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Per-concept vertical spread of every unordered language pair, ``v_i^lm`` (n, P) in
    ``np.triu_indices(L, 1)`` order (their mean over concepts is :attr:`SAResult.pair_v`), and the
    ids of the n concepts used. Inputs are validated and rows dropped as in
    :func:`semantic_affinity`; NaN (n, P) when fewer than 3 concepts are usable. The per-concept
    values allow paired resampling of two models on the same concepts.
    """
    check_metric(metric)
    prep = prepare_inputs(X, concept, lang, languages=languages, concept_ids=concept_ids)
    if not prep.usable:
        n_pairs = prep.n_languages * (prep.n_languages - 1) // 2
        return np.full((prep.n_concepts, n_pairs), np.nan), prep.concept_ids
    return _distances(prep, metric).pair_v, prep.concept_ids


def semantic_affinity(
    X: np.ndarray,
    concept: np.ndarray,
    lang: np.ndarray,
    *,
    text_ids: np.ndarray | None = None,
    metric: str = "cosine",
    weighting: str = "concept",
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    languages: Sequence[str] | None = None,
    concept_ids: Sequence[str] | None = None,
    worst_k: int = 10,
    collapse_threshold: float = 0.95,
) -> SAResult:
    """Semantic Affinity, its per-concept and per-language-pair breakdown, and its uncertainty.

    Formulas: module docstring and :func:`affinity_result`. Pair matrix: ``H_lm = (H_l + H_m) / 2``,
    ``v_i^lm`` = cross distance of cells (i, l), (i, m) (cosine: ``1 - c_il . c_im``; euclidean:
    RMS), ``SA_lm = 1 / (1 + mean_i v_i^lm / H_lm)``. Uncertainty: the percentile bootstrap over
    concepts (``n_boot`` resamples, level ``ci``, ``np.random.default_rng(seed)``) for SA and every
    SA_lm at once, H held fixed at its value from all texts; and Semanscope's propagated SEM with
    its vertical and horizontal terms (:func:`propagated_sem`). ``worst``: positions of the
    ``worst_k`` lowest SA_i (ties in concept order). Cost O(M d + N L^2 d + n_boot N L^2); memory
    bounded by ``BLOCK_ROWS`` rows at a time.

    ``weighting`` says how concepts with alternatives (several rows in a cell) count:

    * ``"concept"`` (default): every concept counts once; its cell (i, l) is the mean of its
      alternatives' vectors in the formulas above, H uses each unique text's own vector;
    * ``"expanded"``: the original Semanscope's algorithm, to reproduce its numbers: every
      cross-product row of a concept's alternatives (one text per language) counts once
      (:func:`_expand`); H_l is the mean pairwise distance over language l's unique texts where,
      as in the original, each unique text has the vector of the first alternative (the first row,
      in input order) of the cell it first occurs in; the SEM counts rows, not concepts.
      Both coincide when no cell holds alternatives.

    Degeneracy, detected in the same pass and reported in ``status`` / ``messages``: all-zero or
    non-finite rows are dropped (concepts left incomplete are excluded; "invalid" if fewer than 3
    remain); a language whose unique texts have mean cosine similarity
    ``(|sum u|^2 - n) / (n (n - 1))`` above ``collapse_threshold`` -> "collapsed"; H == 0 ->
    "collapsed" with SA = 1 if every v_i == 0 (all texts identical), else "invalid".
    """
    check_metric(metric)
    if weighting not in WEIGHTINGS:
        raise ValueError(f"unknown weighting {weighting!r}; choose one of {list(WEIGHTINGS)}")
    check_bootstrap_args(n_boot, ci)
    if worst_k < 0:
        raise ValueError(f"worst_k must be >= 0, got {worst_k}")
    prep = prepare_inputs(X, concept, lang, text_ids=text_ids, languages=languages, concept_ids=concept_ids)
    if prep.usable:
        spreads = _distances(prep, metric, weighting)
    else:
        L, d = prep.n_languages, prep.X.shape[1]
        empty = np.zeros(prep.n_concepts)
        spreads = ConceptSpreads(
            empty, np.zeros((prep.n_concepts, L * (L - 1) // 2)), np.zeros(L), np.zeros(L), np.zeros((L, d))
        )
    return affinity_result(
        spreads,
        languages=prep.languages,
        concept_ids=prep.concept_ids,
        metric=metric,
        weighting=weighting,
        status=prep.status,
        messages=prep.messages,
        dropped_concepts=prep.dropped_concepts,
        n_dropped_rows=prep.n_dropped_rows,
        n_boot=n_boot,
        ci=ci,
        seed=seed,
        worst_k=worst_k,
        collapse_threshold=collapse_threshold,
    )
