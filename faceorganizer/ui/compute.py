"""Heavy work in other processes, so the window never waits for the GIL.

A worker *thread* is not enough for this app: importing dlib/scipy and running numba
code (UMAP, the clustering kernels, their JIT compilation) hold the GIL for up to a
second at a time, and a GUI thread that cannot get the GIL freezes (measured: 0.8 s
stalls with the scan in a thread). So the worker thread only waits, and the work runs in:

* a fresh process per scan (:func:`in_process`), streaming the pipeline's progress
  events back over a queue; cancelling sets an event the pipeline polls;
* one long-lived helper process (:func:`in_helper`) for short jobs the user waits for:
  the re-clustering preview, re-clustering, automatic split proposals and UMAP. It
  stays alive, so modules load and numba compiles once per session.

Each process opens its own Catalog (SQLite in WAL mode lets the GUI read meanwhile).
This module imports no Qt, so the processes start light.

Request to core: ``umap_layout``/``pca_layout`` are not GUI code; they belong in
``core`` (e.g. ``core/layout.py``) beside the catalog's layout cache.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import traceback
import warnings
from collections.abc import Callable, Generator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from faceorganizer.config import Settings

UMAP_MIN_FACES = 15  # fewer faces than UMAP's default neighbourhood: use PCA
BACKGROUND_NICENESS = 5  # background work yields the CPU to the window on busy machines

_pool: ProcessPoolExecutor | None = None


class Cancelled(Exception):
    """The job was cancelled while it waited for the helper process."""


class WorkerError(Exception):
    """An exception in a worker process, carried back with its message and traceback."""

    def __init__(self, kind: str, message: str, details: str) -> None:
        super().__init__(message or kind)
        self.kind = kind
        self.details = details


# ---------------------------------------------------------------------- the jobs


def pca_layout(vectors: np.ndarray) -> np.ndarray:
    """Instant 2-D projection: the two main axes of variation (also the fallback)."""
    n = len(vectors)
    if n <= 1:
        return np.zeros((n, 2), np.float32)
    centred = vectors.astype(np.float64) - vectors.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    xy = centred @ axes[:2].T
    if xy.shape[1] < 2:
        xy = np.column_stack([xy, np.zeros(n)])
    return xy.astype(np.float32)


def umap_layout(vectors: np.ndarray) -> np.ndarray:
    """2-D UMAP of face embeddings (runs in the helper process)."""
    if len(vectors) < UMAP_MIN_FACES:
        return pca_layout(vectors)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import umap

        reducer = umap.UMAP(
            n_neighbors=min(15, len(vectors) - 1),
            min_dist=0.1,
            metric="euclidean",
            random_state=42,  # the same library gives the same map
            low_memory=True,
        )
        return np.asarray(reducer.fit_transform(vectors), dtype=np.float32)


def _open(catalog_path: str, readonly: bool = False) -> Any:
    from faceorganizer.core.store.catalog import Catalog

    return Catalog(Path(catalog_path), readonly=readonly)


def preview_count(catalog_path: str, algorithm: str, threshold: float) -> int:
    """People a re-cluster would give (read-only)."""
    from faceorganizer.core.library.people import preview_people

    catalog = _open(catalog_path, readonly=True)
    try:
        return preview_people(catalog, algorithm, threshold)
    finally:
        catalog.close()


def recluster_catalog(catalog_path: str, algorithm: str, threshold: float) -> Any:
    """Re-cluster as one undoable edit; returns the core's ClusterResult."""
    from faceorganizer.core.library.people import recluster

    catalog = _open(catalog_path)
    try:
        return recluster(catalog, algorithm, threshold, undoable=True)
    finally:
        catalog.close()


def split_groups(catalog_path: str, person_id: int, threshold: float) -> list[list[int]]:
    """The groups an automatic split of one person would make (nothing is written)."""
    from faceorganizer.core.library.people import split_proposal

    catalog = _open(catalog_path, readonly=True)
    try:
        return split_proposal(catalog, person_id, threshold)
    finally:
        catalog.close()


