"""Clustering quality against ground truth: NMI, ARI, pairwise and BCubed precision/recall/F.

All functions take ``(true, pred)``: two int arrays of equal length, one entry per
*labeled* face (drop unlabeled faces before calling).

Noise: a predicted label of ``-1`` (DBSCAN noise) means "in no cluster", so every such
face is counted as its own singleton cluster. Treating -1 as one big cluster would reward
a clusterer for dumping faces into noise, which is the opposite of what a user sees.

Pair and BCubed scores are computed from the sparse contingency table (true x predicted
cluster sizes), so they cost O(n log n), never O(n^2).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score


def _as_labels(labels: np.ndarray) -> np.ndarray:
    """Validate one label array and return it as a 1-D int64 array."""
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError("labels must be a 1-D array")
    return arr.astype(np.int64, copy=False)


def noise_as_singletons(pred: np.ndarray) -> np.ndarray:
    """Give every -1 (noise) entry a fresh label of its own, leaving the others unchanged."""
    pred = _as_labels(pred).copy()
    noise = pred == -1
    if noise.any():
        start = int(pred.max(initial=-1)) + 1
        pred[noise] = np.arange(start, start + int(noise.sum()))
    return pred


def _pair(true: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Check the two arrays match and map noise to singletons."""
    true, pred = _as_labels(true), _as_labels(pred)
    if true.shape != pred.shape:
        raise ValueError(f"length mismatch: {true.shape[0]} true vs {pred.shape[0]} predicted")
    return true, noise_as_singletons(pred)


def _contingency(true: np.ndarray, pred: np.ndarray) -> sparse.coo_matrix:
    """Sparse table n[i, j] = number of items with true class i and predicted cluster j."""
    _, t = np.unique(true, return_inverse=True)
    _, p = np.unique(pred, return_inverse=True)
    ones = np.ones(t.shape[0], dtype=np.int64)
    table = sparse.coo_matrix((ones, (t, p)), shape=(int(t.max()) + 1, int(p.max()) + 1))
    table.sum_duplicates()
    return table


def _f(p: float, r: float) -> float:
    """Harmonic mean, 0 when both are 0."""
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def nmi(true: np.ndarray, pred: np.ndarray) -> float:
    """Normalized mutual information (arithmetic normalization), noise as singletons."""
    true, pred = _pair(true, pred)
    return float(normalized_mutual_info_score(true, pred)) if true.size else 1.0


def ari(true: np.ndarray, pred: np.ndarray) -> float:
    """Adjusted Rand index, noise as singletons."""
    true, pred = _pair(true, pred)
    return float(adjusted_rand_score(true, pred)) if true.size else 1.0


def _pairs(counts: np.ndarray) -> float:
    """Number of unordered pairs inside groups of the given sizes."""
    counts = counts.astype(np.float64)
    return float((counts * (counts - 1) / 2).sum())


def pairwise_prf(true: np.ndarray, pred: np.ndarray) -> tuple[float, float, float]:
    """Precision/recall/F over face pairs.

    precision = pairs in the same predicted cluster that are the same person / pairs in the
    same predicted cluster; recall = same-person pairs that share a predicted cluster /
    same-person pairs. With no pairs on a side the ratio is vacuously 1.
    """
    true, pred = _pair(true, pred)
    if true.size == 0:
        return 1.0, 1.0, 1.0
    table = _contingency(true, pred).tocsr()
    together = _pairs(table.data)
    predicted = _pairs(np.asarray(table.sum(axis=0)).ravel())
    actual = _pairs(np.asarray(table.sum(axis=1)).ravel())
    p = together / predicted if predicted else 1.0
    r = together / actual if actual else 1.0
    return p, r, _f(p, r)


def bcubed_prf(true: np.ndarray, pred: np.ndarray) -> tuple[float, float, float]:
    """BCubed precision/recall/F: per-item averages, so big clusters do not dominate.

    For item x with true class T(x) and predicted cluster C(x):
    precision(x) = |C(x) & T(x)| / |C(x)|, recall(x) = |C(x) & T(x)| / |T(x)|.
    Summed over items, each contingency cell n contributes n * n / size.
    """
    true, pred = _pair(true, pred)
    if true.size == 0:
        return 1.0, 1.0, 1.0
    table = _contingency(true, pred)
    cell = table.data.astype(np.float64)
    pred_size = np.asarray(table.sum(axis=0)).ravel()[table.col]
    true_size = np.asarray(table.sum(axis=1)).ravel()[table.row]
    n = float(true.size)
    p = float((cell * cell / pred_size).sum() / n)
    r = float((cell * cell / true_size).sum() / n)
    return p, r, _f(p, r)


def evaluate(true: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Every score at once, plus ``clusters``: predicted clusters with noise as singletons."""
    pp, pr, pf = pairwise_prf(true, pred)
    bp, br, bf = bcubed_prf(true, pred)
    return {
        "nmi": nmi(true, pred),
        "ari": ari(true, pred),
        "pairwise_precision": pp,
        "pairwise_recall": pr,
        "pairwise_f": pf,
        "bcubed_precision": bp,
        "bcubed_recall": br,
        "bcubed_f": bf,
        "clusters": int(np.unique(_pair(true, pred)[1]).size),
    }
