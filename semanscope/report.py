"""Write a :class:`~semanscope.study.Suite` to a folder: results.json, results.csv, report.md,
LaTeX tables and figures.

Files (all under ``out``):

* ``results.json`` - everything (settings, versions, data provenance, per model: identity,
  fingerprint, status, the full metric records; gaps; rank agreement). Fields that vary
  between identical runs are only ``created`` (in each record) and ``runtime`` (seconds,
  cache counters);
* ``results.csv`` - tidy rows (model x metric x pair with CIs, :meth:`StudyRecord.to_rows`)
  of every data set; ``degradation.csv`` - the gap rows;
* ``report.md`` - an "Answer" section in plain sentences with numbers, then the tables;
* ``tables/*.tex`` - the same tables as LaTeX ``tabular`` environments;
* ``figures/*.png`` + ``*.pdf`` - SA per model with CIs, per-model SA pair heatmaps, the
  static-vs-contextual gap per language pair, and a 3D PHATE view per model (main data set).

Numbers in the text: SA and P@1 lie in [0, 1]; "points" are hundredths (a gap of 0.123 is
12.3 points); the relative drop is gap / contextual value.
"""

from __future__ import annotations

import io
import json
import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from semanscope.data.queryset import QuerySet
from semanscope.degradation import Gap
from semanscope.metrics.results import json_ready
from semanscope.plots.tables import format_ci, markdown_escape, to_csv, to_latex, to_markdown
from semanscope.slug import ascii_slug
from semanscope.study import ALL, Degradation, ModelRun, RankComparison, StudyResult, Suite, pair_agreement

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SCHEMA = 1
DATASET_LABELS = {"faq": "FAQ queries", "words": "words", "xquad": "XQuAD questions"}


# --------------------------------------------------------------------------- formatting
def dataset_label(study: StudyResult) -> str:
    """Readable name of a data set: ``faq`` -> "FAQ queries"."""
    return DATASET_LABELS.get(study.queryset.name, study.queryset.name)


def fmt(value: float, digits: int = 3) -> str:
    """``0.61234`` -> ``"0.612"``; NaN/None -> ``"-"``."""
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.{digits}f}"


def points(value: float) -> str:
    """A difference of scores in [0, 1] as points (hundredths): ``0.1234`` -> ``"12.3"``."""
    return fmt(100 * value, 1) if value is not None and math.isfinite(value) else "-"


def percent(value: float) -> str:
    """``0.253`` -> ``"25%"``."""
    return f"{100 * value:.0f}%" if value is not None and math.isfinite(value) else "-"


# --------------------------------------------------------------------------- tables
def role_of(run: ModelRun) -> str:
    """``static``, ``contextual`` or ``control`` (English-only)."""
    return "control" if run.english_only else run.family


HEADLINE_SCORES = (
    "P@1 [95% CI]",
    "P@1 CSLS",
    "P@1 margin",
    "MRR",
    "SA [95% CI]",
    "SA floor",
    "SA normalised [95% CI]",
    "SA centred",
    "anisotropy",
)


def headline_table(suite: Suite) -> pd.DataFrame:
    """One row per model of the main set: family/role; on the main set P@1 with CI, CSLS and
    margin P@1, MRR, SA with CI, its chance floor, normalised SA with CI, language-centred SA and
    anisotropy; then SA and P@1 on every other data set."""
    rows = []
    others = [(role, s) for role, s in suite.studies.items()][1:]
    for run in suite.main.runs:
        row = {"model": run.key, "role": role_of(run), "status": run.score_status}
        row.update(dict.fromkeys(HEADLINE_SCORES, "-"))
        if run.ok:
            sa, ret, cal = run.affinity, run.retrieval, run.calibration
            row["P@1 [95% CI]"] = format_ci(ret.mean_p_at_1, ret.p_at_1_ci_low, ret.p_at_1_ci_high)
            row["P@1 CSLS"] = fmt(ret.mean_p_at_1_csls)
            row["P@1 margin"] = fmt(ret.mean_p_at_1_margin)
            row["MRR"] = fmt(ret.mean_mrr)
            row["SA [95% CI]"] = format_ci(sa.sa, sa.ci_low, sa.ci_high)
            if cal is not None:
                row["SA floor"] = fmt(cal.floor)
                row["SA normalised [95% CI]"] = format_ci(cal.normalized, cal.normalized_ci_low, cal.normalized_ci_high)
                row["SA centred"] = fmt(cal.centered_sa)
                row["anisotropy"] = fmt(cal.anisotropy)
        for _, study in others:
            other = next((r for r in study.runs if r.key == run.key), None)
            name = dataset_label(study)
            row[f"SA {name}"] = fmt(other.sa) if other is not None else "-"
            row[f"P@1 {name}"] = fmt(other.p_at_1) if other is not None else "-"
        rows.append(row)
    return pd.DataFrame(rows)


