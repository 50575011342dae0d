"""Result objects from merged statistics: the same :class:`~semanscope.metrics.affinity.SAResult`
the single-process metrics return, and the messages both results carry.

The formulas after the spreads (SA, SR, SEM, the bootstrap over concepts with H fixed, pair
matrix, collapse status) are those of :func:`~semanscope.metrics.affinity.semantic_affinity`,
applied to per-concept values in the same concept order, so the bootstrap draws
(``np.random.default_rng(seed)`` over concepts in order,
:func:`~semanscope.metrics.affinity.bootstrap_means`) are identical. Retrieval needs no mirror:
summed stripe counts go through :func:`~semanscope.metrics.retrieval.retrieval_result` itself.
The engine tests compare every field with the single-process functions to 1e-9.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from semanscope.engine.stats import Spreads
from semanscope.metrics.affinity import (
    SAResult,
    _symmetric,
    affinity_from_spread,
    bootstrap_means,
    check_bootstrap_args,
    percentile_ci,
    unit_sse,
)


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
    """:class:`SAResult` of merged spreads (``concept_ids`` of the kept concepts, in order).

    SA = 1 / (1 + mean_i v_i / H), H = mean_l H_l; SA_lm with H_lm = (H_l + H_m) / 2; collapse
    when a language's mean cosine similarity of unique texts ``1 - sse_l / (n_l - 1)`` exceeds
    ``collapse_threshold``; ``sem_sr = std(v, ddof=1) / sqrt(N) / H``, ``sem = sem_sr / (1 + SR)^2``;
    percentile bootstrap of ``[v | v^lm]`` over concepts with H fixed.
    """
    check_bootstrap_args(n_boot, ci)
    if worst_k < 0:
        raise ValueError(f"worst_k must be >= 0, got {worst_k}")
    L, n = len(languages), len(spreads.v)
    if len(concept_ids) != n:
        raise ValueError(f"{len(concept_ids)} concept ids for {n} concepts")
    messages = list(input_messages(spreads, excluded_ids))
    status = "invalid" if n < 3 else ("warning" if spreads.n_dropped_rows else "ok")
    iu = np.triu_indices(L, 1)
    P = len(iu[0])
    sa_i, pair_sa, pair_v = np.full(n, np.nan), np.full(P, np.nan), np.full(P, np.nan)
    sa = sr = sem = sem_sr = h = float("nan")
    ci_low, ci_high = np.full(1 + P, np.nan), np.full(1 + P, np.nan)
    v, h_lang, similarity, h_pair = np.full(n, np.nan), np.full(L, np.nan), np.full(L, np.nan), np.full((L, L), np.nan)
    if status != "invalid":
        v, h_lang, count = spreads.v, spreads.h_lang, spreads.lang_count
        h = float(h_lang.mean())
        h_pair = (h_lang[:, None] + h_lang[None, :]) / 2.0
        pair_v = spreads.pair_v.mean(axis=0)
        similarity = np.where(count > 1, 1.0 - unit_sse(count, spreads.unit_sum) / np.maximum(count - 1, 1), 1.0)
        hot = np.flatnonzero(similarity > collapse_threshold)
        if hot.size:
            status = "collapsed"
            messages.append(
                f"collapsed: mean cosine similarity of unique texts above {collapse_threshold} in "
                + ", ".join(f"{languages[int(j)]} ({similarity[j]:.3f})" for j in hot)
            )
        if h == 0:
            if v.any():
                status = "invalid"
                messages.append("invalid: H = 0 (each language's texts coincide) but translations differ; SA undefined")
            else:
                status = "collapsed"
                messages.append("collapsed: H = 0 and every v_i = 0 (all texts identical); SA set to 1")
    if status != "invalid":
        v_mean = float(v.mean())
        sa = float(affinity_from_spread(v_mean, h))
        sa_i = affinity_from_spread(v, h)
        pair_sa = affinity_from_spread(pair_v, h_pair[iu])
        if h > 0:
            sr, sem_sr = v_mean / h, float(np.std(v, ddof=1)) / np.sqrt(n) / h
        else:
            sr = sem_sr = 0.0
        sem = sem_sr / (1.0 + sr) ** 2
        if n_boot:
            boot = bootstrap_means(np.column_stack([v, spreads.pair_v]), n_boot, seed)
            boot_sa = affinity_from_spread(boot, np.concatenate([[h], h_pair[iu]])[None, :])
            ci_low, ci_high = percentile_ci(boot_sa, ci)
    return SAResult(
        sa=sa,
        sr=float(sr),
        h=h,
        sem=float(sem),
        sem_sr=float(sem_sr),
        ci_low=float(ci_low[0]),
        ci_high=float(ci_high[0]),
        h_per_language=h_lang,
        mean_similarity=similarity,
        v=v,
        sa_per_concept=sa_i,
        worst=np.argsort(sa_i, kind="stable")[:worst_k] if status != "invalid" else np.zeros(0, dtype=np.int64),
        pair_sa=_symmetric(pair_sa, L),
        pair_ci_low=_symmetric(ci_low[1:], L),
        pair_ci_high=_symmetric(ci_high[1:], L),
        pair_v=_symmetric(pair_v, L),
        pair_h=h_pair,
        status=status,
        messages=tuple(messages),
        languages=tuple(languages),
        concept_ids=tuple(concept_ids),
        dropped_concepts=tuple(excluded_ids),
        n_dropped_rows=spreads.n_dropped_rows,
        metric=metric,
        seed=seed,
        n_boot=int(n_boot),
        ci=ci,
    )
