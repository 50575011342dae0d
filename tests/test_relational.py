"""Relational Affinity: metric against hand-computed values and an independent brute-force
re-implementation (the original Semanscope's loops), study runs, records and report files."""

import json
import math
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from fake_embedder import FakeEmbedder

from semanscope.cache import EmbeddingCache
from semanscope.data.relations import RelationSet, load_relations
from semanscope.metrics.relational import (
    CosineSummary,
    pairwise_cosine_summary,
    relation_vectors,
    relational_affinity,
)
from semanscope.metrics.relational_results import RA_ROW_COLUMNS, RARecord
from semanscope.models.base import ModelUnavailable
from semanscope.relational_report import run_relational_files, write_relational_report
from semanscope.relational_study import pair_rows, run_relational, run_relational_model
from semanscope.study import ModelSpec

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "semanscope-samples"
SAMPLE_FILES = ["NeurIPS-01-family-relations-RA.csv", "NeurIPS-01-family-relations-v2.5-RA.csv"]
SYNTHETIC = (
    "relation_id,category,word1_en,word2_en,word1_de,word2_de,word1_zh,word2_zh\n"
    "a1,size,big,bigger,groß,größer,大,更大\n"
    "a2,size,small,smaller,klein,kleiner,小,更小\n"
    "a3,size,long,longer,lang,länger,长,更长\n"
    "a4,size,old,old,alt,älter,老,更老\n"  # zero vector in English
    "b1,gender,king,queen,König,Königin,,\n"  # no Chinese pair
    "b2,gender,actor,actress,Schauspieler,Schauspielerin,演员,女演员\n"
    "b3,gender,host,hostess,Gastgeber,Gastgeberin,主持人,女主持人\n"
    "c1,single,sun,moon,Sonne,Mond,太阳,月亮\n"  # a category of one relation
)


def brute_force(relations: RelationSet, embedder: FakeEmbedder, eps: float = 1e-8) -> dict:
    """RA the way the original Semanscope computes it: dict word -> L2-normalised embedding, relation
    vector emb(w2) - emb(w1), excluded when its norm < eps, cosine per pair of vectors in loops;
    grouped by category (within) and matched per relation (cross)."""
    langs, n = relations.languages, relations.n_relations
    vec: dict[str, dict[int, np.ndarray]] = {}
    for j, lang in enumerate(langs):
        vec[lang] = {}
        for i, row in enumerate(relations.pairs):
            if row[j] is None:
                continue
            e1, e2 = (embedder.expected(w, lang).astype(np.float64) for w in row[j])
            r = e2 / np.linalg.norm(e2) - e1 / np.linalg.norm(e1)
            if np.linalg.norm(r) >= eps:
                vec[lang][i] = r

    def cos(u: np.ndarray, v: np.ndarray) -> float:
        return float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)))

    out: dict = {"within": {}, "cross": {}, "all_pairs": {}, "relation": {}}
    for cat in relations.category_names:
        members = [i for i in range(n) if relations.categories[i] == cat]
        for lang in langs:
            vs = [vec[lang][i] for i in members if i in vec[lang]]
            scores = [cos(vs[a], vs[b]) for a, b in combinations(range(len(vs)), 2)]
            out["within"][cat, lang] = scores
    for la, lb in combinations(langs, 2):
        both = [i for i in range(n) if i in vec[la] and i in vec[lb]]
        out["cross"][la, lb] = {i: cos(vec[la][i], vec[lb][i]) for i in both}
        out["all_pairs"][la, lb] = [cos(u, v) for u in vec[la].values() for v in vec[lb].values()]
    for i in range(n):
        values = [c[i] for c in out["cross"].values() if i in c]
        out["relation"][i] = float(np.mean(values)) if values else math.nan
    return out


