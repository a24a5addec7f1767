"""The kNN graph cache beside the catalog: reused, extended and rebuilt when it must be."""

from __future__ import annotations

import numpy as np

from faceorganizer.core.grouping.knn import knn
from faceorganizer.core.library.neighbors import neighbors_for
from faceorganizer.core.library.people import recluster
from faceorganizer.core.store.catalog import Catalog
from faceorganizer.core.store.knn_cache import cache_path


def _same(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> bool:
    return np.array_equal(a[0], b[0]) and np.allclose(a[1], b[1], atol=1e-6)


def test_recluster_keeps_the_graph_and_reads_it_back(catalog: Catalog) -> None:
    ids, _, vectors = catalog.embeddings()
    path = cache_path(catalog.path)
    assert not path.exists()
    recluster(catalog)
    assert path.exists()
    stamp = path.stat().st_mtime_ns
    assert _same(neighbors_for(catalog.path, ids, vectors), knn(vectors))
    assert path.stat().st_mtime_ns == stamp  # read, not rewritten


def test_added_faces_extend_the_graph_exactly(catalog: Catalog) -> None:
    ids, _, vectors = catalog.embeddings()
    old = len(ids) - 25
    neighbors_for(catalog.path, ids[:old], vectors[:old])
    extended = neighbors_for(catalog.path, ids, vectors)
    assert _same(extended, knn(vectors))
    assert _same(neighbors_for(catalog.path, ids, vectors), extended)  # and stored


def test_changed_or_damaged_cache_is_rebuilt(catalog: Catalog) -> None:
    ids, _, vectors = catalog.embeddings()
    neighbors_for(catalog.path, ids, vectors)
    moved = vectors.copy()
    moved[3] += 0.05  # same faces, another embedding: the cached graph no longer holds
    assert _same(neighbors_for(catalog.path, ids, moved), knn(moved))
    fewer = np.delete(np.arange(len(ids)), 10)  # a face removed: not an append
    assert _same(neighbors_for(catalog.path, ids[fewer], vectors[fewer]), knn(vectors[fewer]))
    cache_path(catalog.path).write_bytes(b"PK\x03\x04 not really a zip file")
    assert _same(neighbors_for(catalog.path, ids, vectors), knn(vectors))
