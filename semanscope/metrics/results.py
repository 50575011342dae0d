"""Serialisable study results: one model on one data set.

A :class:`StudyRecord` holds the identification (model, family, fingerprint, data set), the
analysis settings (languages, N, seed, n_boot), library versions, and the metric results
(:class:`SAResult` and its :class:`Calibration` per distance metric, :class:`RetrievalResult`). It
round-trips through JSON
(NaN is written as ``null``) and flattens to tidy rows for pandas / CSV.
"""

from __future__ import annotations

import dataclasses
import json
import math
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

import numpy as np
import scipy

import semanscope
from semanscope.metrics.affinity import SAResult
from semanscope.metrics.calibration import Calibration
from semanscope.metrics.retrieval import RetrievalResult

SCHEMA = 3  # 2: SA results name their weighting, rows and the two SEM terms; 3: calibrations, hubness-aware retrieval
READABLE_SCHEMAS = (2, 3)  # a schema-2 record reads with no calibrations
ROW_COLUMNS = ("model", "family", "dataset", "metric", "lang_a", "lang_b", "value", "ci_low", "ci_high", "n")
ALL = "all"


def library_versions() -> dict[str, str]:
    """Versions of python, numpy, scipy and semanscope (recorded with every result)."""
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "semanscope": semanscope.__version__,
    }


def json_ready(value: Any) -> Any:
    """``value`` as plain JSON values, recursively: numpy arrays and tuples -> lists, numpy
    scalars -> Python numbers, dict keys -> str, NaN and +-inf -> None (strict JSON has no NaN);
    anything else is returned as it is. Used for every JSON file Semanscope writes."""
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def result_to_dict(result: SAResult | RetrievalResult | Calibration) -> dict:
    return {f.name: json_ready(getattr(result, f.name)) for f in dataclasses.fields(result)}


def result_from_dict(cls: type, data: dict) -> Any:
    """Inverse of :func:`result_to_dict`, driven by the dataclass's type hints."""
    hints = get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        value, hint = data[f.name], hints[f.name]
        if hint is np.ndarray:
            arr = np.asarray(value)
            value = np.asarray(value, dtype=np.float64) if arr.dtype == object else arr
        elif hint is float:
            value = float("nan") if value is None else float(value)
        elif getattr(hint, "__origin__", None) is tuple:
            value = tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)


RecordT = TypeVar("RecordT", bound="JsonRecord")


class JsonRecord:
    """``to_json`` / ``from_json`` for a record class that defines ``to_dict`` / ``from_dict``."""

    def to_dict(self) -> dict:
        raise NotImplementedError

    @classmethod
    def from_dict(cls: type[RecordT], data: dict) -> RecordT:
        raise NotImplementedError

    def to_json(self, path: str | Path) -> None:
        """Write :meth:`to_dict` as strict JSON (no NaN tokens)."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=1, allow_nan=False), encoding="utf-8")

    @classmethod
    def from_json(cls: type[RecordT], path: str | Path) -> RecordT:
        """Read a file written by :meth:`to_json`."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not a valid results file ({exc})") from None
        return cls.from_dict(data)


