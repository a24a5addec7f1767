"""The open library behind the window: its catalog, its editor, its work queue.

:class:`LibraryController` owns everything that outlives a click: the catalog
connection and the editor (both live in one serial worker thread, so edits and reads
run in the user's order and the GUI thread runs no SQL), the long jobs (scan, regroup,
map layout), and :class:`Rules`, the one place that says what may run together. Views
ask it for reads and edits and listen to its signals; it knows no widget.
"""

from __future__ import annotations

import enum
import gc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QEventLoop, QObject, QSettings, QTimer, Signal

from faceorganizer.config import Settings
from faceorganizer.core.library import runtime
from faceorganizer.core.library.edits import Editor
from faceorganizer.core.store import backup
from faceorganizer.core.store.catalog import DamagedCatalog
from faceorganizer.ui import jobs
from faceorganizer.ui.dialogs.regroup import legacy_grouping
from faceorganizer.ui.workers import Job, SerialWorker, Task, call_job, is_running, run_task
from faceorganizer.wording import count

LIVE_REFRESH_MS = 1500  # while scanning: how often new faces are shown
STOP_TIMEOUT_MS = 120_000  # a scan stops after the photos in flight


class Activity(enum.Enum):
    """Kinds of work whose overlap matters."""

    SCAN = "scan"
    REGROUP = "regroup"
    LAYOUT = "layout"
    EDIT = "edit"


class ScanStage(enum.Enum):
    """Where a scan is; the core's Progress events name them."""

    IDLE = ""
    SYNC = "sync"
    FACES = "faces"
    NAMES = "names"  # reading names from photos' metadata (XMP face regions)
    CLUSTER = "cluster"
    DONE = "done"

    @classmethod
    def of(cls, event: object) -> ScanStage:
        try:
            return cls(getattr(event, "stage", ""))
        except ValueError:
            return cls.IDLE


class Rules:
    """What may run together, in one place.

    * One scan and one regroup at a time, never both: both rewrite the people.
    * No edit while people are regrouped (a scan's grouping step counts): the
      regrouping would overwrite it.
    * One map layout at a time.
    Export, previews, reads and photo decoding may always run.
    """

    @staticmethod
    def allows(activity: Activity, running: set[Activity], stage: ScanStage) -> bool:
        grouping = Activity.REGROUP in running or (
            Activity.SCAN in running and stage in (ScanStage.CLUSTER, ScanStage.DONE)
        )
        if activity in (Activity.SCAN, Activity.REGROUP):
            return not running & {Activity.SCAN, Activity.REGROUP}
        if activity is Activity.EDIT:
            return not grouping
        return activity not in running


class MapLayout:
    """Whether the map's positions may be out of date (the set of faces changed)."""

    def __init__(self) -> None:
        self.stale = True

    def invalidate(self) -> None:
        self.stale = True

    def taken(self) -> None:
        self.stale = False