def assert_matches_brute_force(relations: RelationSet, embedder: FakeEmbedder) -> None:
    run = run_relational_model(relations, embedder)
    r = run.record.result
    ref = brute_force(relations, embedder)
    for c, cat in enumerate(r.categories):
        for j, lang in enumerate(r.languages):
            scores = np.array(ref["within"][cat, lang])
            assert r.within_pairs[c, j] == len(scores)
            if len(scores) == 0:
                assert math.isnan(r.within_mean[c, j]) and r.within_negatives[c, j] == 0
                continue
            np.testing.assert_allclose(
                [r.within_mean[c, j], r.within_std[c, j], r.within_min[c, j], r.within_max[c, j]],
                [scores.mean(), scores.std(), scores.min(), scores.max()],
                rtol=0,
                atol=1e-9,
            )
            assert r.within_negatives[c, j] == int((scores < 0).sum())
    for (la, lb), matched in ref["cross"].items():
        a, b = r.languages.index(la), r.languages.index(lb)
        values = np.array(list(matched.values()))
        assert r.cross_n[a, b] == r.cross_n[b, a] == len(values)
        got = [r.cross_mean[a, b], r.cross_std[a, b], r.cross_min[a, b], r.cross_max[a, b]]
        np.testing.assert_allclose(got, [values.mean(), values.std(), values.min(), values.max()], rtol=0, atol=1e-9)
        assert r.cross_negatives[a, b] == int((values < 0).sum())
        assert r.cross_all_pairs[a, b] == pytest.approx(np.mean(ref["all_pairs"][la, lb]), abs=1e-9)
        for c, cat in enumerate(r.categories):
            in_cat = [v for i, v in matched.items() if relations.categories[i] == cat]
            assert r.category_cross_n[c, a, b] == len(in_cat)
            if in_cat:
                assert r.category_cross_mean[c, a, b] == pytest.approx(np.mean(in_cat), abs=1e-9)
    expected = np.array([ref["relation"][i] for i in range(relations.n_relations)])
    np.testing.assert_allclose(r.relation_cross, expected, rtol=0, atol=1e-9)


# ------------------------------------------------------------------ the maths


def test_relation_vectors_by_hand():
    first = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 0.0], [2.0, 0.0]])
    second = np.array([[0.0, 1.0], [3.0, 0.0], [1.0, 0.0], [0.0, 5.0]])
    R, usable = relation_vectors(first, second)
    # (0,1) - (1,0) = (-1, 1); same direction -> zero; zero word vector -> unusable; (0,1) - (1,0) again
    assert usable.tolist() == [True, False, False, True]
    np.testing.assert_allclose(R, [[-1 / math.sqrt(2), 1 / math.sqrt(2)], [0, 0], [0, 0], R[0]], atol=1e-15)


def test_pairwise_summary_by_hand_and_degenerate_sizes():
    R = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])  # cosines 0, -1, 0
    s = pairwise_cosine_summary(R)
    assert (s.n, s.pairs, s.negatives) == (3, 3, 1)
    assert s.mean == pytest.approx(-1 / 3) and s.std == pytest.approx(math.sqrt(2 / 9))
    assert (s.min, s.max) == (pytest.approx(-1.0), pytest.approx(0.0))
    for n in (0, 1):
        empty = pairwise_cosine_summary(np.ones((n, 2)) / math.sqrt(2))
        assert empty.n == n and empty.pairs == 0 and math.isnan(empty.mean) and empty.negatives == 0
    assert CosineSummary.of_values(np.array([0.5, -0.5])) == CosineSummary(2, 2, 0.0, 0.5, -0.5, 0.5, 1)


@pytest.mark.parametrize("entries", [1, 7, 50, 2**22])
def test_pairwise_summary_matches_brute_force_whatever_the_block_size(entries):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((37, 5))
    R = X / np.linalg.norm(X, axis=1, keepdims=True)
    G = R @ R.T
    values = G[np.triu_indices(37, 1)]
    s = pairwise_cosine_summary(R, entries=entries)
    assert s.pairs == len(values) and s.negatives == int((values < 0).sum())
    np.testing.assert_allclose(
        [s.mean, s.std, s.min, s.max], [values.mean(), values.std(), values.min(), values.max()], rtol=0, atol=1e-12
    )


