"""Library work addressed by catalog path: what the GUI runs in other processes.

Each function opens its own Catalog in the process that runs it (connections never
cross processes) and returns plain values that pickle cheaply.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from faceorganizer.config import Settings
from faceorganizer.core.library import layout
from faceorganizer.core.store.catalog import Catalog


def _open(catalog_path: str, readonly: bool = False, root: str | None = None) -> closing[Catalog]:
    """The catalog for a ``with`` block, closed when it ends, however it ends."""
    return closing(
        Catalog(Path(catalog_path), readonly=readonly, root=None if root is None else Path(root))
    )


def library_settings(catalog: Catalog, unrecorded: Settings | None = None) -> Settings:
    """How this library is scanned and grouped: its catalog's record, with the grouping
    of ``unrecorded`` for a catalog with faces but no grouping recorded (made by a
    version before libraries kept one), when the caller knows how it was grouped."""
    settings = catalog.settings()
    if unrecorded is None or catalog.has_grouping() or catalog.face_count() == 0:
        return settings
    return replace(settings, algorithm=unrecorded.algorithm, threshold=unrecorded.threshold)


def read_library_settings(catalog_path: str, unrecorded: Settings | None) -> Settings:
    with _open(catalog_path, readonly=True) as catalog:
        return library_settings(catalog, unrecorded)


def preview_count(catalog_path: str, algorithm: str, threshold: float) -> int:
    """People a re-cluster would give (read-only)."""
    from faceorganizer.core.library.people import preview_people

    with _open(catalog_path, readonly=True) as catalog:
        return preview_people(catalog, algorithm, threshold)


def recluster_catalog(catalog_path: str, algorithm: str, threshold: float) -> Any:
    """Re-cluster as one undoable edit; returns the core's ClusterResult."""
    from faceorganizer.core.library.people import recluster

    with _open(catalog_path) as catalog:
        return recluster(catalog, algorithm, threshold, undoable=True)


def split_groups(catalog_path: str, person_id: int, threshold: float) -> list[list[int]]:
    """The groups an automatic split of one person would make (nothing is written)."""
    from faceorganizer.core.library.people import split_proposal

    with _open(catalog_path, readonly=True) as catalog:
        return split_proposal(catalog, person_id, threshold)


def review_list(
    catalog_path: str,
    asked: list[tuple[int, int | None, int | None]],
    answers: list[bool],
    reach: float | None,
) -> tuple[float | None, list[tuple[int, int | None, int | None, float, tuple[int, ...]]]]:
    """The review's next questions (``review.next_questions``; ``reach`` None: the
    first ones) as (person, face or None, other person or None, distance, more people the
    face or the other person may be), closest first, and the reach they came from; plain
    tuples, so the window does not import the clustering code."""
    from faceorganizer.core.library.review import PAIR_BAND, key_of, next_questions

    with _open(catalog_path, readonly=True) as catalog:
        reach, questions = next_questions(catalog, set(asked), answers, reach or PAIR_BAND)
        return reach, [(*key_of(q), q.distance, q.others) for q in questions]


def map_layout(catalog_path: str, final: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """(face ids, positions, person per face or -1, final) of every usable face: the
    catalog's cached layout if it covers exactly those faces; else UMAP when ``final``,
    otherwise a PCA preview (final itself below UMAP's minimum). Final ones are cached."""
    with _open(catalog_path) as catalog:
        face_ids, _files, vectors = catalog.embeddings()
        persons = catalog.person_ids(face_ids)
        cached = catalog.layout()
        if len(face_ids) and set(cached) == set(face_ids.tolist()):
            xy = np.array([cached[int(f)] for f in face_ids], dtype=np.float32)
            return face_ids, xy, persons, True
        if not final and len(face_ids) >= layout.UMAP_MIN_FACES:
            return face_ids, layout.pca_layout(vectors), persons, False
        xy = layout.umap_layout(vectors)  # PCA itself for few faces
        catalog.set_layout(face_ids, xy)
        return face_ids, xy, persons, True


def scan_steps(
    catalog_path: str,
    root: str,
    unrecorded: Settings | None,
    accept_missing: bool = False,
    *,
    cancelled: Callable[[], bool],
) -> Generator[Any, None, Any]:
    """The core scan as the CLI runs it, with the library's own settings (``unrecorded``:
    see :func:`library_settings`); yields its Progress events, returns the summary.
    ``accept_missing``: the user said the photos are gone on purpose (mark them missing)."""
    from faceorganizer.core.library.scan import ScanSummary, scan

    summary = ScanSummary()
    with _open(catalog_path, root=root) as catalog:
        settings = library_settings(catalog, unrecorded)
        yield from scan(
            catalog,
            Path(root),
            settings,
            cancelled=cancelled,
            summary=summary,
            accept_missing=accept_missing,
        )
    return summary