def review_list(catalog_path: str) -> list[tuple[int, int, float]]:
    """The "Is this X?" questions as (face, person, score), most confident first; plain
    tuples, so the window does not import the clustering code to read them."""
    from faceorganizer.core.library.people import review_suggestions

    catalog = _open(catalog_path, readonly=True)
    try:
        return [(s.face_id, s.person_id, s.score) for s in review_suggestions(catalog)]
    finally:
        catalog.close()


def scan_steps(
    catalog_path: str,
    root: str,
    settings: Settings | None,
    *,
    cancelled: Callable[[], bool],
) -> Generator[Any, None, Any]:
    """The core scan as the CLI runs it; yields its Progress events, returns the summary."""
    from faceorganizer.core.library.scan import ScanSummary, scan
    from faceorganizer.core.store.catalog import Catalog

    summary = ScanSummary()
    catalog = Catalog(Path(catalog_path), root=Path(root))
    try:
        yield from scan(catalog, Path(root), settings, cancelled=cancelled, summary=summary)
    finally:
        catalog.close()
    return summary


# ---------------------------------------------------------------------- processes


def _lower_priority() -> None:
    with contextlib.suppress(AttributeError, OSError):  # Windows, or not permitted
        os.nice(BACKGROUND_NICENESS)


def _child(function: Callable[..., Any], args: tuple, events: Any, stop: Any) -> None:
    """Process entry: drive the generator, send ("progress"|"result"|"error", payload)."""
    _lower_priority()
    try:
        steps = function(*args, cancelled=stop.is_set)
        while True:
            try:
                event = next(steps)
            except StopIteration as done:
                events.put(("result", done.value))
                return
            events.put(("progress", event))
    except BaseException as exc:  # everything goes back to the GUI as a message
        events.put(("error", (type(exc).__name__, str(exc), traceback.format_exc())))


def in_process(
    function: Callable[..., Generator[Any, None, Any]],
    *args: object,
    cancelled: Callable[[], bool],
) -> Generator[Any, None, Any]:
    """Run a generator function in a fresh process: its yields are yielded here, its
    return value returned; ``cancelled()`` is forwarded (the process ends gracefully)."""
    context = multiprocessing.get_context("spawn")  # never fork a process running Qt
    events = context.Queue()
    stop = context.Event()
    process = context.Process(target=_child, args=(function, args, events, stop), daemon=False)
    process.start()
    try:
        while True:
            if cancelled() and not stop.is_set():
                stop.set()
            try:
                kind, payload = events.get(timeout=0.1)
            except queue.Empty:
                if not process.is_alive():
                    raise WorkerError(
                        "ProcessDied",
                        f"the worker process ended unexpectedly (exit code {process.exitcode})",
                        "",
                    ) from None
                continue
            if kind == "progress":
                yield payload
            elif kind == "result":
                return payload
            else:
                raise WorkerError(*payload)
    finally:
        stop.set()
        process.join(timeout=60)
        if process.is_alive():  # pragma: no cover - a stuck child must not outlive us
            process.terminate()
        events.close()


def _helper() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ProcessPoolExecutor(
            1, multiprocessing.get_context("spawn"), initializer=_lower_priority
        )
    return _pool


def in_helper(
    function: Callable[..., Any], *args: object, cancelled: Callable[[], bool] = lambda: False
) -> Any:
    """Run ``function(*args)`` in the helper process; wait (GIL-free) until done."""
    future: Future[Any] = _helper().submit(function, *args)
    while True:
        if cancelled():
            if not future.cancel():
                shutdown_helper()  # it is busy with this job: stop it, start afresh next time
            raise Cancelled()
        try:
            return future.result(timeout=0.1)
        except TimeoutError:
            continue


def shutdown_helper() -> None:
    """Stop the helper process (at exit); a running computation is abandoned."""
    global _pool
    if _pool is not None:
        pool, _pool = _pool, None
        for process in list(getattr(pool, "_processes", {}).values()):
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
