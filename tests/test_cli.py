"""The ``semanscope`` command line: argument errors, determinism, a real small study run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from semanscope import cli
from semanscope.paths import XQUAD_DEFAULT

REPO = Path(__file__).resolve().parents[1]


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--models", "no-such-model"], "unknown model(s) no-such-model"),
        (["--langs", "en,klingon"], "unknown language 'klingon'"),
        (["--langs", "en,el"], "has no el"),
        (["--langs", "en"], "at least 2 languages"),
        (["--data", "/no/such/file.csv"], "no such file"),
        (["--xquad", "/no/such/xquad.csv"], "no such file"),
        (["--topics", "astrology"], "unknown topic"),
        (["--max-concepts", "2"], "at least 3"),
        (["--n-boot", "-1"], "--n-boot must be >= 0"),
        (["--metric", "euclidean"], "--metric: the SA metrics must include cosine"),
        (["--metric", "cosine,manhattan"], "unknown SA metric 'manhattan'"),
        (["--pair", "tokenlearn-static"], "--pair needs two different model keys"),
        (["--models", "tokenlearn-static,e5-small-nano", "--pair", "tokenlearn-static,use-m3"], "use-m3 not among"),
        (["--words", "/no/such/words.csv"], "--words: no such file"),
    ],
)
def test_bad_study_arguments_exit_2_with_one_line(argv, message, capsys, tmp_path):
    code, out, err = _run(["study", "--out", str(tmp_path / "out"), "--xquad", "none", *argv], capsys)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_bad_setup_key_and_malformed_options_exit_2(capsys):
    code, _, err = _run(["setup", "--only", "tokenlearn-static"], capsys)
    assert code == 2 and "not a model that setup builds" in err
    with pytest.raises(SystemExit) as exc:
        cli.main(["study", "--n-boot", "many", "--out", "x"])
    assert exc.value.code == 2


def test_module_entry_point_reports_errors_without_traceback(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "semanscope", "study", "--models", "nope", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "unknown model(s) nope" in proc.stderr and "Traceback" not in proc.stderr


def test_models_command_lists_every_builtin(capsys):
    from semanscope.models.registry import BUILTIN_KEYS

    code, out, _ = _run(["models"], capsys)
    assert code == 0
    listed = [line.split()[0] for line in out.strip().splitlines()[1:]]
    assert listed == list(BUILTIN_KEYS)
    assert "English-only control" in out


def _strip_runtime(value):
    if isinstance(value, dict):
        return {k: _strip_runtime(v) for k, v in value.items() if k not in ("runtime", "created", "command")}
    if isinstance(value, list):
        return [_strip_runtime(v) for v in value]
    return value


def test_same_command_twice_gives_identical_numbers(capsys, tmp_path):
    xquad = XQUAD_DEFAULT
    common = [
        "study",
        "--models",
        "tokenlearn-static",
        "--langs",
        "en,de,zh",
        "--max-concepts",
        "12",
        "--n-boot",
        "50",
        "--seed",
        "3",
        "--no-figures",
        "--xquad",
        "auto" if xquad.is_file() else "none",
    ]
    assert _run([*common, "--out", str(tmp_path / "a"), "--cache", str(tmp_path / "c1")], capsys)[0] == 0
    assert _run([*common, "--out", str(tmp_path / "b"), "--cache", str(tmp_path / "c2")], capsys)[0] == 0
    a = json.loads((tmp_path / "a" / "results.json").read_text(encoding="utf-8"))
    b = json.loads((tmp_path / "b" / "results.json").read_text(encoding="utf-8"))
    assert _strip_runtime(a) == _strip_runtime(b)
    assert (tmp_path / "a" / "results.csv").read_bytes() == (tmp_path / "b" / "results.csv").read_bytes()
    expected_roles = ["main", "words", "xquad"] if xquad.is_file() else ["main", "words"]
    assert list(a["datasets"]) == expected_roles
    assert a["datasets"]["main"]["degradation"] is None  # one family only
    assert "no multilingual contextual model" in a["datasets"]["main"]["degradation_note"]


def test_real_small_study_run(capsys, tmp_path):
    """The acceptance command (one static, one contextual model) on 40 FAQ concepts in 3 languages."""
    out = tmp_path / "study"
    code, stdout, _ = _run(
        [
            "study",
            "--data",
            "builtin",
            "--models",
            "tokenlearn-static,e5-small-nano",
            "--langs",
            "en,de,zh",
            "--max-concepts",
            "40",
            "--n-boot",
            "200",
            "--out",
            str(out),
            "--no-figures",
            "--xquad",
            "none",
            "--cache",
            str(tmp_path / "cache"),
        ],
        capsys,
    )
    assert code == 0, stdout
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    main = results["datasets"]["main"]
    assert main["n_concepts"] == 40 and main["languages"] == ["en", "de", "zh"]
    assert main["provenance"]["selection"]["max_concepts"] == 40
    models = {m["key"]: m for m in main["models"]}
    assert {m["status"] for m in models.values()} == {"ok"}
    assert models["e5-small-nano"]["fingerprint"] and models["tokenlearn-static"]["record"]["n_boot"] == 200
    deg = main["degradation"]
    assert (deg["static"], deg["contextual"], deg["chosen_by"]) == ("tokenlearn-static", "e5-small-nano", "P@1")
    sa_all = next(r for r in deg["sa"]["rows"] if r["label"] == "all")
    assert sa_all["static"] == pytest.approx(models["tokenlearn-static"]["record"]["affinity"][0]["sa"])
    assert sa_all["contextual"] == pytest.approx(models["e5-small-nano"]["record"]["affinity"][0]["sa"])
    assert {r["label"] for r in deg["sa"]["rows"]} == {"all", "en-de", "en-zh", "de-zh", "Han-Latin", "Latin-Latin"}
    p1_all = next(r for r in deg["p_at_1"]["rows"] if r["label"] == "all")
    assert p1_all["contextual"] > p1_all["static"]  # the contextual model retrieves translations better

    tidy = pd.read_csv(out / "results.csv")
    row = tidy[
        (tidy.model == "e5-small-nano") & (tidy.dataset == "faq") & (tidy.metric == "p_at_1") & (tidy.lang_a == "all")
    ]
    assert row.value.item() == pytest.approx(models["e5-small-nano"]["record"]["retrieval"]["mean_p_at_1"])
    assert set(tidy.dataset) == {"faq", "words"}
    new = {"p_at_1_csls", "p_at_1_margin", "n_tied"}
    new |= {f"sa_{m}_{d}" for m in ("centered", "floor", "normalized") for d in ("cosine", "euclidean")}
    assert new <= set(tidy.metric) and "sa_euclidean" in set(tidy.metric)
    assert results["settings"]["metrics"] == ["cosine", "euclidean"]
    report = (out / "report.md").read_text(encoding="utf-8")
    assert report.startswith("# Semanscope study") and "## Answer" in report
    assert "P@1 points" in report and "On words" in report
    answer = report[report.index("## Answer") : report.index("## Models")]
    assert answer.index("P@1") < answer.index("Semantic Affinity")  # retrieval leads
    assert "chance floor" in answer and ("SA and P@1 agree" in answer or "SA and P@1 disagree" in answer)
    assert sorted(p.name for p in (out / "tables").glob("*.tex")) == [
        "datasets.tex",
        "gap_pairs.tex",
        "gap_scripts.tex",
        "models.tex",
        "rankings.tex",
    ]
    assert "\\begin{tabular}" in (out / "tables" / "gap_scripts.tex").read_text(encoding="utf-8")


def test_figures_png_fallback_and_pdf(capsys, tmp_path, monkeypatch):
    """Figures for every model; PNGs through matplotlib when kaleido has no browser."""
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-browser"))
    out = tmp_path / "study"
    code, _, _ = _run(
        [
            "study",
            "--models",
            "tokenlearn-static,use-m3",
            "--langs",
            "en,ru,zh",
            "--max-concepts",
            "15",
            "--n-boot",
            "20",
            "--out",
            str(out),
            "--xquad",
            "none",
            "--cache",
            str(tmp_path / "cache"),
        ],
        capsys,
    )
    assert code == 0
    stems = ["sa_by_model", "gap_pairs_sa", "gap_pairs_p_at_1"] + [
        f"{kind}_{m}" for kind in ("sa_pairs", "phate") for m in ("tokenlearn-static", "use-m3")
    ]
    for stem in stems:
        assert (out / "figures" / f"{stem}.png").read_bytes().startswith(b"\x89PNG"), stem
        assert (out / "figures" / f"{stem}.pdf").read_bytes().startswith(b"%PDF"), stem
    assert "![phate_use-m3](figures/phate_use-m3.png)" in (out / "report.md").read_text(encoding="utf-8")


def test_figure_writer_renders_every_png_with_one_browser_start(tmp_path, monkeypatch):
    """Kaleido starts a browser per call (seconds each): the writer renders all PNGs in one call,
    in order, and falls back to matplotlib for all of them when that call fails."""
    from semanscope.plots import export
    from semanscope.report import FigureWriter

    calls = []

    def fake_render(jobs):
        calls.append([(job.fig, job.fmt, job.width, job.height) for job in jobs])
        return [f"png {job.fig}".encode() for job in jobs]

    monkeypatch.setattr(export, "render_images", fake_render)
    writer = FigureWriter(tmp_path)
    for name in ("a", "b", "c"):
        paths = writer.write(name, lambda name=name: name, lambda fmt, name=name: f"{fmt} mpl {name}".encode())
        assert paths == [tmp_path / f"{name}.png", tmp_path / f"{name}.pdf"]
        assert (tmp_path / f"{name}.pdf").read_bytes() == f"pdf mpl {name}".encode()
    assert calls == [] and not (tmp_path / "a.png").exists()
    writer.finish()
    assert calls == [[("a", "png", 1100, 800), ("b", "png", 1100, 800), ("c", "png", 1100, 800)]]
    assert [(tmp_path / f"{n}.png").read_bytes() for n in "abc"] == [b"png a", b"png b", b"png c"]

    def failing(jobs):
        raise export.ExportUnavailable("no browser here")

    monkeypatch.setattr(export, "render_images", failing)
    logged = []
    writer = FigureWriter(tmp_path, logged.append)
    writer.write("d", lambda: "d", lambda fmt: f"{fmt} mpl d".encode())
    writer.finish()
    assert (tmp_path / "d.png").read_bytes() == b"png mpl d"
    assert logged == ["PNG export through kaleido unavailable, using matplotlib: no browser here"]


@pytest.mark.parametrize(
    "option, data, expected",
    [
        ("auto", "builtin", "builtin"),
        ("auto", "cldr", "builtin"),
        ("auto", "words", None),
        ("auto", "my-set.csv", None),
        ("none", "builtin", None),
        ("builtin", "my-set.csv", "builtin"),
    ],
)
def test_words_comparison_is_opt_in_for_files(option, data, expected):
    source = cli.words_source(option, data)
    assert (source is None) == (expected is None)
    if source is not None:
        assert source().name == "words"


def test_words_from_a_file(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("id,en,de\nw1,dog,Hund\nw2,cat,Katze\nw3,house,Haus\n", encoding="utf-8")
    source = cli.words_source(str(path), "builtin")
    assert source is not None and source().ids == ("w1", "w2", "w3")
