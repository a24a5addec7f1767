"""Exact nearest-point search in BLAS products, threaded, optionally within probed groups.

The one search engine behind :mod:`knn`: exact kNN, the k-means cell assignment and the
cell-probing approximate kNN are all calls of :func:`search_nearest`.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

SEARCH_THREADS = 8  # kNN search threads, at most one per core
BLOCK_POINTS = 4096  # points per BLAS product: a few query rows must not stream them all


def search_nearest(
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
        idx[short], dist[short] = search_nearest(q[short], pts, m, q_self=q_self[short])
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
    from faceorganizer.core.grouping import kernels  # numba: imported on first search

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
