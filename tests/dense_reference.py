"""Dense float64 references for the retrieval tests: full score matrices, counted by definition."""

from __future__ import annotations

import numpy as np


def unit(X):
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def dense_counts(F, tol=1e-12):
    """Per row of a full score matrix (rows = queries, true candidate on the diagonal): candidates
    above and tied with the diagonal, ``tol`` relative to max(1, |f_ii|)."""
    true = np.diag(F)
    diff = F - true[:, None]
    tol = tol * np.maximum(1.0, np.abs(true))[:, None]
    above, tied = diff > tol, np.abs(diff) <= tol
    np.fill_diagonal(above, False)
    np.fill_diagonal(tied, False)
    return above.sum(axis=1), tied.sum(axis=1)


def brute_expectations(above, tied):
    """Mean over the equally likely ranks a+1 .. a+1+t of [rank == 1] and 1 / rank, by plain sums."""
    hit = np.array([np.mean([r == 1 for r in range(a + 1, a + t + 2)]) for a, t in zip(above, tied, strict=True)])
    rr = np.array([np.mean([1 / r for r in range(a + 1, a + t + 2)]) for a, t in zip(above, tied, strict=True)])
    return hit, rr
