"""The kNN graph file kept beside a catalog (``<catalog>.knn.npz``).

Only storage: which faces and embeddings a saved graph was built from, so a reader can
tell whether it still holds (:mod:`faceorganizer.core.library.neighbors` decides what to
reuse or recompute). The file is a cache: a missing, damaged or unwritable one is just
not there.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceorganizer.core.store.files import atomic_path


@dataclass(frozen=True)
class KnnGraph:
    """Neighbour indices and distances of the faces ``ids`` (ascending), and the digest
    of the embeddings they were computed from."""

    ids: np.ndarray
    digest: str
    idx: np.ndarray
    dist: np.ndarray


def cache_path(catalog_path: Path) -> Path:
    return catalog_path.with_name(catalog_path.name + ".knn.npz")


def digest(vectors: np.ndarray) -> str:
    """Identifies a set of embeddings: a graph is valid only for the vectors it came from."""
    data = np.ascontiguousarray(vectors, np.float32).data
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def load(catalog_path: Path) -> KnnGraph | None:
    try:
        with np.load(cache_path(catalog_path), allow_pickle=False) as data:
            return KnnGraph(data["ids"], str(data["digest"]), data["idx"], data["dist"])
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None


def save(
    catalog_path: Path, ids: np.ndarray, vectors: np.ndarray, idx: np.ndarray, dist: np.ndarray
) -> None:
    """Keep the graph for these faces; a failed write leaves the old file (or none)."""
    try:
        with atomic_path(cache_path(catalog_path)) as temp, temp.open("wb") as stream:
            np.savez(stream, ids=ids, digest=np.array(digest(vectors)), idx=idx, dist=dist)
    except OSError:
        pass
