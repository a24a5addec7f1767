"""Group face embeddings into persons: :func:`cluster`, Chinese whispers or DBSCAN.

Both algorithms see the same sparse graph (:mod:`knn`): each face linked to its ``k``
nearest neighbours, keeping only links shorter than ``threshold`` (euclidean distance
between face embeddings; SFace's by default) and, of the longer ones among them, only
links between faces that are among each other's few nearest (:func:`mutual_links`,
which keeps babies of different families apart). User edits arrive as :class:`Constraints`
and always hold in the output (:mod:`constraints`).

Chinese whispers (:mod:`whispers`) honours them while propagating, and runs MERGE_GAP
below ``threshold``; the merge refinement (:mod:`merge`) then joins clusters whose
average-linkage distance is below ``threshold`` itself. DBSCAN (:mod:`dbscan`) clusters
first and then repairs. After either, faces of clusters of one or two join the larger
cluster they clearly belong to, then such small groups, and groups of turned faces, join
whole by average linkage (:mod:`attach`), and clusters still smaller than ``min_faces``
come out as -1: faces that joined no one (the app's Unsorted bin).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from faceorganizer.config import ALGORITHMS, DEFAULT_THRESHOLD, MIN_PERSON_FACES
from faceorganizer.core.grouping.arrays import as_embeddings
from faceorganizer.core.grouping.attach import attach_groups, attach_small, unsorted
from faceorganizer.core.grouping.constraints import (
    Constraints,
    PreparedConstraints,
    prepare_constraints,
    restrict_constraints,
)
from faceorganizer.core.grouping.dbscan import dbscan, repair
from faceorganizer.core.grouping.knn import knn, mutual_links, neighbor_graph
from faceorganizer.core.grouping.merge import MERGE_BAND, merge_clusters
from faceorganizer.core.grouping.whispers import chinese_whispers

# Chinese whispers links faces closer than threshold - MERGE_GAP. 0.05 before grouping
# version 3; with mutual_links pruning the long links, 0.04 joins more of one person's
# photos: faces-dev e2e BCubed F 0.978 -> 0.989 (Madonna's 3 + 3 photos join), fiw-dev
# 0.865 -> 0.866 at the same pairwise precision 0.941, lfw-dev and cfp-dev the same
# (0.0375 gave fiw-dev precision 0.939, 0.045 left faces-dev at 0.978).
MERGE_GAP = 0.04
MERGE_GAP_V2 = 0.05
# mutual_links: how near two faces must rank for a long link to count, per algorithm
MUTUAL_RANK = {"chinese-whispers": 3, "dbscan": 4}
# context_region: kNN links taken beyond the faces a split's faces can join
WITNESS_RINGS = 2


@dataclass(frozen=True)
class Rules:
    """The steps a grouping runs around its algorithm, declared once: :func:`cluster`
    takes them whole and each grouping version is one (library.people); the defaults are
    today's grouping. ``Rules(attach=False, groups=False, min_faces=1)`` is the grouping
    before all three existed; ``mutual=False, merge_gap=MERGE_GAP_V2, merge_band=0`` the
    grouping before these (version 2)."""

    attach: bool = True  # faces of clusters of one or two join a larger one (attach_small)
    groups: bool = True  # then small groups, and groups of turned faces, whole (attach_groups)
    min_faces: int = MIN_PERSON_FACES  # smaller clusters, anchored ones excepted, become -1
    mutual: bool = True  # long links count only between mutual near neighbours (mutual_links)
    merge_gap: float = MERGE_GAP  # Chinese whispers links this far below the threshold
    merge_band: float = MERGE_BAND  # merges this close below it must be unambiguous
    wide: bool = True  # groups of turned faces join judged by turned_vectors (version 5)


def renumber(labels: np.ndarray) -> np.ndarray:
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
    rules: Rules = Rules(),
    turned: np.ndarray | None = None,
    turned_vectors: np.ndarray | None = None,
    within: tuple[np.ndarray, int] | None = None,
) -> np.ndarray:
    """Cluster label per face (0 = largest cluster); -1 for a face that joined no one.

    ``threshold`` defaults to DEFAULT_THRESHOLD[algorithm]; ``neighbors`` is an optional
    cached ``knn(embeddings)`` result. The same inputs and seed give the same labels.
    ``rules``: the steps around the algorithm (:class:`Rules`); ``turned``: a bool per
    face (None: none is), the faces whose small groups join whole more readily
    (:func:`attach_groups`), judged by ``turned_vectors`` when ``rules.wide`` (one row
    per face, None: ``embeddings``; the app passes turned faces' descriptors from a wider
    crop).
    ``previous``: labels of the first faces from an earlier call with the same settings,
    the rest being new (see :func:`knn_update`); only the region the new faces reach is
    re-clustered (:func:`_touched_region`), the other faces keep their cluster.
    ``within`` = (positions, total): these faces are a region cut out of ``total`` faces
    (:func:`context_region`, :func:`restrict_neighbors`), clustered in the order Chinese
    whispers would visit them there.
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}; choose from {tuple(ALGORITHMS)}")
    x = as_embeddings(embeddings)
    prep = prepare_constraints(x.shape[0], constraints)
    if x.shape[0] == 0:
        return np.empty(0, np.int64)
    t = DEFAULT_THRESHOLD[algorithm] if threshold is None else float(threshold)
    idx, dist = knn(x, seed=seed) if neighbors is None else neighbors
    wide = x if turned_vectors is None or not rules.wide else as_embeddings(turned_vectors)
    if previous is None:
        return _run(x, wide, idx, dist, algorithm, t, prep, seed, rules, turned, within)
    region = _touched_region(idx, dist, np.asarray(previous, np.int64), t, prep)
    sub = np.flatnonzero(region)
    sub_idx, sub_dist = restrict_neighbors(idx, dist, region)
    sub_prep = prepare_constraints(sub.size, restrict_constraints(constraints, sub, x.shape[0]))
    labels = np.r_[previous, np.full(x.shape[0] - len(previous), -1)].astype(np.int64)
    sub_turned = None if turned is None else np.asarray(turned, bool)[sub]
    fresh = _run(
        x[sub], wide[sub], sub_idx, sub_dist, algorithm, t, sub_prep, seed, rules, sub_turned
    )
    labels[sub] = np.where(fresh >= 0, fresh + labels.max(initial=-1) + 1, -1)
    return renumber(labels)


