"""The app's background work, run by :mod:`faceorganizer.ui.workers`.

Long jobs (``*_job``) are generators run in a Task thread of their own; each opens its
own Catalog there and closes it when done. Reads and edits of the open library
(:class:`Library`, ``read_*``) run in the controller's serial worker on its one
connection. Heavy modules (dlib via the pipeline, umap, scipy, PIL) are imported inside
the jobs, so the window starts without them.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from faceorganizer.config import Settings
from faceorganizer.core.library import runtime, tasks
from faceorganizer.core.library.edits import Editor
from faceorganizer.core.store.catalog import Catalog, default_person_name
from faceorganizer.ui.widgets.item_models import UNKNOWN_LABEL, Row, load_people, update_people
from faceorganizer.ui.workers import call_job
from faceorganizer.wording import count

Cancelled = Callable[[], bool]
JobGen = Generator[Any, None, Any]
MAX_TOUCHED = 1000  # people an edit may touch before reading them all is as quick


def scan_job(
    catalog_path: Path, root: Path, unrecorded: Settings | None, accept_missing: bool = False
):
    """Scan a folder (sync, faces, people) in its own process, with the library's own
    settings (``unrecorded``: see tasks.library_settings); returns the ScanSummary.
    ``accept_missing``: the user confirmed that most photos are gone on purpose."""

    def job(cancelled: Cancelled) -> JobGen:
        return (
            yield from runtime.in_process(
                tasks.scan_steps,
                str(catalog_path),
                str(root),
                unrecorded,
                accept_missing,
                cancelled=cancelled,
            )
        )

    return job


def library_settings_job(catalog_path: Path, unrecorded: Settings | None):
    """The library's own settings, read off the GUI thread."""
    return call_job(lambda: tasks.read_library_settings(str(catalog_path), unrecorded))


@dataclass
class Library:
    """The open library as the serial worker holds it: one connection, one editor, and
    the grouping it had before libraries recorded theirs (see tasks.library_settings)."""

    catalog: Catalog
    editor: Editor
    unrecorded: Settings | None = None
    missing: tuple[tuple[int, ...], frozenset[int]] = ((), frozenset())  # files, their faces
    tiles: tuple[bool, list[Row]] | None = None  # the people last read (show hidden?, rows)

    @classmethod
    def open(cls, path: Path, root: Path | None, unrecorded: Settings | None = None) -> Library:
        """The catalog, checked whole before anything is written to it: a damaged one
        is refused (DamagedCatalog names the backup to put back)."""
        catalog = Catalog(path)
        try:
            catalog.verify()
            if root is not None:
                catalog.set_root(root)
        except Exception:
            catalog.close()
            raise
        return cls(catalog, Editor(catalog), unrecorded)

    def settings(self) -> Settings:
        """How the library is scanned and grouped (an undone regroup brings back the old)."""
        return tasks.library_settings(self.catalog, self.unrecorded)

    def close(self) -> None:
        self.catalog.close()


@dataclass(frozen=True)
class Snapshot:
    """What the views show of a catalog, read in one go off the GUI thread."""

    rows: list[Row]
    names: dict[int, str]  # the names users gave; others are default_person_name
    faces: int
    errors: list[tuple[str, str]]
    undo: str | None  # label of the edit Undo would take back
    redo: str | None
    map_ids: np.ndarray | None
    map_persons: np.ndarray | None
    settings: Settings  # the library's own
    missing: int  # photos the last scan did not find
    missing_faces: frozenset[int]  # their faces, shown greyed


def read_missing(library: Library) -> tuple[tuple[int, ...], frozenset[int]]:
    """The missing files and their faces: the faces are read again only when the files
    changed (a scan, Forget Missing), not for every edit's snapshot."""
    files = tuple(library.catalog.missing_file_ids())
    if files != library.missing[0]:
        library.missing = files, frozenset(library.catalog.missing_face_ids())
    return library.missing


