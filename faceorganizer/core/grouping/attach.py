"""Poor faces join a strong cluster instead of standing alone: :func:`attach_small` face by
face, then :func:`attach_groups` whole small groups and groups of turned faces.

A turned, small or blurred face sits far from everyone, so the grouping leaves it alone
or in a pair although its person is right there: a profile's nearest frontal photo of
the same person is 0.55 away on cfp-dev (median), where the grouping joins at 0.525.
Linking such faces during the clustering would let them bridge two people. Instead,
once the clusters are settled, each face of a cluster of at most SMALL faces joins the
nearest larger cluster if that one is clearly the nearest (Lowe's ratio test): its
distance is below ``threshold + ATTACH_GAP`` and below RATIO times the distance to the
second nearest cluster. Faces only ever join; no two clusters merge through them.

Measured on the scanned dev sets (found-faces BCubed F, default settings, before ->
after): cfp-dev 0.907 -> 0.945 (MTCNN's faces, profiles found: 0.732 -> 0.783), fiw-dev
0.857 -> 0.879 with pairwise precision 0.933 -> 0.937, faces-dev 0.984 = 0.984 (MTCNN's
faces 0.985 -> 0.994), lfw-dev 0.990 -> 0.991; one pass alone gave 0.938, 0.776, 0.877,
0.989. A looser ratio (0.9) lets a one-photo stranger of faces-dev join a
look-alike (faces-dev 0.984 -> 0.978); no ratio test at all chains LFW (0.990 -> 0.895).
"""

from __future__ import annotations

import numpy as np

from faceorganizer.core.grouping.arrays import group_stats
from faceorganizer.core.grouping.constraints import PreparedConstraints
from faceorganizer.core.grouping.search import search_nearest

SMALL = 2  # faces of clusters this small may join a larger one
RATIO = 0.875  # the nearest cluster must be this much nearer than the second
ATTACH_GAP = 0.05  # ... and nearer than threshold + ATTACH_GAP
CANDIDATES = 10  # nearest faces of larger clusters each small face looks at
ROUNDS = 4  # passes at most; a face that joined can draw its own look-alike next pass


def attach_small(
    labels: np.ndarray, x: np.ndarray, threshold: float, prep: PreparedConstraints
) -> np.ndarray:
    """``labels`` with the faces of small clusters (and noise, -1) moved into the larger
    cluster that passes the ratio test, pass after pass until none moves (a second pass
    settled every dev set); anchored faces stay, constraints hold.

    Only small faces move and only into larger clusters, so the larger clusters' faces
    stay where they are: the search runs once against them, and each later pass searches
    the faces still small only against those that joined in the pass before, folding
    them into the lists kept; the set of taken (photo, cluster) pairs is kept the same way.
    On 100 000 synthetic faces (bench/scale.py's, fitted on lfw-dev's SFace faces, two a
    photo) 90 and 126 s -> 39 and 34 s in one loaded run, the same labels: the search
    against every larger cluster's faces in every pass was 98 % of the time, the sets
    and the Python loop under 2 %."""
    labels = np.asarray(labels, np.int64).copy()
    sizes = np.bincount(labels[labels >= 0], minlength=1)
    small = (labels < 0) | (sizes[np.maximum(labels, 0)] <= SMALL)
    faces = np.flatnonzero(small & (prep.anchor_label < 0))
    strong = np.flatnonzero(~small)
    if faces.size == 0 or strong.size == 0:
        return labels
    idx, dist_sq = search_nearest(x[faces], x[strong], min(CANDIDATES, strong.size))
    near = strong[idx]  # each small face's nearest faces of larger clusters, nearest first
    taken = set(zip(prep.photo_of[strong].tolist(), labels[strong].tolist(), strict=True))
    pinned = prep.anchor_label >= 0
    anchor_of = dict(zip(labels[pinned].tolist(), prep.anchor_label[pinned].tolist(), strict=True))
    for _ in range(ROUNDS):
        joined = _attach_pass(labels, faces, near, dist_sq, threshold, prep, taken, anchor_of)
        if not joined.any():
            break
        new, faces, near, dist_sq = faces[joined], faces[~joined], near[~joined], dist_sq[~joined]
        if faces.size == 0:
            break
        more, more_sq = search_nearest(x[faces], x[new], min(CANDIDATES, new.size))
        near, dist_sq = np.hstack([near, new[more]]), np.hstack([dist_sq, more_sq])
        order = np.argsort(dist_sq, axis=1, kind="stable")[:, :CANDIDATES]
        near, dist_sq = (np.take_along_axis(a, order, axis=1) for a in (near, dist_sq))
    return labels