def test_bad_shapes_are_errors():
    one = np.ones((2, 3))
    with pytest.raises(ValueError, match="one shape"):
        relation_vectors(one, np.ones((2, 4)))
    common = dict(languages=("en",), categories=("c",), relation_ids=("a", "b"))
    with pytest.raises(ValueError, match="one \\(n, d\\) array per language"):
        relational_affinity([one], [one], np.ones((2, 2), bool), np.zeros(2, int), **common)
    with pytest.raises(ValueError, match="category indices"):
        relational_affinity([one], [one], np.ones((1, 2), bool), np.array([0, 1]), **common)


# ------------------------------------------------------------------ parity with the original definitions


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared Semanscope samples not available")
@pytest.mark.parametrize("name", SAMPLE_FILES)
@pytest.mark.parametrize("language_aware", [True, False])
def test_ra_samples_match_an_independent_brute_force(name, language_aware):
    relations = load_relations(SAMPLES / name).relations
    assert_matches_brute_force(relations, FakeEmbedder(dim=24, language_aware=language_aware))


def test_synthetic_categories_missing_pairs_and_zero_vectors_match_brute_force(tmp_path):
    path = tmp_path / "syn-RA.csv"
    path.write_text(SYNTHETIC, encoding="utf-8")
    relations = load_relations(path).relations
    embedder = FakeEmbedder(dim=6, language_aware=True)
    assert_matches_brute_force(relations, embedder)
    r = run_relational_model(relations, embedder).record.result
    assert r.categories == ("size", "gender", "single")
    en, zh = r.languages.index("en"), r.languages.index("zh")
    assert r.zero[0, en] == 1 and r.zero.sum() == 1 and r.within_n[0, en] == 3
    assert r.missing.tolist() == [0, 0, 1] and not r.usable[zh, relations.ids.index("b1")]
    assert r.cross_n[en, zh] == 6  # 8 relations - a4 (zero in en) - b1 (no zh pair)
    assert math.isnan(r.within_mean[2, en])  # one relation: no pair
    assert any("en: 1 zero relation vector(s) excluded: a4" in m for m in r.messages)
    assert any("'single', en: 1 usable relation vector(s)" in m for m in r.messages)
    assert r.relation_cross_pairs[relations.ids.index("a4")] == 1  # only de-zh


def test_same_relations_give_cross_ra_one_and_reversed_give_minus_one():
    rng = np.random.default_rng(0)
    w1, w2 = rng.standard_normal((5, 8)), rng.standard_normal((5, 8))
    result = relational_affinity(
        [w1, 3 * w1, w2],  # "de" = en scaled (same unit vectors); "fr" = en with word1 and word2 swapped
        [w2, 3 * w2, w1],
        np.ones((3, 5), bool),
        np.zeros(5, int),
        languages=("en", "de", "fr"),
        categories=("c",),
        relation_ids=tuple("abcde"),
    )
    assert result.cross_mean[0, 1] == pytest.approx(1.0) and result.cross_std[0, 1] == pytest.approx(0.0, abs=1e-7)
    assert result.cross_mean[0, 2] == pytest.approx(-1.0) and result.cross_negatives[0, 2] == 5
    np.testing.assert_allclose(result.relation_cross, (1 - 1 - 1) / 3)
    np.testing.assert_allclose(result.within_mean[0], result.within_mean[0, 0])  # reversal keeps pairwise cosines
    assert math.isnan(result.cross_mean[1, 1]) and result.cross_n[1, 1] == 0


# ------------------------------------------------------------------ study, records, report


def relation_set(tmp_path: Path) -> RelationSet:
    path = tmp_path / "syn-RA.csv"
    path.write_text(SYNTHETIC, encoding="utf-8")
    return load_relations(path).relations


