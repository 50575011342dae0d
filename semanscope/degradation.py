"""Static vs contextual: how much does a static model lose, with paired bootstrap intervals.

Two models, S (static) and C (contextual), evaluated on the *same* n concepts in the same
order. For each model we have per-concept quantities ``x_i`` (n, K), one column per score
(e.g. the joint vertical spread ``v_i`` and the per-pair spreads ``v_i^lm``, or per-pair
retrieval hits), and a statistic of their column means ``value = f(mean_i x_i)`` (K,):

* Semantic Affinity: ``f(m) = 1 / (1 + m / H)`` with the model's own H (K,) held fixed;
* P@1 (or any mean score): ``f(m) = m``.

The gap is ``gap = value_C - value_S`` (positive: the static model loses) and the relative
drop ``rel = gap / value_C``. Groups of columns (e.g. all language pairs of one script pair)
are averaged with weights ``W`` (K, G): ``value_G = value @ W``, ``gap_G = gap @ W``,
``rel_G = gap_G / value_C,G``.

Paired bootstrap over concepts: one count matrix ``c_b ~ Multinomial(n, 1/n)`` (b = 1..B) is
drawn from ``np.random.default_rng(seed)`` (:func:`semanscope.metrics.bootstrap_means` on the
stacked columns ``[x_S | x_C]``) and applied to *both* models, so every resample compares the
two models on the identical resampled concept multiset:
``gap_b = f_C(c_b x_C / n) - f_S(c_b x_S / n)``, ``rel_b = gap_b / f_C(c_b x_C / n)``.
Intervals are percentile intervals of ``gap_b`` and of ``rel_b`` (the latter over the
resamples where ``f_C`` is non-zero, so ``rel_b`` is defined).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from semanscope.data.languages import script_of
from semanscope.metrics.affinity import affinity_from_spread, bootstrap_means, check_bootstrap_args, percentile_ci

Statistic = Callable[[np.ndarray], np.ndarray]  # column means (..., K) -> values (..., K)


def mean_statistic(means: np.ndarray) -> np.ndarray:
    """``f(m) = m``: the score is the mean of the per-concept quantity (P@1, MRR)."""
    return np.asarray(means, dtype=np.float64)


def affinity_statistic(h: np.ndarray | float) -> Statistic:
    """``f(m) = 1 / (1 + m / H)``: SA from mean vertical spreads, H (K,) held fixed."""
    h = np.asarray(h, dtype=np.float64)
    return lambda means: affinity_from_spread(means, h)


@dataclass(frozen=True, eq=False)
class PairedSamples:
    """Point values (K,) of both models and their bootstrap replicates (B, K) on shared resamples."""

    static: np.ndarray
    contextual: np.ndarray
    boot_static: np.ndarray
    boot_contextual: np.ndarray

    def grouped(self, weights: np.ndarray) -> PairedSamples:
        """Columns combined with weights ``W`` (K, G): every array ``a`` becomes ``a @ W``."""
        w = np.asarray(weights, dtype=np.float64)
        return PairedSamples(self.static @ w, self.contextual @ w, self.boot_static @ w, self.boot_contextual @ w)


def paired_bootstrap(
    x_static: np.ndarray,
    x_contextual: np.ndarray,
    stat_static: Statistic,
    stat_contextual: Statistic,
    n_boot: int,
    seed: int,
) -> PairedSamples:
    """Both models' statistics on all concepts and on ``n_boot`` shared concept resamples.

    ``x_*`` (n, K) per-concept quantities on the same concepts (same row order). Resample b
    uses the counts ``c_b`` of n uniform draws with replacement from
    ``np.random.default_rng(seed).integers(0, n, (B, n))``; both models get the same ``c_b``.
    """
    a = np.asarray(x_static, dtype=np.float64)
    b = np.asarray(x_contextual, dtype=np.float64)
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(
            f"per-concept quantities must be two (n, K) arrays of the same shape, got {a.shape} and {b.shape}"
        )
    if len(a) == 0:
        raise ValueError("no concepts to compare")
    check_bootstrap_args(n_boot, 0.5)
    k = a.shape[1]
    if n_boot:
        boot = bootstrap_means(np.column_stack([a, b]), n_boot, seed)
    else:
        boot = np.zeros((0, 2 * k))
    return PairedSamples(
        static=stat_static(a.mean(axis=0)),
        contextual=stat_contextual(b.mean(axis=0)),
        boot_static=stat_static(boot[:, :k]),
        boot_contextual=stat_contextual(boot[:, k:]),
    )


@dataclass(frozen=True, eq=False)
class Gap:
    """Static-vs-contextual gap per column (label): values, absolute and relative drop, CIs.

    ``gap = contextual - static``; ``rel = gap / contextual`` (NaN when contextual is 0).
    ``*_low``/``*_high`` are percentile bootstrap bounds at level ``ci`` (NaN when
    ``n_boot == 0``; the relative bounds use the resamples where ``rel_b`` is defined).
    """

    labels: tuple[str, ...]
    static: np.ndarray
    contextual: np.ndarray
    gap: np.ndarray
    gap_low: np.ndarray
    gap_high: np.ndarray
    rel: np.ndarray
    rel_low: np.ndarray
    rel_high: np.ndarray
    n_concepts: int
    n_boot: int
    seed: int
    ci: float

    FIELDS = ("static", "contextual", "gap", "gap_low", "gap_high", "rel", "rel_low", "rel_high")

    def index(self, label: str) -> int:
        return self.labels.index(label)

    def row(self, label: str) -> dict[str, float]:
        """``{field: value}`` of one column."""
        k = self.index(label)
        return {f: float(getattr(self, f)[k]) for f in self.FIELDS}

    def records(self) -> list[dict]:
        """One dict per label: ``label`` plus :attr:`FIELDS`."""
        return [{"label": label, **self.row(label)} for label in self.labels]


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den != 0, num / np.where(den != 0, den, 1.0), np.nan)


def summarize(samples: PairedSamples, labels: Sequence[str], *, n_concepts: int, seed: int, ci: float = 0.95) -> Gap:
    """Gap, relative drop and percentile intervals from paired samples (see the module docstring)."""
    check_bootstrap_args(0, ci)
    if len(labels) != len(samples.static):
        raise ValueError(f"{len(labels)} labels for {len(samples.static)} columns")
    gap = samples.contextual - samples.static
    rel = _ratio(gap, samples.contextual)
    n_boot = len(samples.boot_static)
    if n_boot:
        boot_gap = samples.boot_contextual - samples.boot_static
        gap_low, gap_high = percentile_ci(boot_gap, ci)
        boot_rel = _ratio(boot_gap, samples.boot_contextual)
        defined = np.isfinite(boot_rel).any(axis=0)
        q = [50.0 * (1 - ci), 50.0 * (1 + ci)]
        with np.errstate(invalid="ignore"):
            rel_low, rel_high = np.nanpercentile(np.where(defined, boot_rel, 0.0), q, axis=0)
        rel_low, rel_high = np.where(defined, rel_low, np.nan), np.where(defined, rel_high, np.nan)
    else:
        gap_low = gap_high = rel_low = rel_high = np.full(len(gap), np.nan)
    return Gap(
        labels=tuple(labels),
        static=samples.static,
        contextual=samples.contextual,
        gap=gap,
        gap_low=gap_low,
        gap_high=gap_high,
        rel=rel,
        rel_low=rel_low,
        rel_high=rel_high,
        n_concepts=n_concepts,
        n_boot=n_boot,
        seed=seed,
        ci=ci,
    )


def group_weights(groups: Mapping[str, Sequence[int]], n_columns: int) -> np.ndarray:
    """Averaging weights (K, G): column k of group g gets ``1 / |g|``."""
    w = np.zeros((n_columns, len(groups)))
    for g, members in enumerate(groups.values()):
        if not members:
            raise ValueError("a column group cannot be empty")
        w[list(members), g] = 1.0 / len(members)
    return w


def paired_gap(
    x_static: np.ndarray,
    x_contextual: np.ndarray,
    labels: Sequence[str],
    *,
    stat_static: Statistic = mean_statistic,
    stat_contextual: Statistic = mean_statistic,
    groups: Mapping[str, Sequence[int]] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    ci: float = 0.95,
) -> Gap:
    """Gap per column of ``x_*`` (n, K) and per column group, with paired bootstrap intervals.

    ``groups`` maps a group label to column indices; each group is appended after the K
    columns as the average of its members' values (module docstring). With the default
    statistics the value of a column is the mean of its per-concept quantity (P@1 from hits).
    """
    samples = paired_bootstrap(x_static, x_contextual, stat_static, stat_contextual, n_boot, seed)
    all_labels = list(labels)
    if groups:
        k = len(samples.static)
        extra = samples.grouped(group_weights(groups, k))
        samples = PairedSamples(
            *(
                np.concatenate([a, b], axis=-1)
                for a, b in zip(
                    (samples.static, samples.contextual, samples.boot_static, samples.boot_contextual),
                    (extra.static, extra.contextual, extra.boot_static, extra.boot_contextual),
                    strict=True,
                )
            )
        )
        all_labels += list(groups)
    return summarize(samples, all_labels, n_concepts=len(x_static), seed=seed, ci=ci)


def affinity_gap(
    v_static: np.ndarray,
    h_static: np.ndarray,
    v_contextual: np.ndarray,
    h_contextual: np.ndarray,
    labels: Sequence[str],
    *,
    groups: Mapping[str, Sequence[int]] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    ci: float = 0.95,
) -> Gap:
    """SA gap per column: ``v_*`` (n, K) per-concept vertical spreads, ``h_*`` (K,) each model's H.

    ``SA_model = 1 / (1 + mean_i v_i / H)`` per column; H is held fixed under resampling
    (as in :func:`semanscope.metrics.semantic_affinity`).
    """
    return paired_gap(
        v_static,
        v_contextual,
        labels,
        stat_static=affinity_statistic(h_static),
        stat_contextual=affinity_statistic(h_contextual),
        groups=groups,
        n_boot=n_boot,
        seed=seed,
        ci=ci,
    )


def language_pairs(languages: Sequence[str]) -> list[tuple[str, str]]:
    """Unordered pairs ``(l, m)``, l before m, in ``np.triu_indices(L, 1)`` order."""
    rows, cols = np.triu_indices(len(languages), 1)
    return [(languages[i], languages[j]) for i, j in zip(rows.tolist(), cols.tolist(), strict=True)]


def pair_label(a: str, b: str) -> str:
    """``"en-de"``."""
    return f"{a}-{b}"


def script_pair(a: str, b: str) -> str:
    """Script pair of two languages, alphabetical: ``("ru", "en")`` -> ``"Cyrillic-Latin"``."""
    return "-".join(sorted((script_of(a), script_of(b))))


def script_groups(pairs: Sequence[tuple[str, str]]) -> dict[str, list[int]]:
    """Script pair -> indices of the language pairs written in it, sorted by script-pair name."""
    groups: dict[str, list[int]] = {}
    for k, (a, b) in enumerate(pairs):
        groups.setdefault(script_pair(a, b), []).append(k)
    return dict(sorted(groups.items()))


def unordered_pair_means(per_ordered: np.ndarray) -> np.ndarray:
    """(L, L, n) per-direction per-concept scores -> (n, P) per unordered pair:
    ``(s[l, m, i] + s[m, l, i]) / 2`` for (l, m) in ``np.triu_indices(L, 1)`` order.

    The mean over all P columns equals the mean over the L(L-1) ordered pairs.
    """
    s = np.asarray(per_ordered, dtype=np.float64)
    rows, cols = np.triu_indices(s.shape[0], 1)
    return ((s[rows, cols] + s[cols, rows]) / 2.0).T
