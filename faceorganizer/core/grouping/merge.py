"""Merge refinement after Chinese whispers: join clusters that are one person on average.

Chinese whispers links faces closer than ``threshold - MERGE_GAP`` only, which keeps
strangers apart; :func:`merge_clusters` then merges clusters, closest pair first, while
their average-linkage distance (root mean square distance over all cross pairs, computed
from centroids and spreads, never n x n) is below ``threshold``; merges that would break
a constraint are skipped. So for Chinese whispers ``threshold`` reads as "two groups of
photos whose faces are on average closer than this are one person".

With dlib's descriptors pairwise F (seed 0) went from 0.928 / 0.877 (whispers at 0.5) to
0.942 / 0.884 on faces-dev / lfw-dev (whispers 0.475, merge 0.525); mean over seeds 0..9
0.930 / 0.868 -> 0.942 / 0.881. Mean kNN-link ("edges") or centroid linkage chain
strangers on LFW instead (pairwise F 0.45 / 0.01 at merge 0.525); bench/quality.py
--merge-grid --linkage compares them.

In the last MERGE_BAND below ``threshold`` a merge must also be unambiguous: the pair's
distance below MERGE_RATIO times the distance from either side to its next nearest
cluster (Lowe's ratio test, as :mod:`attach` does for faces). Babies of different
families form groups all about as close to each other as two groups of one adult; a
clear pair of one person's groups passes. Measured with the default settings (grouping
version 3, e2e BCubed F and pairwise precision): fiw-dev 0.866 (0.941) -> 0.868 (0.962),
on each half of its families P 0.940 -> 0.970 and 0.951 -> 0.964; cfp-dev 0.800 ->
0.807; faces-dev 0.989 =; lfw-dev 0.989 -> 0.988; the same over seeds 0-4. Ratio 0.96 /
0.98 gave fiw-dev P 0.961 / 0.961, 0.99 0.943; band 0.04 P 0.958, 0.075 B 0.864.

The merge runs in named steps: :func:`_cross_links` sums the kNN links between each pair
of clusters, :class:`_Adjacency`, :class:`_Linkage` and :class:`_ClusterRules` keep the
cluster graph, the linkage distances and the constraints up to date as clusters merge,
and :func:`_merge_closest` is the loop. Cost O(n k log) plus the merges.
"""

from __future__ import annotations

import heapq
from typing import NamedTuple

import numpy as np

from faceorganizer.core.grouping.arrays import group_stats, rms_linkage
from faceorganizer.core.grouping.constraints import PreparedConstraints

LINKAGES = ("edges", "centroid", "rms")  # how far apart two clusters are
MERGE_LINKAGE = "rms"  # the app's; "edges" and "centroid" chain strangers on LFW
MERGE_BAND = 0.05  # merges this close below the threshold must pass the ratio test
MERGE_RATIO = 0.97  # ... their distance below this times either side's next nearest


def merge_clusters(
    labels: np.ndarray,
    idx: np.ndarray,
    dist: np.ndarray,
    x: np.ndarray,
    threshold: float,
    prep: PreparedConstraints,
    linkage: str = MERGE_LINKAGE,
    band: float = MERGE_BAND,
) -> np.ndarray:
    """Greedily merge kNN-adjacent clusters whose linkage distance is below ``threshold``.

    linkage "rms": root mean square distance over all cross pairs; "edges": mean length
    of the kNN links between the two clusters (average linkage restricted to the sparse
    graph); "centroid": distance between the centroids. Only clusters joined by at least
    one kNN link are compared. Closest pair first; a merge that would break a constraint
    (a shared photo, two anchors, a forbidden (face, anchor) pair) is skipped for good, as
    merging only ever adds constraints. ``labels`` must already obey them. A merge within
    ``band`` below ``threshold`` waits for the ratio test (module docstring); ``band=0``
    is the merge before grouping version 3.
    """
    if linkage not in LINKAGES:
        raise ValueError(f"unknown linkage {linkage!r}; choose from {LINKAGES}")
    n = labels.shape[0]
    if n == 0 or idx.size == 0:
        return labels
    _, lab = np.unique(labels, return_inverse=True)
    lab = lab.ravel()
    n_clusters = int(lab.max()) + 1
    links = _cross_links(lab, idx, dist, n_clusters)
    if links is None:
        return labels
    distances = _Linkage(linkage, lab, x, n_clusters)
    first = distances.of_pairs(links)
    close = np.flatnonzero(first < threshold)
    if close.size == 0:
        return labels
    heap = [(float(first[p]), int(links.a[p]), int(links.b[p]), 0, 0) for p in close.tolist()]
    adjacency = _Adjacency(links, n_clusters)
    rules = _ClusterRules(lab, prep, n_clusters)
    parent = _merge_closest(heap, adjacency, distances, rules, threshold - band, threshold)
    return _roots(parent)[lab]


