"""The study library on a tiny synthetic query set with fake static / contextual embedders."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence

import numpy as np
import pytest

from semanscope.data.queryset import QuerySet
from semanscope.metrics import retrieval_metrics, semantic_affinity
from semanscope.metrics.affinity import concept_pair_spreads
from semanscope.metrics.retrieval import retrieval_counts
from semanscope.models.base import Embedder, ModelUnavailable
from semanscope.study import (
    ModelSpec,
    StudyOptions,
    check_sa_metrics,
    compare_rankings,
    pair_agreement,
    run_study,
    run_suite,
    select_queryset,
)

LANGS = ("en", "de", "zh")
N = 14


def synthetic_set(n: int = N, name: str = "toy") -> QuerySet:
    rows = []
    for i in range(n):
        cells = [f"{lang} text {i}" for lang in LANGS]
        if i % 5 == 0:
            cells[1] += f"|de alt {i}"  # an alternative phrasing
        rows.append((f"c{i:02d}", cells, "odd" if i % 2 else "even"))
    return QuerySet.from_rows(name, LANGS, rows, provenance={"source": "test"})


def _unit_noise(text: str, dim: int, salt: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.blake2b(f"{salt}\0{text}".encode(), digest_size=8).digest(), "little")
    return np.random.default_rng(seed).standard_normal(dim)


class ConceptEmbedder(Embedder):
    """Vector = concept direction (from the digits in the text) + ``noise`` x text-specific noise."""

    dim = 12

    def __init__(self, name: str, family: str, noise: float, english_only: bool = False, fail: bool = False):
        self.name, self.family, self.noise, self.english_only, self.fail = name, family, noise, english_only, fail

    @property
    def fingerprint(self) -> str:
        return f"{self.name}:{self.noise}"

    def _encode(self, texts: Sequence[str], lang, batch_size, progress) -> np.ndarray:
        if self.fail:
            raise RuntimeError("boom")
        out = []
        for t in texts:
            concept = int(t.split()[-1])
            out.append(
                _unit_noise(f"concept {concept}", self.dim, "base") + self.noise * _unit_noise(t, self.dim, self.name)
            )
        if progress is not None:
            progress(len(texts), len(texts))
        return np.asarray(out)


def _static() -> ConceptEmbedder:
    return ConceptEmbedder("toy-static", "static", 1.2)


def _contextual() -> ConceptEmbedder:
    return ConceptEmbedder("toy-contextual", "contextual", 0.3)


# --------------------------------------------------------------------------- metric additions
def test_concept_pair_spreads_match_brute_force_and_sa_pair_v():
    qs = synthetic_set()
    items = qs.items()
    X = _static().encode(items.texts)
    v, ids = concept_pair_spreads(X, items.concept, items.lang, languages=qs.languages, concept_ids=qs.ids)
    assert ids == qs.ids and v.shape == (N, 3)
    U = X.astype(np.float64) / np.linalg.norm(X.astype(np.float64), axis=1, keepdims=True)
    for i in range(N):
        for p, (a, b) in enumerate([(0, 1), (0, 2), (1, 2)]):
            A = U[(items.concept == i) & (items.lang == a)]
            B = U[(items.concept == i) & (items.lang == b)]
            assert v[i, p] == pytest.approx(np.mean([1 - x @ y for x in A for y in B]), abs=1e-12)
    sa = semantic_affinity(X, items.concept, items.lang, languages=qs.languages, concept_ids=qs.ids, n_boot=0)
    np.testing.assert_allclose(v.mean(axis=0), sa.pair_v[np.triu_indices(3, 1)], atol=1e-12)


def test_retrieval_counts_match_brute_force_and_p_at_1():
    qs = synthetic_set()
    items = qs.items()
    X = _static().encode(items.texts)
    counts, ids = retrieval_counts(X, items.concept, items.lang, languages=qs.languages, concept_ids=qs.ids)
    counts = counts["cosine"]
    assert ids == qs.ids and counts.above.shape == (3, 3, N)
    U = X.astype(np.float64) / np.linalg.norm(X.astype(np.float64), axis=1, keepdims=True)
    cell = np.zeros((3, N, X.shape[1]))
    for i, j in itertools.product(range(N), range(3)):
        m = U[(items.concept == i) & (items.lang == j)].mean(axis=0)
        cell[j, i] = m / np.linalg.norm(m)
    for s, t in itertools.permutations(range(3), 2):
        sims = cell[s] @ cell[t].T
        diff = [np.delete(sims[i], i) - sims[i, i] for i in range(N)]
        np.testing.assert_array_equal(counts.above[s, t], [(x > 1e-12).sum() for x in diff])
        np.testing.assert_array_equal(counts.tied[s, t], [(np.abs(x) <= 1e-12).sum() for x in diff])
    assert np.isnan(counts.hit[np.arange(3), np.arange(3)]).all()
    ret = retrieval_metrics(X, items.concept, items.lang, languages=qs.languages, n_boot=0)
    for s, t in itertools.permutations(range(3), 2):
        assert ret.p_at_1[s, t] == pytest.approx(np.mean(counts.hit[s, t]))
        assert ret.mrr[s, t] == pytest.approx(np.mean(counts.reciprocal_rank[s, t]))


# --------------------------------------------------------------------------- study
def test_study_numbers_are_consistent_with_metrics():
    qs = synthetic_set()
    seen: list[tuple[str, int, int]] = []
    result = run_study(
        qs,
        [_static(), _contextual()],
        StudyOptions(seed=3, n_boot=200, progress=lambda key, done, total: seen.append((key, done, total))),
    )
    assert [r.status for r in result.runs] == ["ok", "ok"]
    assert {k for k, _, _ in seen} == {"toy-static", "toy-contextual"}
    assert all(done == total for (k, done, total) in seen[-1:])
    items = qs.items()
    for run, model in zip(result.runs, [_static(), _contextual()], strict=True):
        X = model.encode(items.texts)
        np.testing.assert_allclose(run.embeddings, X.astype(np.float32))
        sa = semantic_affinity(
            X, items.concept, items.lang, n_boot=200, seed=3, languages=qs.languages, concept_ids=qs.ids
        )
        assert run.sa == pytest.approx(sa.sa, abs=1e-6)
        assert run.record.affinity[0].ci_low == pytest.approx(sa.ci_low, abs=1e-6)
        assert run.record.retrieval.n_boot == 200
        assert run.record.fingerprint == model.fingerprint and run.record.dataset == "toy"
    static, contextual = result.runs
    assert contextual.sa > static.sa and contextual.p_at_1 > static.p_at_1

    deg = result.degradation
    assert (deg.static, deg.contextual, deg.chosen_by) == ("toy-static", "toy-contextual", "P@1")
    assert deg.pairs == ("en-de", "en-zh", "de-zh")
    assert deg.scripts == {"Han-Latin": ["en-zh", "de-zh"], "Latin-Latin": ["en-de"]}
    sa_all = deg.sa.row("all")
    assert sa_all["static"] == pytest.approx(static.sa)
    assert sa_all["contextual"] == pytest.approx(contextual.sa)
    assert sa_all["gap"] == pytest.approx(contextual.sa - static.sa)
    assert sa_all["rel"] == pytest.approx((contextual.sa - static.sa) / contextual.sa)
    assert sa_all["gap_low"] <= sa_all["gap"] <= sa_all["gap_high"]
    for (a, b), label in zip([(0, 1), (0, 2), (1, 2)], deg.pairs, strict=True):
        row = deg.sa.row(label)
        assert row["static"] == pytest.approx(static.record.affinity[0].pair_sa[a, b])
        assert row["contextual"] == pytest.approx(contextual.record.affinity[0].pair_sa[a, b])
        p1 = deg.p_at_1.row(label)
        ret = static.record.retrieval
        assert p1["static"] == pytest.approx((ret.p_at_1[a, b] + ret.p_at_1[b, a]) / 2)
    han = deg.sa.row("Han-Latin")
    assert han["gap"] == pytest.approx((deg.sa.row("en-zh")["gap"] + deg.sa.row("de-zh")["gap"]) / 2)
    p1_all = deg.p_at_1.row("all")
    assert p1_all["static"] == pytest.approx(static.p_at_1)
    assert p1_all["contextual"] == pytest.approx(contextual.p_at_1)


def test_failing_and_unavailable_models_are_reported_and_the_others_run():
    def unavailable():
        raise ModelUnavailable("needs setup: run `semanscope setup`")

    models = [
        ConceptEmbedder("broken", "static", 1.0, fail=True),
        ModelSpec("missing", "Missing model", "static", False, unavailable),
        _static(),
        _contextual(),
    ]
    result = run_study(synthetic_set(), models, StudyOptions(n_boot=20))
    status = {r.key: (r.status, r.message) for r in result.runs}
    assert status["broken"] == ("failed", "RuntimeError: boom")
    assert status["missing"] == ("unavailable", "needs setup: run `semanscope setup`")
    assert status["toy-static"][0] == status["toy-contextual"][0] == "ok"
    assert result.degradation is not None and result.degradation.static == "toy-static"
    broken, ok = result.run("broken"), result.run("toy-static")
    assert np.isnan(broken.sa) and np.isnan(broken.p_at_1) and broken.score_status == "failed"
    for results in ("scores", "affinity", "retrieval"):  # typed access to the results of an ok run only
        with pytest.raises(ValueError, match="broken has no .*: its status is failed"):
            getattr(broken, results)
    assert ok.affinity is ok.record.affinity[0] and ok.retrieval is ok.record.retrieval and ok.scores is ok.record


def test_english_only_model_is_a_control_never_the_best_contextual():
    control = ConceptEmbedder("toy-en", "contextual", 0.1, english_only=True)  # better than the real one
    result = run_study(synthetic_set(), [_static(), _contextual(), control], StudyOptions(n_boot=20))
    deg = result.degradation
    assert deg.contextual == "toy-contextual"
    assert [c["key"] for c in deg.controls] == ["toy-en"]
    assert deg.controls[0]["sa"] == pytest.approx(result.run("toy-en").sa)


def test_no_gap_without_both_families():
    result = run_study(synthetic_set(), [_static()], StudyOptions(n_boot=0))
    assert result.degradation is None and "contextual" in result.degradation_note


def test_suite_is_deterministic_and_ranks_agree():
    sets = {"main": synthetic_set(), "other": synthetic_set(10, "other")}
    models = [_static(), _contextual(), ConceptEmbedder("toy-mid", "static", 0.6)]

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ("runtime", "created")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    a = run_suite(sets, models, StudyOptions(seed=1, n_boot=50))
    b = run_suite(sets, models, StudyOptions(seed=1, n_boot=50))
    assert strip(a.to_dict()) == strip(b.to_dict())
    sa_rank = next(r for r in a.rankings if r.metric == "sa")
    assert sa_rank.datasets == ("main", "other")
    assert sa_rank.models == ("toy-static", "toy-contextual", "toy-mid")
    np.testing.assert_array_equal(sa_rank.ranks[:, 0], [3, 1, 2])
    assert sa_rank.spearman["other"] == pytest.approx(1.0)


def test_compare_rankings_spearman_by_hand():
    class Fake:
        def __init__(self, values):
            self.runs = tuple(type("R", (), {"key": k, "ok": True, "sa": v, "p_at_1": v})() for k, v in values.items())

        def run(self, key):
            return next(r for r in self.runs if r.key == key)

    studies = {
        "a": Fake({"m1": 0.9, "m2": 0.5, "m3": 0.7, "m4": 0.1}),
        "b": Fake({"m1": 0.6, "m2": 0.8, "m3": 0.4, "m4": 0.2}),
    }
    cmp = compare_rankings(studies, "sa")
    np.testing.assert_array_equal(cmp.ranks, [[1, 2], [3, 1], [2, 3], [4, 4]])
    d2 = (1 - 2) ** 2 + (3 - 1) ** 2 + (2 - 3) ** 2 + 0
    assert cmp.spearman["b"] == pytest.approx(1 - 6 * d2 / (4 * (16 - 1)))
    with pytest.raises(ValueError, match="unknown ranking metric"):
        compare_rankings(studies, "bleu")


def test_select_queryset_samples_deterministically_and_checks_input():
    qs = synthetic_set()
    a = select_queryset(qs, languages=["zh", "en"], max_concepts=5, seed=7)
    b = select_queryset(qs, languages=["zh", "en"], max_concepts=5, seed=7)
    assert a.ids == b.ids and a.n_concepts == 5 and a.languages == ("en", "zh")
    assert list(a.ids) == sorted(a.ids)  # set order kept
    assert a.provenance["selection"]["n_concepts_available"] == N
    odd = select_queryset(qs, topics=["odd"])
    assert set(odd.topics) == {"odd"} and odd.n_concepts == N // 2
    with pytest.raises(ValueError, match="unknown topic"):
        select_queryset(qs, topics=["nope"])
    with pytest.raises(ValueError, match="unknown language"):
        select_queryset(qs, languages=["en", "fr"])
    with pytest.raises(ValueError, match="at least 3"):
        select_queryset(qs, max_concepts=2)


def test_sa_metrics_are_checked_and_cosine_comes_first():
    assert check_sa_metrics(["euclidean", "cosine", "euclidean"]) == ("cosine", "euclidean")
    with pytest.raises(ValueError, match="must include cosine"):
        check_sa_metrics(["euclidean"])
    with pytest.raises(ValueError, match="unknown SA metric 'dot'"):
        check_sa_metrics(["cosine", "dot"])


def test_every_run_has_both_metrics_calibration_and_hubness_scores():
    result = run_study(synthetic_set(), [_static(), _contextual()], StudyOptions(n_boot=20, metrics=("cosine",)))
    run = result.run("toy-static")
    assert [r.metric for r in run.record.affinity] == ["cosine"]
    assert run.calibration is run.record.calibration[0] and run.calibration.metric == "cosine"
    assert run.retrieval.k_csls > 0 and run.retrieval.k_margin > 0
    both = run_study(synthetic_set(), [_static(), _contextual()], StudyOptions(n_boot=20))
    assert [c.metric for c in both.run("toy-static").record.calibration] == ["cosine", "euclidean"]


def test_a_given_pair_is_compared_for_every_score():
    models = [_static(), ConceptEmbedder("toy-static-2", "static", 0.6), _contextual()]
    default = run_study(synthetic_set(), models, StudyOptions(n_boot=20)).degradation
    assert (default.static, default.chosen_by) == ("toy-static-2", "P@1")  # less noise: the better retriever
    given = run_study(synthetic_set(), models, StudyOptions(n_boot=20, pair=("toy-static", "toy-contextual")))
    deg = given.degradation
    assert (deg.static, deg.contextual, deg.chosen_by) == ("toy-static", "toy-contextual", "pair")
    assert deg.sa.row("all")["static"] == pytest.approx(given.run("toy-static").sa)
    assert deg.p_at_1.row("all")["static"] == pytest.approx(given.run("toy-static").p_at_1)
    with pytest.raises(ValueError, match="both models must be among"):
        run_study(synthetic_set(), models, StudyOptions(n_boot=20, pair=("toy-static", "nope")))


def test_pair_agreement_against_a_brute_force_table():
    import scipy.stats

    result = run_study(synthetic_set(), [_static(), _contextual()], StudyOptions(n_boot=0))
    agreement = pair_agreement(result.runs)
    points = []
    for run in result.runs:
        for a, b in itertools.combinations(range(len(LANGS)), 2):
            p1 = (run.retrieval.p_at_1[a, b] + run.retrieval.p_at_1[b, a]) / 2
            points.append((run.key, f"{LANGS[a]}-{LANGS[b]}", run.affinity.pair_sa[a, b], p1))
    assert list(zip(agreement.models, agreement.pairs, agreement.sa, agreement.p_at_1, strict=True)) == points
    rho = scipy.stats.spearmanr([p[2] for p in points], [p[3] for p in points]).statistic
    assert agreement.spearman == pytest.approx(rho)
    assert set(agreement.within) == {"toy-static", "toy-contextual"}
