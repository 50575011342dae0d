"""Cross-lingual retrieval: P@1 and MRR for every ordered language pair, ties counted fairly, and on
request the hubness-corrected scores CSLS and ratio margin.

For the ordered pair (s, t) the queries are the concepts' cell-mean unit vectors in language s
(mean of the cell's unit vectors, renormalised) and the candidates are those of all n concepts in
language t. With ``f_ij`` the score of query i and candidate j (cosine ``s_ij``; CSLS or margin,
:mod:`semanscope.metrics.hubness`) and ``f_ii`` the true translation's, query i has

    a_i = #{j != i : f_ij > f_ii + tol},    t_i = #{j != i : |f_ij - f_ii| <= tol}

candidates above and tied (counts exact in float64: :mod:`semanscope.metrics.tiles`, which also
defines ``tol``, so that identical vectors always tie). Under uniformly random tie-breaking the
rank is uniform on ``{a_i + 1, ..., a_i + 1 + t_i}``, so

    E[hit@1] = [a_i == 0] / (1 + t_i),    E[1 / rank] = (H(a_i + 1 + t_i) - H(a_i)) / (1 + t_i)

(``H(m) = sum_{r <= m} 1 / r``; ``1 / (a_i + 1)`` without ties). ``P@1 = mean_i E[hit@1]``,
``MRR = mean_i E[1 / rank]``; ``n_tied`` counts the queries with ``t_i > 0``. A query tied with t
others thus scores ``1 / (1 + t)``, not 1: a model mapping different texts to one vector gains
nothing from it.

Each unordered pair costs one pass of float32 similarity tiles shared by both directions (s -> t
counts along rows, t -> s along columns), so no N x N matrix is ever held; CSLS and margin add one
top-k pass (:func:`~semanscope.metrics.hubness.top_cosines`) and are counted on the same tiles.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.special import digamma

from semanscope.metrics.affinity import (
    PreparedInputs,
    bootstrap_means,
    check_bootstrap_args,
    percentile_ci,
    prepare_inputs,
    segment_sum,
    unit_rows,
)
from semanscope.metrics.faiss_search import K_SEARCH, SEARCHES, direction_counts
from semanscope.metrics.hubness import CSLS, K_CSLS, K_MARGIN, Margin, top_cosines
from semanscope.metrics.result_base import ResultBase
from semanscope.metrics.tiles import Cosine, Score, pair_counts

SCORES = ("cosine", "csls", "margin")


def cell_unit_means(prep: PreparedInputs) -> np.ndarray:
    """(L, N, d) float64: for each language and concept the renormalised mean of the cell's unit vectors."""
    L, n, d = prep.n_languages, prep.n_concepts, prep.X.shape[1]
    out = np.empty((L, n, d))
    for c0, c1, part in prep.blocks():
        nb = c1 - c0
        sums = segment_sum(unit_rows(prep.load(part)), prep.lang[part] * nb + prep.concept[part] - c0, L * nb)
        out[:, c0:c1] = unit_rows(sums).reshape(L, nb, d)
    return out


def expected_hit(above: np.ndarray, tied: np.ndarray) -> np.ndarray:
    """``E[hit@1] = [a == 0] / (1 + t)`` under uniformly random tie-breaking."""
    return (np.asarray(above) == 0) / (1.0 + np.asarray(tied))


