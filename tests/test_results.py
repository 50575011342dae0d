"""StudyRecord: JSON round trip (NaN <-> null) and tidy rows."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from semanscope.metrics import (
    ROW_COLUMNS,
    StudyRecord,
    calibrate,
    library_versions,
    retrieval_metrics,
    semantic_affinity,
)
from semanscope.metrics.results import json_ready

DISTANCES = ("cosine", "euclidean")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    N, L = 12, 3
    base = rng.standard_normal((N, 5))
    X = np.vstack([base + 0.7 * rng.standard_normal((N, 5)) for _ in range(L)])
    return X, np.tile(np.arange(N), L), np.repeat(np.arange(L), N)


@pytest.fixture(scope="module")
def record(data):
    kw = dict(languages=["en", "de", "fr"], concept_ids=[f"q{i}" for i in range(12)], n_boot=50, seed=4)
    affinity = (semantic_affinity(*data, **kw), semantic_affinity(*data, metric="euclidean", **kw))
    names = {k: kw[k] for k in ("languages", "concept_ids")}
    return StudyRecord.create(
        model="toy",
        family="static",
        fingerprint="abc123",
        dataset="unit",
        affinity=affinity,
        retrieval=retrieval_metrics(*data, hubness=True, **kw),
        calibration=tuple(calibrate(*data, sa, **names) for sa in affinity),
    )


def assert_same(a, b):
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if dataclasses.is_dataclass(x):
            assert_same(x, y)
        elif isinstance(x, tuple) and x and dataclasses.is_dataclass(x[0]):
            assert len(x) == len(y)
            for p, q in zip(x, y, strict=True):
                assert_same(p, q)
        else:
            np.testing.assert_equal(y, x, err_msg=f.name)
            assert type(y) is type(x), f.name


def test_record_fields(record):
    assert record.languages == ("en", "de", "fr") and record.n_concepts == 12
    assert (record.seed, record.n_boot) == (4, 50)
    assert record.versions == library_versions() and set(record.versions) == {"python", "numpy", "scipy", "semanscope"}


def test_json_round_trip_with_nan_as_null(record, tmp_path):
    path = tmp_path / "r.json"
    record.to_json(path)
    text = path.read_text()
    assert "NaN" not in text and "null" in text  # the NaN diagonals
    assert json.loads(text)["affinity"][0]["pair_sa"][0][0] is None
    back = StudyRecord.from_json(path)
    assert_same(record, back)
    assert np.isnan(back.affinity[0].pair_sa[1, 1]) and back.affinity[0].pair_sa.dtype == np.float64
    assert back.affinity[0].concept_table().equals(record.affinity[0].concept_table())


def test_round_trip_without_retrieval_and_invalid_scores():
    X = np.vstack([np.eye(3), np.eye(3)])
    X[:2] = 0  # two concepts lose a text -> invalid, every score NaN
    sa = semantic_affinity(X, np.tile(np.arange(3), 2), np.repeat([0, 1], 3))
    rec = StudyRecord.create(model="m", family="contextual", fingerprint="f", dataset="d", affinity=sa)
    back = StudyRecord.from_dict(json.loads(json.dumps(rec.to_dict(), allow_nan=False)))
    assert_same(rec, back)
    assert back.retrieval is None and back.affinity[0].status == "invalid" and np.isnan(back.affinity[0].sa)


def test_json_ready_gives_plain_values():
    value = {
        1: (np.float32(0.5), float("nan")),
        "a": np.array([[1, 2], [3, 4]], dtype=np.int64),
        "b": [np.inf, -np.inf, np.bool_(True), None, "x"],
    }
    out = json_ready(value)
    assert out == {"1": [0.5, None], "a": [[1, 2], [3, 4]], "b": [None, None, True, None, "x"]}
    assert type(out["a"][0][0]) is int and type(out["1"][0]) is float
    json.dumps(out, allow_nan=False)


def test_rows(record):
    rows = record.to_rows()
    frame = pd.DataFrame(rows)
    assert tuple(frame.columns) == ROW_COLUMNS
    assert (frame[["model", "family", "dataset"]].drop_duplicates().values.tolist()) == [["toy", "static", "unit"]]
    assert (frame["n"] == 12).all()
    sa = record.affinity[0]
    joint = frame[(frame.metric == "sa_cosine") & (frame.lang_a == "all")].iloc[0]
    assert (joint.lang_b, joint.value, joint.ci_low, joint.ci_high) == ("all", sa.sa, sa.ci_low, sa.ci_high)
    de_fr = frame[(frame.metric == "sa_euclidean") & (frame.lang_a == "de") & (frame.lang_b == "fr")].iloc[0]
    assert de_fr.value == record.affinity[1].pair_sa[1, 2]
    sr = frame[frame.metric == "sr_cosine"].iloc[0]
    assert sr.value == pytest.approx(1 / sa.sa - 1) and sr.ci_low == pytest.approx(1 / sa.ci_high - 1)
    h_de = frame[(frame.metric == "h_cosine") & (frame.lang_a == "de")].iloc[0]
    assert h_de.lang_b == "de" and h_de.value == sa.h_per_language[1]
    ret = record.retrieval
    p = frame[(frame.metric == "p_at_1") & (frame.lang_a == "fr") & (frame.lang_b == "en")].iloc[0]
    assert p.value == ret.p_at_1[2, 0] and np.isnan(p.ci_low)
    csls = frame[(frame.metric == "p_at_1_csls") & (frame.lang_a == "all")].iloc[0]
    assert (csls.value, csls.ci_low, csls.ci_high) == (
        ret.mean_p_at_1_csls,
        ret.p_at_1_csls_ci_low,
        ret.p_at_1_csls_ci_high,
    )
    margin = frame[(frame.metric == "mrr_margin") & (frame.lang_a == "de") & (frame.lang_b == "en")].iloc[0]
    assert margin.value == ret.mrr_margin[1, 0]
    cal = record.calibration[1]
    norm = frame[(frame.metric == "sa_normalized_euclidean") & (frame.lang_a == "all")].iloc[0]
    assert (norm.value, norm.ci_low, norm.ci_high) == (cal.normalized, cal.normalized_ci_low, cal.normalized_ci_high)
    assert norm.value == pytest.approx((record.affinity[1].sa - cal.floor) / (1 - cal.floor))
    floor = frame[(frame.metric == "sa_floor_euclidean") & (frame.lang_a == "en") & (frame.lang_b == "fr")].iloc[0]
    assert floor.value == cal.pair_floor[0, 2]
    centred = frame[(frame.metric == "sa_centered_cosine") & (frame.lang_a == "all")].iloc[0]
    assert centred.value == record.calibration[0].centered_sa
    aniso = frame[(frame.metric == "anisotropy") & (frame.lang_a == "fr")].iloc[0]
    assert aniso.value == record.calibration[0].anisotropy_per_language[2]
    # per SA metric: 1 joint + 3 pairs + 1 sr + 1 joint h + 3 h; per calibration: floor, normalised, centred
    # (1 joint + 3 pairs each); anisotropy 1 + 3 languages; retrieval per score (cosine, CSLS, margin) P@1
    # and MRR 1 joint + 6 ordered pairs; ties 1 + 6
    expected = {f"{m}_{d}": 4 for m in ("sa", "h", "sa_floor", "sa_normalized", "sa_centered") for d in DISTANCES}
    expected |= {f"sr_{d}": 1 for d in DISTANCES}
    expected |= {f"{m}{x}": 7 for m in ("p_at_1", "mrr") for x in ("", "_csls", "_margin")}
    assert frame.metric.value_counts().to_dict() == expected | {"anisotropy": 4, "n_tied": 7}


def test_schema_2_records_read_without_calibrations(record):
    data = record.to_dict()
    del data["calibration"]
    data["schema"] = 2
    old = StudyRecord.from_dict(data)
    assert old.calibration == () and old.affinity[0].sa == record.affinity[0].sa


def test_create_rejects_a_calibration_without_its_sa(data, record):
    sa = semantic_affinity(*data, n_boot=0, languages=["en", "de", "fr"], concept_ids=record.affinity[0].concept_ids)
    with pytest.raises(ValueError, match="does not belong"):
        StudyRecord.create(
            model="m", family="static", fingerprint="f", dataset="d", affinity=sa, calibration=(record.calibration[1],)
        )


def test_create_rejects_inconsistent_results(data):
    a = semantic_affinity(*data, n_boot=0)
    b = semantic_affinity(*data, n_boot=0, languages=["x", "y", "z"])
    with pytest.raises(ValueError, match="same languages|share languages"):
        StudyRecord.create(model="m", family="static", fingerprint="f", dataset="d", affinity=(a, b))
    with pytest.raises(ValueError, match="one SAResult per metric"):
        StudyRecord.create(model="m", family="static", fingerprint="f", dataset="d", affinity=(a, a))
    with pytest.raises(ValueError, match="at least one"):
        StudyRecord.create(model="m", family="static", fingerprint="f", dataset="d")


def test_bad_files_raise_value_error(record, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not a valid results file"):
        StudyRecord.from_json(bad)
    data = record.to_dict() | {"schema": 99}
    with pytest.raises(ValueError, match="unsupported result schema 99"):
        StudyRecord.from_dict(data)
