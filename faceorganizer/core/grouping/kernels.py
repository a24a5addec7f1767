"""The two hot loops of clustering, compiled by numba.

Imported only inside the functions that run them (:mod:`search`, :mod:`whispers`), so
that importing the clustering code does not import numba (0.5 s) until a graph is
actually built. Each kernel compiles once (seconds) and is cached on disk; where no
cache location can be found (a frozen app without sources) it compiles once per process
instead.
"""

from __future__ import annotations

import numba


def _jit(fn):
    """Compiled without the GIL, so that threads can run it side by side."""
    try:
        return numba.njit(cache=True, nogil=True)(fn)
    except RuntimeError:  # no cache locator
        return numba.njit(nogil=True)(fn)


@_jit
def select_nearest(dots, q_sq, p_sq, p_ids, q_ids, rows, best_idx, best_sq):
    """Merge a block of candidates into each query's running list of nearest points.

    ``dots`` = queries x points dot products (one BLAS product); the squared distance is
    ``q_sq + p_sq - 2 dots``. Query ``r`` updates row ``rows[r]`` of ``best_idx`` /
    ``best_sq`` (sorted, nearest first, inf when empty) and skips the point ``q_ids[r]``
    (itself). Ties keep the earlier candidate.
    """
    m = best_idx.shape[1]
    for r in range(dots.shape[0]):
        out_i = best_idx[rows[r]]
        out_d = best_sq[rows[r]]
        worst = out_d[m - 1]
        for j in range(dots.shape[1]):
            d = q_sq[r] + p_sq[j] - 2.0 * dots[r, j]
            if d >= worst or p_ids[j] == q_ids[r]:
                continue
            t = m - 1
            while t > 0 and out_d[t - 1] > d:
                out_d[t] = out_d[t - 1]
                out_i[t] = out_i[t - 1]
                t -= 1
            out_d[t] = max(d, 0.0)
            out_i[t] = p_ids[j]
            worst = out_d[m - 1]


@_jit
def whispers_sweep(
    order, indptr, indices, weights, labels, pinned, active, prep_arrays, scratch_l, scratch_w
):
    """One asynchronous Chinese-whispers sweep; returns how many faces changed label.

    Each free face takes the label with the largest summed edge weight among its
    neighbours, skipping labels it may not take (forbidden, or held by a face of the
    same photo). Its current label is always allowed, so constraints hold at every step.
    Only ``active`` faces are visited: a face whose neighbours and photo-mates kept their
    labels since its last visit would choose the same again. A change re-activates them,
    so later sweeps touch only the unsettled part of the graph (same labels, a fraction
    of the work).
    """
    photo_of, photo_ptr, photo_faces, forbid_ptr, forbid_labels = prep_arrays
    changed = 0
    for i in order:
        if not active[i]:
            continue
        active[i] = False
        if pinned[i] or indptr[i] == indptr[i + 1]:
            continue
        m = 0  # distinct neighbour labels with their summed weight
        for e in range(indptr[i], indptr[i + 1]):
            lab = labels[indices[e]]
            t = 0
            while t < m and scratch_l[t] != lab:
                t += 1
            if t == m:
                scratch_l[m] = lab
                scratch_w[m] = 0.0
                m += 1
            scratch_w[t] += weights[e]
        best = labels[i]
        while m > 0:
            top = 0  # strongest remaining label, ties to the smaller label
            for t in range(1, m):
                if scratch_w[t] > scratch_w[top] or (
                    scratch_w[t] == scratch_w[top] and scratch_l[t] < scratch_l[top]
                ):
                    top = t
            lab = scratch_l[top]
            if lab == labels[i]:
                break
            ok = True
            for t in range(forbid_ptr[i], forbid_ptr[i + 1]):
                if forbid_labels[t] == lab:
                    ok = False
            g = photo_of[i]
            for t in range(photo_ptr[g], photo_ptr[g + 1]):
                j = photo_faces[t]
                if j != i and labels[j] == lab:
                    ok = False
            if ok:
                best = lab
                break
            m -= 1  # drop the refused label and look again
            scratch_l[top] = scratch_l[m]
            scratch_w[top] = scratch_w[m]
        if best != labels[i]:
            labels[i] = best
            changed += 1
            for e in range(indptr[i], indptr[i + 1]):
                active[indices[e]] = True
            g = photo_of[i]
            for t in range(photo_ptr[g], photo_ptr[g + 1]):
                active[photo_faces[t]] = True
    return changed
