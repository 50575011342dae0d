"""Result objects from merged statistics: the same :class:`~semanscope.metrics.affinity.SAResult`
and :class:`~semanscope.metrics.retrieval.RetrievalResult` the single-process metrics return.

The formulas after the spreads (SA, SR, SEM, the bootstrap over concepts with H fixed, pair
matrix, collapse status; P@1 / MRR from ranks) are those of
:func:`~semanscope.metrics.affinity.semantic_affinity` and
:func:`~semanscope.metrics.retrieval.retrieval_metrics`, applied to per-concept values in the
same concept order, so the bootstrap draws (``np.random.default_rng(seed)`` over concepts in
order, :func:`~semanscope.metrics.affinity.bootstrap_means`) are identical. The engine tests
compare every field with the single-process functions to 1e-9.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from semanscope.engine.stats import Spreads
from semanscope.metrics.affinity import (
    ConceptSpreads,
    SAResult,
    bootstrap_means,
    check_bootstrap_args,
    percentile_ci,
)
from semanscope.metrics.affinity import affinity_result as metrics_affinity_result
from semanscope.metrics.retrieval import RetrievalResult


def input_messages(spreads: Spreads, excluded_ids: Sequence[str]) -> tuple[str, ...]:
    """What :func:`~semanscope.metrics.affinity.prepare_inputs` reports: dropped rows, excluded
    concepts (the first 10 ids), too few usable concepts."""
    messages = []
    if spreads.n_dropped_rows:
        messages.append(
            f"dropped {spreads.n_dropped_rows} of {spreads.n_rows} rows whose vector is all-zero or non-finite"
        )
    if len(excluded_ids):
        messages.append(
            f"excluded {len(excluded_ids)} concept(s) left without a usable text in some language: "
            + ", ".join(excluded_ids[:10])
            + (" ..." if len(excluded_ids) > 10 else "")
        )
    if len(spreads.v) < 3:
        messages.append(f"only {len(spreads.v)} usable concept(s) remain; at least 3 are needed")
    return tuple(messages)


def affinity_result(
    spreads: Spreads,
    *,
    languages: Sequence[str],
    concept_ids: Sequence[str],
    excluded_ids: Sequence[str] = (),
    metric: str = "cosine",
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    worst_k: int = 10,
    collapse_threshold: float = 0.95,
) -> SAResult:
    """:class:`SAResult` of merged spreads (``concept_ids`` of the kept concepts, in order): the
    single-process :func:`semanscope.metrics.affinity.affinity_result` on the merged per-concept
    spreads and per-language statistics, with the input messages of
    :func:`~semanscope.metrics.affinity.prepare_inputs`."""
    status = "invalid" if len(spreads.v) < 3 else ("warning" if spreads.n_dropped_rows else "ok")
    return metrics_affinity_result(
        ConceptSpreads(spreads.v, spreads.pair_v, spreads.h_lang, spreads.lang_count, spreads.unit_sum),
        languages=languages,
        concept_ids=concept_ids,
        metric=metric,
        status=status,
        messages=input_messages(spreads, excluded_ids),
        dropped_concepts=tuple(excluded_ids),
        n_dropped_rows=spreads.n_dropped_rows,
        n_boot=n_boot,
        ci=ci,
        seed=seed,
        worst_k=worst_k,
        collapse_threshold=collapse_threshold,
    )


def retrieval_result(
    ranks: np.ndarray,
    *,
    languages: Sequence[str],
    concept_ids: Sequence[str],
    excluded_ids: Sequence[str] = (),
    messages: Sequence[str] = (),
    n_dropped_rows: int = 0,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
) -> RetrievalResult:
    """:class:`RetrievalResult` of a rank tensor ``ranks`` (L, L, n) (0 on the diagonal):
    ``P@1[s, t] = mean_i [rank == 1]``, ``MRR[s, t] = mean_i 1 / rank``, per-concept means over the
    ordered pairs and their percentile bootstrap over concepts. Fewer than 3 concepts: all NaN, "invalid"."""
    check_bootstrap_args(n_boot, ci)
    L, n = len(languages), len(concept_ids)
    off = ~np.eye(L, dtype=bool)
    p1, mrr = np.full((L, L), np.nan), np.full((L, L), np.nan)
    counts = np.zeros((L, L), dtype=np.int64)
    hit_i, rr_i = np.full(n, np.nan), np.full(n, np.nan)
    ci_bounds = np.full((2, 2), np.nan)
    usable = n >= 3
    if usable:
        flat = ranks[off]
        hits, recip = flat == 1, 1.0 / flat
        p1[off], mrr[off], counts[off] = hits.mean(axis=1), recip.mean(axis=1), n
        hit_i, rr_i = hits.mean(axis=0), recip.mean(axis=0)
        if n_boot:
            ci_bounds = np.array(percentile_ci(bootstrap_means(np.column_stack([hit_i, rr_i]), n_boot, seed), ci))
    return RetrievalResult(
        p_at_1=p1,
        mrr=mrr,
        n=counts,
        mean_p_at_1=float(p1[off].mean()),
        mean_mrr=float(mrr[off].mean()),
        p_at_1_ci_low=float(ci_bounds[0, 0]),
        p_at_1_ci_high=float(ci_bounds[1, 0]),
        mrr_ci_low=float(ci_bounds[0, 1]),
        mrr_ci_high=float(ci_bounds[1, 1]),
        p_at_1_per_concept=hit_i,
        mrr_per_concept=rr_i,
        status="invalid" if not usable else ("warning" if n_dropped_rows else "ok"),
        messages=tuple(messages),
        languages=tuple(languages),
        concept_ids=tuple(concept_ids),
        dropped_concepts=tuple(excluded_ids),
        n_dropped_rows=n_dropped_rows,
        seed=seed,
        n_boot=int(n_boot),
        ci=ci,
    )
