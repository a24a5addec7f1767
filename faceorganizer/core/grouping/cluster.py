"""Group face embeddings into persons: Chinese whispers or DBSCAN over a kNN graph.

Both algorithms see the same sparse graph: each face linked to its ``k`` nearest
neighbours, keeping only links shorter than ``threshold`` (euclidean distance between
dlib 128-D descriptors). The graph is never n x n, so 100k faces fit in memory.

User edits arrive as :class:`Constraints` and always hold in the output:

* faces from the same photo never share a cluster (one person appears once per photo);
* faces anchored to the same person share a cluster, faces of different anchors never do,
  and anchored faces never move;
* a face marked "not this person" never lands in that person's cluster.

Chinese whispers honours them while propagating (anchors are fixed labels that attract
their neighbours; a face skips labels it may not take). DBSCAN clusters first and then
repairs: anchors override, and a face breaking a cannot-link is split off as noise.

Chinese whispers then gets a merge refinement (:func:`merge_clusters`): it links faces
closer than ``threshold - MERGE_GAP`` only, which keeps strangers apart, and afterwards
merges clusters, closest pair first, while their average-linkage distance (root mean
square distance over all cross pairs, computed from centroids and spreads, never n x n)
is below ``threshold``; merges that would break a constraint are skipped. So for Chinese
whispers ``threshold`` reads as "two groups of photos whose faces are on average closer
than this are one person". Pairwise F (seed 0) went from 0.928 / 0.877 (whispers at 0.5)
to 0.942 / 0.884 on faces-dev / lfw-dev (whispers 0.475, merge 0.525); mean over seeds
0..9 0.930 / 0.868 -> 0.942 / 0.881. Mean kNN-link or centroid linkage chain strangers
on LFW instead (pairwise F 0.45 / 0.01 at merge 0.525).

Settings measured on faces-dev and lfw-dev (bench/quality.py): links weigh 1 - d/threshold
(unit weights, as in dlib's example, chain strangers on LFW: pairwise F 0.50 vs 0.86 at
0.5); k = 10 (k = 30 lets more strangers chain: LFW F 0.85 vs 0.87, same on faces-dev);
no mutual-kNN pruning (it shattered bursts of near-identical shots: F 0.40 vs 0.96).
"""

from __future__ import annotations

import functools
import heapq
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from faceorganizer.config import ALGORITHMS, DEFAULT_THRESHOLD

MERGE_GAP = 0.05  # Chinese whispers links faces closer than threshold - MERGE_GAP
MERGE_LINKAGE = "rms"  # see merge_clusters; "edges" and "centroid" chain strangers on LFW
NEIGHBORS = 10  # kNN list length; the graph keeps links from either end
EXACT_KNN_LIMIT = 50_000  # above this, approximate kNN (_knn_cells)
KNN_PROBE = 4  # _knn_cells: cells each face searches
SEARCH_THREADS = 8  # kNN search threads, at most one per core
BLOCK_POINTS = 4096  # points per BLAS product: a few query rows must not stream them all
KMEANS_ROUNDS = 5  # _knn_cells: Lloyd iterations placing the cell centres
MAX_ITERATIONS = 50  # Chinese whispers passes; it usually settles in under 10
ANCHOR_PULL = 2.0  # weight factor of links to anchored faces (Chinese whispers)
DBSCAN_MIN_SAMPLES = 2  # counting the face itself: two photos of someone make a cluster
LINKAGES = ("edges", "centroid", "rms")  # merge_clusters: how far apart two clusters are
_MIN_DISTANCE = 1e-6  # keeps exact duplicates as stored (non-zero) sparse entries


@dataclass(frozen=True)
class Constraints:
    """User knowledge the clustering must respect (see module docstring).

    photo: int per face; faces sharing a photo id never share a cluster.
    anchor: int per face, -1 free; one id per user-confirmed person.
    forbidden: (face index, anchor id) pairs, "this face is not that person".
    When the user contradicts themself, anchors win: two faces of one photo anchored to
    the same person stay together, and an anchored face stays with its anchor.
    """

    photo: np.ndarray | None = None
    anchor: np.ndarray | None = None
    forbidden: Sequence[tuple[int, int]] = ()


# ---------------------------------------------------------------- graph


