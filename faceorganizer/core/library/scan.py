"""The scan pipeline as a generator of progress: sync → faces → people.

Callers (CLI, GUI worker, tests) drive the generator and may stop between items by
making ``cancelled()`` return True. Every processed file is committed on its own, so a
cancel or a crash loses at most the files in flight; the next scan resumes with the
files still marked pending. Detection and embedding run in a pool of processes, one
per core, each holding its own models.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path

from faceorganizer.config import Settings
from faceorganizer.core.library.names import MetadataReport, apply_region_names, read_metadata
from faceorganizer.core.library.people import recluster
from faceorganizer.core.library.sync import SyncReport, sync_catalog
from faceorganizer.core.store.catalog import Catalog, FileRow
from faceorganizer.core.vision.finder import (
    MODEL_OF_EMBEDDER,
    FileResult,
    init_worker,
    process_in_worker,
)
from faceorganizer.core.vision.model_cache import (
    cached_frontal_detector,
    cached_resnet_onnx,
    cached_sface_onnx,
)
from faceorganizer.wording import count


@dataclass(frozen=True)
class Progress:
    stage: str  # "sync", "faces", "names", "cluster", "done"
    done: int
    total: int
    path: str = ""
    error: str = ""  # set when this file was skipped, with the reason


CRASH_MESSAGE = "crashed the face detector (skipped)"


@dataclass
class ScanSummary:
    sync: SyncReport = field(default_factory=SyncReport)
    processed: int = 0  # photos looked at, read or not
    skipped: list[tuple[str, str]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    cancelled: bool = False
    metadata: MetadataReport = field(default_factory=MetadataReport)

    def outcome(self) -> str:
        """Like "3 new or changed photos read, 3 skipped": a photo that could not be read
        is not counted as done."""
        if not self.processed and not self.skipped:
            return "no new or changed photos"
        failed = len(self.skipped) - len(self.sync.unreadable)  # while reading faces
        text = f"{count(self.processed - failed, 'new or changed photo')} read"
        return text + (f", {len(self.skipped):,} skipped" if self.skipped else "")


class _WorkerCrash(Exception):
    """A worker process died (a native crash in a decoder or model) with these files in flight."""

    def __init__(self, rows: list[FileRow]) -> None:
        super().__init__(f"worker died with {count(len(rows), 'file')} in flight")
        self.rows = rows


def _results(
    pool: ProcessPoolExecutor,
    root: Path,
    rows: deque[FileRow],
    in_flight: int,
    cancelled: Callable[[], bool],
) -> Iterator[tuple[FileRow, FileResult]]:
    """Results as they finish, keeping at most ``in_flight`` files queued in the pool."""
    running: dict[Future[FileResult], FileRow] = {}
    while rows or running:
        while rows and len(running) < in_flight:
            row = rows.popleft()
            try:
                running[pool.submit(process_in_worker, root / row.path)] = row
            except BrokenProcessPool as exc:  # a worker died since the last results came in
                raise _WorkerCrash([*running.values(), row]) from exc
        if cancelled():
            for future in running:
                future.cancel()
            return
        finished, _ = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
        for future in finished:
            row = running.pop(future)
            try:
                result = future.result()
            except BrokenProcessPool as exc:
                raise _WorkerCrash([row, *running.values()]) from exc
            yield row, result


def find_faces(
    catalog: Catalog,
    root: Path,
    settings: Settings,
    cancelled: Callable[[], bool],
    summary: ScanSummary,
) -> Iterator[Progress]:
    """Process every pending file; commits each result as it arrives.

    If a worker process dies, the files it may have held are retried one at a time in
    a fresh pool, so only the file that really crashes it is skipped."""
    queue = deque(catalog.files("pending"))
    total = len(queue)
    yield Progress("faces", 0, total)
    suspects: deque[FileRow] = deque()
    workers = min(settings.worker_count(), total)
    if total:  # make them once here, not in every worker at once
        cached_frontal_detector()  # every detector but MTCNN alone checks with HOG
        if settings.embedder in MODEL_FILES:
            MODEL_FILES[settings.embedder]()
    context = multiprocessing.get_context("spawn")  # fork is unsafe beside Qt threads

    def record(row: FileRow, result: FileResult) -> Progress:
        if result.error:
            catalog.record_error(row.id, result.error)
            summary.skipped.append((row.path, result.error))
        else:
            catalog.record_faces(row.id, result.faces, result.size)
            read_metadata(catalog, root, row, summary.metadata)
        summary.processed += 1
        return Progress("faces", summary.processed, total, row.path, result.error or "")

    while queue or suspects:
        solo = bool(suspects)
        try:
            with ProcessPoolExecutor(workers, context, init_worker, (settings,)) as pool:
                rows = suspects if solo else queue
                for row, result in _results(
                    pool, root, rows, 1 if solo else 2 * workers, cancelled
                ):
                    yield record(row, result)
        except _WorkerCrash as crash:
            if solo:
                yield record(crash.rows[0], FileResult([], None, CRASH_MESSAGE))
            else:
                suspects.extend(crash.rows)
        if cancelled():
            summary.cancelled = True
            return


def read_names(
    catalog: Catalog, root: Path, cancelled: Callable[[], bool], summary: ScanSummary
) -> Iterator[Progress]:
    """Read the metadata of photos that were processed before but whose sidecars changed
    (or were never read), then name the faces that regions point at."""
    rows = catalog.files_needing_metadata()
    for done, row in enumerate(rows, start=1):
        if cancelled():
            summary.cancelled = True
            return
        read_metadata(catalog, root, row, summary.metadata)
        yield Progress("names", done, len(rows), row.path)
    summary.metadata.named += apply_region_names(catalog)


# model files made from the shipped ones (converted, cleaned) before the workers start
MODEL_FILES = {"onnx": cached_resnet_onnx, "sface": cached_sface_onnx}


def embedder_for(catalog: Catalog, settings: Settings) -> Settings:
    """The settings with the embedder of the catalog's existing faces, if it has any.

    Vectors of two models live in different spaces and are never compared, so a catalog
    started with dlib's descriptors keeps getting them: a mixed catalog would leave the
    minority's faces out of grouping. New catalogs get the default (SFace).
    """
    model = catalog.dominant_model()
    if model is None or MODEL_OF_EMBEDDER[settings.embedder] == model:
        return settings
    same_space = [name for name, m in MODEL_OF_EMBEDDER.items() if m == model]
    return replace(settings, embedder=same_space[0]) if same_space else settings


def detector_for(catalog: Catalog, settings: Settings) -> Settings:
    """The settings with the detector the library records, if it records one.

    Detectors differ in which faces they find and where they put the landmarks, so a
    library keeps one: a new default never silently detects an old library's new photos
    another way (its old photos are never detected again anyway). A catalog from before
    libraries recorded their detector says the cascade, the default then (schema 5)."""
    recorded = catalog.settings_record().get("detector")
    if recorded is not None and recorded != settings.detector:
        return replace(settings, detector=str(recorded))
    return settings


def scan(
    catalog: Catalog,
    root: Path,
    settings: Settings | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    summary: ScanSummary | None = None,
    *,
    accept_missing: bool = False,
) -> Iterator[Progress]:
    """The whole scan of a library folder, as progress events. A folder that looks
    unplugged stops it before anything changes (``summary.sync.refused`` says why)
    unless ``accept_missing``.

    ``settings`` None = the library's own (:meth:`Catalog.settings`: what its last scan
    or regroup used). Whatever the scan uses is recorded as the library's settings, so
    the next scan, from the CLI or the app, finds and groups faces the same way."""
    settings = detector_for(catalog, embedder_for(catalog, settings or catalog.settings()))
    summary = summary if summary is not None else ScanSummary()
    root = root.resolve()
    catalog.set_root(root)
    catalog.save_settings(settings)
    started = time.perf_counter()
    yield Progress("sync", 0, 0)
    summary.sync = sync_catalog(catalog, root, accept_missing=accept_missing)
    summary.skipped.extend(summary.sync.unreadable)
    summary.seconds["sync"] = time.perf_counter() - started
    if summary.sync.refused:
        return

    started = time.perf_counter()
    yield from find_faces(catalog, root, settings, cancelled, summary)
    summary.seconds["faces"] = time.perf_counter() - started
    if summary.cancelled:
        return

    started = time.perf_counter()
    yield from read_names(catalog, root, cancelled, summary)
    summary.seconds["names"] = time.perf_counter() - started
    if summary.cancelled:
        return

    started = time.perf_counter()
    yield Progress("cluster", 0, 1)
    recluster(catalog)  # with the grouping just recorded
    summary.seconds["cluster"] = time.perf_counter() - started
    yield Progress("done", 1, 1)
