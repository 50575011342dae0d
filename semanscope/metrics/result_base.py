"""The fields every metric result shares: which data it describes, how it was resampled, its status.

:class:`~semanscope.metrics.affinity.SAResult` and
:class:`~semanscope.metrics.retrieval.RetrievalResult` extend :class:`ResultBase`; its fields come
first in ``dataclasses.fields`` (JSON keys), and :mod:`semanscope.metrics.results` round-trips them
through the type hints like the subclasses' own fields.
"""

from __future__ import annotations

from dataclasses import dataclass


class ConceptsByLanguages:
    """``n_concepts`` / ``n_languages`` of a record with ``concept_ids`` and ``languages`` fields
    (metric results and the validated inputs they are computed from)."""

    concept_ids: tuple[str, ...]
    languages: tuple[str, ...]

    @property
    def n_concepts(self) -> int:
        return len(self.concept_ids)

    @property
    def n_languages(self) -> int:
        return len(self.languages)


@dataclass(frozen=True, eq=False)
class ResultBase(ConceptsByLanguages):
    """Identification, resampling settings and status of a metric result.

    ``status``: "ok", "warning" (rows dropped, see ``messages``) or "invalid" (fewer than 3 usable
    concepts; every score NaN); a subclass may add values (SA: "collapsed"). ``concept_ids``: the
    concepts used, in the order of every per-concept array; ``dropped_concepts``: those excluded
    because a row of theirs was all-zero or non-finite (``n_dropped_rows`` rows). ``seed``,
    ``n_boot``, ``ci``: the percentile bootstrap over concepts (``n_boot == 0``: no intervals).
    """

    status: str
    messages: tuple[str, ...]
    languages: tuple[str, ...]
    concept_ids: tuple[str, ...]
    dropped_concepts: tuple[str, ...]
    n_dropped_rows: int
    seed: int
    n_boot: int
    ci: float
