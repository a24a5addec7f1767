"""Each face's nearest other faces (exact or by k-means cells), and the graph they span.

Clustering never looks at an n x n matrix: it sees each face's ``k`` nearest neighbours
only, so 100k faces fit in memory. The lists only depend on the embeddings and a seed, so
the library caches them (:mod:`faceorganizer.core.library.neighbors`) and extends them
when faces are added (:func:`knn_update`).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from faceorganizer.core.grouping.arrays import as_embeddings, group_sums
from faceorganizer.core.grouping.search import search_nearest

NEIGHBORS = 10  # kNN list length; the graph keeps links from either end
EXACT_KNN_LIMIT = 50_000  # above this, approximate kNN (_knn_cells)
KNN_PROBE = 4  # _knn_cells: cells each face searches
KMEANS_ROUNDS = 5  # _knn_cells: Lloyd iterations placing the cell centres
_MIN_DISTANCE = 1e-6  # keeps exact duplicates as stored (non-zero) sparse entries


def knn(embeddings: np.ndarray, k: int = NEIGHBORS, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices and distances of each face's ``k`` nearest other faces, nearest first.

    Exact (BLAS products in blocks) up to EXACT_KNN_LIMIT faces: about 1 s for 10k on 2
    cores, quadratic beyond. Above the limit :func:`_knn_cells`, approximate: 2 s for 100k
    synthetic faces and 44 s for 1M, finding 93% / 81% of the links shorter than the
    clustering threshold (bench/scale.py), with pairwise F 0.97 at both sizes. The result
    only depends on the embeddings and seed: the library caches it
    (:mod:`faceorganizer.core.library.neighbors`) and passes it to ``cluster`` as
    ``neighbors`` to re-cluster without recomputing it.
    """
    x = as_embeddings(embeddings)
    n = x.shape[0]
    k = min(k, n - 1)
    if k <= 0:
        return np.empty((n, 0), np.int64), np.empty((n, 0), np.float32)
    if n > EXACT_KNN_LIMIT:
        return _knn_cells(x, k, np.random.default_rng(seed))
    idx, dist_sq = search_nearest(x, x, k, q_self=np.arange(n))
    return idx, np.sqrt(dist_sq)


def _knn_cells(x: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Approximate kNN: k-means cells; each face searches the KNN_PROBE cells nearest to it.

    Faces of one person sit close together, so they share a cell or fall in neighbouring
    ones. With sqrt(probe n) cells, finding a face's cells and searching them cost the
    same, O(sqrt(n)) each (O(n^1.5) in all), in BLAS products grouped by cell
    (:func:`~faceorganizer.core.grouping.search.search_nearest`).
    On 100k synthetic faces (2 busy cores, before the selection kernel made it 5x faster)
    it took 24 s for 94.5% of the short links; faiss IVFFlat (same cells, nprobe 4) 46 s
    for 94.7%, faiss HNSW (M 16) 50 s, pynndescent 118 s for 95.1%: the same recall,
    2-5x faster, no extra dependency. Centres pushed out to the data's mean radius balance
    the cells (k-means centres near the mean collect the loners: 4x the work at 1M), but
    lost recall that more probes buy back: at 1M, 8 probes found 0.813 in 29 s, plain
    cells with 4 probes 0.832 in 34 s.
    """
    n = x.shape[0]
    cells = max(1, int(np.sqrt(KNN_PROBE * n)))
    centres = _kmeans(x[rng.choice(n, min(n, 32 * cells), replace=False)], cells, rng)
    near = search_nearest(x, centres, min(KNN_PROBE, cells))[0]
    idx, dist = search_nearest(x, x, k, probe=near, pts_group=near[:, 0], q_self=np.arange(n))
    return idx, np.sqrt(dist)


def _kmeans(x: np.ndarray, cells: int, rng: np.random.Generator) -> np.ndarray:
    """Up to ``cells`` centres from a few Lloyd rounds (cells only need to be roughly right)."""
    centres = x[rng.choice(x.shape[0], min(cells, x.shape[0]), replace=False)]
    for _ in range(KMEANS_ROUNDS):
        assign = search_nearest(x, centres, 1)[0][:, 0]
        counts = np.bincount(assign, minlength=centres.shape[0])
        sums = group_sums(assign, x, centres.shape[0])
        filled = counts > 0  # an empty cell keeps its centre
        centres[filled] = sums[filled] / counts[filled, None]
    return centres


def knn_update(
    idx: np.ndarray, dist: np.ndarray, embeddings: np.ndarray, new_count: int
) -> tuple[np.ndarray, np.ndarray]:
    """Extend a :func:`knn` result after ``new_count`` faces were appended to ``embeddings``.

    ``idx``/``dist`` cover the first ``n - new_count`` faces. The new faces get exact lists
    over everybody, and old faces adopt a new face when it beats their current list (exact
    too, as far as the old lists were). Two BLAS searches of new x n distances, so a
    thousand new faces in a 100k library take about half a second, not a full rebuild.
    """
    x = as_embeddings(embeddings)
    n = x.shape[0]
    old = n - new_count
    k = idx.shape[1]
    if new_count <= 0:
        return idx, dist
    if k == 0 or k >= old - 1:  # the old lists held every face: they may have been cut short
        return knn(x, k=max(k, NEIGHBORS))
    new_idx, new_sq = search_nearest(x[old:], x, k, q_self=np.arange(old, n))
    # old faces: their nearest new faces compete with their current lists
    rev_idx, rev_sq = search_nearest(x[:old], x[old:], min(k, new_count))
    all_idx = np.concatenate([idx, rev_idx + old], axis=1)
    all_dist = np.concatenate([dist, np.sqrt(rev_sq)], axis=1)
    keep = np.argsort(all_dist, axis=1, kind="stable")[:, :k]  # ties: the older list
    return (
        np.concatenate([np.take_along_axis(all_idx, keep, 1), new_idx]),
        np.concatenate([np.take_along_axis(all_dist, keep, 1), np.sqrt(new_sq)]),
    )


def neighbor_graph(idx: np.ndarray, dist: np.ndarray, threshold: float) -> sparse.csr_matrix:
    """Symmetric sparse distance graph from :func:`knn` output: links shorter than threshold.

    A link found from either side is kept (union), so a face that is nobody's nearest
    neighbour still reaches its own nearest ones.
    """
    n = idx.shape[0]
    rows = np.repeat(np.arange(n), idx.shape[1])
    keep = dist.ravel() < threshold
    d = np.maximum(dist.ravel()[keep], _MIN_DISTANCE)
    g = sparse.csr_matrix((d, (rows[keep], idx.ravel()[keep])), shape=(n, n))
    return g.maximum(g.T).tocsr()  # both directions hold the same distance
