"""Heavy work in other processes, so a caller's thread only waits (and the GIL stays free).

A worker *thread* is not enough for a GUI: importing dlib/scipy and running numba code
(UMAP, the clustering kernels, their JIT compilation) hold the GIL for up to a second at
a time, and a GUI thread that cannot get the GIL freezes (measured: 0.8 s stalls with the
scan in a thread). So the work runs in:

* a fresh process per scan (:func:`in_process`), streaming a generator's yields back over
  a queue; cancelling sets an event the generator polls;
* one long-lived helper process (:func:`in_helper`) for shorter jobs a user waits for:
  the re-clustering preview, re-clustering, split proposals, the review list and UMAP.
  It stays alive, so modules load and numba compiles once per session. Cancelling a job
  it is running ends the process (``Process.terminate``); the next job starts a new one.

Each process opens its own Catalog (SQLite in WAL mode lets others read meanwhile).
Nothing here imports Qt, so the processes start light.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import threading
import traceback
from collections.abc import Callable, Generator
from typing import Any

BACKGROUND_NICENESS = 5  # background work yields the CPU to the window on busy machines
POLL_S = 0.1  # how often a waiting caller checks ``cancelled``
_SPAWN = multiprocessing.get_context("spawn")  # never fork a process running Qt threads

Cancelled = Callable[[], bool]


class JobCancelled(Exception):
    """The job was cancelled before it finished."""


class WorkerError(Exception):
    """An exception in a worker process, carried back with its message and traceback."""

    def __init__(self, kind: str, message: str, details: str) -> None:
        super().__init__(message or kind)
        self.kind = kind
        self.details = details


def _lower_priority() -> None:
    with contextlib.suppress(AttributeError, OSError):  # Windows, or not permitted
        os.nice(BACKGROUND_NICENESS)


def _failure(exc: BaseException) -> tuple[str, str, str]:
    return type(exc).__name__, str(exc), traceback.format_exc()


def _died(process: Any) -> WorkerError:
    return WorkerError(
        "ProcessDied",
        f"the worker process ended unexpectedly (exit code {process.exitcode})",
        "",
    )


# ---------------------------------------------------------------------- one process per job


def _run_steps(function: Callable[..., Any], args: tuple, events: Any, stop: Any) -> None:
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
    except BaseException as exc:  # everything goes back to the caller as a message
        events.put(("error", _failure(exc)))


def in_process(
    function: Callable[..., Generator[Any, None, Any]],
    *args: object,
    cancelled: Cancelled,
) -> Generator[Any, None, Any]:
    """Run a generator function in a fresh process: its yields are yielded here, its
    return value returned; ``cancelled()`` is forwarded (the process ends gracefully)."""
    events = _SPAWN.Queue()
    stop = _SPAWN.Event()
    process = _SPAWN.Process(target=_run_steps, args=(function, args, events, stop))
    process.start()
    try:
        while True:
            if cancelled() and not stop.is_set():
                stop.set()
            try:
                kind, payload = events.get(timeout=POLL_S)
            except queue.Empty:
                if not process.is_alive():
                    raise _died(process) from None
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


# ---------------------------------------------------------------------- the helper process


def _serve(requests: Any, replies: Any) -> None:
    """Helper process entry: run ``(function, args)`` requests one after another."""
    _lower_priority()
    while True:
        request = requests.get()
        if request is None:
            return
        function, args = request
        try:
            replies.put(("result", function(*args)))
        except BaseException as exc:
            replies.put(("error", _failure(exc)))


class Helper:
    """One long-lived process that runs short jobs one at a time, for any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # one job at a time; others wait (cancellably)
        self._process: Any = None
        self._requests: Any = None
        self._replies: Any = None

    def _start(self) -> None:
        if self._process is not None and self._process.is_alive():
            return
        self._requests, self._replies = _SPAWN.Queue(), _SPAWN.Queue()
        self._process = _SPAWN.Process(
            target=_serve, args=(self._requests, self._replies), daemon=True
        )
        self._process.start()

    def _stop(self) -> None:
        """End the process at once (a running job is abandoned)."""
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            process.join(timeout=5)
        for channel in (self._requests, self._replies):
            if channel is not None:
                channel.close()
        self._requests = self._replies = None

    def run(self, function: Callable[..., Any], *args: object, cancelled: Cancelled) -> Any:
        """``function(*args)`` in the helper process; raises JobCancelled if cancelled."""
        while not self._lock.acquire(timeout=POLL_S):
            if cancelled():
                raise JobCancelled()
        try:
            if cancelled():
                raise JobCancelled()
            self._start()
            self._requests.put((function, args))
            while True:
                if cancelled():
                    self._stop()  # busy with this job: stop it, start afresh next time
                    raise JobCancelled()
                try:
                    kind, payload = self._replies.get(timeout=POLL_S)
                except queue.Empty:
                    if not self._process.is_alive():
                        error = _died(self._process)
                        self._stop()
                        raise error from None
                    continue
                if kind == "error":
                    raise WorkerError(*payload)
                return payload
        finally:
            self._lock.release()

    def shutdown(self) -> None:
        """Stop the process (at exit); a running job is abandoned."""
        locked = self._lock.acquire(timeout=1.0)  # a cancelled job lets go within POLL_S
        try:
            self._stop()
        finally:
            if locked:
                self._lock.release()


_helper = Helper()


def _never() -> bool:
    return False


def in_helper(function: Callable[..., Any], *args: object, cancelled: Cancelled = _never) -> Any:
    """Run ``function(*args)`` in the shared helper process; wait (GIL-free) until done."""
    return _helper.run(function, *args, cancelled=cancelled)


def shutdown_helper() -> None:
    _helper.shutdown()
