"""The two ways work leaves the GUI thread.

* :class:`Task`: a long job (scan, export, UMAP layout, clustering preview, re-cluster,
  photo decoding) in a QThread of its own. A job is a callable that takes ``cancelled``
  and returns a generator: its yields become ``progress`` signals, its return value the
  ``finished`` signal, an exception the ``failed`` signal. It runs in the worker thread,
  so it opens its own Catalog there (SQLite connections belong to one thread).
* :class:`SerialWorker`: one thread owning one resource (the library's catalog
  connection and editor) that runs short calls on it strictly in submission order, so
  an edit, the undo after it and the read that shows both happen in the user's order.
"""

from __future__ import annotations

import itertools
import queue
import traceback
from collections.abc import Callable, Generator
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QThread, Signal

Job = Callable[[Callable[[], bool]], Generator[Any, None, Any]]


def call_job(function: Callable[[], Any]) -> Job:
    """Wrap a plain call as a job with no progress (for preview, re-cluster, layout)."""

    def job(_cancelled: Callable[[], bool]) -> Generator[Any, None, Any]:
        return function()
        yield  # pragma: no cover - makes this a generator

    return job


class _Runner(QThread):
    progress = Signal(object)
    succeeded = Signal(object)
    errored = Signal(object)

    def __init__(self, job: Job, cancelled: Callable[[], bool], parent: QObject) -> None:
        super().__init__(parent)
        self._job = job
        self._cancelled = cancelled

    def run(self) -> None:  # noqa: D401 - Qt override
        try:
            steps = self._job(self._cancelled)
            while True:
                try:
                    event = next(steps)
                except StopIteration as stop:
                    self.succeeded.emit(stop.value)
                    return
                self.progress.emit(event)
        except Exception as exc:  # reported to the GUI, never lost in the thread
            exc.__dict__.setdefault("gui_traceback", traceback.format_exc())
            self.errored.emit(exc)


class Task(QObject):
    """A running job. Signals arrive on the GUI thread (queued across threads).

    ``finished`` carries the job's return value, ``failed`` the exception, and ``done``
    fires after either, so callers can clean up in one place.
    """

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(object)
    done = Signal()

    def __init__(self, job: Job, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cancel_requested = False
        self._runner = _Runner(job, self.is_cancelled, self)
        self._runner.progress.connect(self.progress)
        self._runner.succeeded.connect(self._on_success)
        self._runner.errored.connect(self._on_error)
        self._runner.finished.connect(self._on_thread_finished)
        self.running = False

    def start(self) -> Task:
        self.running = True
        self._runner.start()
        return self

    def cancel(self) -> None:
        """Ask the job to stop at its next check; it finishes normally afterwards."""
        self._cancel_requested = True

    def is_cancelled(self) -> bool:
        return self._cancel_requested

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until the thread ends (only for shutdown and tests)."""
        return self._runner.wait(msecs)

    def _on_success(self, value: object) -> None:
        self.finished.emit(value)

    def _on_error(self, exc: object) -> None:
        self.failed.emit(exc)

    def _on_thread_finished(self) -> None:
        self._runner.wait()  # the thread is in its last instructions: make it safe to delete
        self.running = False
        self.done.emit()


def is_running(task: Task | None) -> bool:
    """Safe on a Task that already ended and was deleted (its wrapper outlives it)."""
    return task is not None and shiboken6.isValid(task) and task.running


def run_task(
    job: Job,
    parent: QObject,
    *,
    on_progress: Callable[[Any], None] | None = None,
    on_result: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
) -> Task:
    """Start ``job`` in a thread and connect the callbacks; the Task is parented to
    ``parent`` and deletes itself when the thread has ended."""
    task = Task(job, parent)
    if on_progress is not None:
        task.progress.connect(on_progress)
    if on_result is not None:
        task.finished.connect(on_result)
    if on_error is not None:
        task.failed.connect(on_error)
    task.done.connect(task.deleteLater)
    return task.start()


Call = Callable[[Any], Any]
Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class SerialWorker(QThread):
    """A thread that opens a resource and runs calls on it one at a time, in order.

    ``submit(call, on_result, on_error)`` queues ``call(resource)``; the callbacks run on
    the GUI thread. ``finish()`` lets every queued call run, then closes the resource:
    nothing submitted is dropped. If opening fails, ``broken`` carries the exception and
    queued calls are never answered.
    """

    broken = Signal(object)
    _succeeded = Signal(int, object)
    _errored = Signal(int, object)

    def __init__(
        self,
        open_resource: Callable[[], Any],
        close_resource: Callable[[Any], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._open, self._close = open_resource, close_resource
        self._calls: queue.SimpleQueue[tuple[int, Call] | None] = queue.SimpleQueue()
        self._ids = itertools.count(1)
        self._waiting: dict[int, tuple[Done | None, Failed | None]] = {}
        self._succeeded.connect(self._on_success)  # queued: emitted in the worker thread
        self._errored.connect(self._on_error)
        self._closed = False

    def submit(
        self,
        call: Callable[[Any], Any],
        on_result: Done | None = None,
        on_error: Failed | None = None,
    ) -> int:
        if self._closed:
            raise RuntimeError("the worker is finishing; no new calls")
        call_id = next(self._ids)
        self._waiting[call_id] = (on_result, on_error)
        self._calls.put((call_id, call))
        if not self.isRunning():
            self.start()
        return call_id

    def pending(self) -> int:
        """Calls submitted whose result has not reached the GUI thread yet."""
        return len(self._waiting)

    def finish(self, timeout_ms: int = 60_000) -> bool:
        """Run what is queued, close the resource, end the thread; no new calls after."""
        self._closed = True
        if not self.isRunning():
            return True
        self._calls.put(None)
        return self.wait(timeout_ms)

    def run(self) -> None:  # noqa: D401 - Qt override
        try:
            resource = self._open()
        except Exception as exc:
            self.broken.emit(exc)
            return
        try:
            while (item := self._calls.get()) is not None:
                call_id, call = item
                try:
                    result = call(resource)
                except Exception as exc:  # reported to the GUI, never lost in the thread
                    exc.__dict__.setdefault("gui_traceback", traceback.format_exc())
                    self._errored.emit(call_id, exc)
                else:
                    self._succeeded.emit(call_id, result)
        finally:
            self._close(resource)

    def _on_success(self, call_id: int, result: object) -> None:
        on_result, _ = self._waiting.pop(call_id, (None, None))
        if on_result is not None:
            on_result(result)

    def _on_error(self, call_id: int, exc: BaseException) -> None:
        _, on_error = self._waiting.pop(call_id, (None, None))
        if on_error is not None:
            on_error(exc)
