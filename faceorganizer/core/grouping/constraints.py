"""User edits as constraints every clustering obeys, and the flat arrays the kernels read.

* faces from the same photo never share a cluster (one person appears once per photo);
* faces anchored to the same person share a cluster, faces of different anchors never do,
  and anchored faces never move;
* a face marked "not this person" never lands in that person's cluster.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Constraints:
    """User knowledge the clustering must respect (see the module docstring).

    photo: int per face; faces sharing a photo id never share a cluster.
    anchor: int per face, -1 free; one id per user-confirmed person.
    forbidden: (face index, anchor id) pairs, "this face is not that person".
    When the user contradicts themself, anchors win: two faces of one photo anchored to
    the same person stay together, and an anchored face stays with its anchor.
    """

    photo: np.ndarray | None = None
    anchor: np.ndarray | None = None
    forbidden: Sequence[tuple[int, int]] = ()


@dataclass
class PreparedConstraints:
    """Constraints turned into flat arrays the clustering kernels can use.

    Built once per clustering by :func:`prepare_constraints`; every step reads it.
    """

    anchor: np.ndarray  # anchor id per face, -1 free
    anchor_label: np.ndarray  # label every anchored face is pinned to, -1 free
    photo_of: np.ndarray  # dense photo group per face
    photo_ptr: np.ndarray  # CSR over photo groups -> faces
    photo_faces: np.ndarray
    forbid_ptr: np.ndarray  # CSR over faces -> labels they may not take
    forbid_labels: np.ndarray


def prepare_constraints(n: int, constraints: Constraints | None) -> PreparedConstraints:
    """Check ``constraints`` against ``n`` faces and flatten them (None: no constraints)."""
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
    return PreparedConstraints(
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


def restrict_constraints(constraints: Constraints | None, faces: np.ndarray, n: int) -> Constraints:
    """The constraints among ``faces`` only, renumbered to their positions."""
    c = constraints or Constraints()
    local = np.full(n, -1, np.int64)
    local[faces] = np.arange(faces.size)
    return Constraints(
        photo=None if c.photo is None else np.asarray(c.photo)[faces],
        anchor=None if c.anchor is None else np.asarray(c.anchor)[faces],
        forbidden=[(int(local[f]), a) for f, a in c.forbidden if local[f] >= 0],
    )
