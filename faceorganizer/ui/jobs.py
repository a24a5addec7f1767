"""The app's background jobs, each a generator run by :mod:`faceorganizer.ui.workers`.

Every job opens its own Catalog in the worker thread and closes it when done; heavy
modules (dlib via the pipeline, umap, scipy, PIL) are imported here, inside the job, so
the window starts without them.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from faceorganizer.config import Settings
from faceorganizer.core.store.catalog import Catalog
from faceorganizer.ui import compute
from faceorganizer.ui.widgets.item_models import Row, load_people
from faceorganizer.ui.workers import call_job

Cancelled = Callable[[], bool]
JobGen = Generator[Any, None, Any]


def scan_job(catalog_path: Path, root: Path, settings: Settings | None):
    """Scan a folder (sync, faces, people) in its own process; returns the ScanSummary.
    ``settings`` None = the library's own."""

    def job(cancelled: Cancelled) -> JobGen:
        return (
            yield from compute.in_process(
                compute.scan_steps, str(catalog_path), str(root), settings, cancelled=cancelled
            )
        )

    return job


@dataclass(frozen=True)
class Snapshot:
    """What the views show of a catalog, read in one go off the GUI thread."""

    serial: int  # which request this answers
    catalog_path: Path
    rows: list[Row]
    names: dict[int, str]
    faces: int
    errors: list[tuple[str, str]]
    map_ids: np.ndarray | None
    map_persons: np.ndarray | None


def snapshot_job(serial: int, catalog_path: Path, show_hidden: bool, map_ids: np.ndarray | None):
    def job(cancelled: Cancelled) -> JobGen:
        catalog = Catalog(catalog_path)
        try:
            return Snapshot(
                serial,
                catalog_path,
                load_people(catalog, show_hidden),
                catalog.person_names(),
                catalog.usable_face_count(),
                catalog.errors(),
                map_ids,
                None if map_ids is None else catalog.person_ids(map_ids),
            )
        finally:
            catalog.close()
        yield  # pragma: no cover - makes this a generator

    return job


@dataclass(frozen=True)
class Layout:
    face_ids: np.ndarray
    xy: np.ndarray
    persons: np.ndarray  # person id per face, -1 = none
    final: bool  # False: a quick PCA preview while UMAP runs


def layout_job(catalog_path: Path):
    """The map's positions: cached ones if they cover exactly the current faces, else a
    PCA preview at once (as progress) and UMAP from the helper process, then cached."""

    def job(cancelled: Cancelled) -> JobGen:
        catalog = Catalog(catalog_path)
        try:
            face_ids, _files, vectors = catalog.embeddings()
            cached = catalog.layout()
            persons = catalog.person_ids(face_ids)
            if len(face_ids) and set(cached) == set(face_ids.tolist()):
                xy = np.array([cached[int(f)] for f in face_ids], dtype=np.float32)
                return Layout(face_ids, xy, persons, True)
            if len(face_ids) < compute.UMAP_MIN_FACES:
                xy = compute.pca_layout(vectors)
            else:
                yield Layout(face_ids, compute.pca_layout(vectors), persons, False)
                xy = compute.in_helper(compute.umap_layout, vectors, cancelled=cancelled)
            catalog.set_layout(face_ids, xy)
            return Layout(face_ids, xy, persons, True)
        finally:
            catalog.close()

    return job


def _helper_job(function, *args: object):
    """A cancellable job that runs ``function(*args)`` in the helper process."""

    def job(cancelled: Cancelled) -> JobGen:
        return compute.in_helper(function, *args, cancelled=cancelled)
        yield  # pragma: no cover - makes this a generator

    return job


def preview_job(catalog_path: Path, algorithm: str, threshold: float):
    """Number of people a re-cluster would give, computed in the helper process."""
    return _helper_job(compute.preview_count, str(catalog_path), algorithm, threshold)


def recluster_job(catalog_path: Path, algorithm: str, threshold: float):
    """Re-cluster with the user's settings, as one undoable edit; returns ClusterResult."""
    return call_job(
        lambda: compute.in_helper(
            compute.recluster_catalog, str(catalog_path), algorithm, threshold
        )
    )


def split_job(catalog_path: Path, person_id: int, threshold: float):
    """Groups an automatic split of one person would make (a preview, nothing written)."""
    return _helper_job(compute.split_groups, str(catalog_path), person_id, threshold)


def review_job(catalog_path: Path):
    """Suggested (face, person) pairs for the "Is this X?" review."""
    return _helper_job(compute.review_list, str(catalog_path))


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


@dataclass(frozen=True)
class Picture:
    rgb: np.ndarray  # upright, reduced size
    scale: float  # picture pixels per original pixel (face boxes are in original pixels)


def photo_job(path: Path, max_side: int):
    """Decode a photo upright (EXIF orientation, HEIC…) at screen size, for the viewer."""

    def job(cancelled: Cancelled) -> JobGen:
        from faceorganizer.core.vision.images import load_photo

        photo = load_photo(path, max_side)
        return Picture(photo.rgb, photo.scale)
        yield  # pragma: no cover - makes this a generator

    return job
