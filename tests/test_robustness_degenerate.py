"""Degenerate embeddings through the real study path: all-zero vectors, NaN / inf from a model,
every text on one vector (collapse) and d = 1. Each run ends with a reported status
(``ModelRun.score_status``), the others still give their gap, and no NaN is ever written as a
number (report.md, results.csv, results.json, the app's score table and tiles)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
from fake_embedder import FakeEmbedder
from quick_study import quick_study_argv

from semanscope import appcore
from semanscope.cache import EmbeddingCache, encode_cached
from semanscope.data.queryset import QuerySet
from semanscope.report import write_report
from semanscope.study import StudyOptions, run_suite

LANGS = ("en", "de", "zh")
N = 12
NAN_WORD = re.compile(r"(?<![\w:-])nan(?![\w:-])", re.IGNORECASE)  # "nan" as a value, not in "bad-nan"


def toy_set(name: str = "toy") -> QuerySet:
    rows = [(f"c{i:02d}", [f"{lang} text {i}" for lang in LANGS], None) for i in range(N)]
    return QuerySet.from_rows(name, LANGS, rows)


class Concepts(FakeEmbedder):
    """A working model: concept direction (the digits of the text) + ``noise`` x text noise."""

    def __init__(self, name: str, family: str, noise: float) -> None:
        super().__init__(dim=8, salt=name)
        self.name, self.family, self.noise = name, family, noise

    def _encode(self, texts, lang, batch_size, progress):
        base = np.stack([self.expected(f"concept {t.split()[-1]}") for t in texts])
        return base + self.noise * super()._encode(texts, lang, batch_size, progress)


class Degenerate(FakeEmbedder):
    """A static model whose output is broken in one way (``kind``)."""

    def __init__(self, kind: str, dim: int = 8) -> None:
        super().__init__(dim=dim, salt=kind)
        self.name, self.kind = f"bad-{kind}", kind

    def _encode(self, texts: Sequence[str], lang, batch_size, progress) -> np.ndarray:
        out = super()._encode(texts, lang, batch_size, progress)
        if self.kind == "zero":
            out[:] = 0.0
        elif self.kind == "nan":
            out[:] = np.nan
        elif self.kind == "inf":
            out[:, 0] = np.inf
        elif self.kind == "some-nan":  # concepts 0 and 1 lose their German text
            out[[i for i, t in enumerate(texts) if t in ("de text 0", "de text 1")]] = np.nan
        elif self.kind == "collapse":
            out[:] = 1.0
        return out


KINDS = {  # kind -> (score status, message part)
    "zero": ("invalid", "dropped 36 of 36 rows whose vector is all-zero or non-finite"),
    "nan": ("invalid", "dropped 36 of 36 rows"),
    "inf": ("invalid", "only 0 usable concept(s) remain"),
    "some-nan": ("warning", "excluded 2 concept(s) left without a usable text in some language: c00, c01"),
    "collapse": ("collapsed", "H = 0 and every v_i = 0"),
}


@pytest.fixture(scope="module")
def suite():
    models = [Degenerate(kind) for kind in KINDS] + [
        Degenerate("one-dimensional", dim=1),
        Concepts("good-static", "static", 1.0),
        Concepts("good-contextual", "contextual", 0.3),
    ]
    return run_suite({"main": toy_set(), "other": toy_set("other")}, models, StudyOptions(n_boot=50))


def test_each_degenerate_run_has_a_status_and_no_score_shown_as_nan(suite):
    runs = {r.key: r for r in suite.main.runs}
    for kind, (status, message) in KINDS.items():
        run = runs[f"bad-{kind}"]
        assert run.status == "ok" and run.score_status == status, kind
        assert message in run.message, (kind, run.message)
        assert math.isnan(run.sa) == (status == "invalid"), kind
    assert runs["bad-collapse"].sa == 1.0
    assert runs["bad-some-nan"].record.affinity[0].n_concepts == N - 2 and 0 < runs["bad-some-nan"].sa <= 1
    one = runs["bad-one-dimensional"]
    assert one.score_status in ("ok", "collapsed") and 0 < one.sa <= 1
    informative = [r.key for r in suite.main.runs if r.informative]
    assert informative == ["bad-some-nan", "bad-one-dimensional", "good-static", "good-contextual"]
    deg = suite.main.degradation  # neither invalid nor fully collapsed runs are ever "best"
    assert (deg.static, deg.contextual, deg.chosen_by) == ("good-static", "good-contextual", "P@1")


def test_report_files_name_the_status_and_never_print_nan(suite, tmp_path):
    write_report(suite, tmp_path, settings={"command": ["semanscope", "study"]}, figures=False)
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert not NAN_WORD.search(report)
    table = report[report.index("## Models") :]
    # columns: P@1 [CI], P@1 CSLS, P@1 margin, MRR, SA [CI], ...: no score is a blank or "-", never "nan"
    assert re.search(r"\| bad-zero +\| static +\| invalid +\| +\| - +\| - +\| - +\| +\|", table)
    assert re.search(r"\| bad-collapse +\| static +\| collapsed +(\|[^|]+){4}\| 1\.000 ", table)
    assert "- bad-nan (invalid): dropped 36 of 36 rows" in report  # under "Notes on the scores"
    ranking = report[report.index("## Model rankings") : report.index("## Data and settings")]
    assert "good-static" in ranking and "bad-collapse" in ranking and "bad-zero" not in ranking  # NaN has no rank
    for name in ("results.csv", "degradation.csv"):
        assert not NAN_WORD.search((tmp_path / name).read_text(encoding="utf-8")), name
    tidy = pd.read_csv(tmp_path / "results.csv")
    zero_sa = tidy[(tidy.model == "bad-zero") & (tidy.metric == "sa_cosine") & (tidy.lang_a == "all")]
    assert zero_sa.value.isna().all()  # an empty cell, not the text "nan"
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))  # strict JSON: no NaN tokens
    models = {m["key"]: m for m in data["datasets"]["main"]["models"]}
    assert models["bad-zero"]["score_status"] == "invalid" and models["bad-zero"]["record"]["affinity"][0]["sa"] is None


def test_figures_skip_what_cannot_be_drawn(suite, tmp_path, monkeypatch):
    """PHATE needs finite vectors with at least 3 dimensions and more than one distinct point:
    the other runs get no 3D view (logged), every other figure is still written."""
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-browser"))  # matplotlib PNGs: fast, no browser
    logged: list[str] = []
    written = write_report(suite, tmp_path / "out", settings={}, figures=True, log=logged.append)
    names = {p.name for p in written}
    assert {"phate_good-static.png", "phate_good-contextual.pdf", "sa_by_model.pdf", "sa_pairs_bad-zero.png"} <= names
    for kind in ("zero", "nan", "inf", "some-nan", "one-dimensional", "collapse"):
        assert f"phate_bad-{kind}.png" not in names
        assert any(f"bad-{kind}" in line and "skipped" in line for line in logged), kind


def test_app_score_table_keeps_nan_out_of_the_numbers(suite):
    table = appcore.score_table(suite.main.runs).set_index("model")
    assert table.loc["bad-zero", "status"] == "invalid" and math.isnan(table.loc["bad-zero", "SA"])
    assert table.loc["bad-collapse", "status"] == "collapsed" and table.loc["bad-collapse", "SA"] == 1.0
    from semanscope.plots import to_csv

    assert not NAN_WORD.search(to_csv(table.reset_index()).decode("utf-8"))


def test_non_finite_vectors_are_never_cached(tmp_path):
    model = Degenerate("some-nan")
    texts = ["de text 0", "en text 0", "de text 1"]
    with EmbeddingCache(tmp_path / "emb") as cache:
        first = encode_cached(model, texts, cache)
        model.encoded.clear()
        second = encode_cached(model, texts, cache)
        _, hit = cache.get_many(model, texts)
    assert np.isnan(first[[0, 2]]).all() and np.isfinite(first[1]).all()
    assert model.encoded == [(None, "de text 0"), (None, "de text 1")]  # recomputed, not served from the cache
    np.testing.assert_array_equal(second, first)
    assert hit.tolist() == [False, True, False]


# --------------------------------------------------------------------------- the command line
def test_cli_reports_a_degenerate_model_and_exits_1(tmp_path, monkeypatch, capsys):
    """A built-in model whose files now give all-zero vectors: the CLI writes its report, names
    the status on stderr and exits 1 (no model produced scores), without a traceback."""
    from semanscope import cli
    from semanscope.models import registry

    data = tmp_path / "set.csv"
    data.write_text("id,en,de\n" + "".join(f"q{i},question {i},Frage {i}\n" for i in range(6)), encoding="utf-8")
    original = registry._BUILTIN_BY_KEY["tokenlearn-static"]
    monkeypatch.setitem(
        registry._BUILTIN_BY_KEY,
        "tokenlearn-static",
        type(original)(original.info, original.requires, lambda folder: Degenerate("zero")),
    )
    out = tmp_path / "out"
    code = cli.main(quick_study_argv(data, out, tmp_path / "cache"))
    err = capsys.readouterr().err
    assert code == cli.EXIT_FAILED and "Traceback" not in err
    assert "tokenlearn-static: invalid: dropped 12 of 12 rows whose vector is all-zero or non-finite" in err
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "- tokenlearn-static (invalid): dropped 12 of 12 rows" in report and not NAN_WORD.search(report)
