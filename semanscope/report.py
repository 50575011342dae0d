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
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from semanscope.degradation import Gap
from semanscope.metrics.results import json_ready
from semanscope.plots.tables import format_ci, markdown_escape, to_csv, to_latex, to_markdown
from semanscope.slug import ascii_slug
from semanscope.study import ALL, Degradation, ModelRun, RankComparison, StudyResult, Suite

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


def headline_table(suite: Suite) -> pd.DataFrame:
    """One row per model of the main set: family/role, SA and P@1 with CIs and MRR on the main
    set, then SA and P@1 on every other data set."""
    rows = []
    others = [(role, s) for role, s in suite.studies.items()][1:]
    for run in suite.main.runs:
        row = {"model": run.key, "role": role_of(run), "status": run.score_status}
        if run.ok:
            sa, ret = run.affinity, run.retrieval
            row["SA [95% CI]"] = format_ci(sa.sa, sa.ci_low, sa.ci_high)
            row["P@1 [95% CI]"] = format_ci(ret.mean_p_at_1, ret.p_at_1_ci_low, ret.p_at_1_ci_high)
            row["MRR"] = fmt(ret.mean_mrr)
        else:
            row.update({"SA [95% CI]": "-", "P@1 [95% CI]": "-", "MRR": "-"})
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
    """Per data set (main first): best static and best contextual model, both gaps with CIs."""
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
                "models (SA; P@1)": f"{deg.sa_static} vs {deg.sa_contextual}; {deg.p1_static} vs {deg.p1_contextual}",
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


