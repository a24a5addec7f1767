"""The scan pipeline as a generator of progress: sync → faces → people.

Callers (CLI, GUI worker, tests) drive the generator and may stop between items by
making ``cancelled()`` return True. Every processed file is committed on its own, so a
cancel or a crash loses at most the files in flight; the next scan resumes with the
files still marked pending. Detection and embedding run in a pool of processes, one
per core, each holding its own models.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from faceorganizer.core.catalog import Catalog, FaceRecord, FileRow
from faceorganizer.core.detect import Detector, HogDetector
from faceorganizer.core.detect_mtcnn import MtcnnDetector
from faceorganizer.core.dlib_onnx import cached_resnet_onnx
from faceorganizer.core.embed import DlibEmbedder, Embedder
from faceorganizer.core.embed_onnx import OnnxEmbedder
from faceorganizer.core.images import ImageError, face_thumbnail, load_photo
from faceorganizer.core.people import recluster
from faceorganizer.core.scan import SyncReport, sync_catalog


@dataclass(frozen=True)
class Settings:
    """How faces are found and grouped. Defaults come from measurements (README)."""

    detector: str = "hog"  # "hog" (dlib) or "mtcnn" (ONNX; faster, finds more small faces)
    max_side: int = 1600  # long side of the working image for detection
    upsample: int | None = None  # HOG upsampling; None = only for small images
    workers: int = 0  # processes for detection/embedding; 0 = one per core
    embedder: str = "onnx"  # "onnx" (our conversion, ~12x faster) or "dlib" (reference)
    algorithm: str = "chinese-whispers"
    threshold: float | None = None  # None = the algorithm's default

    def worker_count(self) -> int:
        return self.workers or max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Progress:
    stage: str  # "sync", "faces", "cluster", "done"
    done: int
    total: int
    path: str = ""
    error: str = ""  # set when this file was skipped, with the reason


CRASH_MESSAGE = "crashed the face detector (skipped)"


@dataclass(frozen=True)
class FileResult:
    faces: list[FaceRecord]
    size: tuple[int, int] | None
    error: str | None


@dataclass
class ScanSummary:
    sync: SyncReport = field(default_factory=SyncReport)
    processed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    cancelled: bool = False


class FaceFinder:
    """Decode → detect → landmarks → embed for one file; one instance per process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.detector: Detector = (
            MtcnnDetector(min_face=40)
            if settings.detector == "mtcnn"
            else HogDetector(settings.upsample)
        )
        # One process per core already: each session gets one thread.
        self.embedder: Embedder = (
            OnnxEmbedder(threads=1) if settings.embedder == "onnx" else DlibEmbedder()
        )

    def process(self, path: Path) -> FileResult:
        """Never raises: any problem with the file becomes its error message."""
        try:
            return self._process(path)
        except ImageError as exc:
            return FileResult([], None, str(exc))
        except Exception as exc:  # a model failing on an odd image must not stop the scan
            return FileResult([], None, f"could not process: {exc}")

    def _process(self, path: Path) -> FileResult:
        photo = load_photo(path, self.settings.max_side)
        detections = self.detector.detect(photo.rgb)
        vectors = self.embedder.embed(photo.rgb, [d.landmarks for d in detections])
        faces = []
        for detection, vector in zip(detections, vectors, strict=True):
            box = tuple(v / photo.scale for v in detection.box)
            faces.append(
                FaceRecord(
                    box=(box[0], box[1], box[2], box[3]),
                    score=detection.score,
                    landmarks=detection.landmarks / photo.scale,
                    thumb=face_thumbnail(photo, (box[0], box[1], box[2], box[3])),
                    embedding=vector,
                    model=self.embedder.model_id,
                )
            )
        return FileResult(faces, photo.original_size, None)


_finder: FaceFinder | None = None


def _init_worker(settings: Settings) -> None:
    global _finder
    _finder = FaceFinder(settings)


def _process_in_worker(path: Path) -> FileResult:
    assert _finder is not None
    return _finder.process(path)


class _WorkerCrash(Exception):
    """A worker process died (a native crash in a decoder or model) with these files in flight."""

    def __init__(self, rows: list[FileRow]) -> None:
        super().__init__(f"worker died with {len(rows)} file(s) in flight")
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
            running[pool.submit(_process_in_worker, root / row.path)] = row
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
    if total and settings.embedder == "onnx":
        cached_resnet_onnx()  # convert once here, not in every worker at the same time
    context = multiprocessing.get_context("spawn")  # fork is unsafe beside Qt threads

    def record(row: FileRow, result: FileResult) -> Progress:
        if result.error:
            catalog.record_error(row.id, result.error)
            summary.skipped.append((row.path, result.error))
        else:
            catalog.record_faces(row.id, result.faces, result.size)
        summary.processed += 1
        return Progress("faces", summary.processed, total, row.path, result.error or "")

    while queue or suspects:
        solo = bool(suspects)
        try:
            with ProcessPoolExecutor(workers, context, _init_worker, (settings,)) as pool:
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


def scan(
    catalog: Catalog,
    root: Path,
    settings: Settings | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    summary: ScanSummary | None = None,
) -> Iterator[Progress]:
    """The whole scan of a library folder, as progress events."""
    settings = settings or Settings()
    summary = summary if summary is not None else ScanSummary()
    root = root.resolve()
    catalog.set_root(root)
    started = time.perf_counter()
    yield Progress("sync", 0, 0)
    summary.sync = sync_catalog(catalog, root)
    summary.skipped.extend(summary.sync.unreadable)
    summary.seconds["sync"] = time.perf_counter() - started

    started = time.perf_counter()
    yield from find_faces(catalog, root, settings, cancelled, summary)
    summary.seconds["faces"] = time.perf_counter() - started
    if summary.cancelled:
        return

    started = time.perf_counter()
    yield Progress("cluster", 0, 1)
    recluster(catalog, settings.algorithm, settings.threshold)
    summary.seconds["cluster"] = time.perf_counter() - started
    yield Progress("done", 1, 1)
