"""Array helpers every grouping step shares: input checking, per-group sums, and the
centroid and spread that average linkage is computed from."""

from __future__ import annotations

import numpy as np
from scipy import sparse

CHUNK = 2**16  # faces (or group pairs) handled at once: a million 128-D rows is 1 GB as float64


def as_embeddings(embeddings: np.ndarray) -> np.ndarray:
    """Faces x dimensions as contiguous float32 (no copy when it already is)."""
    x = np.asarray(embeddings, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError("embeddings must be a 2-D array (faces x dimensions)")
    return np.ascontiguousarray(x)


def group_sums(group: np.ndarray, values: np.ndarray, groups: int) -> np.ndarray:
    """Sum of ``values`` rows per group, as one sparse product (np.add.at is ~20x slower)."""
    member = sparse.csr_matrix(
        (np.ones(group.shape[0], values.dtype), (group, np.arange(group.shape[0]))),
        shape=(groups, group.shape[0]),
    )
    return member @ values


def group_stats(
    group: np.ndarray, x: np.ndarray, groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(size, centroid, spread) of each group 0..``groups``-1, none of them empty; spread
    is the members' mean squared distance to their centroid, so :func:`rms_linkage` gives
    the root mean square distance over all pairs of two groups' faces without n x n.

    Sums in float64, CHUNK faces at a time: the merge, the attach steps and the review all
    read these, and one precision for all keeps their distances the same."""
    size = np.bincount(group, minlength=groups).astype(np.float64)
    sums = np.zeros((groups, x.shape[1]))
    squares = np.zeros(groups)
    for lo in range(0, x.shape[0], CHUNK):
        part, of = x[lo : lo + CHUNK].astype(np.float64), group[lo : lo + CHUNK]
        sums += group_sums(of, part, groups)
        squares += np.bincount(of, np.einsum("ij,ij->i", part, part), minlength=groups)
    centroid = sums / size[:, None]
    spread = np.maximum(squares / size - np.einsum("ij,ij->i", centroid, centroid), 0.0)
    return size, centroid, spread


def rms_linkage(
    centroid: np.ndarray, spread: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """sqrt(|centroid gap|^2 + both spreads) per group pair ``a[i]``, ``b[i]``, in chunks:
    a million pairs of 128-D gaps at once would take a gigabyte."""
    out = np.empty(a.size)
    for lo in range(0, a.size, CHUNK):
        i, j = a[lo : lo + CHUNK], b[lo : lo + CHUNK]
        gap = centroid[i] - centroid[j]
        out[lo : lo + CHUNK] = np.sqrt((gap * gap).sum(axis=1) + spread[i] + spread[j])
    return out
