"""Serialisable Relational Affinity results: one model on one relation set.

:class:`RARecord` holds the identification (model, family, fingerprint, data set), library
versions, creation time and the :class:`~semanscope.metrics.relational.RAResult`. Like the SA
results (:mod:`semanscope.metrics.results`) it round-trips through JSON (NaN written as
``null``) and flattens to tidy rows for pandas / CSV.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from typing import Any

import numpy as np

from semanscope.metrics.relational import RAResult
from semanscope.metrics.results import (
    ALL,
    JsonRecord,
    json_ready,
    library_versions,
    result_from_dict,
    result_to_dict,
)

SCHEMA = 1
RA_ROW_COLUMNS = ("model", "family", "dataset", "metric", "category", "lang_a", "lang_b", "value", "n")


@dataclasses.dataclass(frozen=True, eq=False)
class RARecord(JsonRecord):
    """RA of one model on one relation set, with what is needed to reproduce it (``to_json`` /
    ``from_json`` from :class:`~semanscope.metrics.results.JsonRecord`)."""

    model: str
    family: str
    fingerprint: str
    dataset: str
    versions: dict[str, str]
    created: str
    result: RAResult

    @classmethod
    def create(cls, *, model: str, family: str, fingerprint: str, dataset: str, result: RAResult) -> RARecord:
        """Record ``result``, stamping library versions and the UTC time."""
        return cls(
            model=model,
            family=family,
            fingerprint=fingerprint,
            dataset=dataset,
            versions=library_versions(),
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            result=result,
        )

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict:
        """Plain JSON-ready dict (arrays as nested lists, NaN as None), tagged with ``schema``."""
        out: dict[str, Any] = {"schema": SCHEMA}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = result_to_dict(value) if f.name == "result" else json_ready(value)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> RARecord:
        """Inverse of :meth:`to_dict`."""
        if data.get("schema") != SCHEMA:
            raise ValueError(f"unsupported RA result schema {data.get('schema')!r} (this version reads {SCHEMA})")
        kwargs = {f.name: data[f.name] for f in dataclasses.fields(cls)}
        kwargs["result"] = result_from_dict(RAResult, kwargs["result"])
        return cls(**kwargs)

    # ------------------------------------------------------------------ tidy rows
    def to_rows(self) -> list[dict]:
        """Tidy rows with columns ``RA_ROW_COLUMNS``.

        Within a language (lang_a = lang_b, per category): ``ra_within`` (mean pairwise cosine,
        n = usable relation vectors), ``ra_within_std``/``_min``/``_max``, ``ra_within_negatives``
        (a count, n = pairs) and ``zero_vectors`` (a count, n = relations with a pair).
        Across languages (lang_a < lang_b in language order): ``ra_cross`` per category and for
        category "all", with ``ra_cross_std``/``_min``/``_max``/``_negatives`` and
        ``ra_cross_all_pairs`` for "all"; n = relations usable in both. ``missing_pairs`` per
        language (category "all"): relations without both words. Missing values are NaN.
        """
        r = self.result
        rows: list[dict] = []

        def add(metric: str, category: str, a: str, b: str, value: float, n: int) -> None:
            values = (self.model, self.family, self.dataset, metric, category, a, b, float(value), int(n))
            rows.append(dict(zip(RA_ROW_COLUMNS, values, strict=True)))

        langs = r.languages
        for c, cat in enumerate(r.categories):
            for j, lang in enumerate(langs):
                n = r.within_n[c, j]
                add("ra_within", cat, lang, lang, r.within_mean[c, j], n)
                add("ra_within_std", cat, lang, lang, r.within_std[c, j], n)
                add("ra_within_min", cat, lang, lang, r.within_min[c, j], n)
                add("ra_within_max", cat, lang, lang, r.within_max[c, j], n)
                add("ra_within_negatives", cat, lang, lang, r.within_negatives[c, j], r.within_pairs[c, j])
                add("zero_vectors", cat, lang, lang, r.zero[c, j], n + r.zero[c, j])
        for a, b in zip(*np.triu_indices(len(langs), 1), strict=True):
            la, lb, n = langs[a], langs[b], r.cross_n[a, b]
            add("ra_cross", ALL, la, lb, r.cross_mean[a, b], n)
            add("ra_cross_std", ALL, la, lb, r.cross_std[a, b], n)
            add("ra_cross_min", ALL, la, lb, r.cross_min[a, b], n)
            add("ra_cross_max", ALL, la, lb, r.cross_max[a, b], n)
            add("ra_cross_negatives", ALL, la, lb, r.cross_negatives[a, b], n)
            add("ra_cross_all_pairs", ALL, la, lb, r.cross_all_pairs[a, b], n)
            for c, cat in enumerate(r.categories):
                add("ra_cross", cat, la, lb, r.category_cross_mean[c, a, b], r.category_cross_n[c, a, b])
        for j, lang in enumerate(langs):
            add("missing_pairs", ALL, lang, lang, r.missing[j], r.n_relations)
        return rows