def test_pair_rows_point_at_each_relations_words(tmp_path):
    relations = relation_set(tmp_path)
    run = run_relational_model(relations, FakeEmbedder(dim=6, language_aware=True))
    words = relations.words_by_language()["zh"]
    rows, w1, w2 = pair_rows(relations, "zh")
    assert relations.ids[rows[0]] == "a1" and "b1" not in [relations.ids[i] for i in rows]
    for i, a, b in zip(rows, w1, w2, strict=True):
        assert (words[a], words[b]) == relations.pairs[i][relations.languages.index("zh")]
    assert run.vectors["zh"].shape == (len(words), 6)
    np.testing.assert_array_equal(run.vectors["zh"][w1[0]], FakeEmbedder(6, True).expected("大", "zh"))


def test_words_are_embedded_once_per_language_through_the_cache(tmp_path):
    relations = relation_set(tmp_path)
    embedder = FakeEmbedder(dim=6, language_aware=True)
    with EmbeddingCache(tmp_path / "cache") as cache:
        first = run_relational_model(relations, embedder, cache=cache)
        assert sorted(embedder.encoded) == sorted(
            (lang, w) for lang, words in relations.words_by_language().items() for w in words
        )
        embedder.calls = 0
        second = run_relational_model(relations, embedder, cache=cache)
    assert embedder.calls == 0
    np.testing.assert_array_equal(first.record.result.within_mean, second.record.result.within_mean)


def test_record_round_trips_through_json_and_gives_tidy_rows(tmp_path):
    relations = relation_set(tmp_path)
    record = run_relational_model(relations, FakeEmbedder(dim=6, language_aware=True)).record
    path = tmp_path / "ra.json"
    record.to_json(path)
    json.loads(path.read_text(encoding="utf-8"))  # strict JSON (NaN written as null)
    back = RARecord.from_json(path)
    for name in ("within_mean", "within_std", "cross_mean", "cross_all_pairs", "category_cross_mean", "relation_cross"):
        np.testing.assert_array_equal(getattr(back.result, name), getattr(record.result, name))
    for name in ("usable", "zero", "within_n", "cross_n", "category_cross_n", "relation_category"):
        a, b = getattr(back.result, name), getattr(record.result, name)
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert back.result.messages == record.result.messages and back.result.categories == record.result.categories
    rows = record.to_rows()
    assert all(tuple(row) == RA_ROW_COLUMNS for row in rows)
    r = record.result
    within = {(x["category"], x["lang_a"]): x for x in rows if x["metric"] == "ra_within"}
    assert len(within) == len(r.categories) * len(r.languages)
    assert within["size", "en"]["value"] == r.within_mean[0, 0] and within["size", "en"]["n"] == 3
    cross = {(x["category"], x["lang_a"], x["lang_b"]): x for x in rows if x["metric"] == "ra_cross"}
    assert cross["all", "en", "zh"]["value"] == r.cross_mean[0, 2] and cross["all", "en", "zh"]["n"] == 6
    assert cross["gender", "de", "zh"]["n"] == 2
    with pytest.raises(ValueError, match="schema"):
        RARecord.from_dict({**record.to_dict(), "schema": 99})


def test_failing_and_unavailable_models_are_reported_and_the_others_run(tmp_path):
    class Broken(FakeEmbedder):
        def _encode(self, texts, lang, batch_size, progress):
            raise RuntimeError("boom")

    def unavailable():
        raise ModelUnavailable("needs setup")

    models = [Broken(salt="broken"), ModelSpec("missing", "Missing", "static", False, unavailable), FakeEmbedder()]
    calls = []
    study = run_relational(relation_set(tmp_path), models, progress=lambda *a: calls.append(a))
    status = {r.key: (r.status, r.message) for r in study.runs}
    assert status["fake-broken"] == ("failed", "RuntimeError: boom")
    assert status["missing"] == ("unavailable", "needs setup")
    assert status["fake-v1"][0] == "ok" and [r.key for r in study.ok_runs] == ["fake-v1"]
    assert calls and calls[-1][0] == "fake-v1" and calls[-1][1] == calls[-1][2]
    with pytest.raises(ValueError, match="listed once"):
        run_relational(relation_set(tmp_path), [FakeEmbedder(), FakeEmbedder()])


