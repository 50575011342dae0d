"""Report writing from a suite of fake models: files, numbers in the text, gain/lose wording."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from test_study import ConceptEmbedder, synthetic_set

from semanscope.report import _change, agreement_sentence, answer, pairs_by_gap, write_report
from semanscope.study import StudyOptions, run_suite


@pytest.fixture(scope="module")
def suite():
    sets = {"main": synthetic_set(), "words": synthetic_set(9, "words")}
    models = [
        ConceptEmbedder("toy-static", "static", 1.2),
        ConceptEmbedder("toy-contextual", "contextual", 0.3),
        ConceptEmbedder("toy-en", "contextual", 0.8, english_only=True),
        ConceptEmbedder("broken", "static", 1.0, fail=True),
    ]
    return run_suite(sets, models, StudyOptions(seed=2, n_boot=100))


def test_report_files_and_numbers(suite, tmp_path):
    settings = {"command": ["semanscope", "study"], "seed": 2, "n_boot": 100}
    written = write_report(suite, tmp_path, settings=settings, notes=["a note"], figures=False)
    assert {p.name for p in written} >= {"results.json", "results.csv", "degradation.csv", "report.md", "models.tex"}
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert list(data["datasets"]) == ["main", "words"] and data["notes"] == ["a note"]
    statuses = {m["key"]: m["status"] for m in data["datasets"]["main"]["models"]}
    assert statuses == {"toy-static": "ok", "toy-contextual": "ok", "toy-en": "ok", "broken": "failed"}

    deg = suite.main.degradation
    sa = deg.sa.row("all")
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert f"lose {100 * sa['gap']:.1f} SA points" in report
    assert f"{100 * sa['rel']:.0f}% relative" in report
    assert "The English-only control toy-en" in report
    assert "- broken (failed): RuntimeError: boom" in report
    assert "- note: a note" in report

    gaps = pd.read_csv(tmp_path / "degradation.csv")
    row = gaps[(gaps.dataset == "toy") & (gaps.measure == "sa") & (gaps.label == "all")]
    assert row.gap.item() == pytest.approx(sa["gap"])
    assert set(gaps.kind) == {"all", "pair", "script"}
    tidy = pd.read_csv(tmp_path / "results.csv")
    assert set(tidy.model) == {"toy-static", "toy-contextual", "toy-en"}
    sa_rows = tidy[(tidy.metric == "sa_cosine") & (tidy.lang_a == "all") & (tidy.dataset == "toy")]
    assert dict(zip(sa_rows.model, sa_rows.value, strict=True)) == pytest.approx(
        {r.key: r.sa for r in suite.main.ok_runs}
    )
    latex = (tmp_path / "tables" / "gap_scripts.tex").read_text(encoding="utf-8")
    assert "\\begin{tabular}" in latex and "95\\% CI" in latex


def test_change_wording_for_loss_gain_and_unclear():
    loss = {"gap": 0.123, "gap_low": 0.1, "gap_high": 0.15, "rel": 0.2, "rel_low": 0.15, "rel_high": 0.25}
    assert _change(loss, "SA") == "lose 12.3 SA points (95% CI [10.0, 15.0]; 20% relative, CI [15%, 25%])"
    gain = {"gap": -0.02, "gap_low": -0.04, "gap_high": 0.01, "rel": -0.05, "rel_low": -0.1, "rel_high": 0.02}
    assert _change(gain, "P@1") == (
        "gain 2.0 P@1 points (95% CI [-1.0, 4.0], no clear difference; 5% relative, CI [-2%, 10%])"
    )
    none = {
        "gap": 0.1,
        "gap_low": math.nan,
        "gap_high": math.nan,
        "rel": 0.5,
        "rel_low": math.nan,
        "rel_high": math.nan,
    }
    assert _change(none, "SA").startswith("lose 10.0 SA points (no CI;")


def test_answer_names_largest_pairs_and_other_sets(suite):
    deg = suite.main.degradation
    text = "\n".join(answer(suite))
    worst = pairs_by_gap(deg.sa, list(deg.pairs))[0]
    assert f"the largest SA gaps are {worst}" in text
    assert "On words (9 concepts" in text
    gaps = np.array([deg.sa.row(p)["gap"] for p in pairs_by_gap(deg.sa, list(deg.pairs))])
    assert (np.diff(gaps) <= 0).all()


def _gap(gap: float, low: float, high: float, rel: float) -> dict:
    return {"gap": gap, "gap_low": low, "gap_high": high, "rel": rel, "rel_low": rel, "rel_high": rel}


def test_agreement_sentence_states_sign_and_size(suite):
    static, contextual = suite.main.run("toy-static"), suite.main.run("toy-contextual")
    p1 = _gap(0.4, 0.3, 0.5, 0.45)
    text = agreement_sentence(_gap(-0.03, -0.05, -0.01, -0.05), p1, static, contextual)
    assert text.startswith(
        "SA and P@1 disagree: by P@1 the static model is clearly worse, by SA the static model is clearly better."
    )
    assert "normalised SA" in text and "agrees with P@1" in text  # toy-contextual has the higher normalised SA
    unclear = agreement_sentence(_gap(0.01, -0.01, 0.03, 0.02), p1, static, contextual)
    assert "by SA no clear difference" in unclear
    small = agreement_sentence(_gap(0.05, 0.02, 0.08, 0.06), p1, static, contextual)
    assert small == (
        "SA and P@1 agree in sign (the static model is clearly worse), but not in size: the relative change is "
        "45% in P@1 and 6% in SA (P@1 moves more than twice as much)."
    )
    assert agreement_sentence(_gap(0.2, 0.1, 0.3, 0.3), p1, static, contextual) == (
        "SA and P@1 agree in sign (the static model is clearly worse)."
    )


def test_answer_leads_with_retrieval_and_compares_one_pair(suite):
    first, second = answer(suite)[:2]
    static, contextual = suite.main.run("toy-static"), suite.main.run("toy-contextual")
    assert first.startswith("On toy (14 concepts, 3 languages) the static model toy-static finds the translation")
    assert "the best of each family by P@1" in first and "CSLS" in first and "ratio margin" in first
    cal = static.calibration
    assert second.startswith(f"Semantic Affinity: toy-static SA {static.sa:.3f} (chance floor {cal.floor:.3f}")
    assert f"toy-contextual SA {contextual.sa:.3f}" in second