def read_people(library: Library, show_hidden: bool) -> list[Row]:
    """The person tiles: after edits alone, only the people they touched are read
    again; after any other write (a scan, a regroup, another app), all of them."""
    touched = library.editor.take_touched()
    last = library.tiles
    if touched is None or last is None or last[0] != show_hidden or len(touched) > MAX_TOUCHED:
        rows = load_people(library.catalog, show_hidden)
    else:
        rows = update_people(last[1], library.catalog, show_hidden, touched)
    library.tiles = show_hidden, rows
    return rows


def read_snapshot(library: Library, show_hidden: bool, map_ids: np.ndarray | None) -> Snapshot:
    catalog = library.catalog
    missing, missing_faces = read_missing(library)
    return Snapshot(
        read_people(library, show_hidden),
        catalog.given_names(),
        catalog.usable_face_count(),
        catalog.errors(),
        library.editor.undo_label(),
        library.editor.redo_label(),
        map_ids,
        None if map_ids is None else catalog.person_ids(map_ids),
        library.settings(),
        len(missing),
        missing_faces,
    )


@dataclass(frozen=True)
class Layout:
    face_ids: np.ndarray
    xy: np.ndarray
    persons: np.ndarray  # person id per face, -1 = none
    final: bool  # False: a quick PCA preview while UMAP runs


def layout_job(catalog_path: Path):
    """The map's positions, all computed in the helper process (reading 10^5 embeddings
    in a thread would hold the GIL the window needs): cached ones if they cover exactly
    the current faces, else a PCA preview at once (as progress), then UMAP, cached."""

    def job(cancelled: Cancelled) -> JobGen:
        path = str(catalog_path)
        first = Layout(*runtime.in_helper(tasks.map_layout, path, False, cancelled=cancelled))
        if first.final:
            return first
        yield first
        return Layout(*runtime.in_helper(tasks.map_layout, path, True, cancelled=cancelled))

    return job


def _helper_job(function, *args: object):
    """A cancellable job that runs ``function(*args)`` in the helper process."""

    def job(cancelled: Cancelled) -> JobGen:
        return runtime.in_helper(function, *args, cancelled=cancelled)
        yield  # pragma: no cover - makes this a generator

    return job


def preview_job(catalog_path: Path, algorithm: str, threshold: float):
    """Number of people a re-cluster would give, computed in the helper process."""
    return _helper_job(tasks.preview_count, str(catalog_path), algorithm, threshold)


def recluster_job(catalog_path: Path, algorithm: str, threshold: float):
    """Re-cluster with the user's settings, as one undoable edit; returns ClusterResult."""
    return call_job(
        lambda: runtime.in_helper(tasks.recluster_catalog, str(catalog_path), algorithm, threshold)
    )


def split_job(catalog_path: Path, person_id: int, threshold: float):
    """Groups an automatic split of one person would make (a preview, nothing written)."""
    return _helper_job(tasks.split_groups, str(catalog_path), person_id, threshold)


def review_job(
    catalog_path: Path,
    asked: list[tuple[int, int | None, int | None]] | None = None,
    answers: list[bool] | None = None,
    reach: float | None = None,
):
    """The review's next questions, not those ``asked``, and their reach (tasks.review_list)."""
    return _helper_job(tasks.review_list, str(catalog_path), asked or [], answers or [], reach)


ReviewRow = tuple[int, int | None, int | None, float, tuple[int, ...]]  # tasks.review_list


@dataclass(frozen=True)
class ReviewStep:
    """The review's next open question and what it shows of it."""

    position: int  # in the queue; its length when no question is left
    people: tuple[int, ...]  # the groups shown: the choices still there, then a pair's other
    names: tuple[str, ...]  # their names
    faces: tuple[list[int], ...]  # their faces
    asked: int | None  # the face whose photo is shown
    now: str = ""  # a face question: the group its face is in now (it would leave it)


