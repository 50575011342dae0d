"""Metrics on embeddings aligned with ``QuerySet.items()``: Semantic Affinity, retrieval (plain cosine,
CSLS, ratio margin), result records."""

from semanscope.metrics.affinity import (
    ConceptSpreads,
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
    propagated_sem,
    segment_sum,
    semantic_affinity,
    unit_rows,
)
from semanscope.metrics.calibration import Calibration, calibrate
from semanscope.metrics.hubness import top_cosines
from semanscope.metrics.result_base import ResultBase
from semanscope.metrics.results import ROW_COLUMNS, StudyRecord, library_versions
from semanscope.metrics.retrieval import (
    QueryCounts,
    RetrievalResult,
    cell_unit_means,
    count_tensors,
    expected_hit,
    expected_reciprocal_rank,
    retrieval_counts,
    retrieval_metrics,
    retrieval_result,
)
from semanscope.metrics.tiles import pair_counts

__all__ = [
    "Calibration",
    "ConceptSpreads",
    "GroupMoments",
    "PreparedInputs",
    "QueryCounts",
    "ROW_COLUMNS",
    "ResultBase",
    "RetrievalResult",
    "SAResult",
    "StudyRecord",
    "affinity_from_spread",
    "bootstrap_means",
    "calibrate",
    "cell_unit_means",
    "concept_pair_spreads",
    "count_tensors",
    "cross_msd",
    "expected_hit",
    "expected_reciprocal_rank",
    "group_moments",
    "library_versions",
    "mean_pairwise_distance",
    "merge_moments",
    "pair_counts",
    "prepare_inputs",
    "propagated_sem",
    "retrieval_counts",
    "retrieval_metrics",
    "retrieval_result",
    "segment_sum",
    "semantic_affinity",
    "top_cosines",
    "unit_rows",
]
