"""A label-free Chinese-whispers threshold: the one whose clusters best fit the kNN graph."""

from __future__ import annotations

import numpy as np

from faceorganizer.config import DEFAULT_THRESHOLD
from faceorganizer.core.grouping.arrays import as_embeddings
from faceorganizer.core.grouping.cluster import cluster
from faceorganizer.core.grouping.knn import knn

AUTO_RANGE = (0.40, 0.65)  # thresholds auto_threshold chooses from, in steps of 0.01
AUTO_TOLERANCE = 0.02  # relative silhouette loss accepted for a lower threshold


def auto_threshold(
    embeddings: np.ndarray, *, neighbors: tuple[np.ndarray, np.ndarray] | None = None
) -> float:
    """Label-free Chinese-whispers threshold: the one whose clusters best fit the kNN graph.

    Clusters at every threshold in AUTO_RANGE and keeps the one with the highest mean
    kNN silhouette: a face should sit closer to its cluster-mates among its nearest
    neighbours than to the nearest face of another cluster. Too low a threshold leaves
    look-alike photos apart, too high merges strangers; both lower the score. Unlike a
    valley in the distance histogram, it does not drift when a few people fill the
    library. Not meant for DBSCAN, whose chaining a local score cannot see.
    """
    x = as_embeddings(embeddings)
    if x.shape[0] < 3:
        return DEFAULT_THRESHOLD["chinese-whispers"]
    idx, dist = knn(x) if neighbors is None else neighbors
    lo, hi = AUTO_RANGE
    grid = np.round(np.arange(lo, hi + 1e-9, 0.01), 2)
    labels = [cluster(x, "chinese-whispers", t, neighbors=(idx, dist)) for t in grid]
    scores = [_knn_silhouette(lab, idx, dist) for lab in labels]
    # the top is a plateau, not a peak: take its cautious end, as merging strangers is
    # what costs most
    good = np.asarray(scores) >= max(scores) * (1 - AUTO_TOLERANCE)
    return float(grid[int(np.argmax(good))])


def _knn_silhouette(labels: np.ndarray, idx: np.ndarray, dist: np.ndarray) -> float:
    """Silhouette restricted to each face's kNN list (O(n k), not O(n^2)).

    a = mean distance to the neighbours in the face's cluster, b = distance to the nearest
    neighbour in another cluster (or the farthest listed neighbour if all share it);
    s = (b - a) / max(a, b), and 0 for faces with no cluster-mate in their list.
    """
    labels = np.where(labels >= 0, labels, -1 - np.arange(labels.shape[0]))  # noise: alone
    same = labels[idx] == labels[:, None]
    mates = same.sum(axis=1)
    a = (dist * same).sum(axis=1) / np.maximum(mates, 1)
    b = np.where(same, np.inf, dist).min(axis=1)
    b = np.where(np.isfinite(b), b, dist[:, -1])
    s = np.where(mates > 0, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float(s.mean())
