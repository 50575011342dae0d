"""Write a :class:`~semanscope.relational_study.RelationalStudy` to a folder, and the headless run
behind ``semanscope relational``.

Files (all under ``out``):

* ``results.json`` - settings, the loader report, the relation set's provenance, versions and,
  per model, identity, status, message and the full :class:`~semanscope.metrics.relational_results.RARecord`;
* ``results.csv`` - tidy rows of every successful model (:meth:`RARecord.to_rows`);
* ``report.md`` - what RA measures, one line per model, the within- and cross-language tables,
  notes, data and settings (user text escaped with :func:`~semanscope.plots.tables.markdown_escape`);
* ``tables/within.{csv,md,tex}``, ``tables/cross.{csv,md,tex}`` and ``tables/relations.csv``
  (per relation: its cross-language RA under each model).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from semanscope.cache import EmbeddingCache
from semanscope.data.relations import load_relations
from semanscope.metrics.relational import ZERO_NORM
from semanscope.metrics.relational_results import RA_ROW_COLUMNS
from semanscope.metrics.results import ALL, json_ready
from semanscope.models.base import Embedder
from semanscope.plots.tables import markdown_escape, to_csv, to_latex, to_markdown
from semanscope.relational_study import RelationalProgress, RelationalStudy, run_relational
from semanscope.study import ModelSpec

SCHEMA = 1


def _fmt(value: float) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.3f}"


# --------------------------------------------------------------------------- tables
def within_table(study: RelationalStudy) -> pd.DataFrame:
    """One row per model x category x language: usable relation vectors, RA (mean pairwise
    cosine), std, min, max, negative pairs of all pairs, zero vectors excluded."""
    rows = []
    for run in study.ok_runs:
        r = run.record.result  # type: ignore[union-attr]
        for c, category in enumerate(r.categories):
            for j, lang in enumerate(r.languages):
                rows.append(
                    {
                        "model": run.key,
                        "category": category,
                        "language": lang,
                        "relations": int(r.within_n[c, j]),
                        "RA": r.within_mean[c, j],
                        "std": r.within_std[c, j],
                        "min": r.within_min[c, j],
                        "max": r.within_max[c, j],
                        "negative pairs": int(r.within_negatives[c, j]),
                        "pairs": int(r.within_pairs[c, j]),
                        "zero vectors": int(r.zero[c, j]),
                    }
                )
    return pd.DataFrame(rows)


def cross_table(study: RelationalStudy) -> pd.DataFrame:
    """One row per model x language pair (category "all", then each category when there are
    several): relations usable in both, RA (mean matched cosine), std, min, max, negatives and the
    original app's all-pairs mean (category "all" only)."""
    rows = []
    for run in study.ok_runs:
        r = run.record.result  # type: ignore[union-attr]
        for a, b in zip(*np.triu_indices(len(r.languages), 1), strict=True):
            pair = f"{r.languages[a]}-{r.languages[b]}"
            rows.append(
                {
                    "model": run.key,
                    "category": ALL,
                    "pair": pair,
                    "relations": int(r.cross_n[a, b]),
                    "RA": r.cross_mean[a, b],
                    "std": r.cross_std[a, b],
                    "min": r.cross_min[a, b],
                    "max": r.cross_max[a, b],
                    "negative": int(r.cross_negatives[a, b]),
                    "all-pairs mean": r.cross_all_pairs[a, b],
                }
            )
            if len(r.categories) > 1:
                for c, category in enumerate(r.categories):
                    rows.append(
                        {
                            "model": run.key,
                            "category": category,
                            "pair": pair,
                            "relations": int(r.category_cross_n[c, a, b]),
                            "RA": r.category_cross_mean[c, a, b],
                        }
                    )
    return pd.DataFrame(rows)


def relation_table(study: RelationalStudy) -> pd.DataFrame:
    """One row per relation: id, category, then per model its cross-language RA (mean matched
    cosine over the language pairs where it is usable) and over how many pairs."""
    rel = study.relations
    frame = pd.DataFrame({"relation": list(rel.ids), "category": list(rel.categories)})
    for run in study.ok_runs:
        r = run.record.result  # type: ignore[union-attr]
        frame[f"{run.key} RA"] = r.relation_cross
        frame[f"{run.key} pairs"] = r.relation_cross_pairs
    return frame


def tidy_rows(study: RelationalStudy) -> pd.DataFrame:
    """:meth:`RARecord.to_rows` of every successful run."""
    rows = [row for run in study.ok_runs for row in run.record.to_rows()]  # type: ignore[union-attr]
    return pd.DataFrame(rows, columns=list(RA_ROW_COLUMNS))


# --------------------------------------------------------------------------- report
def summary_lines(study: RelationalStudy) -> list[str]:
    """One Markdown line per model: mean within-language RA and mean cross-language RA, or why it did not run."""
    lines = []
    for run in study.runs:
        key = markdown_escape(run.key)
        if not run.ok:
            lines.append(f"- {key}: not run ({run.status}): {markdown_escape(run.message)}")
            continue
        r = run.record.result  # type: ignore[union-attr]
        within = r.within_mean[np.isfinite(r.within_mean)]
        cross = r.cross_mean[np.triu_indices(len(r.languages), 1)]
        cross = cross[np.isfinite(cross)]
        text = f"- **{key}**: within-language RA {_fmt(within.mean()) if within.size else '-'}"
        if within.size > 1:
            text += f" (mean of {within.size} category x language values, {_fmt(within.min())} to {_fmt(within.max())})"
        if cross.size:
            text += f"; cross-language RA {_fmt(cross.mean())} (mean over {cross.size} language pair(s))"
        lines.append(text + ".")
    return lines


