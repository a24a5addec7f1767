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


def labeled_faces(catalog: Catalog) -> tuple[list[str], list[int | None], int, int]:
    """(label, predicted person) of the largest face of each labeled image, the number
    of labeled images, and how many of those have no face at all."""
    largest: dict[str, tuple[str, int | None, bool]] = {}
    for path, (has_face, person) in catalog.largest_faces().items():
        label = path.split("/", 1)[0]
        if "/" not in path or label.startswith("_"):
            continue
        largest[path] = (label, person, has_face)
    found = [(label, person) for label, person, has_face in largest.values() if has_face]
    missing = sum(1 for _, _, has_face in largest.values() if not has_face)
    return [f[0] for f in found], [f[1] for f in found], len(largest), missing


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
            truth, predicted, images, missing = labeled_faces(catalog)
            result = score(truth, predicted)
            stats = catalog.stats()
        finally:
            catalog.close()
    result.update(
        faces=stats["faces"],
        images=images,
        images_without_face=missing,
        seconds={k: round(v, 3) for k, v in summary.seconds.items()},
    )
    return result


def score(truth: list[str], predicted: list[int | None]) -> dict[str, Any]:
    """All metrics; a face with no person (DBSCAN noise) counts as its own cluster."""
    names = {name: i for i, name in enumerate(sorted(set(truth)))}
    true_ids = np.array([names[t] for t in truth], dtype=np.int64)
    pred_ids = np.array([-1 if p is None else p for p in predicted], dtype=np.int64)
    return metrics.evaluate(true_ids, pred_ids)
