"""DBSCAN over the kNN graph, then a repair that makes its labels obey the constraints.

DBSCAN cannot honour constraints while it runs: anchors override afterwards, and a face
breaking a cannot-link is split off as noise (-1).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from faceorganizer.core.grouping.constraints import PreparedConstraints

DBSCAN_MIN_SAMPLES = 2  # counting the face itself: two photos of someone make a cluster


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


def repair(labels: np.ndarray, x: np.ndarray, prep: PreparedConstraints) -> np.ndarray:
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


def _follow_anchors(labels: np.ndarray, x: np.ndarray, prep: PreparedConstraints) -> np.ndarray:
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


def _split_photo_conflicts(
    labels: np.ndarray, x: np.ndarray, prep: PreparedConstraints
) -> np.ndarray:
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