@dataclasses.dataclass(frozen=True, eq=False)
class StudyRecord(JsonRecord):
    """Results of one model on one data set, with everything needed to reproduce them."""

    model: str
    family: str
    fingerprint: str
    dataset: str
    languages: tuple[str, ...]
    n_concepts: int
    seed: int
    n_boot: int
    versions: dict[str, str]
    created: str
    affinity: tuple[SAResult, ...] = ()
    retrieval: RetrievalResult | None = None
    calibration: tuple[Calibration, ...] = ()

    @classmethod
    def create(
        cls,
        *,
        model: str,
        family: str,
        fingerprint: str,
        dataset: str,
        affinity: SAResult | tuple[SAResult, ...] = (),
        retrieval: RetrievalResult | None = None,
        calibration: tuple[Calibration, ...] = (),
    ) -> StudyRecord:
        """Record results, taking languages / N / seed / n_boot from them and stamping versions + UTC time.

        All results must share languages, concepts, seed and n_boot; SA results need distinct metrics;
        each calibration must belong to one of the SA results (same metric and weighting).
        """
        sa = (affinity,) if isinstance(affinity, SAResult) else tuple(affinity)
        results: list[SAResult | RetrievalResult] = [*sa, *([retrieval] if retrieval is not None else [])]
        if not results:
            raise ValueError("a StudyRecord needs at least one SAResult or RetrievalResult")
        first = results[0]
        key = (first.languages, first.concept_ids, first.seed, first.n_boot)
        for r in results[1:]:
            if (r.languages, r.concept_ids, r.seed, r.n_boot) != key:
                raise ValueError("all results of a StudyRecord must share languages, concepts, seed and n_boot")
        metrics = [r.metric for r in sa]
        if len(set(metrics)) != len(metrics):
            raise ValueError(f"one SAResult per metric, got {metrics}")
        known = {(r.metric, r.weighting) for r in sa}
        for c in calibration:
            if (c.metric, c.weighting) not in known or c.languages != first.languages:
                raise ValueError(f"calibration ({c.metric}, {c.weighting}) does not belong to any SA result")
        return cls(
            model=model,
            family=family,
            fingerprint=fingerprint,
            dataset=dataset,
            languages=first.languages,
            n_concepts=first.n_concepts,
            seed=first.seed,
            n_boot=first.n_boot,
            versions=library_versions(),
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            affinity=sa,
            retrieval=retrieval,
            calibration=tuple(calibration),
        )

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict:
        """Plain JSON-ready dict (arrays as nested lists, NaN as None), tagged with ``schema``."""
        out: dict[str, Any] = {"schema": SCHEMA}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in ("affinity", "calibration"):
                out[f.name] = [result_to_dict(r) for r in value]
            elif f.name == "retrieval":
                out[f.name] = None if value is None else result_to_dict(value)
            else:
                out[f.name] = json_ready(value)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> StudyRecord:
        """Inverse of :meth:`to_dict`."""
        if data.get("schema") not in READABLE_SCHEMAS:
            raise ValueError(
                f"unsupported result schema {data.get('schema')!r} "
                f"(this version reads {', '.join(map(str, READABLE_SCHEMAS))})"
            )
        kwargs = {
            f.name: data.get(f.name, ()) if f.name == "calibration" else data[f.name] for f in dataclasses.fields(cls)
        }
        kwargs["languages"] = tuple(kwargs["languages"])
        kwargs["affinity"] = tuple(result_from_dict(SAResult, r) for r in kwargs["affinity"])
        kwargs["calibration"] = tuple(result_from_dict(Calibration, r) for r in kwargs["calibration"])
        if kwargs["retrieval"] is not None:
            kwargs["retrieval"] = result_from_dict(RetrievalResult, kwargs["retrieval"])
        return cls(**kwargs)

    # ------------------------------------------------------------------ tidy rows
    def to_rows(self) -> list[dict]:
        """Tidy rows with columns ``ROW_COLUMNS``.

        Per SA result (``<m>`` = its metric): ``sa_<m>`` joint (lang_a = lang_b = "all") and per
        unordered pair (lang_a < lang_b in language order); ``sr_<m>`` joint (CI mapped from SA's
        through SR = 1/SA - 1); ``h_<m>`` joint and per language (lang_a = lang_b). Per calibration
        (:mod:`semanscope.metrics.calibration`): ``sa_floor_<m>`` (chance floor), ``sa_normalized_<m>``
        ((SA - floor) / (1 - floor), with the mapped CI) and ``sa_centered_<m>`` (language-centred SA,
        with its CI), joint and per unordered pair; ``anisotropy`` joint and per language (once: it
        does not depend on the metric). Retrieval: ``p_at_1`` and ``mrr`` per ordered pair
        (lang_a = query, lang_b = candidate) and their mean over pairs ("all", with CI); with
        hubness-aware scores also ``p_at_1_csls`` / ``mrr_csls`` and ``p_at_1_margin`` /
        ``mrr_margin``; ``n_tied`` (queries whose true translation ties with another candidate) per
        ordered pair and in total. ``n`` = concepts used. Missing values are NaN.
        """
        nan = float("nan")
        rows: list[dict] = []

        def add(metric: str, a: str, b: str, value: float, low: float = nan, high: float = nan) -> None:
            rows.append(
                dict(
                    zip(
                        ROW_COLUMNS,
                        (
                            self.model,
                            self.family,
                            self.dataset,
                            metric,
                            a,
                            b,
                            float(value),
                            float(low),
                            float(high),
                            self.n_concepts,
                        ),
                        strict=True,
                    )
                )
            )

        langs = self.languages
        upper = np.triu_indices(len(langs), 1)
        for r in self.affinity:
            add(f"sa_{r.metric}", ALL, ALL, r.sa, r.ci_low, r.ci_high)
            for i, j in zip(upper[0].tolist(), upper[1].tolist(), strict=True):
                add(f"sa_{r.metric}", langs[i], langs[j], r.pair_sa[i, j], r.pair_ci_low[i, j], r.pair_ci_high[i, j])
            add(f"sr_{r.metric}", ALL, ALL, r.sr, 1.0 / r.ci_high - 1.0, 1.0 / r.ci_low - 1.0)
            add(f"h_{r.metric}", ALL, ALL, r.h)
            for i, lang in enumerate(langs):
                add(f"h_{r.metric}", lang, lang, r.h_per_language[i])
        for k, c in enumerate(self.calibration):
            m = c.metric
            add(f"sa_floor_{m}", ALL, ALL, c.floor)
            add(f"sa_normalized_{m}", ALL, ALL, c.normalized, c.normalized_ci_low, c.normalized_ci_high)
            add(f"sa_centered_{m}", ALL, ALL, c.centered_sa, c.centered_ci_low, c.centered_ci_high)
            for i, j in zip(upper[0].tolist(), upper[1].tolist(), strict=True):
                a, b = langs[i], langs[j]
                add(f"sa_floor_{m}", a, b, c.pair_floor[i, j])
                low, high = c.pair_normalized_ci_low[i, j], c.pair_normalized_ci_high[i, j]
                add(f"sa_normalized_{m}", a, b, c.pair_normalized[i, j], low, high)
                add(f"sa_centered_{m}", a, b, c.centered_pair_sa[i, j])
            if k == 0:
                add("anisotropy", ALL, ALL, c.anisotropy)
                for i, lang in enumerate(langs):
                    add("anisotropy", lang, lang, c.anisotropy_per_language[i])
        if self.retrieval is not None:
            ret = self.retrieval
            scores = [""] + [f"_{name}" for name, k in (("csls", ret.k_csls), ("margin", ret.k_margin)) if k > 0]
            for x in scores:
                for name in ("p_at_1", "mrr"):
                    mean, low, high = (
                        getattr(ret, f) for f in (f"mean_{name}{x}", f"{name}{x}_ci_low", f"{name}{x}_ci_high")
                    )
                    add(f"{name}{x}", ALL, ALL, mean, low, high)
                    matrix = getattr(ret, f"{name}{x}")
                    for i, a in enumerate(langs):
                        for j, b in enumerate(langs):
                            if i != j:
                                add(f"{name}{x}", a, b, matrix[i, j])
            add("n_tied", ALL, ALL, ret.n_tied_total)
            for i, a in enumerate(langs):
                for j, b in enumerate(langs):
                    if i != j:
                        add("n_tied", a, b, ret.n_tied[i, j])
        return rows