def render_markdown(study: RelationalStudy, settings: dict, load_report: Sequence[str]) -> str:
    """report.md (see module doc)."""
    rel = study.relations
    name = markdown_escape(rel.name)
    lines = [
        f"# Semanscope relational affinity: {name}",
        "",
        "RA asks whether a model encodes one relation (word1 -> word2, e.g. husband -> wife) as one direction. "
        "Relation vector r = u(word2) - u(word1) on unit word vectors; **within-language RA** of a category = "
        "mean cosine between its relations' vectors in one language; **cross-language RA** = cosine between "
        "one relation's vectors in two languages, averaged over the relations. 1 = parallel, 0 = unrelated, "
        "negative = opposite. Zero relation vectors (same word on both sides) are excluded and counted.",
        "",
        "## Answer",
        "",
        *summary_lines(study),
        "",
    ]
    within, cross = within_table(study), cross_table(study)
    if not within.empty:
        lines += ["## Within-language RA", "", to_markdown(within), ""]
    if not cross.empty:
        lines += [
            "## Cross-language RA",
            "",
            "Matched relations (the same relation in both languages); 'all-pairs mean' compares every relation "
            "with every other, as the original Semanscope page did.",
            "",
            to_markdown(cross),
            "",
        ]
    notes = [(run.key, run.message) for run in study.ok_runs if run.message]
    if notes:
        lines += ["## Notes on the scores", ""]
        lines += [f"- {markdown_escape(key)}: {markdown_escape(message)}" for key, message in notes] + [""]
    prov = {k: v for k, v in rel.provenance.items() if k in ("source", "sha256", "rows_read", "license")}
    lines += [
        "## Data and settings",
        "",
        f"- {name}: {rel.n_relations} relations, languages {markdown_escape(', '.join(rel.languages))}, "
        f"categories {markdown_escape(', '.join(rel.category_names))}; "
        f"{markdown_escape(json.dumps(prov, ensure_ascii=False))}",
        *(f"- loader: {markdown_escape(line)}" for line in load_report),
        f"- zero relation vector threshold {settings.get('zero_norm', ZERO_NORM):g}; command: "
        f"{markdown_escape(' '.join(settings.get('command', [])))}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in study.versions.items() if v != "not-installed"),
    ]
    return "\n".join(lines).rstrip() + "\n"


def write_relational_report(
    study: RelationalStudy, out: str | Path, *, settings: dict, load_report: Sequence[str] = ()
) -> list[Path]:
    """Write every output file into ``out`` (created); returns the paths written."""
    out = Path(out)
    tables = out / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    files: dict[Path, str | bytes] = {out / "results.csv": to_csv(tidy_rows(study))}
    for stem, frame, caption in (
        ("within", within_table(study), f"Within-language relational affinity on {study.relations.name}."),
        ("cross", cross_table(study), f"Cross-language relational affinity on {study.relations.name}."),
    ):
        files[tables / f"{stem}.csv"] = to_csv(frame)
        files[tables / f"{stem}.md"] = to_markdown(frame)
        files[tables / f"{stem}.tex"] = to_latex(frame, caption=caption, label=f"tab:ra-{stem}")
    files[tables / "relations.csv"] = to_csv(relation_table(study))
    files[out / "report.md"] = render_markdown(study, settings, load_report)
    results = {
        "schema": SCHEMA,
        "tool": "semanscope relational",
        "settings": settings,
        "load_report": list(load_report),
        **study.to_dict(),
    }
    files[out / "results.json"] = json.dumps(json_ready(results), indent=1, allow_nan=False, ensure_ascii=False)
    for path, content in files.items():
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return list(files)


def run_relational_files(
    data: str | Path,
    models: Sequence[str | Embedder | ModelSpec],
    out: str | Path,
    *,
    languages: Sequence[str] | None = None,
    cache_dir: str | Path | None = None,
    model_dir: str | None = None,
    zero_norm: float = ZERO_NORM,
    command: Sequence[str] = (),
    progress: RelationalProgress | None = None,
    log: Callable[[str], None] | None = None,
) -> tuple[RelationalStudy, list[Path]]:
    """Load ``data`` (:func:`~semanscope.data.relations.load_relations`; its report goes to ``log``),
    run ``models`` with the embedding cache in ``cache_dir`` (None: no cache) and write the report
    into ``out``. Bad input raises :class:`~semanscope.data.validation.QuerySetError`."""
    loaded = load_relations(data, languages=languages)
    for line in loaded.report:
        if log is not None:
            log(f"{Path(data).name}: {line}")
    if cache_dir is None:
        study = run_relational(loaded.relations, models, model_dir=model_dir, zero_norm=zero_norm, progress=progress)
    else:
        with EmbeddingCache(cache_dir) as cache:
            study = run_relational(
                loaded.relations, models, cache=cache, model_dir=model_dir, zero_norm=zero_norm, progress=progress
            )
    settings = {
        "command": list(command),
        "data": str(data),
        "models": [run.key for run in study.runs],
        "languages": None if languages is None else list(languages),
        "zero_norm": zero_norm,
    }
    written = write_relational_report(study, out, settings=settings, load_report=loaded.report)
    return study, written
