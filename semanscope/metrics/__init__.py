"""Metrics on embeddings aligned with ``QuerySet.items()``: Semantic Affinity, retrieval, result records."""

from semanscope.metrics.affinity import (
    GroupMoments,
    PreparedInputs,
    SAResult,
    affinity_from_spread,
    bootstrap_means,
    concept_pair_spreads,
    cross_msd,
    group_moments,
    mean_pairwise_distance,
    merge_moments,
    prepare_inputs,
    segment_sum,
    semantic_affinity,
    unit_rows,
)
from semanscope.metrics.results import ROW_COLUMNS, StudyRecord, library_versions
from semanscope.metrics.retrieval import (
    RetrievalResult,
    cell_unit_means,
    pair_ranks,
    rank_tensor,
    retrieval_metrics,
    retrieval_ranks,
)

__all__ = [
    "GroupMoments",
    "PreparedInputs",
    "ROW_COLUMNS",
    "RetrievalResult",
    "SAResult",
    "StudyRecord",
    "affinity_from_spread",
    "bootstrap_means",
    "cell_unit_means",
    "concept_pair_spreads",
    "cross_msd",
    "group_moments",
    "library_versions",
    "mean_pairwise_distance",
    "merge_moments",
    "pair_ranks",
    "prepare_inputs",
    "rank_tensor",
    "retrieval_metrics",
    "retrieval_ranks",
    "segment_sum",
    "semantic_affinity",
    "unit_rows",
]