def expected_reciprocal_rank(above: np.ndarray, tied: np.ndarray) -> np.ndarray:
    """``E[1 / rank] = mean_{r = a+1}^{a+1+t} 1 / r = (H(a+1+t) - H(a)) / (1 + t)``, with
    ``H(m) - H(p) = psi(m + 1) - psi(p + 1)`` (digamma); exactly ``1 / (a + 1)`` when ``t == 0``."""
    a = np.asarray(above, dtype=np.float64)
    t = np.asarray(tied, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = (digamma(a + t + 2.0) - digamma(a + 1.0)) / (1.0 + t)
    return np.where(t == 0, 1.0 / (a + 1.0), spread)


@dataclass(frozen=True, eq=False)
class QueryCounts:
    """Per-query counts of one score for every ordered pair: ``above`` and ``tied`` (L, L, n) int64,
    ``[s, t, i]`` for concept i's query in language s among language t's candidates (module docstring).

    ``defined`` (L, L): the pairs where the score exists (never the diagonal; the margin needs
    positive denominators). :attr:`hit` and :attr:`reciprocal_rank` are NaN elsewhere.
    ``search``: how the counts were found (:func:`count_tensors`); ``recall``: the measured recall
    of an approximate search (NaN for exact ones).
    """

    above: np.ndarray
    tied: np.ndarray
    defined: np.ndarray
    search: str = "exact"
    recall: float = float("nan")

    @classmethod
    def empty(cls, L: int, n: int, search: str = "exact") -> QueryCounts:
        zeros = np.zeros((L, L, n), dtype=np.int64)
        return cls(zeros, zeros.copy(), ~np.eye(L, dtype=bool), search)

    def _masked(self, values: np.ndarray) -> np.ndarray:
        return np.where(self.defined[:, :, None], values, np.nan)

    @property
    def hit(self) -> np.ndarray:
        """(L, L, n) expected hit@1 in [0, 1]."""
        return self._masked(expected_hit(self.above, self.tied))

    @property
    def reciprocal_rank(self) -> np.ndarray:
        """(L, L, n) expected reciprocal rank in (0, 1]."""
        return self._masked(expected_reciprocal_rank(self.above, self.tied))


def effective_k(k: int, n: int) -> int:
    """``min(k, n - 1)``: the neighbourhood size used with n candidates."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return int(min(k, n - 1))


def check_search(search: str, hubness: bool) -> None:
    """ValueError for an unknown ``search``, or hubness scores with a faiss search."""
    if search not in SEARCHES:
        raise ValueError(f"unknown search {search!r}; choose one of {list(SEARCHES)}")
    if hubness and search != "exact":
        raise ValueError("CSLS and the ratio margin need search='exact'")


def count_tensors(
    cells: np.ndarray,
    *,
    hubness: bool = False,
    k_csls: int = K_CSLS,
    k_margin: int = K_MARGIN,
    block: int = 512,
    workers: int | None = None,
    search: str = "exact",
    k_search: int = K_SEARCH,
) -> dict[str, QueryCounts]:
    """Counts of every ordered pair from cell-mean unit vectors ``cells`` (L, n, d): ``{"cosine": ...}``
    and, with ``hubness``, ``"csls"`` and ``"margin"`` with k = :func:`effective_k` (the margin is
    left undefined for a pair whose denominators are not all positive).

    ``search``: "exact" (float32 tiles, :func:`~semanscope.metrics.tiles.pair_counts`), "faiss-flat"
    (the same counts through faiss) or "faiss-hnsw" (approximate, ``k_search`` candidates per query;
    :mod:`semanscope.metrics.faiss_search`); the faiss searches count plain cosine only.
    """
    check_search(search, hubness)
    L, n, _ = cells.shape
    out = {name: QueryCounts.empty(L, n, search) for name in (SCORES if hubness else SCORES[:1])}
    kc, km = effective_k(k_csls, n), effective_k(k_margin, n)
    recalls = []
    for s in range(L):
        for t in range(s + 1, L):
            A, B = cells[s], cells[t]
            if search != "exact":
                approximate = search == "faiss-hnsw"
                (fwd, r_fwd), (back, r_back) = (
                    direction_counts(A, B, approximate, k_search),
                    direction_counts(B, A, approximate, k_search),
                )
                recalls += [r_fwd, r_back]
                results = [(out["cosine"], fwd, back)]
            else:
                scores: list[Score] = [Cosine()]
                if hubness:
                    top_a, top_b = top_cosines(A, B, max(kc, km), block=block, workers=workers)
                    scores.append(CSLS(top_a[:, :kc].mean(axis=1), top_b[:, :kc].mean(axis=1)))
                    margin = Margin(top_a[:, :km].mean(axis=1), top_b[:, :km].mean(axis=1))
                    if margin.defined:
                        scores.append(margin)
                    else:
                        out["margin"].defined[[s, t], [t, s]] = False
                pairs = pair_counts(A, B, scores, block=block, workers=workers)
                results = [(out[score.name], fwd, back) for score, (fwd, back) in zip(scores, pairs, strict=True)]
            for counts, fwd, back in results:
                counts.above[s, t], counts.tied[s, t] = fwd.above, fwd.tied
                counts.above[t, s], counts.tied[t, s] = back.above, back.tied
    if search == "faiss-hnsw" and recalls:
        out["cosine"] = replace(out["cosine"], recall=float(np.mean(recalls)))
    return out


@dataclass(frozen=True, eq=False)
class RetrievalResult(ResultBase):
    """P@1 / MRR per ordered language pair: row = query language, column = candidate language.

    Expected values under random tie-breaking (module docstring). Matrices (L, L) have a NaN
    diagonal (``n`` is 0 there). ``mean_*`` average over the L(L-1) ordered pairs, with percentile
    bootstrap intervals over concepts (NaN when n_boot == 0). ``*_per_concept`` average each
    concept's expected hit / reciprocal rank over the ordered pairs, following ``concept_ids``.
    ``n_tied`` (L, L): queries with at least one candidate tied with the true translation.

    ``*_csls`` / ``*_margin``: the same for CSLS (neighbourhood ``k_csls``) and the ratio margin
    (``k_margin``); NaN (and k = 0) unless computed with ``hubness=True``; the margin is NaN for
    a pair where it is undefined (see ``messages``).

    ``search``: "exact" (float32 tiles, float64 re-check), "faiss-flat" (exact, same counts) or
    "faiss-hnsw" (approximate nearest neighbours: :attr:`approximate`; ``recall`` = its measured
    recall of the exact top candidates, NaN for exact searches).
    ``status``: "ok", "warning" (rows dropped, see messages) or "invalid" (fewer than 3 usable
    concepts; every score NaN).
    """

    p_at_1: np.ndarray
    mrr: np.ndarray
    n: np.ndarray
    mean_p_at_1: float
    mean_mrr: float
    p_at_1_ci_low: float
    p_at_1_ci_high: float
    mrr_ci_low: float
    mrr_ci_high: float
    p_at_1_per_concept: np.ndarray
    mrr_per_concept: np.ndarray
    n_tied: np.ndarray
    p_at_1_csls: np.ndarray
    mrr_csls: np.ndarray
    mean_p_at_1_csls: float
    mean_mrr_csls: float
    p_at_1_csls_ci_low: float
    p_at_1_csls_ci_high: float
    mrr_csls_ci_low: float
    mrr_csls_ci_high: float
    n_tied_csls: np.ndarray
    k_csls: int
    p_at_1_margin: np.ndarray
    mrr_margin: np.ndarray
    mean_p_at_1_margin: float
    mean_mrr_margin: float
    p_at_1_margin_ci_low: float
    p_at_1_margin_ci_high: float
    mrr_margin_ci_low: float
    mrr_margin_ci_high: float
    n_tied_margin: np.ndarray
    k_margin: int
    search: str
    recall: float

    @property
    def approximate(self) -> bool:
        """True for an approximate nearest-neighbour search (counts may miss candidates)."""
        return self.search == "faiss-hnsw"

    @property
    def n_tied_total(self) -> int:
        """Queries with ties over all ordered pairs (plain cosine)."""
        return int(self.n_tied.sum())


@dataclass(frozen=True)
class _ScoreSummary:
    """One score's matrices, means, per-concept values and tie counts (NaN when not computed)."""

    p_at_1: np.ndarray
    mrr: np.ndarray
    mean_p_at_1: float
    mean_mrr: float
    hit_i: np.ndarray
    rr_i: np.ndarray
    n_tied: np.ndarray

    @classmethod
    def of(cls, counts: QueryCounts | None, L: int, n: int, usable: bool) -> _ScoreSummary:
        p1, mrr, tied = np.full((L, L), np.nan), np.full((L, L), np.nan), np.zeros((L, L), dtype=np.int64)
        hit_i, rr_i = np.full(n, np.nan), np.full(n, np.nan)
        if counts is not None and usable:
            off = ~np.eye(L, dtype=bool)
            hits, recip = counts.hit[off], counts.reciprocal_rank[off]  # (L(L-1), n) over ordered pairs
            p1[off], mrr[off] = hits.mean(axis=1), recip.mean(axis=1)
            tied[off] = np.count_nonzero(counts.tied[off] > 0, axis=1)
            hit_i, rr_i = hits.mean(axis=0), recip.mean(axis=0)
        off = ~np.eye(L, dtype=bool)
        return cls(p1, mrr, float(p1[off].mean()), float(mrr[off].mean()), hit_i, rr_i, tied)

    def fields(self, name: str, low: np.ndarray, high: np.ndarray) -> dict[str, Any]:
        """This score's :class:`RetrievalResult` fields (suffix ``_<name>`` except for the cosine),
        with the bootstrap bounds ``low`` / ``high`` of (mean P@1, mean MRR)."""
        x = "" if name == "cosine" else f"_{name}"
        return {
            f"p_at_1{x}": self.p_at_1,
            f"mrr{x}": self.mrr,
            f"mean_p_at_1{x}": self.mean_p_at_1,
            f"mean_mrr{x}": self.mean_mrr,
            f"p_at_1{x}_ci_low": float(low[0]),
            f"p_at_1{x}_ci_high": float(high[0]),
            f"mrr{x}_ci_low": float(low[1]),
            f"mrr{x}_ci_high": float(high[1]),
            f"n_tied{x}": self.n_tied,
        }


def retrieval_result(
    counts: Mapping[str, QueryCounts],
    *,
    languages: Sequence[str],
    concept_ids: Sequence[str],
    dropped_concepts: Sequence[str] = (),
    messages: Sequence[str] = (),
    n_dropped_rows: int = 0,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    k_csls: int = 0,
    k_margin: int = 0,
) -> RetrievalResult:
    """:class:`RetrievalResult` from per-query counts: ``counts["cosine"]`` and optionally
    ``"csls"`` / ``"margin"`` (:class:`QueryCounts`, n = ``len(concept_ids)``); ``search`` and
    ``recall`` come from ``counts["cosine"]``, and an approximate search says so in ``messages``.

    Expected hit / reciprocal rank per query (module docstring), averaged per ordered pair, per
    concept, and over pairs; one percentile bootstrap over concepts (``bootstrap_means`` with
    ``seed``) for every score's mean P@1 and MRR. Status: "invalid" with fewer than 3 concepts
    (every score NaN), "warning" when rows were dropped, else "ok". ``messages`` are kept; a note is
    added for pairs where the margin is undefined. Used by :func:`retrieval_metrics` and the Ray
    engine alike, so both give identical results from identical counts.
    """
    check_bootstrap_args(n_boot, ci)
    L, n = len(languages), len(concept_ids)
    usable = n >= 3
    summaries = {name: _ScoreSummary.of(counts.get(name), L, n, usable) for name in SCORES}
    computed = [name for name in SCORES if name in counts and usable]
    bounds = {name: (np.full(2, np.nan), np.full(2, np.nan)) for name in SCORES}
    if n_boot and computed:
        columns = [c for name in computed for c in (summaries[name].hit_i, summaries[name].rr_i)]
        low, high = percentile_ci(bootstrap_means(np.column_stack(columns), n_boot, seed), ci)
        for k, name in enumerate(computed):
            bounds[name] = (low[2 * k : 2 * k + 2], high[2 * k : 2 * k + 2])
    notes = list(messages)
    search, recall = counts["cosine"].search, counts["cosine"].recall
    if search == "faiss-hnsw":
        notes.append(f"approximate retrieval (faiss HNSW): measured recall of the exact top candidates {recall:.3f}")
    if "margin" in counts and usable:
        undefined = [
            f"{languages[s]}->{languages[t]}"
            for s, t in zip(*np.nonzero(~counts["margin"].defined), strict=True)
            if s != t
        ]
        if undefined:
            notes.append("ratio margin undefined (a neighbourhood mean cosine sum <= 0) for " + ", ".join(undefined))
    counts_matrix = np.where(np.eye(L, dtype=bool), 0, n if usable else 0).astype(np.int64)
    return RetrievalResult(
        **{k: v for name in SCORES for k, v in summaries[name].fields(name, *bounds[name]).items()},
        n=counts_matrix,
        p_at_1_per_concept=summaries["cosine"].hit_i,
        mrr_per_concept=summaries["cosine"].rr_i,
        k_csls=int(k_csls) if "csls" in counts else 0,
        k_margin=int(k_margin) if "margin" in counts else 0,
        search=search,
        recall=float(recall),
        status="invalid" if not usable else ("warning" if n_dropped_rows else "ok"),
        messages=tuple(notes),
        languages=tuple(languages),
        concept_ids=tuple(concept_ids),
        dropped_concepts=tuple(dropped_concepts),
        n_dropped_rows=int(n_dropped_rows),
        seed=seed,
        n_boot=int(n_boot),
        ci=ci,
    )


def _check_block(block: int) -> None:
    if isinstance(block, bool) or not isinstance(block, (int, np.integer)) or block < 1:
        raise ValueError(f"block must be a positive integer, got {block!r}")


def _count_prepared(prep: PreparedInputs, hubness: bool, **options: Any) -> dict[str, QueryCounts]:
    """:func:`count_tensors` of validated inputs (``options``: its keywords), or empty (L, L, 0)
    counts when fewer than 3 concepts are usable."""
    _check_block(options["block"])
    check_search(options["search"], hubness)
    if not prep.usable:
        L = prep.n_languages
        return {name: QueryCounts.empty(L, 0, options["search"]) for name in (SCORES if hubness else SCORES[:1])}
    return count_tensors(cell_unit_means(prep), hubness=hubness, **options)


def retrieval_counts(
    X: np.ndarray,
    concept: np.ndarray,
    lang: np.ndarray,
    *,
    hubness: bool = False,
    k_csls: int = K_CSLS,
    k_margin: int = K_MARGIN,
    block: int = 512,
    workers: int | None = None,
    search: str = "exact",
    k_search: int = K_SEARCH,
    languages: Sequence[str] | None = None,
    concept_ids: Sequence[str] | None = None,
) -> tuple[dict[str, QueryCounts], tuple[str, ...]]:
    """Per-query counts of every ordered pair (:func:`count_tensors`) and the ids of the n concepts
    used (inputs validated and rows dropped as in :func:`retrieval_metrics`; empty (L, L, 0) counts
    and no ids when fewer than 3 concepts are usable). ``counts["cosine"].hit[s, t].mean()`` is
    ``retrieval_metrics(...).p_at_1[s, t]``; the per-query values allow paired resampling."""
    prep = prepare_inputs(X, concept, lang, languages=languages, concept_ids=concept_ids)
    counts = _count_prepared(
        prep, hubness, k_csls=k_csls, k_margin=k_margin, block=block, workers=workers, search=search, k_search=k_search
    )
    return counts, prep.concept_ids if prep.usable else ()


def retrieval_scores(
    X: np.ndarray,
    concept: np.ndarray,
    lang: np.ndarray,
    *,
    block: int = 512,
    languages: Sequence[str] | None = None,
    concept_ids: Sequence[str] | None = None,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    hubness: bool = False,
    k_csls: int = K_CSLS,
    k_margin: int = K_MARGIN,
    workers: int | None = None,
    search: str = "exact",
    k_search: int = K_SEARCH,
) -> tuple[RetrievalResult, dict[str, QueryCounts]]:
    """P@1 and MRR for every ordered language pair (definitions in the module docstring); with
    ``hubness`` also CSLS (``k_csls``) and ratio-margin (``k_margin``) P@1 / MRR.

    Inputs are validated like :func:`semantic_affinity` (ValueError for bad shapes, < 2 languages,
    < 3 concepts or incomplete concepts; zero / non-finite rows dropped with a message). Each
    unordered pair costs one N x N x d float32 product in tiles of ``block`` query rows, run by
    ``workers`` threads (default: the CPUs available); ``hubness`` adds a second one. ``search``
    "faiss-flat" / "faiss-hnsw" (cosine only, :func:`count_tensors`) use the optional faiss;
    "faiss-hnsw" is approximate (``RetrievalResult.approximate``, its recall in ``recall``).

    Returns the result and the per-query counts it was computed from (:func:`retrieval_counts`'s,
    for paired resampling without counting twice).
    """
    check_bootstrap_args(n_boot, ci)
    prep = prepare_inputs(X, concept, lang, languages=languages, concept_ids=concept_ids)
    counts = _count_prepared(
        prep, hubness, k_csls=k_csls, k_margin=k_margin, block=block, workers=workers, search=search, k_search=k_search
    )
    n = prep.n_concepts
    result = retrieval_result(
        counts,
        languages=prep.languages,
        concept_ids=prep.concept_ids,
        dropped_concepts=prep.dropped_concepts,
        messages=prep.messages,
        n_dropped_rows=prep.n_dropped_rows,
        n_boot=n_boot,
        ci=ci,
        seed=seed,
        k_csls=effective_k(k_csls, n) if hubness and n >= 2 else 0,
        k_margin=effective_k(k_margin, n) if hubness and n >= 2 else 0,
    )
    return result, counts


def retrieval_metrics(X: np.ndarray, concept: np.ndarray, lang: np.ndarray, **options: Any) -> RetrievalResult:
    """The :class:`RetrievalResult` of :func:`retrieval_scores` (same keywords ``options``)."""
    return retrieval_scores(X, concept, lang, **options)[0]
