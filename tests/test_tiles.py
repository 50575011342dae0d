"""Float32 tiles with a float64 re-check give exactly the float64 counts, near-ties included."""

from __future__ import annotations

import numpy as np
import pytest
from dense_reference import dense_counts, unit

from semanscope.metrics import tiles
from semanscope.metrics.tiles import dot_error, pair_counts, tie_tolerance


def assert_dense(A, B, **kwargs):
    ((fwd, back),) = pair_counts(A, B, **kwargs)
    S, tol = A @ B.T, tie_tolerance(A.shape[1])
    for got, F in ((fwd, S), (back, S.T)):
        above, tied = dense_counts(F, tol)
        np.testing.assert_array_equal(got.above, above)
        np.testing.assert_array_equal(got.tied, tied)
    return fwd, back


# offsets of candidate scores from the true score: exact ties, float64 near-ties on both sides of
# the tie tolerance, and differences float32 cannot resolve (its error is ~2e-5 at d = 384)
EPS = [0.0, 0.0, 2e-13, -2e-13, 5e-13, -6e-13, 3e-12, -3e-12, 1e-9, -1e-9, 1e-7, -1e-7, 3e-6, -3e-6, 1e-5, -2e-5]


def near_ties(n=300, d=384, seed=0):
    """Random unit translations plus, for query 0, candidates ``B_0 + eps A_0`` (|A_0| = 1), whose
    scores are ``s_00 + eps`` up to float64 rounding (~1e-16, far from the 1e-12 tie edge)."""
    rng = np.random.default_rng(seed)
    A = unit(rng.standard_normal((n, d)))
    B = unit(A + 1.5 * rng.standard_normal((n, d)) / np.sqrt(d))
    for j, eps in enumerate(EPS, start=1):
        B[j] = B[0] + eps * A[0]
    return A, B


@pytest.mark.parametrize(
    "kwargs", [dict(block=512), dict(block=7, tile_entries=300, workers=1), dict(block=64, workers=3)]
)
def test_near_ties_are_exact(kwargs):
    A, B = near_ties()
    fwd, _ = assert_dense(A, B, **kwargs)
    eps = np.array(EPS)
    tol = tie_tolerance(A.shape[1])
    # query 0: exactly the constructed candidates above / tied (the random ones score far below)
    assert fwd.above[0] == (eps > tol).sum() and fwd.tied[0] == (np.abs(eps) <= tol).sum() == 6


@pytest.mark.parametrize("seed,n,d", [(1, 97, 3), (2, 250, 30), (3, 400, 384)])
def test_random_data_with_duplicates(seed, n, d):
    rng = np.random.default_rng(seed)
    A = unit(rng.standard_normal((n, d)))
    B = unit(A + rng.standard_normal((n, d)))
    A[5], B[5] = A[7], B[7]  # duplicated concept
    B[9] = B[3]  # a repeated candidate
    for kwargs in (dict(block=13, tile_entries=200, workers=2), dict(block=50), dict(block=512, workers=1)):
        fwd, back = assert_dense(A, B, **kwargs)
    assert fwd.tied.sum() > 0 and back.tied.sum() > 0


def test_dense_recheck_of_collapsed_vectors(monkeypatch):
    # half the concepts share one vector pair: their chunks' bands are dense (one float64 product)
    monkeypatch.setattr(tiles, "CHUNK_ENTRIES", 64)
    rng = np.random.default_rng(4)
    A = unit(rng.standard_normal((120, 16)))
    B = unit(A + 0.5 * rng.standard_normal((120, 16)))
    A[:60], B[:60] = A[0], B[0]
    fwd, back = assert_dense(A, B, block=16, tile_entries=256)
    assert (fwd.tied[:60] == 59).all() and (back.tied[:60] == 59).all()


def test_rows_need_not_be_exactly_unit():
    rng = np.random.default_rng(5)
    A = unit(rng.standard_normal((80, 12))) * 1.5
    B = unit(rng.standard_normal((80, 12))) * 0.75
    B[1] = B[0]
    assert_dense(A, B, block=9)


@pytest.mark.parametrize("d", [8, 384, 4096])
def test_dot_error_bounds_float32(d):
    rng = np.random.default_rng(d)
    A, B = unit(rng.standard_normal((300, d))), unit(rng.standard_normal((300, d)))
    err = np.abs((A.astype(np.float32) @ B.astype(np.float32).T).astype(np.float64) - A @ B.T).max()
    assert 0 < err <= dot_error(d) < 4 * (d + 2) * 2.0**-24
    assert tie_tolerance(d) == max(1e-12, 4 * d * 2.0**-53)
