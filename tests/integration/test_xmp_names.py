"""Names that travel: real photos with face regions written in the layouts of digiKam,
Lightroom and Windows Photo Gallery, embedded in a JPEG, on a rotated photo, beside
hostile sidecars; scanned for real, exported with --write-xmp and scanned back."""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
from pathlib import Path

import pytest
import xmp_layouts
from PIL import Image

from faceorganizer.cli import run_cli
from faceorganizer.config import Settings
from faceorganizer.core.library.edits import Editor
from faceorganizer.core.library.names import iou
from faceorganizer.core.library.scan import ScanSummary, scan
from faceorganizer.core.metadata.embedded import DATE_TIME_ORIGINAL, EXIF_IFD, file_date
from faceorganizer.core.store.catalog import Catalog

GROUP = "groups/frec__obama_and_biden.jpg"
ROTATED = "groups/rotated.jpg"
GROUP_SIZE = (2000, 1428)
# Drawn by looking at the group photo (upright pixels), looser than any detector's box,
# as a person drawing a face tag in digiKam would.
JOE = (720, 420, 940, 660)
BARACK = (1110, 360, 1365, 630)
NOBODY = (100, 100, 200, 200)  # a tag on the background: no face there
# ... and on two single photos
OBAMA_PHOTO = ("Barack_Obama/frec__obama.jpg", (910, 1137), (350, 110, 660, 430))
BIDEN_PHOTO = ("Joe_Biden/frec__biden.jpg", (970, 2204), (430, 230, 740, 560))
MTIME = 1_300_000_000  # 2011-03-13: the file date of every photo without EXIF date
TAKEN = "2008:08:28 22:00:00"  # the rotated copy's EXIF DateTimeOriginal


def _norm(box, size):
    return (box[0] / size[0], box[1] / size[1], box[2] / size[0], box[3] / size[1])