def _attach_pass(
    labels: np.ndarray,
    faces: np.ndarray,
    near: np.ndarray,
    dist_sq: np.ndarray,
    threshold: float,
    prep: PreparedConstraints,
    taken: set[tuple[int, int]],
    anchor_of: dict[int, int],
) -> np.ndarray:
    """One pass of :func:`attach_small` over the small ``faces`` and their ``near`` faces
    of larger clusters: moves faces in ``labels``, notes their photos in ``taken``;
    returns which of ``faces`` joined. Closest faces choose first."""
    labels_near = labels[near]  # the clusters joined in this pass are not looked at yet
    dist = np.sqrt(np.maximum(dist_sq, 0.0))
    joined = np.zeros(faces.size, bool)
    reach = threshold + ATTACH_GAP
    for row in np.argsort(dist[:, 0], kind="stable").tolist():
        face = int(faces[row])
        photo = int(prep.photo_of[face])
        forbidden = prep.forbid_labels[prep.forbid_ptr[face] : prep.forbid_ptr[face + 1]]
        best, second = -1, float(dist[row, -1])  # clusters past the list are farther still
        best_d = np.inf
        for label, d in zip(labels_near[row].tolist(), dist[row].tolist(), strict=True):
            if (photo, label) in taken or anchor_of.get(label, -1) in forbidden:
                continue
            if best < 0:
                best, best_d = label, d
            elif label != best:
                second = d
                break
        if best >= 0 and best_d < reach and best_d < RATIO * second:
            labels[face] = best
            taken.add((photo, best))
            joined[row] = True
    return joined


def unsorted(labels: np.ndarray, prep: PreparedConstraints, min_faces: int) -> np.ndarray:
    """Clusters of fewer than ``min_faces`` faces, anchored ones excepted, become -1: the
    faces that joined no one, which the app shows in its Unsorted bin."""
    labels = np.asarray(labels, np.int64).copy()
    sizes = np.bincount(labels[labels >= 0], minlength=1)
    lone = (labels >= 0) & (sizes[np.maximum(labels, 0)] < min_faces) & (prep.anchor_label < 0)
    labels[lone] = -1
    return labels


# Grouping version 4: whole groups join by average linkage (attach_groups).
GROUP_RATIO = 0.9  # a group of at most SMALL faces: the nearest cluster this much nearer
TURNED_RATIO = 0.95  # a group of turned faces (config.TURNED_YAW): this much nearer ...
TURNED_GROUP = 6  # ... with at most this many faces, joining a person of more
GROUP_REACH = 0.1  # linkage below threshold + GROUP_REACH (0.135: a stranger joins with dlib's)


def attach_groups(
    labels: np.ndarray,
    x: np.ndarray,
    threshold: float,
    prep: PreparedConstraints,
    turned: np.ndarray | None = None,
    turned_x: np.ndarray | None = None,
) -> np.ndarray:
    """``labels`` with small groups, and groups of turned faces, joined whole to the
    cluster nearest in average linkage (root mean square over all pairs of faces) when it
    is clearly the nearest: below ``threshold + GROUP_REACH`` and below GROUP_RATIO
    (TURNED_RATIO for a group whose faces are all ``turned``) times the second nearest.

    Why: one face's nearest neighbour is a noisy witness, an average over a whole person
    is not. A profile's linkage to its own person's frontal faces is clearly the nearest
    for 64 % of cfp-dev's profiles at a ratio of 0.95, and every one of those is right;
    its nearest face passes :func:`attach_small`'s 0.875 for 38 %. A group of turned faces
    joins only a person of more than TURNED_GROUP faces, never another small group. Passes
    repeat until none moves; anchored groups stay, constraints hold. Noise (-1) that joins
    no one stays -1.

    Measured end to end (e2e BCubed F, default settings, the same scanned catalogs grouped
    by version 3 -> 4): cfp-dev 0.807 -> 0.912, fiw-dev 0.868 -> 0.877 (pairwise precision
    0.962 the same), faces-dev 0.989 and lfw-dev 0.988 the same. The looser TURNED_RATIO
    alone does most for cfp-dev (0.900), GROUP_RATIO alone for fiw-dev (0.870); 0.96 for
    turned groups gives cfp-dev 0.917 but precision 0.988; the rule for frontal faces
    (0.95) merged a stranger of faces-dev. With dlib's descriptors a reach of 0.135 let a
    one-photo stranger of faces-dev join a look-alike; 0.1 keeps SFace's numbers.

    ``turned_x``: other descriptors of the same faces (None: ``x``) by which a group of
    turned faces is judged, on both sides of each linkage; other groups are judged by
    ``x``. Grouping version 5 passes turned faces' descriptors from a wider crop
    (vision.embed_sface.WIDE_ZOOM): cfp-dev e2e BCubed F 0.912 -> 0.940 at the same
    precision (0.996), the other sets within 0.001. Judging every group by them instead
    cost DBSCAN faces-dev 0.989 -> 0.975 (a frontal group's second nearest moved).
    """
    labels = np.asarray(labels, np.int64).copy()
    noise = np.flatnonzero(labels < 0)
    first_lone = labels.max(initial=-1) + 1
    labels[noise] = first_lone + np.arange(noise.size)  # each lone face its own group
    turned = np.zeros(labels.size, bool) if turned is None else np.asarray(turned, bool)
    turned_x = x if turned_x is None else turned_x
    for _ in range(ROUNDS):
        moved = _group_pass(labels, x, turned_x, threshold, prep, turned)
        if (moved == labels).all():
            break
        labels = moved
    labels[labels >= first_lone] = -1  # lone faces never receive, so these never moved
    return labels