def _as_embeddings(embeddings: np.ndarray) -> np.ndarray:
    x = np.asarray(embeddings, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError("embeddings must be a 2-D array (faces x dimensions)")
    return np.ascontiguousarray(x)


def knn(embeddings: np.ndarray, k: int = NEIGHBORS, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices and distances of each face's ``k`` nearest other faces, nearest first.

    Exact (BLAS products in blocks) up to EXACT_KNN_LIMIT faces: about 1 s for 10k on 2
    cores, quadratic beyond. Above the limit :func:`_knn_cells`, approximate: 2 s for 100k
    synthetic faces and 44 s for 1M, finding 93% / 81% of the links shorter than the
    clustering threshold (bench/scale.py), with pairwise F 0.97 at both sizes. The result
    only depends on the embeddings and seed: cache it (:mod:`neighbors`) and pass it to
    :func:`cluster` as ``neighbors`` to re-cluster without recomputing it.
    """
    x = _as_embeddings(embeddings)
    n = x.shape[0]
    k = min(k, n - 1)
    if k <= 0:
        return np.empty((n, 0), np.int64), np.empty((n, 0), np.float32)
    if n > EXACT_KNN_LIMIT:
        return _knn_cells(x, k, np.random.default_rng(seed))
    idx, dist_sq = _search_groups(x, x, k, q_self=np.arange(n))
    return idx, np.sqrt(dist_sq)


def _knn_cells(x: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Approximate kNN: k-means cells; each face searches the KNN_PROBE cells nearest to it.

    Faces of one person sit close together, so they share a cell or fall in neighbouring
    ones. With sqrt(probe n) cells, finding a face's cells and searching them cost the
    same, O(sqrt(n)) each (O(n^1.5) in all), in BLAS products grouped by cell
    (:func:`_search_groups`).
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
    near = _search_groups(x, centres, min(KNN_PROBE, cells))[0]
    idx, dist = _search_groups(x, x, k, probe=near, pts_group=near[:, 0], q_self=np.arange(n))
    return idx, np.sqrt(dist)


def _search_groups(
    q: np.ndarray,
    pts: np.ndarray,
    m: int,
    *,
    probe: np.ndarray | None = None,
    pts_group: np.ndarray | None = None,
    q_self: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``m`` nearest points (indices, squared distances) of each query row, nearest first.

    With ``probe``, query i only sees points whose ``pts_group`` is in ``probe[i]``;
    without, every point. Query i never sees point ``q_self[i]`` (itself, when queries are
    points too). Probing rows that see fewer than ``m`` points are searched against all
    points. See :func:`_search_part` for the work.
    """
    from threadpoolctl import threadpool_limits

    nq = q.shape[0]
    probed = probe is not None
    probe = np.zeros((nq, 1), np.int64) if probe is None else probe
    pts_group = np.zeros(pts.shape[0], np.int64) if pts_group is None else pts_group
    q_self = np.full(nq, -1, np.int64) if q_self is None else q_self
    members = np.argsort(pts_group, kind="stable")
    mptr = np.searchsorted(pts_group[members], np.arange(pts_group.max(initial=0) + 2))
    idx = np.full((nq, m), -1, np.int64)
    dist = np.full((nq, m), np.inf, np.float32)
    pts_sq = np.einsum("ij,ij->i", pts, pts)
    qsq = pts_sq if q is pts else np.einsum("ij,ij->i", q, q)
    work = _SearchWork(q, qsq, q_self, pts, pts_sq, members, mptr, probe, idx, dist)
    threads = min(os.cpu_count() or 1, SEARCH_THREADS)
    # one BLAS thread per search thread: numba and BLAS threads competing for the
    # cores made small products 5x slower
    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(threads) as pool:
        list(pool.map(functools.partial(_search_part, work, threads), range(threads)))
    short = np.flatnonzero(~np.isfinite(dist[:, -1]))  # probed groups held under m points
    if probed and short.size:
        idx[short], dist[short] = _search_groups(q[short], pts, m, q_self=q_self[short])
    return idx, dist


class _SearchWork(NamedTuple):
    q: np.ndarray
    q_sq: np.ndarray
    q_self: np.ndarray
    pts: np.ndarray
    pts_sq: np.ndarray
    members: np.ndarray  # point indices sorted by group
    mptr: np.ndarray  # members[mptr[g]:mptr[g + 1]] are group g's points
    probe: np.ndarray
    idx: np.ndarray  # output, filled in place
    dist: np.ndarray


def _search_part(work: _SearchWork, parts: int, part: int) -> None:
    """Search for queries ``part``, ``part + parts``, ...: a thread owns its output rows.

    Work is grouped by point group: every query of the part probing a group meets its
    points in one BLAS product, which :func:`kernels.select_nearest` folds into the
    running lists (a distance matrix plus argpartition took 5x as long).
    """
    from faceorganizer.core.grouping import kernels

    width = work.probe.shape[1]
    own = np.arange(part, work.q.shape[0], parts)
    flat = work.probe[own].ravel()
    order = np.argsort(flat, kind="stable")
    rows = own[order // width]  # (query, probe) slots sorted by group
    sptr = np.searchsorted(flat[order], np.arange(work.mptr.size))
    for g in np.flatnonzero(np.diff(work.mptr) * np.diff(sptr)):
        for start in range(work.mptr[g], work.mptr[g + 1], BLOCK_POINTS):
            mem = work.members[start : min(start + BLOCK_POINTS, work.mptr[g + 1])]
            pts, pts_sq = work.pts[mem], work.pts_sq[mem]
            step = max(1, 2**21 // mem.size)  # blocks of ~8 MB products
            for lo in range(sptr[g], sptr[g + 1], step):
                r = rows[lo : min(lo + step, sptr[g + 1])]
                dots = work.q[r] @ pts.T
                q_self = work.q_self[r]
                kernels.select_nearest(
                    dots, work.q_sq[r], pts_sq, mem, q_self, r, work.idx, work.dist
                )


def _kmeans(x: np.ndarray, cells: int, rng: np.random.Generator) -> np.ndarray:
    """Up to ``cells`` centres from a few Lloyd rounds (cells only need to be roughly right)."""
    centres = x[rng.choice(x.shape[0], min(cells, x.shape[0]), replace=False)]
    for _ in range(KMEANS_ROUNDS):
        assign = _search_groups(x, centres, 1)[0][:, 0]
        counts = np.bincount(assign, minlength=centres.shape[0])
        sums = _group_sums(assign, x, centres.shape[0])
        filled = counts > 0  # an empty cell keeps its centre
        centres[filled] = sums[filled] / counts[filled, None]
    return centres


def _group_sums(group: np.ndarray, values: np.ndarray, groups: int) -> np.ndarray:
    """Sum of ``values`` rows per group, as one sparse product (np.add.at is ~20x slower)."""
    member = sparse.csr_matrix(
        (np.ones(group.shape[0], values.dtype), (group, np.arange(group.shape[0]))),
        shape=(groups, group.shape[0]),
    )
    return member @ values


def knn_update(
    idx: np.ndarray, dist: np.ndarray, embeddings: np.ndarray, new_count: int
) -> tuple[np.ndarray, np.ndarray]:
    """Extend a :func:`knn` result after ``new_count`` faces were appended to ``embeddings``.

    ``idx``/``dist`` cover the first ``n - new_count`` faces. The new faces get exact lists
    over everybody, and old faces adopt a new face when it beats their current list (exact
    too, as far as the old lists were). Two BLAS searches of new x n distances, so a
    thousand new faces in a 100k library take about half a second, not a full rebuild.
    """
    x = _as_embeddings(embeddings)
    n = x.shape[0]
    old = n - new_count
    k = idx.shape[1]
    if new_count <= 0:
        return idx, dist
    if k == 0 or k >= old - 1:  # the old lists held every face: they may have been cut short
        return knn(x, k=max(k, NEIGHBORS))
    new_idx, new_sq = _search_groups(x[old:], x, k, q_self=np.arange(old, n))
    # old faces: their nearest new faces compete with their current lists
    rev_idx, rev_sq = _search_groups(x[:old], x[old:], min(k, new_count))
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


# ---------------------------------------------------------------- constraints


@dataclass
class _Prepared:
    """Constraints turned into flat arrays the clustering kernels can use."""

    anchor: np.ndarray  # anchor id per face, -1 free
    anchor_label: np.ndarray  # label every anchored face is pinned to, -1 free
    photo_of: np.ndarray  # dense photo group per face
    photo_ptr: np.ndarray  # CSR over photo groups -> faces
    photo_faces: np.ndarray
    forbid_ptr: np.ndarray  # CSR over faces -> labels they may not take
    forbid_labels: np.ndarray


def _prepare(n: int, constraints: Constraints | None) -> _Prepared:
    c = constraints or Constraints()
    anchor = _per_face(c.anchor, n, "anchor", default=-1)
    photo = _per_face(c.photo, n, "photo", default=None)
    # every anchor is pinned to the label of its lowest face index: unique per anchor and
    # never the starting label of a free face
    anchor_label = np.full(n, -1, np.int64)
    pinned = np.flatnonzero(anchor >= 0)
    ids, first, inverse = np.unique(anchor[pinned], return_index=True, return_inverse=True)
    anchor_label[pinned] = pinned[first][inverse.ravel()]
    label_of_anchor = dict(zip(ids.tolist(), pinned[first].tolist(), strict=True))

    _, photo_of = np.unique(photo, return_inverse=True)
    order = np.argsort(photo_of, kind="stable")
    photo_ptr = np.searchsorted(photo_of[order], np.arange(photo_of.max(initial=-1) + 2))

    if any(not 0 <= int(f) < n for f, _ in c.forbidden):
        raise ValueError("constraints.forbidden names a face index out of range")
    # a forbidden anchor with no anchored face holds no cluster, so it constrains nothing
    pairs = sorted(
        (int(f), label_of_anchor[int(a)]) for f, a in c.forbidden if int(a) in label_of_anchor
    )
    faces = np.array([f for f, _ in pairs], np.int64)
    return _Prepared(
        anchor=anchor,
        anchor_label=anchor_label,
        photo_of=photo_of.astype(np.int64),
        photo_ptr=photo_ptr.astype(np.int64),
        photo_faces=order.astype(np.int64),
        forbid_ptr=np.searchsorted(faces, np.arange(n + 1)).astype(np.int64),
        forbid_labels=np.array([lab for _, lab in pairs], np.int64),
    )


def _per_face(values: np.ndarray | None, n: int, name: str, default: int | None) -> np.ndarray:
    """One int per face; a missing array means 'all default' (None: every face distinct)."""
    if values is None:
        return np.arange(n, dtype=np.int64) if default is None else np.full(n, default, np.int64)
    arr = np.asarray(values, dtype=np.int64)
    if arr.shape != (n,):
        raise ValueError(f"constraints.{name} must have one entry per face ({n})")
    return arr


# ---------------------------------------------------------------- Chinese whispers


def _similarity_weights(dist: np.ndarray, threshold: float) -> np.ndarray:
    """Edge weight from distance: 1 for identical faces, falling linearly to 0 at threshold."""
    return np.clip(1.0 - dist / threshold, 0.0, 1.0) + 1e-3


def chinese_whispers(
    graph: sparse.csr_matrix,
    threshold: float,
    prep: _Prepared,
    seed: int = 0,
    max_iterations: int = MAX_ITERATIONS,
    anchor_pull: float = ANCHOR_PULL,
) -> np.ndarray:
    """Weighted Chinese whispers with a seeded node order per sweep.

    Links to anchored faces weigh ``anchor_pull`` times more, so that user-confirmed faces
    recruit their look-alikes before a free cluster settles on a label of its own.
    """
    n = graph.shape[0]
    labels = np.where(prep.anchor_label >= 0, prep.anchor_label, np.arange(n)).astype(np.int64)
    pinned = prep.anchor_label >= 0
    indptr, indices = graph.indptr.astype(np.int64), graph.indices.astype(np.int64)
    weights = _similarity_weights(graph.data, threshold)
    weights *= np.where(pinned[indices], anchor_pull, 1.0)
    active = np.ones(n, bool)
    degree = int(np.diff(graph.indptr).max(initial=0))
    scratch = (np.empty(degree + 1, np.int64), np.empty(degree + 1, np.float64))
    arrays = (prep.photo_of, prep.photo_ptr, prep.photo_faces, prep.forbid_ptr, prep.forbid_labels)
    from faceorganizer.core.grouping.kernels import whispers_sweep as sweep

    rng = np.random.default_rng(seed)
    for _ in range(max_iterations):
        order = rng.permutation(n)
        changed = sweep(order, indptr, indices, weights, labels, pinned, active, arrays, *scratch)
        if changed == 0:
            break
    return labels


# ---------------------------------------------------------------- DBSCAN


def dbscan(graph: sparse.csr_matrix, min_samples: int = DBSCAN_MIN_SAMPLES) -> np.ndarray:
    """DBSCAN on the radius graph: cores joined when linked, borders to their nearest core.

    A face is core when it has at least ``min_samples`` faces (itself included) within the
    threshold. Same result as sklearn's DBSCAN on the same sparse graph, except that a
    border face reachable from two clusters goes to the nearest core, not the first found.
    """
    n = graph.shape[0]
    core = np.diff(graph.indptr) + 1 >= min_samples
    core_graph = graph[core][:, core]
    _, core_comp = connected_components(core_graph, directed=False)
    labels = np.full(n, -1, np.int64)
    labels[core] = core_comp
    coo = graph.tocoo()
    # border faces: nearest core neighbour
    to_core = ~core[coo.row] & core[coo.col]
    r, c, d = coo.row[to_core], coo.col[to_core], coo.data[to_core]
    order = np.lexsort((c, d, r))  # by face, then distance, then neighbour index
    r, c = r[order], c[order]
    first = np.r_[True, r[1:] != r[:-1]] if r.size else np.zeros(0, bool)
    labels[r[first]] = labels[c[first]]
    return labels


def _repair(labels: np.ndarray, x: np.ndarray, prep: _Prepared) -> np.ndarray:
    """Make any labelling obey the constraints; faces that must leave become noise (-1).

    Anchors override: every anchored face joins its anchor's cluster, a cluster that held
    one anchor follows it, and free faces of a cluster that held several go to the nearest
    anchor (by centroid). Then forbidden faces and second faces of one photo are split off,
    keeping anchored faces and the face closest to the cluster centroid.
    """
    labels = _follow_anchors(labels, x, prep)
    faces = np.repeat(np.arange(labels.shape[0]), np.diff(prep.forbid_ptr))
    broken = faces[labels[faces] == prep.forbid_labels]
    labels[broken[prep.anchor[broken] < 0]] = -1
    return _split_photo_conflicts(labels, x, prep)


def _follow_anchors(labels: np.ndarray, x: np.ndarray, prep: _Prepared) -> np.ndarray:
    """Relabel clusters around anchors (anchor labels are face indices, so shift others)."""
    n = labels.shape[0]
    pinned = prep.anchor_label >= 0
    free_label = np.where(labels >= 0, labels + n, -1)  # never collides with anchor labels
    result = np.where(pinned, prep.anchor_label, free_label)
    for c in np.unique(labels[pinned & (labels >= 0)]):
        members = labels == c
        held = np.unique(prep.anchor_label[members & pinned])
        free = np.flatnonzero(members & ~pinned)
        if held.size == 1:
            result[free] = held[0]
            continue
        centroids = np.stack([x[prep.anchor_label == a].mean(axis=0) for a in held])
        dist = np.linalg.norm(x[free][:, None, :] - centroids[None], axis=2)
        result[free] = held[np.argmin(dist, axis=1)]
    return result


def _split_photo_conflicts(labels: np.ndarray, x: np.ndarray, prep: _Prepared) -> np.ndarray:
    """Keep one face per (cluster, photo); anchored faces are always kept."""
    faces = np.flatnonzero(labels >= 0)
    if faces.size == 0:
        return labels
    _, cid = np.unique(labels[faces], return_inverse=True)
    key = np.stack([cid.ravel(), prep.photo_of[faces]], axis=1)
    _, group, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    group = group.ravel()
    if (counts <= 1).all():
        return labels
    sums = np.zeros((int(cid.max()) + 1, x.shape[1]))
    np.add.at(sums, cid.ravel(), x[faces])
    centroid = sums / np.bincount(cid.ravel())[:, None]
    dist = np.linalg.norm(x[faces] - centroid[cid.ravel()], axis=1)
    # anchored faces first, then nearest to the centroid: the first of each group stays
    rank = np.lexsort((dist, prep.anchor[faces] < 0, group))
    sorted_group = group[rank]
    first = np.r_[True, sorted_group[1:] != sorted_group[:-1]]
    leave = rank[~first & (prep.anchor[faces[rank]] < 0)]
    labels[faces[leave]] = -1
    return labels


# ---------------------------------------------------------------- merge refinement


def merge_clusters(
    labels: np.ndarray,
    idx: np.ndarray,
    dist: np.ndarray,
    x: np.ndarray,
    threshold: float,
    prep: _Prepared,
    linkage: str = "edges",
) -> np.ndarray:
    """Greedily merge kNN-adjacent clusters whose linkage distance is below ``threshold``.

    linkage "edges": mean length of the kNN links between the two clusters (average
    linkage restricted to the sparse graph); "centroid": distance between the centroids of
    clusters joined by at least one kNN link. Closest pair first; a merge that would break
    a constraint (a shared photo, two anchors, a forbidden (face, anchor) pair) is skipped
    for good, as merging only ever adds constraints. ``labels`` must already obey them.
    Cost O(n k log) plus the merges; nothing n x n.
    """
    n = labels.shape[0]
    if n == 0 or idx.size == 0:
        return labels
    _, lab = np.unique(labels, return_inverse=True)
    lab = lab.ravel()
    n_clusters = int(lab.max()) + 1
    # undirected kNN links, each once, between different clusters
    i = np.repeat(np.arange(n), idx.shape[1])
    j = idx.ravel()
    cross = lab[i] != lab[j]  # dropped before the sort: most links stay inside a cluster
    i, j, d = i[cross], j[cross], dist.ravel()[cross]
    if i.size == 0:
        return labels
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    link, first = np.unique(lo * n + hi, return_index=True)
    lo, hi, d = link // n, link % n, d[first].astype(np.float64)
    ca, cb = np.minimum(lab[lo], lab[hi]), np.maximum(lab[lo], lab[hi])
    pair, inverse = np.unique(ca * n_clusters + cb, return_inverse=True)
    inverse = inverse.ravel()
    pa, pb = pair // n_clusters, pair % n_clusters
    psum = np.bincount(inverse, d)
    pcnt = np.bincount(inverse).astype(np.float64)

    # cluster-level adjacency (CSR, both directions), materialised into dicts on demand
    src, dst = np.r_[pa, pb], np.r_[pb, pa]
    order = np.argsort(src, kind="stable")
    ptr = np.searchsorted(src[order], np.arange(n_clusters + 1))
    nbr, nsum, ncnt = dst[order], np.r_[psum, psum][order], np.r_[pcnt, pcnt][order]
    adj: dict[int, dict[int, list[float]]] = {}

    def neighbours(c: int) -> dict[int, list[float]]:
        if c not in adj:
            s = slice(ptr[c], ptr[c + 1])
            adj[c] = {
                int(v): [a, b]
                for v, a, b in zip(nbr[s].tolist(), nsum[s].tolist(), ncnt[s].tolist(), strict=True)
            }
        return adj[c]

    size = np.bincount(lab, minlength=n_clusters).astype(np.float64)
    if linkage not in LINKAGES:
        raise ValueError(f"unknown linkage {linkage!r}; choose from {LINKAGES}")
    centroid = spread = None
    if linkage != "edges":
        # float32 sums (a float64 copy of the faces is 1 GB at a million), float64 after
        centroid = _group_sums(lab, x, n_clusters).astype(np.float64) / size[:, None]
        # mean squared distance of members to their centroid (0 for "centroid" linkage)
        spread = np.zeros(n_clusters)
        if linkage == "rms":
            norms = np.einsum("ij,ij->i", x, x, dtype=np.float64)
            spread = _group_sums(lab, norms, n_clusters)
            spread = np.maximum(spread / size - (centroid * centroid).sum(axis=1), 0.0)

    def linkage_to(a: int, vs: np.ndarray, stats: dict[int, list[float]]) -> np.ndarray:
        """Linkage distances from cluster ``a`` to clusters ``vs`` (its adjacency stats)."""
        if centroid is None:
            sc = np.array([stats[v] for v in vs.tolist()]).reshape(-1, 2)
            return sc[:, 0] / sc[:, 1]
        return _centroid_linkage(centroid, spread, vs, np.full(vs.size, a))

    first_d = psum / pcnt if centroid is None else _centroid_linkage(centroid, spread, pa, pb)
    close = np.flatnonzero(first_d < threshold)
    if close.size == 0:
        return labels

    # constraint state per cluster, built lazily: photos, anchor label, forbidden anchors
    members_order = np.argsort(lab, kind="stable")
    members_ptr = np.searchsorted(lab[members_order], np.arange(n_clusters + 1))
    photos: dict[int, set[int]] = {}
    anchor_of = np.full(n_clusters, -1, np.int64)
    pinned = prep.anchor_label >= 0
    anchor_of[lab[pinned]] = prep.anchor_label[pinned]
    forbid: dict[int, set[int]] = {}
    forbid_faces = np.repeat(np.arange(n), np.diff(prep.forbid_ptr))
    for f, a in zip(forbid_faces.tolist(), prep.forbid_labels.tolist(), strict=True):
        if not pinned[f]:
            forbid.setdefault(int(lab[f]), set()).add(a)

    def photo_set(c: int) -> set[int]:
        if c not in photos:
            faces = members_order[members_ptr[c] : members_ptr[c + 1]]
            photos[c] = set(prep.photo_of[faces].tolist())
        return photos[c]

    def allowed(a: int, b: int) -> bool:
        xa, xb = int(anchor_of[a]), int(anchor_of[b])
        if xa >= 0 and xb >= 0 and xa != xb:
            return False
        if xb >= 0 and xb in forbid.get(a, ()) or xa >= 0 and xa in forbid.get(b, ()):
            return False
        pa_, pb_ = photo_set(a), photo_set(b)
        small, big = (pa_, pb_) if len(pa_) < len(pb_) else (pb_, pa_)
        return small.isdisjoint(big)

    version = np.zeros(n_clusters, np.int64)
    parent = np.arange(n_clusters)
    heap = [(float(first_d[p]), int(pa[p]), int(pb[p]), 0, 0) for p in close.tolist()]
    heapq.heapify(heap)
    while heap:
        dab, a, b, va, vb = heapq.heappop(heap)
        if va != version[a] or vb != version[b] or parent[a] != a or parent[b] != b:
            continue  # stale: one side merged since
        if not allowed(a, b):
            continue
        na, nb = neighbours(a), neighbours(b)
        if len(na) < len(nb):  # merge the smaller adjacency into the larger
            a, b, na, nb = b, a, nb, na
        parent[b] = a
        version[a] += 1
        del na[b]
        for v, (s_, c_) in nb.items():
            if v == a:
                continue
            nv = neighbours(v)
            del nv[b]
            stats = na.setdefault(v, [0.0, 0.0])
            stats[0] += s_
            stats[1] += c_
            nv[a] = stats  # shared: both directions see later updates
        del adj[b]
        if centroid is not None:
            wa, wb = size[a] / (size[a] + size[b]), size[b] / (size[a] + size[b])
            gap = centroid[a] - centroid[b]
            spread[a] = wa * spread[a] + wb * spread[b] + wa * wb * (gap @ gap)
            centroid[a] = wa * centroid[a] + wb * centroid[b]
        size[a] += size[b]
        photo_set(a).update(photo_set(b))
        anchor_of[a] = max(anchor_of[a], anchor_of[b])
        if b in forbid:
            forbid.setdefault(a, set()).update(forbid.pop(b))
        vs = np.fromiter(na.keys(), np.int64, len(na))
        dvs = linkage_to(a, vs, na)
        for v, dv in zip(vs[dvs < threshold].tolist(), dvs[dvs < threshold].tolist(), strict=True):
            lo_, hi_ = (a, v) if a < v else (v, a)
            heapq.heappush(heap, (dv, lo_, hi_, int(version[lo_]), int(version[hi_])))
    # resolve the union-find (parents always point to live roots after path walk)
    root = parent.copy()
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    return root[lab]


def _centroid_linkage(
    centroid: np.ndarray, spread: np.ndarray, a: np.ndarray, b: np.ndarray, chunk: int = 2**16
) -> np.ndarray:
    """sqrt(|centroid gap|^2 + both spreads) per cluster pair, in chunks: a million pairs of
    128-D gaps at once would take a gigabyte."""
    out = np.empty(a.size)
    for lo in range(0, a.size, chunk):
        i, j = a[lo : lo + chunk], b[lo : lo + chunk]
        gap = centroid[i] - centroid[j]
        out[lo : lo + chunk] = np.sqrt((gap * gap).sum(axis=1) + spread[i] + spread[j])
    return out


# ---------------------------------------------------------------- public API


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Labels 0..k-1 by descending size, ties by lowest face index; noise stays -1."""
    out = np.full(labels.shape[0], -1, np.int64)
    clustered = labels >= 0
    if not clustered.any():
        return out
    uniq, first, inverse, counts = np.unique(
        labels[clustered], return_index=True, return_inverse=True, return_counts=True
    )
    first_face = np.flatnonzero(clustered)[first]
    rank = np.empty(uniq.size, np.int64)
    rank[np.lexsort((first_face, -counts))] = np.arange(uniq.size)
    out[clustered] = rank[inverse.ravel()]
    return out


def cluster(
    embeddings: np.ndarray,
    algorithm: str = "chinese-whispers",
    threshold: float | None = None,
    constraints: Constraints | None = None,
    seed: int = 0,
    *,
    neighbors: tuple[np.ndarray, np.ndarray] | None = None,
    previous: np.ndarray | None = None,
) -> np.ndarray:
    """Cluster label per face (0 = largest cluster); -1 only for DBSCAN noise.

    ``threshold`` defaults to DEFAULT_THRESHOLD[algorithm]; ``neighbors`` is an optional
    cached ``knn(embeddings)`` result. The same inputs and seed give the same labels.
    ``previous``: labels of the first faces from an earlier call with the same settings,
    the rest being new (see :func:`knn_update`); only the region the new faces reach is
    re-clustered (:func:`_touched_region`), the other faces keep their cluster.
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}; choose from {tuple(ALGORITHMS)}")
    x = _as_embeddings(embeddings)
    prep = _prepare(x.shape[0], constraints)
    if x.shape[0] == 0:
        return np.empty(0, np.int64)
    t = DEFAULT_THRESHOLD[algorithm] if threshold is None else float(threshold)
    idx, dist = knn(x, seed=seed) if neighbors is None else neighbors
    if previous is None:
        return _run(x, idx, dist, algorithm, t, prep, seed)
    region = _touched_region(idx, dist, np.asarray(previous, np.int64), t, prep)
    sub = np.flatnonzero(region)
    local = np.full(x.shape[0], -1, np.int64)
    local[sub] = np.arange(sub.size)
    # links leaving the region become self-links of infinite length, which both steps drop
    sub_idx = np.where(region[idx[sub]], local[idx[sub]], np.arange(sub.size)[:, None])
    sub_dist = np.where(region[idx[sub]], dist[sub], np.inf).astype(np.float32)
    sub_prep = _prepare(sub.size, _restrict(constraints, sub, x.shape[0]))
    labels = np.r_[previous, np.full(x.shape[0] - len(previous), -1)].astype(np.int64)
    fresh = _run(x[sub], sub_idx, sub_dist, algorithm, t, sub_prep, seed)
    labels[sub] = np.where(fresh >= 0, fresh + labels.max(initial=-1) + 1, -1)
    return _renumber(labels)


def _touched_region(
    idx: np.ndarray, dist: np.ndarray, previous: np.ndarray, threshold: float, prep: _Prepared
) -> np.ndarray:
    """Faces whose cluster new faces may change: a mask over all faces.

    Starts from the new faces and the old faces whose kNN list took one in, and closes over
    links shorter than ``threshold`` (the only ones clustering joins faces by), previous
    clusters and anchors, so no cluster or anchor is cut. Cluster merges across the
    border through a longer kNN link are the one thing this leaves out.
    """
    n, old = idx.shape[0], previous.shape[0]
    start = np.r_[(idx[:old] >= old).any(axis=1), np.ones(n - old, bool)]
    rows = np.repeat(np.arange(n), idx.shape[1])
    short = dist.ravel() < threshold
    labels = np.r_[previous, np.full(n - old, -1)]
    clustered = np.flatnonzero(labels >= 0)
    anchored = np.flatnonzero(prep.anchor_label >= 0)
    hub = n + labels.max(initial=-1) + 1  # node ids past the faces: one per cluster, anchor
    a = np.r_[rows[short], clustered, anchored]
    b = np.r_[idx.ravel()[short], n + labels[clustered], hub + prep.anchor_label[anchored]]
    size = hub + n
    graph = sparse.coo_matrix((np.ones(a.size, np.int8), (a, b)), shape=(size, size))
    _, comp = connected_components(graph, directed=False)
    return np.isin(comp[:n], comp[:n][start])


def _restrict(constraints: Constraints | None, faces: np.ndarray, n: int) -> Constraints:
    """The constraints among ``faces`` only, renumbered to their positions."""
    c = constraints or Constraints()
    local = np.full(n, -1, np.int64)
    local[faces] = np.arange(faces.size)
    return Constraints(
        photo=None if c.photo is None else np.asarray(c.photo)[faces],
        anchor=None if c.anchor is None else np.asarray(c.anchor)[faces],
        forbidden=[(int(local[f]), a) for f, a in c.forbidden if local[f] >= 0],
    )


def whispers_threshold(threshold: float) -> float:
    """Link threshold Chinese whispers runs at, for a user-facing (merge) ``threshold``."""
    return max(threshold - MERGE_GAP, threshold / 2)


def _run(
    x, idx, dist, algorithm: str, threshold: float, prep: _Prepared, seed: int, merge: bool = True
) -> np.ndarray:
    """One clustering over a precomputed kNN list (shared by threshold searches).

    Chinese whispers runs at :func:`whispers_threshold`, then (``merge``) clusters closer
    than ``threshold`` in average linkage are merged; without ``merge`` it runs at
    ``threshold`` itself, as before the merge step existed.
    """
    if algorithm == "chinese-whispers":
        cw_t = whispers_threshold(threshold) if merge else threshold
        labels = chinese_whispers(neighbor_graph(idx, dist, cw_t), cw_t, prep, seed=seed)
        if merge:
            labels = merge_clusters(labels, idx, dist, x, threshold, prep, MERGE_LINKAGE)
    else:
        labels = _repair(dbscan(neighbor_graph(idx, dist, threshold)), x, prep)
    return _renumber(labels)


# ---------------------------------------------------------------- threshold, suggestions

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
    x = _as_embeddings(embeddings)
    if x.shape[0] < 3:
        return DEFAULT_THRESHOLD["chinese-whispers"]
    idx, dist = knn(x) if neighbors is None else neighbors
    prep = _prepare(x.shape[0], None)
    lo, hi = AUTO_RANGE
    grid = np.round(np.arange(lo, hi + 1e-9, 0.01), 2)
    scores = [
        _knn_silhouette(_run(x, idx, dist, "chinese-whispers", t, prep, 0), idx, dist) for t in grid
    ]
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


def suggest(
    embeddings: np.ndarray, labels: np.ndarray, face_indices: Sequence[int], k: int = 3
) -> list[list[tuple[int, float]]]:
    """For each face, the ``k`` clusters it most likely belongs to, best first.

    A cluster's distance is that of its nearest member (the face itself excluded), which
    is how Chinese whispers joins faces too. Score = 1 - d / (2 * default threshold),
    clipped to [0, 1]: above 0.5 means "close enough to have been clustered together".
    Noise (-1) is no cluster; the face's current cluster is included.
    """
    x = _as_embeddings(embeddings)
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
