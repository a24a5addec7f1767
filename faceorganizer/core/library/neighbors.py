"""A catalog's kNN graph, kept in a file beside the catalog and reused.

Finding each face's nearest neighbours is most of a re-cluster's time (at 100k faces,
2-3 s of 4-5), yet it depends only on the embeddings. So it is built once and kept:
threshold previews and re-clusters of an unchanged library read it back, and a scan that
only added faces extends it (:func:`cluster.knn_update`: 1.2 s for 1,000 new faces in a
100k library) instead of rebuilding it. The file is a cache: when it is missing, stale,
damaged or cannot be written, the graph is simply computed.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import numpy as np

from faceorganizer.core.grouping.knn import knn, knn_update


def cache_path(catalog_path: Path) -> Path:
    return catalog_path.with_name(catalog_path.name + ".knn.npz")


def _digest(vectors: np.ndarray) -> str:
    return hashlib.blake2b(
        np.ascontiguousarray(vectors, np.float32).data, digest_size=16
    ).hexdigest()


def _load(path: Path) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in ("ids", "digest", "idx", "dist")}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None


def _save(path: Path, ids: np.ndarray, vectors: np.ndarray, idx, dist) -> None:
    tmp = path.with_name(path.name + ".tmp.npz")
    try:
        np.savez(tmp, ids=ids, digest=np.array(_digest(vectors)), idx=idx, dist=dist)
        os.replace(tmp, path)  # readers never see half a file
    except OSError:
        tmp.unlink(missing_ok=True)


def neighbors_for(
    catalog_path: Path, face_ids: np.ndarray, vectors: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``knn(vectors)`` for these faces (ascending ids), from the cache where it still holds."""
    path = cache_path(catalog_path)
    cached = _load(path)
    if cached is not None:
        old = cached["ids"].shape[0]
        same_start = old <= len(face_ids) and np.array_equal(cached["ids"], face_ids[:old])
        if same_start and str(cached["digest"]) == _digest(vectors[:old]):
            if old == len(face_ids):
                return cached["idx"], cached["dist"]
            if old > 0:
                neighbors = knn_update(cached["idx"], cached["dist"], vectors, len(face_ids) - old)
                _save(path, face_ids, vectors, *neighbors)
                return neighbors
    neighbors = knn(vectors)
    _save(path, face_ids, vectors, *neighbors)
    return neighbors