def test_report_files_escape_user_text(tmp_path):
    hostile = SYNTHETIC.replace("size", "<script>x</script>|*a*").replace("a1,", "=HYPERLINK(1),", 1)
    path = tmp_path / "hostile-RA.csv"
    path.write_text(hostile, encoding="utf-8")
    out = tmp_path / "out"
    study, written = run_relational_files(
        path, [FakeEmbedder(dim=6, language_aware=True)], out, cache_dir=tmp_path / "cache", command=["x"]
    )
    names = {p.relative_to(out).as_posix() for p in written}
    assert names == {
        "results.json",
        "results.csv",
        "report.md",
        "tables/within.csv",
        "tables/within.md",
        "tables/within.tex",
        "tables/cross.csv",
        "tables/cross.md",
        "tables/cross.tex",
        "tables/relations.csv",
    }
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "<script>" not in report and "&#60;script&#62;x&#60;/script&#62;&#124;&#42;a&#42;" in report
    assert "<script>" not in (out / "tables" / "within.md").read_text(encoding="utf-8")
    assert r"\textless{}script\textgreater{}" in (out / "tables" / "within.tex").read_text(encoding="utf-8")
    assert "'=HYPERLINK(1)" in (out / "tables" / "relations.csv").read_text(encoding="utf-8")
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["tool"] == "semanscope relational" and results["settings"]["models"] == ["fake-v1"]
    record = RARecord.from_dict(results["runs"][0]["record"])
    assert record.result.categories[0] == "<script>x</script>|*a*"
    again = write_relational_report(study, tmp_path / "again", settings={"command": []})
    assert len(again) == len(written)


# ------------------------------------------------------------------ command line


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--data", "/no/such/file-RA.csv"], "--data: no such file"),
        (["--models", "no-such-model"], "unknown model(s) no-such-model"),
        (["--langs", "en,klingon"], "unknown language 'klingon'"),
        (["--langs", "fr"], "requested language(s) fr not in the file"),
        (["--data", "BAD"], "needs at least 2 relations"),
    ],
)
def test_relational_command_bad_arguments_exit_2_with_one_line(argv, message, capsys, tmp_path):
    from semanscope import cli

    data = tmp_path / "syn-RA.csv"
    data.write_text(SYNTHETIC, encoding="utf-8")
    (tmp_path / "bad-RA.csv").write_text("word1_en,word2_en\na,b\n", encoding="utf-8")
    argv = [str(tmp_path / "bad-RA.csv") if a == "BAD" else a for a in argv]
    code = cli.main(["relational", "--data", str(data), "--out", str(tmp_path / "out"), *argv])
    _, err = capsys.readouterr()
    assert code == 2 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_relational_command_runs_a_static_model(capsys, tmp_path):
    from semanscope import cli

    data = tmp_path / "syn-RA.csv"
    data.write_text(SYNTHETIC, encoding="utf-8")
    out = tmp_path / "out"
    argv = ["relational", "--data", str(data), "--models", "tokenlearn-static", "--langs", "en,zh"]
    code = cli.main([*argv, "--out", str(out), "--cache", str(tmp_path / "cache")])
    stdout, err = capsys.readouterr()
    assert code == 0 and "wrote Relational Affinity of 1 model(s)" in stdout
    assert "row 4 (en: 'old')" in err  # the loader report goes to stderr
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["settings"]["languages"] == ["en", "zh"] and results["settings"]["command"][1] == "relational"
    record = RARecord.from_dict(results["runs"][0]["record"])
    assert record.model == "tokenlearn-static" and record.result.languages == ("en", "zh")
    assert np.isfinite(record.result.within_mean[0]).all() and np.isfinite(record.result.cross_mean[0, 1])
    rows = (out / "results.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == ",".join(RA_ROW_COLUMNS) and len(rows) == 1 + len(record.to_rows())