class LibraryController(QObject):
    """One library at a time; see the module docstring."""

    opened = Signal()  # the catalog is open (root known)
    closed = Signal()
    snapshot_ready = Signal(object)  # jobs.Snapshot
    busy_changed = Signal()  # what may run changed: actions re-enable
    scan_progress = Signal(object)  # core Progress
    scan_finished = Signal(object)  # ScanSummary, or the exception
    layout_arrived = Signal(object)  # jobs.Layout (a preview or the final one)
    layout_failed = Signal(object)
    message = Signal(str, int)  # status bar text, milliseconds (0: until replaced)
    problem = Signal(str, str)  # title, text: worth a message box
    damaged = Signal(object, object, bool)  # DamagedCatalog, the root and scan it was opened with

    def __init__(self, settings: QSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.catalog_path: Path | None = None
        self.root: Path | None = None
        self.worker: SerialWorker | None = None
        self.tasks: dict[Activity, Task] = {}
        self.scan_stage = ScanStage.IDLE
        self.last_summary: object | None = None
        self.snapshot: jobs.Snapshot | None = None
        self.map_layout = MapLayout()
        self.show_hidden = False
        self.map_ids: Callable[[], np.ndarray | None] = lambda: None
        self._queued: set[Activity] = set()
        self._refresh_wanted = False
        self._refreshing = False
        self._edits_queued = 0  # written edits refresh the views; until then views are old
        self._closing = False
        self._live = QTimer(self, interval=LIVE_REFRESH_MS)
        self._live.timeout.connect(self.refresh)
        gc.freeze()  # the modules imported by now live as long as the app

    # ================================================================ what may run
    def running(self) -> set[Activity]:
        """Activities under way, and a regroup waiting for the queued edits."""
        return {a for a, task in self.tasks.items() if is_running(task)} | self._queued

    def allows(self, activity: Activity) -> bool:
        if self.worker is None:
            return False
        return Rules.allows(activity, self.running(), self.scan_stage)

    def is_scanning(self) -> bool:
        return Activity.SCAN in self.running()

    def has_library(self) -> bool:
        return self.worker is not None

    def library_settings(self) -> Settings:
        """The open library's own settings as last read (each refresh reads them again:
        a regroup, or its undo, changes them); the defaults until the first read."""
        return self.snapshot.settings if self.snapshot is not None else Settings()

    # ================================================================ opening, closing
    def open(self, path: Path, root: Path | None, scan: bool = False) -> bool:
        """Close the current library (its queued edits first) and open this one; the
        catalog is opened in the worker thread, ``opened`` (then the scan, if asked)
        or ``problem`` follows."""
        if not self.close_library():
            return False
        self.catalog_path, self.root = Path(path), root
        self.last_summary = None
        self.snapshot = None
        self._refreshing = self._refresh_wanted = False  # reads of the old one are dropped
        self._edits_queued = 0
        self.map_layout.invalidate()
        unrecorded = legacy_grouping(self.settings)
        worker = SerialWorker(
            lambda: jobs.Library.open(Path(path), root, unrecorded), jobs.Library.close, self
        )
        worker.broken.connect(lambda exc: self._open_failed(worker, exc, root, scan))
        self.worker = worker
        self.read(lambda library: library.catalog.root, lambda r: self._opened(r, scan))
        return True

    def _opened(self, root: Path | None, scan: bool) -> None:
        self.root = root
        self.opened.emit()
        self.refresh()
        if scan:
            self.start_scan()

    def _open_failed(
        self, worker: SerialWorker, exc: BaseException, root: Path | None, scan: bool
    ) -> None:
        if worker is not self.worker:
            return
        self.worker = None
        self.catalog_path = self.root = None
        if isinstance(exc, DamagedCatalog):
            self.damaged.emit(exc, root, scan)  # the window offers the backup
        else:
            self.problem.emit("Cannot open the library", str(exc))
        self.closed.emit()

    def restore_backup(
        self, copy: Path, catalog_path: Path, root: Path | None, scan: bool = False
    ) -> None:
        """Put a backup in place of a catalog that is not open (the damaged one is kept
        beside it), off the GUI thread, then open the library again."""

        def restored(_saved: object) -> None:
            self.message.emit(f"Restored the library from the backup {copy.name}", 10000)
            self.open(catalog_path, root, scan)

        self._run(
            None,
            call_job(lambda: backup.restore(copy, catalog_path)),
            on_result=restored,
            on_error=lambda e: self.problem.emit("Cannot restore the backup", str(e)),
        )

    def close_library(self, timeout_ms: int = STOP_TIMEOUT_MS) -> bool:
        """Stop the long jobs, let queued edits finish, close the catalog."""
        if not self.stop_tasks(timeout_ms):
            return False
        worker, self.worker = self.worker, None
        self._queued.clear()
        if worker is not None:
            worker.finish()
            worker.deleteLater()
            self.closed.emit()
        return True

    def shutdown(self) -> None:
        """At exit: nothing new starts; queued edits are written; processes end."""
        self._closing = True
        self._live.stop()
        self.close_library()
        runtime.shutdown_helper()
        for task in (self.parent() or self).findChildren(Task):
            task.wait(5000)

    # ================================================================ reads and edits
    def read(
        self,
        call: Callable[[jobs.Library], Any],
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run ``call(library)`` after everything queued before it; results on the GUI
        thread. Dropped when the library is closed before it ran."""
        worker = self.worker
        if worker is None:
            return

        def current(callback: Callable[[Any], None] | None) -> Callable[[Any], None] | None:
            if callback is None:
                return None
            return lambda value: callback(value) if worker is self.worker else None

        worker.submit(call, current(on_result), current(on_error or self._read_failed))

    def _read_failed(self, exc: BaseException) -> None:
        self.message.emit(f"Cannot read the library: {exc}", 8000)

    def edit(
        self,
        change: Callable[[Editor], Any],
        on_done: Callable[[Any], None] | None = None,
        *,
        faces_changed: bool = False,
    ) -> bool:
        """Queue one edit; it is written in order after every earlier one, then the views
        refresh. ``faces_changed``: the set of faces on the map may change (not a face,
        undo, redo). Returns False (with a word why) when edits are not allowed now."""
        if not self.allows(Activity.EDIT):
            self.message.emit("Please wait until the faces are grouped", 4000)
            return False
        if faces_changed:
            self.map_layout.invalidate()

        def done(result: Any) -> None:
            self._edits_queued -= 1
            if on_done is not None:
                on_done(result)
            self.refresh()

        def failed(exc: BaseException) -> None:
            self._edits_queued -= 1
            self.problem.emit("Cannot do that", str(exc))
            self.refresh()

        self._edits_queued += 1
        self.read(lambda library: change(library.editor), done, failed)
        return True

    def pending(self) -> int:
        """Reads and edits queued or in flight."""
        return 0 if self.worker is None else self.worker.pending()

    def refreshing(self) -> bool:
        """A read of the views' state is under way or asked for, or an edit is queued
        (its refresh follows once it is written): what the views show is not the latest."""
        return self._refreshing or self._refresh_wanted or self._edits_queued > 0

    def refresh(self) -> None:
        """Read what the views show once more; requests meanwhile merge into one read."""
        if self.worker is None or self._closing:
            return
        self._refresh_wanted = True
        self.busy_changed.emit()
        if not self._refreshing:
            self._read_snapshot()

    def _read_snapshot(self) -> None:
        self._refresh_wanted = False
        self._refreshing = True
        show_hidden, map_ids = self.show_hidden, self.map_ids()

        def arrived(snapshot: jobs.Snapshot) -> None:
            self._refreshing = False
            if self._refresh_wanted:
                self._read_snapshot()  # something changed while reading: read again
                return
            self.snapshot = snapshot
            self.snapshot_ready.emit(snapshot)
            # What the window now holds lives until the next read: left to the cyclic
            # collector, its full passes walked every one of those objects on the GUI
            # thread, 55-120 ms at 10^5 faces, in whichever step they fell (bench/gui_latency).
            gc.freeze()
            self.busy_changed.emit()

        def failed(exc: BaseException) -> None:
            self._refreshing = False
            self._read_failed(exc)

        def read(library: jobs.Library) -> jobs.Snapshot:
            return jobs.read_snapshot(library, show_hidden, map_ids)

        self.read(read, arrived, failed)

    # ================================================================ long jobs
    def _run(self, activity: Activity | None, job: Job, **callbacks: Any) -> Task:
        task = run_task(job, self, **callbacks)
        if activity is not None:
            self.tasks[activity] = task
            task.done.connect(self.busy_changed)
        return task

    def start_scan(self, *, accept_missing: bool = False) -> None:
        """Scan the library folder; ``accept_missing``: the user confirmed that the photos
        a refused scan found gone are gone on purpose (they are marked missing)."""
        if self.catalog_path is None or self.root is None or not self.allows(Activity.SCAN):
            return
        if not self.root.is_dir():
            self.problem.emit(
                "Folder Not Found",
                f"{self.root} cannot be found — is the drive connected? The library is shown "
                "as it was; nothing was changed.",
            )
            return
        self.scan_stage = ScanStage.SYNC
        task = self._run(
            Activity.SCAN,
            # the library's own detector, max side and grouping, however it was made
            jobs.scan_job(
                self.catalog_path, self.root, legacy_grouping(self.settings), accept_missing
            ),
            on_progress=self._scan_progress,
            on_result=self._scan_result,
            on_error=self._scan_error,
        )
        task.done.connect(self._scan_done)
        self._live.start()
        self.busy_changed.emit()

    def cancel_scan(self) -> None:
        task = self.tasks.get(Activity.SCAN)
        if is_running(task):
            task.cancel()

    def scan_cancelled(self) -> bool:
        task = self.tasks.get(Activity.SCAN)
        return is_running(task) and task.is_cancelled()

    def _scan_progress(self, event: object) -> None:
        stage = ScanStage.of(event)
        if stage is not self.scan_stage:
            self.scan_stage = stage
            self.busy_changed.emit()
        self.scan_progress.emit(event)

    def _scan_result(self, summary: object) -> None:
        self.last_summary = summary
        if not getattr(summary, "cancelled", False):
            self.map_layout.invalidate()
        self.scan_finished.emit(summary)

    def _scan_error(self, exc: BaseException) -> None:
        self.problem.emit("Scan failed", f"The scan stopped with an error:\n{exc}")
        self.scan_finished.emit(exc)

    def _scan_done(self) -> None:
        self._live.stop()
        self.scan_stage = ScanStage.IDLE
        self.busy_changed.emit()
        self.refresh()  # also recomputes the map if it is shown and faces changed

    def forget_missing(self, on_done: Callable[[Any], None]) -> bool:
        """Remove the missing photos and their faces for good, a backup first, in the
        queue's order; not while a scan or regroup may be writing the same files.
        ``on_done`` gets the core's Forgotten (counts and the backup)."""
        if self.running() & {Activity.SCAN, Activity.REGROUP}:
            self.message.emit("Wait for the scan to finish, then forget missing photos", 5000)
            return False

        def forget(editor: Editor) -> Any:
            from faceorganizer.core.library.sync import forget_missing  # walks folders: PIL

            return forget_missing(editor.catalog)

        return self.edit(forget, on_done, faces_changed=True)

    def regroup(self, algorithm: str, threshold: float) -> None:
        """Re-cluster everything in the helper process as one undoable edit, after the
        edits already queued (so none is overwritten)."""
        if self.catalog_path is None or not self.allows(Activity.REGROUP):
            self.message.emit("Wait for the scan to finish, then regroup", 5000)
            return
        path = self.catalog_path
        self.message.emit("Regrouping faces…", 0)

        def start(_: object = None) -> None:
            self._queued.discard(Activity.REGROUP)
            if not self.allows(Activity.REGROUP):
                return
            task = self._run(
                Activity.REGROUP,
                jobs.recluster_job(path, algorithm, threshold),
                on_result=lambda r: self.message.emit(
                    f"Regrouped: {count(r.people, 'person')}, "
                    f"{count(r.unassigned, 'face')} unassigned",
                    8000,
                ),
                on_error=lambda e: self.problem.emit("Regrouping failed", str(e)),
            )
            task.done.connect(self.refresh)
            self.busy_changed.emit()

        self._queued.add(Activity.REGROUP)  # no edit slips in before it starts
        self.busy_changed.emit()
        self.read(lambda _library: None, start, lambda _exc: start())

    def ensure_layout(self) -> None:
        """Positions for the map: from the catalog's cache, or computed in the background
        when the faces changed; ``layout_arrived`` brings them."""
        if self.catalog_path is None or not self.allows(Activity.LAYOUT):
            return
        if not self.map_layout.stale:
            return
        self.map_layout.taken()
        self._run(
            Activity.LAYOUT,
            jobs.layout_job(self.catalog_path),
            on_progress=self.layout_arrived.emit,
            on_result=self.layout_arrived.emit,
            on_error=self.layout_failed.emit,
        )

    # ================================================================ stopping
    def _running_tasks(self) -> list[Task]:
        """Every running job of the window: ours and its dialogs' (export, previews)."""
        owner = self.parent() or self
        return [t for t in owner.findChildren(Task) if t.running]

    def stop_tasks(self, timeout_ms: int = STOP_TIMEOUT_MS) -> bool:
        """Cancel all long jobs and wait for them (a scan stops after the photos in flight)."""
        tasks = self._running_tasks()
        if not tasks:
            return True
        for task in tasks:
            task.cancel()
        loop = QEventLoop()
        QTimer.singleShot(timeout_ms, loop.quit)
        check = QTimer(interval=50)
        check.timeout.connect(lambda: loop.quit() if not self._running_tasks() else None)
        check.start()
        loop.exec()
        check.stop()
        return not self._running_tasks()