def answer(suite: Suite) -> list[str]:
    """The "Answer" paragraphs: gaps on the main set, where they are largest, the other data
    sets, the control and the rank agreement (plain sentences with numbers)."""
    main = suite.main
    deg = main.degradation
    name = dataset_label(main)
    if deg is None:
        return [f"No static-vs-contextual answer on {name}: {main.degradation_note}."]
    sa, p1 = deg.sa.row(ALL), deg.p_at_1.row(ALL)
    out = [
        f"Static models {_change(sa, 'SA')} and {_change(p1, 'P@1')} against the best contextual model on {name} "
        f"({main.queryset.n_concepts} concepts, {main.queryset.n_languages} languages; SA {deg.sa_static} "
        f"{fmt(sa['static'])} vs {deg.sa_contextual} {fmt(sa['contextual'])}, P@1 {deg.p1_static} {fmt(p1['static'])} "
        f"vs {deg.p1_contextual} {fmt(p1['contextual'])})."
    ]
    scripts = list(deg.scripts)

    def item(gap: Gap, label: str) -> str:
        r = gap.row(label)
        return f"{label} ({points(r['gap'])} points, {percent(r['rel'])})"

    if len(scripts) > 1:
        by_sa = pairs_by_gap(deg.sa, scripts)
        by_p1 = pairs_by_gap(deg.p_at_1, scripts)
        out.append(
            f"By script pair the SA gap is largest for {item(deg.sa, by_sa[0])} and smallest for "
            f"{item(deg.sa, by_sa[-1])}; the P@1 gap is largest for {item(deg.p_at_1, by_p1[0])} and smallest "
            f"for {item(deg.p_at_1, by_p1[-1])}."
        )
        for gap, unit, best in ((deg.sa, "SA", deg.sa_contextual), (deg.p_at_1, "P@1", deg.p1_contextual)):
            better = [g for g in scripts if gap.row(g)["gap_high"] < 0]
            if better:
                out.append(
                    f"The static model has the higher {unit} (a negative gap, 95% CI below 0) for {len(better)} of "
                    f"{len(scripts)} script pairs ({', '.join(better)}): there {best} aligns these scripts worse."
                )
    if len(deg.pairs) > 1:
        worst_sa = pairs_by_gap(deg.sa, list(deg.pairs))[:3]
        worst_p1 = pairs_by_gap(deg.p_at_1, list(deg.pairs))[:3]
        out.append(
            f"By language pair the largest SA gaps are {', '.join(item(deg.sa, p) for p in worst_sa)}; "
            f"the largest P@1 gaps are {', '.join(item(deg.p_at_1, p) for p in worst_p1)}."
        )
    for study in list(suite.studies.values())[1:]:
        other = study.degradation
        label = dataset_label(study)
        if other is None:
            out.append(f"On {label}: no gap ({study.degradation_note}).")
            continue
        osa, op1 = other.sa.row(ALL), other.p_at_1.row(ALL)
        compare = "larger" if osa["gap"] > sa["gap"] else "smaller"
        out.append(
            f"On {label} ({study.queryset.n_concepts} concepts, languages {', '.join(study.queryset.languages)}) "
            f"static models {_change(osa, 'SA')} and {_change(op1, 'P@1')} (best static {other.sa_static}, "
            f"best contextual {other.sa_contextual}): the SA gap is {compare} than on {name}."
        )
    for control in deg.controls:
        out.append(
            f"The English-only control {control['key']} reaches SA {fmt(control['sa'])} "
            f"and P@1 {fmt(control['p_at_1'])} "
            f"on {name} (best static {fmt(sa['static'])} / {fmt(p1['static'])}, best contextual "
            f"{fmt(sa['contextual'])} / {fmt(p1['contextual'])})."
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
        for measure, gap, static, contextual in (
            ("sa", deg.sa, deg.sa_static, deg.sa_contextual),
            ("p_at_1", deg.p_at_1, deg.p1_static, deg.p1_contextual),
        ):
            kinds = {ALL: "all", **{p: "pair" for p in deg.pairs}, **{s: "script" for s in deg.scripts}}
            for rec in gap.records():
                rows.append(
                    {
                        "dataset": study.queryset.name,
                        "measure": measure,
                        "static_model": static,
                        "contextual_model": contextual,
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
        "SA = Semantic Affinity (cosine), P@1/MRR = cross-lingual retrieval averaged over ordered language "
        "pairs, 95% bootstrap CIs over concepts.",
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
            f"Best static vs best contextual model: SA {deg.sa_static} vs {deg.sa_contextual}; "
            f"P@1 {deg.p1_static} vs {deg.p1_contextual}. Gap = contextual - static in points (hundredths); "
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
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label=value_name)
    return fig


def mpl_scatter3d(coords: np.ndarray, labels: Sequence[str], title: str) -> Figure:
    """matplotlib 3D scatter, one colour per language (PNG fallback of the PHATE view; the
    vector PDF comes from :func:`semanscope.plots.mpl.scatter_to_vector`)."""
    from matplotlib.figure import Figure

    from semanscope.plots.palette import language_color

    fig = Figure(figsize=(7.0, 6.0))
    ax = fig.add_subplot(projection="3d")
    lab = np.asarray(labels, dtype=object)
    for language in dict.fromkeys(labels):
        rows = lab == language
        ax.scatter(*coords[rows].T, s=4, color=language_color(language), label=language, linewidths=0)
    ax.legend(title="language", loc="upper left", bbox_to_anchor=(1.02, 1.0), markerscale=2, frameon=False)
    ax.set_title(title)
    return fig


def _matplotlib(draw: Callable[[], Figure]) -> Callable[[str], bytes]:
    """``fmt -> bytes`` of the figure ``draw()`` makes (:func:`_mpl_bytes`)."""
    return lambda fmt: _mpl_bytes(draw(), fmt)


def _phate_render(coords: np.ndarray, labels: Sequence[str], title: str) -> Callable[[str], bytes]:
    """PDF from :func:`semanscope.plots.mpl.scatter_to_vector` (the app's vector export), PNG from
    :func:`mpl_scatter3d`."""
    from semanscope.plots.mpl import scatter_to_vector

    png = _matplotlib(partial(mpl_scatter3d, coords, labels, title))
    return lambda fmt: scatter_to_vector(coords, labels, fmt=fmt, title=title) if fmt == "pdf" else png(fmt)


class FigureWriter:
    """Writes each figure as ``<stem>.png`` (plotly through kaleido; matplotlib when kaleido is
    unavailable, tried once) and ``<stem>.pdf`` (matplotlib, vector)."""

    def __init__(self, folder: Path, log: Callable[[str], None] | None = None) -> None:
        self.folder = folder
        self.log = log or (lambda message: None)
        self.kaleido_problem: str | None = None
        folder.mkdir(parents=True, exist_ok=True)

    def write(self, stem: str, plotly_figure: Callable[[], object], render: Callable[[str], bytes]) -> list[Path]:
        """``render(fmt)`` gives matplotlib bytes for ``"pdf"`` / ``"png"``."""
        from semanscope.plots.export import ExportUnavailable, figure_to_image

        png, pdf = self.folder / f"{stem}.png", self.folder / f"{stem}.pdf"
        data = None
        if self.kaleido_problem is None:
            try:
                data = figure_to_image(plotly_figure(), "png", width=1100, height=800)
            except (ExportUnavailable, RuntimeError, OSError) as exc:
                self.kaleido_problem = str(exc)
                self.log(f"PNG export through kaleido unavailable, using matplotlib: {exc}")
        png.write_bytes(data if data is not None else render("png"))
        pdf.write_bytes(render("pdf"))
        return [png, pdf]


def write_figures(
    suite: Suite,
    folder: Path,
    *,
    projection_dir: str | Path | None = None,
    log: Callable[[str], None] | None = None,
) -> list[Path]:
    """SA per model (bars with CIs), SA pair heatmap per model, the best static - best contextual
    SA and P@1 per language pair, and a 3D PHATE view per model, all on the main data set."""
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
        pairs = (
            (
                "sa",
                "SA",
                main.run(deg.sa_static).affinity.pair_sa,
                main.run(deg.sa_contextual).affinity.pair_sa,
                f"{deg.sa_static} - {deg.sa_contextual}",
            ),
            (
                "p_at_1",
                "P@1",
                main.run(deg.p1_static).retrieval.p_at_1,
                main.run(deg.p1_contextual).retrieval.p_at_1,
                f"{deg.p1_static} - {deg.p1_contextual}",
            ),
        )
        for stem, name, static, contextual, who in pairs:
            z = static - contextual
            title = f"Static - contextual {name} per language pair ({who}, {label})"
            written += writer.write(
                f"gap_pairs_{stem}",
                partial(plots.degradation_heatmap, z, langs, title, value_name=f"{name} difference"),
                _matplotlib(partial(mpl_heatmap, z, langs, title, f"{name} difference", diverging=True)),
            )
    items = main.queryset.items()
    labels = [langs[j] for j in items.lang]
    concepts = [main.queryset.ids[i] for i in items.concept]
    cache = ProjectionCache(directory=projection_dir) if projection_dir is not None else ProjectionCache()
    try:
        for run in runs:
            writer.log(f"PHATE 3D projection of {run.key} ({len(labels)} points) ...")
            try:
                if run.embeddings is None:
                    raise ValueError("the run kept no embeddings")
                coords = project_cached(run.embeddings, "phate", 3, main.seed, cache=cache)
            except Exception as exc:  # noqa: BLE001 - degenerate embeddings (NaN, d < 3, one point): no 3D view
                writer.log(f"PHATE 3D view of {run.key} skipped ({run.score_status}): {type(exc).__name__}: {exc}")
                continue
            title = f"PHATE 3D: {run.key} ({label})"
            written += writer.write(
                f"phate_{ascii_slug(run.key)}",
                partial(plots.scatter3d, coords, labels, items.texts, concepts, title=title),
                _phate_render(coords, labels, title),
            )
    finally:
        cache.close()
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