def _group_pass(
    labels: np.ndarray,
    x: np.ndarray,
    turned_x: np.ndarray,
    threshold: float,
    prep: PreparedConstraints,
    turned: np.ndarray,
) -> np.ndarray:
    """One pass of :func:`attach_groups`; nearest groups choose first, and a group that
    received faces does not move in the same pass, nor does one that moved receive."""
    uniq, inv, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    inv = inv.ravel()
    k = uniq.size
    all_turned = np.bincount(inv, turned.astype(np.float64), minlength=k) == sizes
    anchored = np.bincount(inv, (prep.anchor_label >= 0).astype(np.float64), minlength=k) > 0
    group_turned = all_turned & (sizes <= TURNED_GROUP)
    movers = np.flatnonzero(~anchored & ((sizes <= SMALL) | group_turned))
    targets = np.flatnonzero(sizes > SMALL)
    if movers.size == 0 or targets.size == 0:
        return labels
    m = min(CANDIDATES, targets.size)  # a mover that is a target sees one less: idx -1
    idx = np.empty((movers.size, m), np.int64)
    dist = np.empty((movers.size, m), np.float64)
    for rows, vectors in ((~all_turned[movers], x), (all_turned[movers], turned_x)):
        if rows.any():
            idx[rows], dist[rows] = _linkages(vectors, inv, k, movers[rows], targets, m)
    photos = [set() for _ in range(k)]
    for group, photo in zip(inv.tolist(), prep.photo_of.tolist(), strict=True):
        photos[group].add(photo)
    pinned = prep.anchor_label >= 0
    anchor_of = dict(zip(inv[pinned].tolist(), prep.anchor_label[pinned].tolist(), strict=True))
    forbidden = [set() for _ in range(k)]
    for face in np.flatnonzero(np.diff(prep.forbid_ptr)).tolist():
        span = prep.forbid_labels[prep.forbid_ptr[face] : prep.forbid_ptr[face + 1]]
        forbidden[inv[face]].update(span.tolist())
    dest = np.arange(k)
    moved, received = np.zeros(k, bool), np.zeros(k, bool)
    reach = threshold + GROUP_REACH
    for row in np.argsort(dist[:, 0], kind="stable").tolist():
        group = int(movers[row])
        least = TURNED_GROUP if all_turned[group] else SMALL  # targets must be larger
        # clusters past the list are farther still (none: the list held every cluster)
        best, best_d, second = -1, np.inf, float(dist[row, -1])
        for t, d in zip(idx[row].tolist(), dist[row].tolist(), strict=True):
            target = int(targets[t])
            if t < 0 or photos[group] & photos[target]:
                continue
            if anchor_of.get(target, -1) in forbidden[group]:
                continue
            if best < 0:
                best, best_d = target, d
            else:
                second = d
                break
        if best >= 0 and sizes[best] <= least:  # the nearest is too small to join: wait
            continue
        ratio = TURNED_RATIO if all_turned[group] else GROUP_RATIO
        if best < 0 or received[group] or moved[best] or best_d >= min(reach, ratio * second):
            continue
        dest[group] = best
        photos[best] |= photos[group]
        forbidden[best] |= forbidden[group]
        moved[group] = received[best] = True
    return uniq[dest[inv]]


def _linkages(
    x: np.ndarray,
    inv: np.ndarray,
    k: int,
    movers: np.ndarray,
    targets: np.ndarray,
    m: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Each mover group's ``m`` nearest target groups (of the ``k`` groups ``inv`` puts
    faces in) in average linkage (RMS over all pairs of faces, by ``x``): target
    positions, nearest first, and linkages."""
    _, mean, spread = group_stats(inv, x, k)
    # linkage^2 = |mean_a - mean_b|^2 + spread_a + spread_b: the target's spread rides as
    # one more coordinate, so an exact nearest-point search ranks the targets
    pts = np.hstack([mean[targets], np.sqrt(spread[targets])[:, None]]).astype(np.float32)
    q = np.hstack([mean[movers], np.zeros((movers.size, 1))]).astype(np.float32)
    position = np.full(k, -1, np.int64)
    position[targets] = np.arange(targets.size)
    idx, dist_sq = search_nearest(q, pts, m, q_self=position[movers])
    return idx, np.sqrt(np.maximum(dist_sq + spread[movers][:, None], 0.0))