def gap_table(deg: Degradation, labels: Sequence[str], first_column: str) -> pd.DataFrame:
    """Rows ``labels`` of both gaps: static and contextual value, gap in points and relative drop, with CIs."""
    rows = []
    for label in labels:
        sa, p1 = deg.sa.row(label), deg.p_at_1.row(label)
        rows.append(
            {
                first_column: "all pairs" if label == ALL else label,
                "SA static": fmt(sa["static"]),
                "SA contextual": fmt(sa["contextual"]),
                "SA gap (points) [95% CI]": f"{points(sa['gap'])} [{points(sa['gap_low'])}, {points(sa['gap_high'])}]",
                "SA drop [95% CI]": f"{percent(sa['rel'])} [{percent(sa['rel_low'])}, {percent(sa['rel_high'])}]",
                "P@1 static": fmt(p1["static"]),
                "P@1 contextual": fmt(p1["contextual"]),
                "P@1 gap (points) [95% CI]": f"{points(p1['gap'])} [{points(p1['gap_low'])}, {points(p1['gap_high'])}]",
                "P@1 drop [95% CI]": f"{percent(p1['rel'])} [{percent(p1['rel_low'])}, {percent(p1['rel_high'])}]",
            }
        )
    return pd.DataFrame(rows)


def pairs_by_gap(gap: Gap, labels: Sequence[str]) -> list[str]:
    """``labels`` ordered by decreasing gap (NaN last, ties in the given order)."""
    values = np.array([gap.row(label)["gap"] for label in labels])
    order = np.argsort(np.where(np.isfinite(values), -values, np.inf), kind="stable")
    return [labels[i] for i in order]


def ranking_table(rankings: Sequence[RankComparison], labels: dict[str, str]) -> pd.DataFrame:
    """Model x (metric, data set) ranks (1 = best) with the score in parentheses, then a
    Spearman row (rho of each data set's ranking against the main set's)."""
    if not rankings or not rankings[0].models:
        return pd.DataFrame()
    metric_name = {"sa": "SA", "p_at_1": "P@1"}
    rows = []
    for m, model in enumerate(rankings[0].models):
        row = {"model": model}
        for r in rankings:
            for d, ds in enumerate(r.datasets):
                row[f"{metric_name[r.metric]} rank, {labels[ds]}"] = f"{r.ranks[m, d]:g} ({fmt(r.values[m, d])})"
        rows.append(row)
    rho = {"model": "Spearman rho vs " + labels[rankings[0].datasets[0]]}
    for r in rankings:
        for d, ds in enumerate(r.datasets):
            rho[f"{metric_name[r.metric]} rank, {labels[ds]}"] = "1" if d == 0 else fmt(r.spearman[ds], 2)
    rows.append(rho)
    return pd.DataFrame(rows)