class _CrossLinks(NamedTuple):
    """Cluster pairs a < b joined by kNN links, with the links' total length and count."""

    a: np.ndarray
    b: np.ndarray
    total: np.ndarray
    count: np.ndarray


def _cross_links(
    lab: np.ndarray, idx: np.ndarray, dist: np.ndarray, n_clusters: int
) -> _CrossLinks | None:
    """Undirected kNN links between different clusters, each once, summed per cluster pair.

    None when every link stays inside a cluster.
    """
    n = lab.shape[0]
    i = np.repeat(np.arange(n), idx.shape[1])
    j = idx.ravel()
    cross = lab[i] != lab[j]  # dropped before the sort: most links stay inside a cluster
    i, j, d = i[cross], j[cross], dist.ravel()[cross]
    if i.size == 0:
        return None
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    link, first = np.unique(lo * n + hi, return_index=True)
    lo, hi, d = link // n, link % n, d[first].astype(np.float64)
    ca, cb = np.minimum(lab[lo], lab[hi]), np.maximum(lab[lo], lab[hi])
    pair, inverse = np.unique(ca * n_clusters + cb, return_inverse=True)
    inverse = inverse.ravel()
    return _CrossLinks(
        pair // n_clusters,
        pair % n_clusters,
        np.bincount(inverse, d),
        np.bincount(inverse).astype(np.float64),
    )


class _Adjacency:
    """Cluster-level kNN graph: neighbour -> [total length, count] of the links between.

    Starts as CSR arrays (both directions) and becomes a dict per cluster on first use.
    """

    def __init__(self, links: _CrossLinks, n_clusters: int) -> None:
        src, dst = np.r_[links.a, links.b], np.r_[links.b, links.a]
        order = np.argsort(src, kind="stable")
        self._ptr = np.searchsorted(src[order], np.arange(n_clusters + 1))
        self._nbr = dst[order]
        self._total = np.r_[links.total, links.total][order]
        self._count = np.r_[links.count, links.count][order]
        self._adj: dict[int, dict[int, list[float]]] = {}

    def of(self, c: int) -> dict[int, list[float]]:
        if c not in self._adj:
            s = slice(self._ptr[c], self._ptr[c + 1])
            self._adj[c] = {
                int(v): [t, k]
                for v, t, k in zip(
                    self._nbr[s].tolist(),
                    self._total[s].tolist(),
                    self._count[s].tolist(),
                    strict=True,
                )
            }
        return self._adj[c]

    def merge(self, a: int, b: int) -> dict[int, list[float]]:
        """Fold ``b``'s links into ``a``'s (``a`` should have more); ``a``'s neighbours."""
        na, nb = self.of(a), self.of(b)
        del na[b]
        for v, (total, count) in nb.items():
            if v == a:
                continue
            nv = self.of(v)
            del nv[b]
            stats = na.setdefault(v, [0.0, 0.0])
            stats[0] += total
            stats[1] += count
            nv[a] = stats  # shared: both directions see later updates
        del self._adj[b]
        return na


class _Linkage:
    """Linkage distances between clusters, from sizes, centroids and spreads kept per cluster.

    Spread is the mean squared distance of the members to their centroid (0 for the
    "centroid" linkage); "edges" needs neither and reads the adjacency's link stats.
    """

    def __init__(self, linkage: str, lab: np.ndarray, x: np.ndarray, n_clusters: int) -> None:
        self.centroid = self.spread = None
        if linkage == "edges":
            self.size = np.bincount(lab, minlength=n_clusters).astype(np.float64)
        else:
            self.size, self.centroid, spread = group_stats(lab, x, n_clusters)
            self.spread = spread if linkage == "rms" else np.zeros(n_clusters)

    def of_pairs(self, links: _CrossLinks) -> np.ndarray:
        """Distance of every linked cluster pair before any merge."""
        if self.centroid is None:
            return links.total / links.count
        return rms_linkage(self.centroid, self.spread, links.a, links.b)

    def to(self, a: int, vs: np.ndarray, stats: dict[int, list[float]]) -> np.ndarray:
        """Distances from cluster ``a`` to clusters ``vs`` (``stats``: ``a``'s adjacency)."""
        if self.centroid is None:
            sc = np.array([stats[v] for v in vs.tolist()]).reshape(-1, 2)
            return sc[:, 0] / sc[:, 1]
        return rms_linkage(self.centroid, self.spread, vs, np.full(vs.size, a))

    def merge(self, a: int, b: int) -> None:
        """``b`` joins ``a``: weighted centroid, spread including the gap between them."""
        size = self.size
        if self.centroid is not None:
            wa, wb = size[a] / (size[a] + size[b]), size[b] / (size[a] + size[b])
            gap = self.centroid[a] - self.centroid[b]
            self.spread[a] = wa * self.spread[a] + wb * self.spread[b] + wa * wb * (gap @ gap)
            self.centroid[a] = wa * self.centroid[a] + wb * self.centroid[b]
        size[a] += size[b]