def restrict_neighbors(
    idx: np.ndarray, dist: np.ndarray, region: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The kNN lists of the faces in ``region`` (a mask), renumbered to their positions
    among them: links leaving the region become self-links of infinite length, which
    every step drops."""
    sub = np.flatnonzero(region)
    local = np.full(region.shape[0], -1, np.int64)
    local[sub] = np.arange(sub.size)
    inside = region[idx[sub]]
    sub_idx = np.where(inside, local[idx[sub]], np.arange(sub.size)[:, None])
    return sub_idx, np.where(inside, dist[sub], np.inf).astype(np.float32)


def context_region(
    idx: np.ndarray, dist: np.ndarray, start: np.ndarray, groups: np.ndarray, threshold: float
) -> np.ndarray:
    """The faces whose grouping decides how the ``start`` faces (a mask) group: a mask.

    Chinese whispers and the merge join faces by links shorter than ``threshold``, so
    the region closes over those links and over ``groups`` (a group id per face, -1
    none: the people as they are, so that no cluster is cut and anchors come whole).
    The attach steps reach further (threshold + GROUP_REACH) and weigh the next nearest
    cluster, which may lie further still, and what a neighbour attaches changes a
    cluster's linkage: so the faces one kNN link (of any length, either way) from the
    region come too, closed over the same links and groups, WITNESS_RINGS times (one
    ring left a cfp-dev profile out that joins its person by a margin of 0.001).
    Closing over links up to the attach reach instead joined 60 % of a synthetic 10^5
    library into one region; with two rings a person's region there is 0.5-4.5 % of it.
    """
    n = idx.shape[0]
    rows = np.repeat(np.arange(n), idx.shape[1])
    near = dist.ravel() < threshold
    grouped = np.flatnonzero(groups >= 0)
    hubs = n + groups.max(initial=-1) + 1  # node ids past the faces: one per group
    a = np.r_[rows[near], grouped]
    b = np.r_[idx.ravel()[near], n + groups[grouped]]
    graph = sparse.coo_matrix((np.ones(a.size, np.int8), (a, b)), shape=(hubs, hubs))
    comp = connected_components(graph, directed=False)[1][:n]
    region = np.isin(comp, comp[start])
    for _ in range(WITNESS_RINGS):
        linked = region | region[idx].any(axis=1)
        linked[idx[region].ravel()] = True
        region = np.isin(comp, comp[linked])
    return region


def _touched_region(
    idx: np.ndarray,
    dist: np.ndarray,
    previous: np.ndarray,
    threshold: float,
    prep: PreparedConstraints,
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


def whispers_threshold(threshold: float, gap: float = MERGE_GAP) -> float:
    """Link threshold Chinese whispers runs at, for a user-facing (merge) ``threshold``."""
    return max(threshold - gap, threshold / 2)


def _run(
    x: np.ndarray,
    wide: np.ndarray,
    idx: np.ndarray,
    dist: np.ndarray,
    algorithm: str,
    threshold: float,
    prep: PreparedConstraints,
    seed: int,
    rules: Rules,
    turned: np.ndarray | None,
    within: tuple[np.ndarray, int] | None = None,
) -> np.ndarray:
    """One clustering over a precomputed kNN list.

    Chinese whispers runs at :func:`whispers_threshold`, then clusters closer than
    ``threshold`` in average linkage are merged. Then the small clusters' faces attach
    and what is left too small becomes -1 (see :class:`Rules`). ``rules.mutual`` prunes
    the graph both algorithms link faces by; the merge and attach steps read all links.
    ``wide``: the descriptors groups of turned faces join by; ``within``: see :func:`cluster`.
    """
    links = mutual_links(idx, dist, MUTUAL_RANK[algorithm]) if rules.mutual else dist
    if algorithm == "chinese-whispers":
        cw_t = whispers_threshold(threshold, rules.merge_gap)
        graph = neighbor_graph(idx, links, cw_t)
        labels = chinese_whispers(graph, cw_t, prep, seed=seed, within=within)
        labels = merge_clusters(labels, idx, dist, x, threshold, prep, band=rules.merge_band)
    else:
        labels = repair(dbscan(neighbor_graph(idx, links, threshold)), x, prep)
    if rules.attach:
        labels = attach_small(labels, x, threshold, prep)
    if rules.groups:
        labels = attach_groups(labels, x, threshold, prep, turned, wide)
    return renumber(unsorted(labels, prep, rules.min_faces))
