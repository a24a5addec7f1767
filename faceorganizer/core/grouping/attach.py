"""Poor faces join a strong cluster instead of standing alone: :func:`attach_small`.

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
    settled every dev set); anchored faces stay, constraints hold."""
    labels = np.asarray(labels, np.int64).copy()
    for _ in range(ROUNDS):
        moved = _attach_pass(labels, x, threshold, prep)
        if (moved == labels).all():
            break
        labels = moved
    return labels


def _attach_pass(
    labels: np.ndarray, x: np.ndarray, threshold: float, prep: PreparedConstraints
) -> np.ndarray:
    labels = labels.copy()
    sizes = np.bincount(labels[labels >= 0], minlength=1)
    small = (labels < 0) | (sizes[np.maximum(labels, 0)] <= SMALL)
    faces = np.flatnonzero(small & (prep.anchor_label < 0))
    strong = np.flatnonzero(~small)
    if faces.size == 0 or strong.size == 0:
        return labels
    idx, dist_sq = search_nearest(x[faces], x[strong], min(CANDIDATES, strong.size))
    near = labels[strong[idx]]
    dist = np.sqrt(np.maximum(dist_sq, 0.0))
    taken = set(zip(prep.photo_of[strong].tolist(), labels[strong].tolist(), strict=True))
    pinned = prep.anchor_label >= 0
    anchor_of = dict(zip(labels[pinned].tolist(), prep.anchor_label[pinned].tolist(), strict=True))
    reach = threshold + ATTACH_GAP
    for row in np.argsort(dist[:, 0], kind="stable").tolist():  # closest faces choose first
        face = int(faces[row])
        photo = int(prep.photo_of[face])
        forbidden = prep.forbid_labels[prep.forbid_ptr[face] : prep.forbid_ptr[face + 1]]
        best, second = -1, float(dist[row, -1])  # clusters past the list are farther still
        best_d = np.inf
        for label, d in zip(near[row].tolist(), dist[row].tolist(), strict=True):
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
    return labels


def unsorted(labels: np.ndarray, prep: PreparedConstraints, min_faces: int) -> np.ndarray:
    """Clusters of fewer than ``min_faces`` faces, anchored ones excepted, become -1: the
    faces that joined no one, which the app shows in its Unsorted bin."""
    labels = np.asarray(labels, np.int64).copy()
    sizes = np.bincount(labels[labels >= 0], minlength=1)
    lone = (labels >= 0) & (sizes[np.maximum(labels, 0)] < min_faces) & (prep.anchor_label < 0)
    labels[lone] = -1
    return labels
