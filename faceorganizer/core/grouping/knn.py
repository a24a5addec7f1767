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
MUTUAL_FROM = 0.4  # mutual_links: links this long count only between mutual near neighbours


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


def mutual_rank(idx: np.ndarray) -> np.ndarray:
    """Per kNN link ``i -> idx[i, c]``: the larger of its two ranks, ``c`` and the place of
    ``i`` in the other face's list (the list length when it is not there). One sort of
    the n k links, no n x n lookup."""
    n, k = idx.shape
    rows = np.repeat(np.arange(n, dtype=np.int64), k)
    forward = rows * n + idx.ravel()
    order = np.argsort(forward, kind="stable")
    backward = idx.ravel().astype(np.int64) * n + rows
    at = np.minimum(np.searchsorted(forward[order], backward), forward.size - 1)
    back_rank = np.where(forward[order][at] == backward, order[at] % k, k)
    return np.maximum(back_rank, np.tile(np.arange(k), n)).reshape(n, k)


def mutual_links(idx: np.ndarray, dist: np.ndarray, rank: int) -> np.ndarray:
    """``dist`` with every link at least MUTUAL_FROM long made infinite (dropped by
    :func:`neighbor_graph`) unless both faces rank among each other's ``rank`` nearest.

    Why: babies and small, blurred faces of different families sit as close together as
    two photos of one adult, but in a crowd: such a face has many look-alikes near it, and
    a stranger's link ranks past the first few from one side, while one person's photos
    are each other's nearest. Links shorter than MUTUAL_FROM always count, so bursts of
    near-identical shots (which plain mutual-kNN pruning shattered) stay whole.

    Measured with the default settings (grouping version 3, which also moved MERGE_GAP,
    against 2; e2e BCubed F): Chinese whispers, rank 3: fiw-dev pairwise precision 0.923
    -> 0.941, BCubed 0.863 -> 0.866; cfp-dev 0.799 -> 0.800; lfw-dev the same. With
    MERGE_GAP 0.05, ranks 3 and 4 and MUTUAL_FROM 0.375 to 0.425 gave the same precision
    0.941, rank 5 0.933, rank 2 0.937; with 0.04, rank 4 0.938. DBSCAN 0.45, rank 4:
    fiw-dev precision 0.793 -> 0.930, BCubed 0.829 -> 0.832, cfp-dev 0.763 -> 0.772,
    faces-dev and lfw-dev the same (rank 3: precision 0.941 but faces-dev 0.975 -> 0.965).
    """
    keep = (dist < MUTUAL_FROM) | (mutual_rank(idx) < rank)
    return np.where(keep, dist, np.inf).astype(np.float32)