def domain_table(suite: Suite) -> pd.DataFrame:
    """Per data set (main first): the compared static and contextual model, both gaps with CIs."""
    rows = []
    for study in suite.studies.values():
        deg = study.degradation
        row = {
            "data set": dataset_label(study),
            "concepts": study.queryset.n_concepts,
            "languages": ", ".join(study.queryset.languages),
        }
        if deg is None:
            row["note"] = study.degradation_note
            rows.append(row)
            continue
        sa, p1 = deg.sa.row(ALL), deg.p_at_1.row(ALL)
        row.update(
            {
                "SA static / contextual": f"{fmt(sa['static'])} / {fmt(sa['contextual'])}",
                "SA gap (points) [95% CI]": f"{points(sa['gap'])} [{points(sa['gap_low'])}, {points(sa['gap_high'])}]",
                "SA drop": percent(sa["rel"]),
                "P@1 static / contextual": f"{fmt(p1['static'])} / {fmt(p1['contextual'])}",
                "P@1 gap (points) [95% CI]": f"{points(p1['gap'])} [{points(p1['gap_low'])}, {points(p1['gap_high'])}]",
                "P@1 drop": percent(p1["rel"]),
                "models (static vs contextual)": f"{deg.static} vs {deg.contextual}",
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- sentences
def _change(gap: dict, unit: str) -> str:
    """``lose 12.3 SA points (95% CI [10.1, 14.5]; 19% relative, CI [15%, 23%])`` (``gain`` when
    the static model is better; "no clear difference" when the CI contains 0)."""
    sign = 1.0 if gap["gap"] >= 0 else -1.0
    verb = "lose" if sign > 0 else "gain"
    lo, hi = sorted((sign * gap["gap_low"], sign * gap["gap_high"]))
    rlo, rhi = sorted((sign * gap["rel_low"], sign * gap["rel_high"]))
    ci = f"95% CI [{points(lo)}, {points(hi)}]" if math.isfinite(lo) else "no CI"
    rel = f"{percent(sign * gap['rel'])} relative, CI [{percent(rlo)}, {percent(rhi)}]"
    unclear = ", no clear difference" if math.isfinite(lo) and lo <= 0 <= hi else ""
    return f"{verb} {points(sign * gap['gap'])} {unit} points ({ci}{unclear}; {rel})"


def _agreement(ranking: RankComparison, dataset: str) -> str:
    """Spearman's rho, or for fewer than 3 models whether the order is the same."""
    rho = ranking.spearman[dataset]
    if math.isfinite(rho):
        return f"rho = {fmt(rho, 2)}"
    d = ranking.datasets.index(dataset)
    same = np.array_equal(ranking.ranks[:, 0], ranking.ranks[:, d])
    return "the same order" if same else "a different order"


def chosen_by(deg: Degradation) -> str:
    """How the compared pair was chosen, as a phrase."""
    return "given by --pair" if deg.chosen_by == "pair" else "the best of each family by P@1"


def _clear(gap: dict) -> int:
    """+1 when the static model is clearly worse (gap CI above 0), -1 clearly better, 0 unclear."""
    lo, hi = gap["gap_low"], gap["gap_high"]
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return 0
    return 1 if lo > 0 else (-1 if hi < 0 else 0)


def _calibrated(run: ModelRun) -> str:
    """``SA 0.512 (floor 0.431, normalised 0.142 [0.120, 0.165], language-centred 0.530)``."""
    cal = run.calibration
    text = f"SA {fmt(run.sa)}"
    if cal is None:
        return text
    norm = format_ci(cal.normalized, cal.normalized_ci_low, cal.normalized_ci_high)
    return f"{text} (chance floor {fmt(cal.floor)}, normalised {norm}, language-centred {fmt(cal.centered_sa)})"


def agreement_sentence(sa: dict, p1: dict, static: ModelRun, contextual: ModelRun) -> str:
    """Whether the SA gap and the P@1 gap of the same pair of models agree in sign and size
    (sign: each gap's 95% CI above 0, below 0 or containing 0; size: the relative drops)."""
    s_sign, p_sign = _clear(sa), _clear(p1)
    words = {1: "the static model is clearly worse", -1: "the static model is clearly better", 0: "no clear difference"}
    if s_sign != p_sign:
        s_cal, c_cal = static.calibration, contextual.calibration
        tail = ""
        if s_cal is not None and c_cal is not None and math.isfinite(s_cal.normalized):
            order = "agrees" if (c_cal.normalized > s_cal.normalized) == (p1["gap"] > 0) else "does not agree either"
            tail = (
                f" The normalised SA ({fmt(s_cal.normalized)} static vs {fmt(c_cal.normalized)} contextual) {order} "
                "with P@1."
            )
        return (
            f"SA and P@1 disagree: by P@1 {words[p_sign]}, by SA {words[s_sign]}. Retrieval is the task score "
            "and holds across data sets; raw SA depends on each language's own spread (H) and on the space's "
            "anisotropy, so read it with its chance floor." + tail
        )
    if s_sign == 0:
        return "Neither SA nor P@1 shows a clear difference between the two models."
    rel_sa, rel_p1 = abs(sa["rel"]), abs(p1["rel"])
    size = ""
    if min(rel_sa, rel_p1) > 0 and max(rel_sa, rel_p1) / min(rel_sa, rel_p1) >= 2:
        bigger = "P@1" if rel_p1 > rel_sa else "SA"
        size = (
            f", but not in size: the relative change is {percent(rel_p1)} in P@1 and {percent(rel_sa)} in SA "
            f"({bigger} moves more than twice as much)"
        )
    return f"SA and P@1 agree in sign ({words[p_sign]}){size}."


def answer(suite: Suite) -> list[str]:
    """The "Answer" paragraphs: retrieval first (the task score), then SA with its chance floor and
    normalised value, whether the two agree, where the gaps are largest, the other data sets, the
    control and the rank agreement (plain sentences with numbers). Every score compares the same
    static/contextual pair of models (:class:`~semanscope.study.Degradation`)."""
    main = suite.main
    deg = main.degradation
    name = dataset_label(main)
    if deg is None:
        return [f"No static-vs-contextual answer on {name}: {main.degradation_note}."]
    static, contextual = main.run(deg.static), main.run(deg.contextual)
    sa, p1 = deg.sa.row(ALL), deg.p_at_1.row(ALL)
    ret_s, ret_c = static.retrieval, contextual.retrieval
    out = [
        f"On {name} ({main.queryset.n_concepts} concepts, {main.queryset.n_languages} languages) the static model "
        f"{deg.static} finds the translation first (P@1) for "
        f"{format_ci(ret_s.mean_p_at_1, ret_s.p_at_1_ci_low, ret_s.p_at_1_ci_high)} of queries against "
        f"{format_ci(ret_c.mean_p_at_1, ret_c.p_at_1_ci_low, ret_c.p_at_1_ci_high)} for the contextual model "
        f"{deg.contextual} ({chosen_by(deg)}): static models {_change(p1, 'P@1')}. With hubness correction the "
        f"P@1 is {fmt(ret_s.mean_p_at_1_csls)} vs {fmt(ret_c.mean_p_at_1_csls)} (CSLS) and "
        f"{fmt(ret_s.mean_p_at_1_margin)} vs {fmt(ret_c.mean_p_at_1_margin)} (ratio margin).",
        f"Semantic Affinity: {deg.static} {_calibrated(static)}; {deg.contextual} {_calibrated(contextual)}; "
        f"static models {_change(sa, 'SA')}. {agreement_sentence(sa, p1, static, contextual)}",
    ]
    scripts = list(deg.scripts)

    def item(gap: Gap, label: str) -> str:
        r = gap.row(label)
        return f"{label} ({points(r['gap'])} points, {percent(r['rel'])})"

    if len(scripts) > 1:
        by_sa = pairs_by_gap(deg.sa, scripts)
        by_p1 = pairs_by_gap(deg.p_at_1, scripts)
        out.append(
            f"By script pair the P@1 gap is largest for {item(deg.p_at_1, by_p1[0])} and smallest for "
            f"{item(deg.p_at_1, by_p1[-1])}; the SA gap is largest for {item(deg.sa, by_sa[0])} and smallest "
            f"for {item(deg.sa, by_sa[-1])}."
        )
        for gap, unit in ((deg.p_at_1, "P@1"), (deg.sa, "SA")):
            better = [g for g in scripts if gap.row(g)["gap_high"] < 0]
            if better:
                out.append(
                    f"The static model has the higher {unit} (a negative gap, 95% CI below 0) for {len(better)} of "
                    f"{len(scripts)} script pairs ({', '.join(better)})."
                )
    if len(deg.pairs) > 1:
        worst_sa = pairs_by_gap(deg.sa, list(deg.pairs))[:3]
        worst_p1 = pairs_by_gap(deg.p_at_1, list(deg.pairs))[:3]
        out.append(
            f"By language pair the largest P@1 gaps are {', '.join(item(deg.p_at_1, p) for p in worst_p1)}; "
            f"the largest SA gaps are {', '.join(item(deg.sa, p) for p in worst_sa)}."
        )
    agreement = pair_agreement(main.runs)
    if math.isfinite(agreement.spearman):
        out.append(
            f"Across models and language pairs, SA and P@1 have Spearman's rho = {fmt(agreement.spearman, 2)} "
            f"({len(agreement.sa)} model-pair points; figure sa_vs_p_at_1)."
        )
    for study in list(suite.studies.values())[1:]:
        other = study.degradation
        label = dataset_label(study)
        if other is None:
            out.append(f"On {label}: no gap ({study.degradation_note}).")
            continue
        osa, op1 = other.sa.row(ALL), other.p_at_1.row(ALL)
        agree = "agree" if _clear(osa) == _clear(op1) else "disagree"
        out.append(
            f"On {label} ({study.queryset.n_concepts} concepts, languages {', '.join(study.queryset.languages)}) "
            f"static models {_change(op1, 'P@1')} and {_change(osa, 'SA')} ({other.static} vs {other.contextual}); "
            f"there SA and P@1 {agree} in sign."
        )
    for control in deg.controls:
        out.append(
            f"The English-only control {control['key']} reaches P@1 {fmt(control['p_at_1'])} and SA "
            f"{fmt(control['sa'])} on {name} ({deg.static}: {fmt(p1['static'])} / {fmt(sa['static'])}, "
            f"{deg.contextual}: {fmt(p1['contextual'])} / {fmt(sa['contextual'])})."
        )
    for ranking in suite.rankings:
        metric = {"sa": "SA", "p_at_1": "P@1"}[ranking.metric]
        parts = [f"{dataset_label(suite.studies[ds])}: {_agreement(ranking, ds)}" for ds in ranking.spearman]
        if parts and ranking.models:
            spearman = " (Spearman)" if any(math.isfinite(r) for r in ranking.spearman.values()) else ""
            out.append(
                f"Ranking the {len(ranking.models)} models by {metric}, {name} agree with {'; '.join(parts)}{spearman}."
            )
    return out


# --------------------------------------------------------------------------- files
def results_dict(suite: Suite, settings: dict, notes: Sequence[str]) -> dict:
    """The content of results.json (JSON-ready: NaN -> null)."""
    return json_ready(
        {"schema": SCHEMA, "tool": "semanscope study", "settings": settings, "notes": list(notes), **suite.to_dict()}
    )


def tidy_rows(suite: Suite) -> pd.DataFrame:
    """:meth:`StudyRecord.to_rows` of every successful run of every data set."""
    from semanscope.metrics.results import ROW_COLUMNS

    rows = [row for study in suite.studies.values() for run in study.ok_runs for row in run.scores.to_rows()]
    return pd.DataFrame(rows, columns=list(ROW_COLUMNS))


def degradation_rows(suite: Suite) -> pd.DataFrame:
    """One row per data set x measure (sa, p_at_1) x label (all, pair, script pair) of the gaps."""
    rows = []
    for study in suite.studies.values():
        deg = study.degradation
        if deg is None:
            continue
        for measure, gap in (("sa", deg.sa), ("p_at_1", deg.p_at_1)):
            kinds = {ALL: "all", **{p: "pair" for p in deg.pairs}, **{s: "script" for s in deg.scripts}}
            for rec in gap.records():
                rows.append(
                    {
                        "dataset": study.queryset.name,
                        "measure": measure,
                        "static_model": deg.static,
                        "contextual_model": deg.contextual,
                        "kind": kinds[rec["label"]],
                        **rec,
                        "n": gap.n_concepts,
                    }
                )
    return pd.DataFrame(rows)


def render_markdown(suite: Suite, settings: dict, notes: Sequence[str], figures: Sequence[Path], out: Path) -> str:
    """report.md: Answer, models, gap tables, data sets compared, rankings, runs, settings, figures.
    Text from data sets, files and models (names, ids, messages) goes through :func:`markdown_escape`."""
    main = suite.main
    labels = {role: markdown_escape(dataset_label(s)) for role, s in suite.studies.items()}
    lines = ["# Semanscope study: static vs contextual embeddings", "", "## Answer", ""]
    lines += [*(markdown_escape(p) + "\n" for p in answer(suite))]
    lines += [
        "## Models",
        "",
        f"Scores on {labels['main']} unless the column names another data set; "
        "P@1/MRR = cross-lingual retrieval averaged over ordered language pairs (ties shared: a query tied "
        "with t other candidates scores 1/(1+t)), by plain cosine, CSLS (k = 10) and ratio margin (k = 4); "
        "SA = Semantic Affinity (cosine) with its chance floor (concepts permuted within each language), "
        "normalised SA = (SA - floor) / (1 - floor), language-centred SA (each language's mean removed) and "
        "anisotropy (mean cosine of texts of different concepts); 95% bootstrap CIs over concepts.",
        "",
        to_markdown(headline_table(suite)),
        "",
    ]
    skipped = [r for r in main.runs if not r.ok]
    if skipped:
        lines += (
            ["Models not run:", ""]
            + [f"- {markdown_escape(r.key)} ({r.status}): {markdown_escape(r.message)}" for r in skipped]
            + [""]
        )
    warned = [r for r in main.runs if r.ok and r.message]
    if warned:
        lines += ["Notes on the scores:", ""]
        lines += [f"- {markdown_escape(r.key)} ({r.score_status}): {markdown_escape(r.message)}" for r in warned] + [""]
    deg = main.degradation
    if deg is not None:
        lines += [
            f"## Static vs contextual on {labels['main']}",
            "",
            f"{markdown_escape(deg.static)} (static) vs {markdown_escape(deg.contextual)} (contextual), "
            f"{chosen_by(deg)}, for every score. "
            "Gap = contextual - static in points (hundredths); "
            "drop = gap / contextual value; paired bootstrap over concepts "
            "(the same resampled concepts for both models).",
            "",
            "### By script pair",
            "",
            to_markdown(gap_table(deg, [ALL, *deg.scripts], "script pair")),
            "",
            "### By language pair (largest SA gap first)",
            "",
            to_markdown(gap_table(deg, pairs_by_gap(deg.sa, list(deg.pairs)), "language pair")),
            "",
        ]
        lines += [*(f"- {markdown_escape(m)}" for m in deg.messages)] + ([""] if deg.messages else [])
    if len(suite.studies) > 1:
        lines += [
            "## Data sets compared",
            "",
            "In-domain words vs out-of-domain queries: the gap on each data set.",
            "",
            to_markdown(domain_table(suite)),
            "",
        ]
    rank = ranking_table(suite.rankings, labels)
    if not rank.empty:
        lines += ["## Model rankings across data sets", "", to_markdown(rank), ""]
    failed = [(labels[role], r) for role, s in suite.studies.items() for r in s.runs if r.status == "failed"]
    if failed:
        lines += (
            ["## Failures", ""]
            + [f"- {markdown_escape(r.key)} on {ds}: {markdown_escape(r.message)}" for ds, r in failed]
            + [""]
        )
    lines += ["## Data and settings", ""]
    for role, study in suite.studies.items():
        qs = study.queryset
        prov = {k: v for k, v in qs.provenance.items() if k in ("source", "path", "format", "sha256", "license")}
        lines.append(
            f"- {labels[role]}: {qs.n_concepts} concepts x {qs.n_languages} languages "
            f"({', '.join(qs.languages)}); {markdown_escape(json.dumps(prov, ensure_ascii=False))}"
        )
    lines.append(
        f"- seed {settings.get('seed')}, {settings.get('n_boot')} bootstrap resamples; command: "
        f"{markdown_escape(' '.join(settings.get('command', [])))}"
    )
    fingerprints = {r.key: r.fingerprint for r in main.runs if r.ok}
    if fingerprints:
        lines.append(
            "- model fingerprints: " + ", ".join(f"{markdown_escape(k)} `{v}`" for k, v in fingerprints.items())
        )
    lines.append("- versions: " + ", ".join(f"{k} {v}" for k, v in suite.versions.items() if v != "not-installed"))
    lines += [f"- note: {markdown_escape(n)}" for n in notes]
    if figures:
        lines += ["", "## Figures", ""]
        lines += [f"![{p.stem}]({p.relative_to(out).as_posix()})\n" for p in figures if p.suffix == ".png"]
    return "\n".join(lines).rstrip() + "\n"


def write_tables(suite: Suite, folder: Path) -> list[Path]:
    """tables/models.tex, gap_scripts.tex, gap_pairs.tex, datasets.tex, rankings.tex (when applicable)."""
    folder.mkdir(parents=True, exist_ok=True)
    main, labels = suite.main, {role: dataset_label(s) for role, s in suite.studies.items()}
    tables: list[tuple[str, pd.DataFrame, str]] = [
        ("models", headline_table(suite), f"Scores per model on {labels['main']} (95% bootstrap CIs)."),
    ]
    deg = main.degradation
    if deg is not None:
        tables += [
            (
                "gap_scripts",
                gap_table(deg, [ALL, *deg.scripts], "script pair"),
                f"Static vs contextual gap by script pair on {labels['main']}.",
            ),
            (
                "gap_pairs",
                gap_table(deg, pairs_by_gap(deg.sa, list(deg.pairs)), "language pair"),
                f"Static vs contextual gap by language pair on {labels['main']}.",
            ),
        ]
    if len(suite.studies) > 1:
        tables.append(("datasets", domain_table(suite), "Static vs contextual gap on each data set."))
    rank = ranking_table(suite.rankings, labels)
    if not rank.empty:
        tables.append(("rankings", rank, "Model ranks per data set and Spearman correlation."))
    written = []
    for name, df, caption in tables:
        path = folder / f"{name}.tex"
        path.write_text(to_latex(df, caption=caption, label=f"tab:{name}"), encoding="utf-8")
        written.append(path)
    return written


# --------------------------------------------------------------------------- figures
def _mpl_bytes(fig: Figure, fmt: str) -> bytes:
    """A matplotlib Figure as PDF (vector, fonts embedded, no creation date) or PNG (150 dpi) bytes."""
    import matplotlib

    buf = io.BytesIO()
    meta = {"CreationDate": None} if fmt == "pdf" else {}
    with matplotlib.rc_context({"pdf.fonttype": 42}):
        fig.savefig(buf, format=fmt, bbox_inches="tight", metadata=meta, dpi=150)
    return buf.getvalue()


def mpl_bars(
    models: Sequence[str], values: np.ndarray, low: np.ndarray, high: np.ndarray, families: Sequence[str], title: str
) -> Figure:
    """matplotlib twin of :func:`semanscope.plots.sa_bars`: bars coloured by family, asymmetric CI bars."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    from semanscope.plots.palette import FAMILY_COLORS

    fig = Figure(figsize=(max(4.0, 0.9 * len(models) + 1.5), 4.0))
    ax = fig.add_subplot()
    x = np.arange(len(models))
    err = np.vstack([np.maximum(values - low, 0), np.maximum(high - values, 0)])
    ax.bar(x, values, yerr=np.nan_to_num(err), capsize=4, color=[FAMILY_COLORS.get(f, "0.5") for f in families])
    ax.set_xticks(x, models, rotation=30, ha="right")
    ax.set_ylabel("Semantic Affinity")
    ax.set_title(title)
    handles = [Patch(color=colour, label=family) for family, colour in FAMILY_COLORS.items() if family in families]
    ax.legend(handles=handles, title="family", frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def mpl_sa_vs_p_at_1(
    sa: np.ndarray, p_at_1: np.ndarray, models: Sequence[str], pairs: Sequence[str], title: str
) -> Figure:
    """matplotlib twin of :func:`semanscope.plots.sa_vs_p_at_1`: one colour per model."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.0, 4.5))
    ax = fig.add_subplot()
    names = np.asarray(models, dtype=object)
    for model in dict.fromkeys(models):
        idx = np.flatnonzero(names == model)
        ax.scatter(sa[idx], p_at_1[idx], s=18, label=str(model))
    ax.set_xlabel("Semantic Affinity (language pair)")
    ax.set_ylabel("P@1 (mean of both directions)")
    ax.set_ylim(0, 1.02)
    ax.set_title(title, fontsize=9)
    ax.legend(title="model", frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return fig


def mpl_heatmap(
    z: np.ndarray, languages: Sequence[str], title: str, value_name: str, *, diverging: bool = False
) -> Figure:
    """matplotlib twin of the plotly heatmaps: cell (i, j) at row ``languages[i]``, annotated (blank for NaN)."""
    from matplotlib.figure import Figure

    n = len(languages)
    fig = Figure(figsize=(1.0 + 0.55 * n, 0.6 + 0.5 * n))
    ax = fig.add_subplot()
    finite = np.abs(z[np.isfinite(z)])
    bound = float(finite.max()) if diverging and finite.size and finite.max() > 0 else None
    image = ax.imshow(
        np.ma.masked_invalid(z), cmap="RdBu" if diverging else "viridis", vmin=-bound if bound else None, vmax=bound
    )
    for i in range(n):
        for j in range(n):
            if np.isfinite(z[i, j]):
                ax.text(j, i, f"{z[i, j]:.2f}", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(n), languages)
    ax.set_yticks(range(n), languages)
    # wrapped to the axes' width (about 6 characters of 9 pt text per language column), so a long
    # title never runs over the colour bar
    ax.set_title(textwrap.fill(title, width=max(30, 6 * n)), fontsize=9)
    fig.colorbar(image, ax=ax, label=value_name)
    return fig


def _matplotlib(draw: Callable[[], Figure]) -> Callable[[str], bytes]:
    """``fmt -> bytes`` of the figure ``draw()`` makes (:func:`_mpl_bytes`)."""
    return lambda fmt: _mpl_bytes(draw(), fmt)


PHATE_SAMPLE = 30
"""Concepts drawn in the report's 3D views (all points are projected; a sample stays readable)."""
PHATE_LABEL_CHARS = 24


@dataclass(frozen=True)
class PhateView:
    """What a report 3D view draws: the rows of a sample of concepts (``rows`` of ``items()``),
    their language labels, texts and concept ids, one text label per concept (on its point in
    the first language, ``""`` elsewhere), one style per language and the title."""

    rows: np.ndarray
    labels: list[str]
    texts: list[str]
    concepts: list[str]
    text_labels: list[str]
    styles: dict[str, tuple[str, str]]
    title: str


def phate_view(qs: QuerySet, seed: int, title: str, size: int = PHATE_SAMPLE) -> PhateView:
    """``size`` concepts of ``qs`` drawn by ``np.random.default_rng(seed)`` (all when fewer), each
    labelled once with its first-language text cut to :data:`PHATE_LABEL_CHARS`, styled by
    :func:`~semanscope.plots.palette.distinct_styles` (distinct colour or marker per language)."""
    from semanscope.plots.palette import distinct_styles
    from semanscope.plots.scatter import clip

    items = qs.items()
    n = qs.n_concepts
    keep = np.sort(np.random.default_rng(seed).choice(n, size, replace=False)) if n > size else np.arange(n)
    rows = np.flatnonzero(np.isin(items.concept, keep))
    labels = [qs.languages[j] for j in items.lang[rows]]
    texts = [items.texts[i] for i in rows.tolist()]
    first = qs.languages[0]
    text_labels = [clip(t, PHATE_LABEL_CHARS) if lang == first else "" for t, lang in zip(texts, labels, strict=True)]
    shown = f"{len(keep)} of {n} concepts (seeded sample), labelled in {first}" if n > size else f"labelled in {first}"
    return PhateView(
        rows,
        labels,
        texts,
        [qs.ids[i] for i in items.concept[rows]],
        text_labels,
        distinct_styles(qs.languages),
        f"{title}; {shown}",
    )


def phate_plotly(coords: np.ndarray, view: PhateView) -> object:
    """The plotly 3D figure of a :class:`PhateView` (links on, no coordinate ticks)."""
    from semanscope.plots import scatter3d
    from semanscope.plots.scatter import Colouring

    colouring = Colouring(
        "language",
        view.labels,
        {g: c for g, (c, _) in view.styles.items()},
        symbols={g: s for g, (_, s) in view.styles.items()},
    )
    fig = scatter3d(
        coords[view.rows],
        view.labels,
        view.texts,
        view.concepts,
        links=True,
        colouring=colouring,
        text_labels=view.text_labels,
        label_size=9,
        title=view.title,
    )
    blank = dict(showticklabels=False, title="")
    fig.update_scenes(xaxis=blank, yaxis=blank, zaxis=blank)
    return fig


def phate_render(coords: np.ndarray, view: PhateView) -> Callable[[str], bytes]:
    """``fmt -> bytes`` (pdf/png) of a :class:`PhateView` by :func:`semanscope.plots.mpl.scatter_to_vector`
    (double-column preset, colour-blind-safe styles)."""
    from semanscope.plots.mpl import PRESETS, scatter_to_vector

    return lambda fmt: scatter_to_vector(
        coords[view.rows],
        view.labels,
        fmt=fmt,
        links=True,
        concept_ids=view.concepts,
        title=view.title,
        preset=PRESETS["double column (7.2 in)"],
        text_labels=view.text_labels,
    )


class FigureWriter:
    """Writes each figure as ``<stem>.pdf`` (matplotlib, vector) at once and ``<stem>.png`` at
    :meth:`finish`: every plotly figure through kaleido with one browser start for all of them
    (a start costs seconds), or matplotlib for all when kaleido is unavailable."""

    def __init__(self, folder: Path, log: Callable[[str], None] | None = None) -> None:
        self.folder = folder
        self.log = log or (lambda message: None)
        self._pngs: list[tuple[Path, Callable[[], object], Callable[[str], bytes]]] = []
        folder.mkdir(parents=True, exist_ok=True)

    def write(self, stem: str, plotly_figure: Callable[[], object], render: Callable[[str], bytes]) -> list[Path]:
        """``render(fmt)`` gives matplotlib bytes for ``"pdf"`` / ``"png"``; the PNG is written by
        :meth:`finish`. Returns both paths."""
        png, pdf = self.folder / f"{stem}.png", self.folder / f"{stem}.pdf"
        pdf.write_bytes(render("pdf"))
        self._pngs.append((png, plotly_figure, render))
        return [png, pdf]

    def finish(self) -> None:
        """Write the pending PNGs (kaleido for all, else matplotlib for all, with a log line)."""
        from semanscope.plots.export import ExportUnavailable, ImageJob, render_images

        pending, self._pngs = self._pngs, []
        if not pending:
            return
        try:
            images = render_images([ImageJob(make(), "png", 1100, 800) for _, make, _ in pending])
        except (ExportUnavailable, RuntimeError, OSError) as exc:
            self.log(f"PNG export through kaleido unavailable, using matplotlib: {exc}")
            images = [render("png") for _, _, render in pending]
        for (png, _, _), data in zip(pending, images, strict=True):
            png.write_bytes(data)


def write_figures(
    suite: Suite,
    folder: Path,
    *,
    projection_dir: str | Path | None = None,
    log: Callable[[str], None] | None = None,
) -> list[Path]:
    """SA per model (bars with CIs), SA pair heatmap per model, the compared static - contextual
    SA and P@1 per language pair, SA vs P@1 per language pair for every model, and a 3D PHATE view
    per model, all on the main data set."""
    from semanscope import plots
    from semanscope.reduce import ProjectionCache, project_cached

    main = suite.main
    label = dataset_label(main)
    langs = main.queryset.languages
    runs = main.ok_runs
    writer = FigureWriter(folder, log)
    written: list[Path] = []
    if not runs:
        return written
    keys = [r.key for r in runs]
    families = [r.family for r in runs]
    sa = [r.affinity for r in runs]
    values, low, high = (np.array([getattr(x, f) for x in sa]) for f in ("sa", "ci_low", "ci_high"))
    title = f"Semantic Affinity per model ({label}, 95% CI)"
    written += writer.write(
        "sa_by_model",
        partial(plots.sa_bars, keys, values, low, high, families, title=title),
        _matplotlib(partial(mpl_bars, keys, values, low, high, families, title)),
    )
    for run, result in zip(runs, sa, strict=True):
        title = f"SA per language pair: {run.key} ({label})"
        written += writer.write(
            f"sa_pairs_{ascii_slug(run.key)}",
            partial(plots.sa_heatmap, result.pair_sa, langs, title, result.pair_ci_low, result.pair_ci_high),
            _matplotlib(partial(mpl_heatmap, result.pair_sa, langs, title, "SA")),
        )
    deg = main.degradation
    if deg is not None:
        s_run, c_run = main.run(deg.static), main.run(deg.contextual)
        pairs = (
            ("sa", "SA", s_run.affinity.pair_sa, c_run.affinity.pair_sa),
            ("p_at_1", "P@1", s_run.retrieval.p_at_1, c_run.retrieval.p_at_1),
        )
        for stem, name, static, contextual in pairs:
            z = static - contextual
            title = f"Static - contextual {name} per language pair ({deg.static} - {deg.contextual}, {label})"
            written += writer.write(
                f"gap_pairs_{stem}",
                partial(plots.degradation_heatmap, z, langs, title, value_name=f"{name} difference"),
                _matplotlib(partial(mpl_heatmap, z, langs, title, f"{name} difference", diverging=True)),
            )
    agreement = pair_agreement(runs)
    if len(agreement.sa):
        title = f"SA vs P@1 per language pair ({label}, Spearman rho {fmt(agreement.spearman, 2)})"
        args = (agreement.sa, agreement.p_at_1, agreement.models, agreement.pairs)
        written += writer.write(
            "sa_vs_p_at_1",
            partial(plots.sa_vs_p_at_1, *args, title=title),
            _matplotlib(partial(mpl_sa_vs_p_at_1, *args, title)),
        )
    cache = ProjectionCache(directory=projection_dir) if projection_dir is not None else ProjectionCache()
    try:
        for run in runs:
            writer.log(f"PHATE 3D projection of {run.key} ({len(main.queryset.items().texts):,} points) ...")
            try:
                if run.embeddings is None:
                    raise ValueError("the run kept no embeddings")
                coords = project_cached(run.embeddings, "phate", 3, main.seed, cache=cache)
            except Exception as exc:  # noqa: BLE001 - degenerate embeddings (NaN, d < 3, one point): no 3D view
                writer.log(f"PHATE 3D view of {run.key} skipped ({run.score_status}): {type(exc).__name__}: {exc}")
                continue
            view = phate_view(main.queryset, main.seed, f"PHATE 3D: {run.key} ({label})")
            written += writer.write(
                f"phate_{ascii_slug(run.key)}", partial(phate_plotly, coords, view), phate_render(coords, view)
            )
    finally:
        cache.close()
    writer.finish()
    return written


def write_report(
    suite: Suite,
    out: str | Path,
    *,
    settings: dict,
    notes: Sequence[str] = (),
    figures: bool = True,
    projection_dir: str | Path | None = None,
    log: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write every output file into ``out`` (created); returns the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, frame in (("results.csv", tidy_rows(suite)), ("degradation.csv", degradation_rows(suite))):
        path = out / name
        path.write_bytes(to_csv(frame))
        written.append(path)
    written += write_tables(suite, out / "tables")
    figure_paths: list[Path] = []
    if figures:
        figure_paths = write_figures(suite, out / "figures", projection_dir=projection_dir, log=log)
        written += figure_paths
    report = out / "report.md"
    report.write_text(render_markdown(suite, settings, notes, figure_paths, out), encoding="utf-8")
    results = out / "results.json"
    results.write_text(
        json.dumps(results_dict(suite, settings, notes), indent=1, allow_nan=False, ensure_ascii=False),
        encoding="utf-8",
    )
    return [*written, report, results]
