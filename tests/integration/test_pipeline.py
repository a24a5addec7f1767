"""End to end on real photos and the real models: scan, quality, incremental rescan."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from faceorganizer.config import Settings
from faceorganizer.core.library.scan import ScanSummary, scan
from faceorganizer.core.store.catalog import Catalog
from faceorganizer.eval.evaluation import labeled_photos, score_photos


def run_scan(catalog: Catalog, root: Path, **settings: object) -> ScanSummary:
    summary = ScanSummary()
    for _ in scan(catalog, root, Settings(**settings), summary=summary):  # type: ignore[arg-type]
        pass
    return summary


def test_faces_dev_grouping_quality(scanned: tuple[Path, ScanSummary]) -> None:
    """Default settings (SFace) group faces-dev well: measured pairwise F 0.978, pairwise
    precision 1.000, BCubed F 0.984."""
    catalog = Catalog(scanned[0])
    result = score_photos(labeled_photos(catalog))
    assert result["images"] == 146
    assert result["missed"] <= 2
    assert result["pairwise_f"] >= 0.97
    assert result["pairwise_precision"] >= 0.99
    assert result["bcubed_f"] >= 0.97
    catalog.close()


def test_every_file_is_accounted_for(scanned: tuple[Path, ScanSummary], faces_dev: Path) -> None:
    catalog = Catalog(scanned[0])
    on_disk = {p for p in faces_dev.rglob("*") if p.is_file() and p.suffix.lower() != ".tsv"}
    rows = catalog.files()
    assert {catalog.root / r.path for r in rows} == on_disk
    assert all(r.status == "done" for r in rows)
    faces_per_file = {
        path: n
        for path, n in catalog.db.execute(
            "SELECT files.path, COUNT(faces.id) FROM files LEFT JOIN faces "
            "ON faces.file_id = files.id GROUP BY files.id"
        )
    }
    assert faces_per_file["_group/frec__obama_and_biden.jpg"] >= 2  # plus a face behind them
    assert faces_per_file["_noface/facenetpt__noise_1.jpg"] == 0
    catalog.close()


def test_same_photo_faces_never_share_a_person(catalog: Catalog) -> None:
    clashes = catalog.db.execute(
        "SELECT file_id, person_id, COUNT(*) FROM faces WHERE person_id IS NOT NULL "
        "GROUP BY file_id, person_id HAVING COUNT(*) > 1"
    ).fetchall()
    assert clashes == []


def test_rescan_of_unchanged_folder_processes_nothing(catalog: Catalog, faces_dev: Path) -> None:
    before = catalog.stats()
    summary = run_scan(catalog, faces_dev)
    assert summary.processed == 0
    assert summary.sync.unchanged == before["files"]
    assert catalog.stats()["faces"] == before["faces"]


def test_incremental_rescan_new_changed_moved_missing(small_library: Path, tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "lib.sqlite", root=small_library)
    first = run_scan(catalog, small_library, workers=1)
    assert first.processed == first.sync.new == 7
    faces_before = catalog.stats()["faces"]
    obama = small_library / "Barack_Obama"
    moved_face = catalog.db.execute(
        "SELECT faces.id FROM faces JOIN files ON files.id = file_id WHERE path = ?",
        ("Barack_Obama/frec__obama.jpg",),
    ).fetchone()[0]

    os.rename(obama / "frec__obama.jpg", small_library / "renamed obama.jpg")  # moved
    (small_library / "Joe_Biden" / "frec__biden.jpg").unlink()  # missing
    shutil.copy2(obama / "frec__obama2.jpg", obama / "frec__obama1.jpg")  # changed content
    second = run_scan(catalog, small_library, workers=1)

    assert (second.sync.moved, second.sync.missing, second.sync.changed) == (1, 1, 1)
    assert second.processed == 1
    row = catalog.db.execute(
        "SELECT files.path FROM faces JOIN files ON files.id = file_id WHERE faces.id = ?",
        (moved_face,),
    ).fetchone()
    assert row[0] == "renamed obama.jpg"  # same face row, new path: edits on it survive
    assert catalog.stats()["faces"] == faces_before  # the missing photo keeps its face
    assert catalog.missing_paths() == {"Joe_Biden/frec__biden.jpg"}
    catalog.close()
