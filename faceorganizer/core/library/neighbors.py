"""A catalog's kNN graph, reused from its cache file while it still holds.

Finding each face's nearest neighbours is most of a re-cluster's time (at 100k faces,
2-3 s of 4-5), yet it depends only on the embeddings. So it is built once and kept
(:mod:`faceorganizer.core.store.knn_cache`): threshold previews and re-clusters of an
unchanged library read it back, and a scan that only added faces extends it
(:func:`cluster.knn_update`: 1.2 s for 1,000 new faces in a 100k library) instead of
rebuilding it. When the file is missing, stale or damaged, the graph is simply computed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from faceorganizer.core.grouping.knn import knn, knn_update
from faceorganizer.core.store import knn_cache


def neighbors_for(
    catalog_path: Path, face_ids: np.ndarray, vectors: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``knn(vectors)`` for these faces (ascending ids), from the cache where it still holds."""
    cached = knn_cache.load(catalog_path)
    if cached is not None:
        old = cached.ids.shape[0]
        same_start = old <= len(face_ids) and np.array_equal(cached.ids, face_ids[:old])
        if same_start and cached.digest == knn_cache.digest(vectors[:old]):
            if old == len(face_ids):
                return cached.idx, cached.dist
            if old > 0:
                neighbors = knn_update(cached.idx, cached.dist, vectors, len(face_ids) - old)
                knn_cache.save(catalog_path, face_ids, vectors, *neighbors)
                return neighbors
    neighbors = knn(vectors)
    knn_cache.save(catalog_path, face_ids, vectors, *neighbors)
    return neighbors