def read_review_step(library: Library, queue: tuple[ReviewRow, ...], start: int) -> ReviewStep:
    """The first question from ``start`` on that no earlier answer settled (a group
    merged away, the face placed), with the people it offers that are still there. Run
    in the serial worker, so every answer queued before is written when it looks."""
    catalog = library.catalog
    for position in range(start, len(queue)):
        person, face, other, _distance, others = queue[position]
        info = catalog.face_info(face) if other is None and face is not None else None
        if other is None and (info is None or info["locked"] == 1):
            continue
        groups = (person, *others, *(() if other is None else (other,)))
        faces = {p: catalog.faces_of_person(p) for p in groups}
        shown = tuple(p for p in groups if faces[p])
        if len(shown) > (other is not None) and (other is None or faces[other]):
            asked = face if other is None else faces[other][0]
            names = tuple(_person_name(catalog, p) for p in shown)
            now = "" if info is None else _now_in(catalog, info["person_id"])
            return ReviewStep(position, shown, names, tuple(faces[p] for p in shown), asked, now)
    return ReviewStep(len(queue), (), (), (), None)


def _now_in(catalog: Catalog, person_id: int | None) -> str:
    """Where a face question's face is now: a face of a small group ("Person 006", two
    faces) is asked about bigger people, and a yes takes it out of that group."""
    if person_id is None:
        return f"This face is in {UNKNOWN_LABEL} now."
    faces = count(len(catalog.faces_of_person(person_id)), "face")
    return f"This face is in {_person_name(catalog, person_id)} now ({faces})."


def _person_name(catalog: Catalog, person_id: int) -> str:
    """The name a question shows: one row read for the question asked, not every
    person's name for each step of the review."""
    state = catalog.person_state(person_id)
    return "this person" if state is None else state[0] or default_person_name(person_id)


def export_job(catalog_path: Path, destination: Path, options: object):
    """Per-person folders via the CLI's engine; yields (done, total), returns the report."""

    def job(cancelled: Cancelled) -> JobGen:
        from faceorganizer.core.library.export import export

        catalog = Catalog(catalog_path)
        try:
            return (yield from export(catalog, destination, options, cancelled))  # type: ignore[arg-type]
        finally:
            catalog.close()

    return job


Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class PhotoFaces:
    """What the viewer says about a photo before it is decoded."""

    path: Path  # the photo on disk
    relative: str  # as the catalog lists it
    person: str  # the name of the chosen face's person, or "Unknown"
    boxes: list[tuple[Box, str, bool]]  # every face: box, name, is it the chosen one
    missing: bytes | None = None  # the photo is missing: the chosen face's thumbnail instead


@dataclass(frozen=True)
class Picture:
    rgb: np.ndarray  # upright, reduced size
    scale: float  # picture pixels per original pixel (face boxes are in original pixels)


def photo_job(catalog_path: Path, face_id: int, max_side: int):
    """The photo a face comes from: its faces and names (yielded first), then the photo
    decoded upright (EXIF orientation, HEIC…) at screen size, for the viewer. A missing
    photo (drive unplugged) is not looked for: its face's thumbnail comes instead."""

    def job(cancelled: Cancelled) -> JobGen:
        from faceorganizer.core.vision.images import load_photo

        catalog = Catalog(catalog_path, readonly=True)
        try:
            info = catalog.face_info(face_id)
            names = catalog.person_names()
            boxes = [
                (box, names.get(person, "") if person is not None else "", other == face_id)
                for other, box, person in catalog.faces_in_photo_of(face_id)
            ]
            root = catalog.root or Path()
            missing = catalog.thumbnail(face_id) or b"" if info["missing"] else None
        finally:
            catalog.close()
        person = info["person_id"]
        path = root / str(info["path"])
        name = names.get(person, "Unknown") if person is not None else "Unknown"  # type: ignore[arg-type]
        yield PhotoFaces(path, str(info["path"]), name, boxes, missing)
        if missing is not None:
            return None
        photo = load_photo(path, max_side)
        return Picture(photo.rgb, photo.scale)

    return job
