"""Grouping quality on a labeled folder (``<identity>/<image>``), as research repos report.

Folders whose name starts with ``_`` hold unlabeled photos (groups, no face): they are
scanned and clustered like any photo but left out of the scores. In a labeled photo only
the largest face carries the folder's label (LFW-style photos often show other people
in the background); every other face is clustered but not scored.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from faceorganizer.config import Settings
from faceorganizer.core.library.scan import ScanSummary, scan
from faceorganizer.core.store.catalog import Catalog
from faceorganizer.eval import metrics


def labeled_photos(catalog: Catalog) -> list[tuple[str, int | None, bool]]:
    """(label, predicted person, has a face) of each labeled image, judged by its
    largest face."""
    return [
        (path.split("/", 1)[0], person, has_face)
        for path, (has_face, person) in catalog.largest_faces().items()
        if "/" in path and not path.startswith("_")  # _folders are unlabeled
    ]


def score_photos(photos: list[tuple[str, int | None, bool]]) -> dict[str, Any]:
    """Scores over the faces found (the existing keys), the same scores end to end
    (``e2e_*``: a photo with no face found, or whose face joined no person, is missing
    from its person's folder, so it counts as a cluster of its own), and ``missed``."""
    found = [(label, person) for label, person, has_face in photos if has_face]
    result = score([label for label, _ in found], [person for _, person in found])
    e2e = score([label for label, _, _ in photos], [person for _, person, _ in photos])
    result.update({f"e2e_{key}": e2e[key] for key in E2E_KEYS})
    missed = len(photos) - len(found)
    result.update(images=len(photos), images_without_face=missed, missed=missed)
    return result


E2E_KEYS = ("pairwise_precision", "pairwise_recall", "pairwise_f", "bcubed_f")


def evaluate_folder(
    folder: Path,
    settings: Settings,
    catalog_path: Path | None = None,
) -> dict[str, Any]:
    """Scan ``folder`` (into a temporary catalog unless one is given) and score it."""
    with tempfile.TemporaryDirectory(prefix="faceorganizer-eval-") as temp:
        catalog = Catalog(catalog_path or Path(temp) / "eval.sqlite")
        try:
            summary = ScanSummary()
            for _ in scan(catalog, folder, settings, summary=summary):
                pass
            photos = labeled_photos(catalog)
            stats = catalog.stats()
        finally:
            catalog.close()
    result = score_photos(photos)
    result.update(
        faces=stats["faces"],
        seconds={k: round(v, 3) for k, v in summary.seconds.items()},
    )
    return result


def score(truth: list[str], predicted: list[int | None]) -> dict[str, Any]:
    """All metrics; a face with no person (DBSCAN noise) counts as its own cluster."""
    names = {name: i for i, name in enumerate(sorted(set(truth)))}
    true_ids = np.array([names[t] for t in truth], dtype=np.int64)
    pred_ids = np.array([-1 if p is None else p for p in predicted], dtype=np.int64)
    return metrics.evaluate(true_ids, pred_ids)
