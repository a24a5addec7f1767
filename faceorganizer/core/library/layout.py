"""2-D positions of faces for the map: an instant PCA preview and the UMAP layout.

UMAP runs where numba may hold the GIL for long (a helper process, see
:mod:`faceorganizer.core.library.runtime`); PCA is quick enough for any thread.
"""

from __future__ import annotations

import warnings

import numpy as np

UMAP_MIN_FACES = 15  # fewer faces than UMAP's default neighbourhood: use PCA


def pca_layout(vectors: np.ndarray) -> np.ndarray:
    """Instant 2-D projection: the two main axes of variation (also the fallback)."""
    n = len(vectors)
    if n <= 1:
        return np.zeros((n, 2), np.float32)
    centred = vectors.astype(np.float64) - vectors.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    xy = centred @ axes[:2].T
    if xy.shape[1] < 2:
        xy = np.column_stack([xy, np.zeros(n)])
    return xy.astype(np.float32)


def umap_layout(vectors: np.ndarray) -> np.ndarray:
    """2-D UMAP of face embeddings; the same library gives the same map."""
    if len(vectors) < UMAP_MIN_FACES:
        return pca_layout(vectors)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import umap

        reducer = umap.UMAP(
            n_neighbors=min(15, len(vectors) - 1),
            min_dist=0.1,
            metric="euclidean",
            random_state=42,
            low_memory=True,
        )
        return np.asarray(reducer.fit_transform(vectors), dtype=np.float32)
