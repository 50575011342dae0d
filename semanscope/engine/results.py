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

from semanscope.engine.stats import Spreads
from semanscope.metrics.affinity import (
    ConceptSpreads,
    SAResult,
)
from semanscope.metrics.affinity import affinity_result as metrics_affinity_result


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