class _ClusterRules:
    """The constraints per cluster: its photos (built lazily), anchor and forbidden anchors."""

    def __init__(self, lab: np.ndarray, prep: PreparedConstraints, n_clusters: int) -> None:
        self._lab = lab
        self._prep = prep
        self._members = np.argsort(lab, kind="stable")
        self._members_ptr = np.searchsorted(lab[self._members], np.arange(n_clusters + 1))
        self._photos: dict[int, set[int]] = {}
        self.anchor = np.full(n_clusters, -1, np.int64)
        pinned = prep.anchor_label >= 0
        self.anchor[lab[pinned]] = prep.anchor_label[pinned]
        self.forbid: dict[int, set[int]] = {}
        faces = np.repeat(np.arange(lab.shape[0]), np.diff(prep.forbid_ptr))
        for f, a in zip(faces.tolist(), prep.forbid_labels.tolist(), strict=True):
            if not pinned[f]:
                self.forbid.setdefault(int(lab[f]), set()).add(a)

    def photos(self, c: int) -> set[int]:
        if c not in self._photos:
            faces = self._members[self._members_ptr[c] : self._members_ptr[c + 1]]
            self._photos[c] = set(self._prep.photo_of[faces].tolist())
        return self._photos[c]

    def allowed(self, a: int, b: int) -> bool:
        """Whether clusters ``a`` and ``b`` may merge: no two anchors, forbidden or photo."""
        xa, xb = int(self.anchor[a]), int(self.anchor[b])
        if xa >= 0 and xb >= 0 and xa != xb:
            return False
        if xb >= 0 and xb in self.forbid.get(a, ()) or xa >= 0 and xa in self.forbid.get(b, ()):
            return False
        pa, pb = self.photos(a), self.photos(b)
        small, big = (pa, pb) if len(pa) < len(pb) else (pb, pa)
        return small.isdisjoint(big)

    def merge(self, a: int, b: int) -> None:
        """``b`` joins ``a``: ``a`` takes its photos, anchor and forbidden anchors."""
        self.photos(a).update(self.photos(b))
        self.anchor[a] = max(self.anchor[a], self.anchor[b])
        if b in self.forbid:
            self.forbid.setdefault(a, set()).update(self.forbid.pop(b))


def _next_nearest(a: int, b: int, adjacency: _Adjacency, distances: _Linkage) -> float:
    """Distance from cluster ``a`` to its nearest kNN-linked cluster other than ``b``."""
    near = adjacency.of(a)
    others = np.fromiter((v for v in near if v != b), np.int64)
    return float(distances.to(a, others, near).min()) if others.size else np.inf


def _merge_closest(
    heap: list[tuple[float, int, int, int, int]],
    adjacency: _Adjacency,
    distances: _Linkage,
    rules: _ClusterRules,
    clear: float,
    threshold: float,
) -> np.ndarray:
    """Merge the closest allowed pair until none is below ``threshold``; union-find parents.

    ``heap`` holds (distance, a, b, version of a, version of b) with a < b; an entry is
    stale once either cluster merged since it was pushed. A pair at ``clear`` or farther
    merges only if it passes the ratio test; one that fails comes back if either side
    merges with another cluster first.
    """
    n_clusters = rules.anchor.shape[0]
    version = np.zeros(n_clusters, np.int64)
    parent = np.arange(n_clusters)
    heapq.heapify(heap)
    while heap:
        d, a, b, va, vb = heapq.heappop(heap)
        if va != version[a] or vb != version[b] or parent[a] != a or parent[b] != b:
            continue  # stale: one side merged since
        if not rules.allowed(a, b):
            continue
        if d >= clear and d >= MERGE_RATIO * min(
            _next_nearest(a, b, adjacency, distances), _next_nearest(b, a, adjacency, distances)
        ):
            continue
        if len(adjacency.of(a)) < len(adjacency.of(b)):  # fold the smaller adjacency
            a, b = b, a
        parent[b] = a
        version[a] += 1
        near = adjacency.merge(a, b)
        distances.merge(a, b)
        rules.merge(a, b)
        vs = np.fromiter(near.keys(), np.int64, len(near))
        dvs = distances.to(a, vs, near)
        close = dvs < threshold
        for v, dv in zip(vs[close].tolist(), dvs[close].tolist(), strict=True):
            lo, hi = (a, v) if a < v else (v, a)
            heapq.heappush(heap, (dv, lo, hi, int(version[lo]), int(version[hi])))
    return parent


def _roots(parent: np.ndarray) -> np.ndarray:
    """Resolve union-find parents to roots (a parent is always a root when it is set)."""
    root = parent.copy()
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            return root
        root = nxt
