"""Which clusters a face most likely belongs to, for the "Is this them?" questions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from faceorganizer.config import DEFAULT_THRESHOLD
from faceorganizer.core.grouping.arrays import as_embeddings


def suggest(
    embeddings: np.ndarray, labels: np.ndarray, face_indices: Sequence[int], k: int = 3
) -> list[list[tuple[int, float]]]:
    """For each face, the ``k`` clusters it most likely belongs to, best first.

    A cluster's distance is that of its nearest member (the face itself excluded), which
    is how Chinese whispers joins faces too. Score = 1 - d / (2 * default threshold),
    clipped to [0, 1]: above 0.5 means "close enough to have been clustered together".
    Noise (-1) is no cluster; the face's current cluster is included.
    """
    x = as_embeddings(embeddings)
    labels = np.asarray(labels, dtype=np.int64)
    faces = np.asarray(face_indices, dtype=np.int64)
    members = np.flatnonzero(labels >= 0)
    members = members[np.argsort(labels[members], kind="stable")]
    if members.size == 0 or faces.size == 0:
        return [[] for _ in faces]
    names, starts = np.unique(labels[members], return_index=True)
    scale = 2 * DEFAULT_THRESHOLD["chinese-whispers"]
    chunk = max(1, 20_000_000 // members.size)
    out: list[list[tuple[int, float]]] = []
    for lo in range(0, faces.size, chunk):
        batch = faces[lo : lo + chunk]
        d = _distances(x[batch], x[members])
        d[members[None, :] == batch[:, None]] = np.inf
        nearest = np.minimum.reduceat(d, starts, axis=1)
        for row in nearest:
            top = np.argsort(row, kind="stable")[:k]
            top = top[np.isfinite(row[top])]
            out.append([(int(names[t]), float(max(0.0, 1 - row[t] / scale))) for t in top])
    return out


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances between rows, via the dot-product expansion (BLAS)."""
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(sq, 0.0))