def _turned_for_orientation_6(box):
    """An upright normalized box in the frame of pixels stored turned 90° counter-clockwise
    (Exif Orientation 6 turns them back clockwise): upright (x, y) is stored (y, 1 - x)."""
    x0, y0, x1, y1 = box
    return (y0, 1 - x1, y1, 1 - x0)


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.blake2b(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _build(faces_dev: Path, root: Path, secret: Path) -> None:
    for name in ("Barack_Obama", "Joe_Biden"):
        shutil.copytree(faces_dev / name, root / name)
    (root / "groups").mkdir()
    shutil.copy2(faces_dev / "_group" / "frec__obama_and_biden.jpg", root / GROUP)
    group_regions = [
        ("Joe Biden", *_norm(JOE, GROUP_SIZE)),
        ("Barack Obama", *_norm(BARACK, GROUP_SIZE)),
        ("Nobody", *_norm(NOBODY, GROUP_SIZE)),
    ]
    # digiKam: <file>.xmp, MWG + MP regions as attributes
    (root / (GROUP + ".xmp")).write_bytes(xmp_layouts.digikam(group_regions, GROUP_SIZE))
    # a rotated copy: pixels stored turned, Orientation 6, regions in the stored frame as
    # MWG 2.0 says, in a Lightroom-style <stem>.xmp, names in other letter cases
    with Image.open(root / GROUP) as image:
        stored = image.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif.get_ifd(EXIF_IFD)[DATE_TIME_ORIGINAL] = TAKEN
    stored.save(root / ROTATED, quality=92, exif=exif.tobytes())
    turned = [
        ("joe biden", *_turned_for_orientation_6(_norm(JOE, GROUP_SIZE))),
        ("BARACK OBAMA", *_turned_for_orientation_6(_norm(BARACK, GROUP_SIZE))),
    ]
    (root / "groups" / "rotated.xmp").write_bytes(xmp_layouts.lightroom(turned, stored.size))
    # Windows Photo Gallery: MP regions in a sidecar
    path, size, box = BIDEN_PHOTO
    (root / (path + ".xmp")).write_bytes(xmp_layouts.windows([("Joe Biden", *_norm(box, size))]))
    # XMP embedded in the JPEG itself
    path, size, box = OBAMA_PHOTO
    with Image.open(faces_dev / path) as image:
        packet = xmp_layouts.lightroom([("Barack Obama", *_norm(box, size))], size)
        image.save(root / path, quality=95, xmp=packet)
    # hostile sidecars: XXE to a local file, nested entities, 50 MB
    (root / "Barack_Obama" / "frec__obama1.jpg.xmp").write_bytes(xmp_layouts.xxe(str(secret)))
    (root / "Barack_Obama" / "frec__obama2.jpg.xmp").write_bytes(xmp_layouts.nested_entities())
    with (root / "Joe_Biden" / "frec__biden2.jpg.xmp").open("wb") as stream:
        stream.write(xmp_layouts.windows([("Huge", 0, 0, 1, 1)]))
        stream.truncate(50 << 20)
    for photo in root.rglob("*.jpg"):
        os.utime(photo, (MTIME, MTIME))


@pytest.fixture(scope="module")
def library(faces_dev: Path, tmp_path_factory: pytest.TempPathFactory):
    """(root, catalog path, summary, hashes of every file before the scan)."""
    base = tmp_path_factory.mktemp("names")
    secret = base / "secret.txt"
    secret.write_text("TOPSECRET")
    root = base / "photos"
    _build(faces_dev, root, secret)
    before = _hashes(root)
    catalog_path = base / "catalog.sqlite"
    catalog = Catalog(catalog_path, root=root)
    summary = ScanSummary()
    for _ in scan(catalog, root, Settings(), summary=summary):
        pass
    catalog.close()
    return root, catalog_path, summary, before


def _faces(catalog: Catalog, path: str) -> list[tuple[tuple[float, ...], str | None, bool]]:
    """(box, person name, locked) of every face of a photo."""
    rows = catalog.db.execute(
        "SELECT x0, y0, x1, y1, persons.name, locked FROM faces JOIN files ON files.id = "
        "faces.file_id LEFT JOIN persons ON persons.id = faces.person_id WHERE files.path = ?",
        (path,),
    )
    return [((r[0], r[1], r[2], r[3]), r[4], bool(r[5])) for r in rows]


def _face_at(catalog: Catalog, path: str, region) -> tuple[str | None, bool]:
    box, name, locked = max(_faces(catalog, path), key=lambda f: iou(f[0], region))
    assert iou(box, region) > 0.3
    return name, locked


def _largest(catalog: Catalog, path: str) -> str | None:
    return max(_faces(catalog, path), key=lambda f: (f[0][2] - f[0][0]) * (f[0][3] - f[0][1]))[1]


def test_names_from_every_layout_land_on_their_faces_and_pull_the_rest(library):
    root, catalog_path, _summary, _before = library
    catalog = Catalog(catalog_path)
    try:
        named = sorted(p.name for p in catalog.persons() if p.name)
        assert named == ["Barack Obama", "Joe Biden"]  # one person per name, any letter case
        for photo in (GROUP, ROTATED):  # digiKam <file>.xmp; Lightroom <stem>.xmp, rotated
            assert _face_at(catalog, photo, JOE) == ("Joe Biden", True)
            assert _face_at(catalog, photo, BARACK) == ("Barack Obama", True)
        assert _face_at(catalog, BIDEN_PHOTO[0], BIDEN_PHOTO[2]) == ("Joe Biden", True)  # MP
        assert _face_at(catalog, OBAMA_PHOTO[0], OBAMA_PHOTO[2]) == ("Barack Obama", True)
        # photos without (usable) names joined the named people by looks
        for photo in ("frec__obama1.jpg", "frec__obama2.jpg", "frec__obama3.jpg"):
            assert _largest(catalog, f"Barack_Obama/{photo}") == "Barack Obama"
        assert _largest(catalog, "Joe_Biden/frec__biden2.jpg") == "Joe Biden"
    finally:
        catalog.close()


def test_a_tag_without_a_face_is_reported(library):
    summary = library[2]
    assert summary.metadata.unmatched == [(GROUP, "Nobody")]
    assert summary.metadata.matched == 6 and summary.metadata.named == 6


def test_hostile_sidecars_are_warnings_and_leak_nothing(library):
    root, catalog_path, summary, _before = library
    warnings = dict(summary.metadata.warnings)
    assert "DTD" in warnings["Barack_Obama/frec__obama1.jpg"]  # XXE
    assert "DTD" in warnings["Barack_Obama/frec__obama2.jpg"]  # nested entities
    assert "larger than 4 MB" in warnings["Joe_Biden/frec__biden2.jpg"]
    catalog = Catalog(catalog_path)
    try:
        assert catalog.stats()["errors"] == 0 and catalog.stats()["pending"] == 0
        names = [p.name or "" for p in catalog.persons()]
        assert not any("TOPSECRET" in n or "Huge" in n for n in names)
    finally:
        catalog.close()


def test_date_taken_and_photos_with_all_of_these_people(library, tmp_path):
    root, catalog_path, _summary, _before = library
    catalog = Catalog(catalog_path)
    try:
        ids = {p.name: p.id for p in catalog.persons()}
        both = catalog.photos_with_all([ids["Barack Obama"], ids["Joe Biden"]])
        assert [(p.path, p.taken) for p in both] == [
            (ROTATED, "2008-08-28 22:00:00"),  # EXIF DateTimeOriginal, so first
            (GROUP, file_date(MTIME * 1_000_000_000)),  # no EXIF date: the file's mtime
        ]
        barack = [p.path for p in catalog.photos_with_all([ids["Barack Obama"]])]
        assert barack[0] == ROTATED and len(barack) == 6
    finally:
        catalog.close()
    together = f"{ids['Barack Obama']},{ids['Joe Biden']}"
    destination = tmp_path / "together"
    assert run_cli(["export", str(destination), "--catalog", str(catalog_path),
                    "--together", together]) == 0  # fmt: skip
    assert sorted(p.name for p in (destination / "Barack Obama & Joe Biden").iterdir()) == [
        "frec__obama_and_biden.jpg",
        "rotated.jpg",
    ]


def test_round_trip_through_written_sidecars(library, tmp_path):
    """export --write-xmp, scan the export as a new library: the same names on the same
    faces; re-export rewrites only sidecars whose names changed; originals untouched."""
    root, catalog_path, _summary, before = library
    destination = tmp_path / "export"
    args = ["export", str(destination), "--catalog", str(catalog_path), "--write-xmp"]
    assert run_cli(args) == 0
    with (destination / "manifest.csv").open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert rows and all((destination / r["sidecar"]).is_file() for r in rows)
    assert all(r["sidecar"] == r["destination"] + ".xmp" for r in rows)

    copy_catalog = Catalog(tmp_path / "copy.sqlite", root=destination)
    summary = ScanSummary()
    for _ in scan(copy_catalog, destination, Settings(), summary=summary):
        pass
    try:
        assert summary.metadata.warnings == [] and summary.metadata.unmatched == []
        for row in rows:
            box = tuple(float(row[k]) for k in ("x0", "y0", "x1", "y1"))
            assert _face_at(copy_catalog, row["destination"], box)[0] == row["person"]
    finally:
        copy_catalog.close()

    sidecar = destination / rows[0]["sidecar"]
    stamp = sidecar.stat().st_mtime_ns
    assert run_cli(args) == 0  # nothing changed: nothing rewritten
    assert sidecar.stat().st_mtime_ns == stamp
    catalog = Catalog(catalog_path)
    ids = {p.name: p.id for p in catalog.persons()}
    Editor(catalog).rename(ids["Joe Biden"], "Joseph Biden")
    catalog.close()
    assert run_cli(args) == 0
    group_sidecar = (destination / "Barack Obama" / "frec__obama_and_biden.jpg.xmp").read_text()
    assert 'mwg-rs:Name="Joseph Biden"' in group_sidecar and "People|Joseph Biden" in group_sidecar
    assert sidecar.read_bytes() == (destination / rows[0]["sidecar"]).read_bytes()

    assert _hashes(root) == before  # originals and their sidecars: byte-identical, no new file


def test_rescan_reads_a_new_or_changed_sidecar_without_redoing_faces(faces_dev, tmp_path):
    root = tmp_path / "photos"
    root.mkdir()
    shutil.copy2(faces_dev / "_group" / "frec__obama_and_biden.jpg", root / "group.jpg")
    catalog = Catalog(tmp_path / "catalog.sqlite", root=root)

    def rescan() -> ScanSummary:
        summary = ScanSummary()
        for _ in scan(catalog, root, Settings(workers=1), summary=summary):
            pass
        return summary

    try:
        assert rescan().processed == 1 and not [p for p in catalog.persons() if p.name]
        sidecar = root / "group.jpg.xmp"
        sidecar.write_bytes(xmp_layouts.digikam([("Joe", *_norm(JOE, GROUP_SIZE))], GROUP_SIZE))
        summary = rescan()
        assert summary.processed == 0 and summary.metadata.named == 1  # new sidecar
        assert _face_at(catalog, "group.jpg", JOE) == ("Joe", True)
        regions = [("Joe Biden", *_norm(JOE, GROUP_SIZE)), ("Barack", *_norm(BARACK, GROUP_SIZE))]
        sidecar.write_bytes(xmp_layouts.digikam(regions, GROUP_SIZE))
        summary = rescan()
        assert summary.processed == 0 and summary.metadata.named == 2  # changed sidecar
        assert _face_at(catalog, "group.jpg", JOE) == ("Joe Biden", True)
        assert _face_at(catalog, "group.jpg", BARACK) == ("Barack", True)
        # the user's word wins over a later sidecar
        barack = next(p.id for p in catalog.persons() if p.name == "Barack")
        face = next(f for f in catalog.faces_of_person(barack))
        Editor(catalog).move([face], None)
        regions[1] = ("Barack Obama", *_norm(BARACK, GROUP_SIZE))
        sidecar.write_bytes(xmp_layouts.digikam(regions, GROUP_SIZE))
        assert rescan().metadata.named == 0
        assert _face_at(catalog, "group.jpg", BARACK)[0] is None
    finally:
        catalog.close()


def test_no_sidecar_is_written_beside_an_original(faces_dev, tmp_path):
    """Exporting into the library itself, where a person's folder is a folder of
    originals: the photos are 'already there' (they are the originals) and get no
    sidecar; the report says why. The originals and their folder stay byte-identical."""
    root = tmp_path / "photos"
    shutil.copytree(faces_dev / "Joe_Biden", root / "Joe_Biden")
    catalog = Catalog(tmp_path / "catalog.sqlite", root=root)
    for _ in scan(catalog, root, Settings(workers=1)):
        pass
    person = catalog.persons()[0]
    Editor(catalog).rename(person.id, "Joe_Biden")
    catalog.close()
    before = _hashes(root / "Joe_Biden")
    args = ["export", str(root), "--catalog", str(tmp_path / "catalog.sqlite"), "--write-xmp"]
    assert run_cli(args) == 1  # a failure is reported
    assert _hashes(root / "Joe_Biden") == before  # no sidecar, nothing changed
