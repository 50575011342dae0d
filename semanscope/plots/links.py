"""Which points to join when drawing the links between the translations of one concept."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def link_pairs(concept_ids: Sequence | np.ndarray) -> np.ndarray:
    """Row pairs (n_links, 2) joining each concept's points as a chain in row order.

    A concept with k points gets k - 1 links (a spanning path: row a -> the concept's next
    row b -> ...), so there are ``M - n_concepts`` links in all, not k(k-1)/2 per concept:
    12 languages x 1,190 concepts gives 13k segments instead of 79k, and the plot stays
    readable. Rows are in :meth:`QuerySet.items` order, so each path visits languages in the
    query set's language order.
    """
    ids = np.asarray(concept_ids)
    if ids.ndim != 1:
        raise ValueError(f"concept_ids must be one id per point; got shape {ids.shape}")
    if ids.size < 2:
        return np.zeros((0, 2), dtype=np.int64)
    _, codes = np.unique(ids, return_inverse=True)
    order = np.argsort(codes, kind="stable")
    same = codes[order[:-1]] == codes[order[1:]]
    return np.stack([order[:-1][same], order[1:][same]], axis=1).astype(np.int64)
