"""Names that photos bring with them: XMP face regions written by digiKam, Lightroom,
Picasa, Immich or Windows Photo Gallery become named, locked faces.

Reading is two steps so a cancelled scan loses nothing: ``read_metadata`` stores, per
photo, the name each region gives one of its detected faces (``faces.xmp_name``), and
``apply_region_names`` then puts those faces into the person of that name, as if the
user had placed them. Re-clustering treats them as anchors, so the person's other photos
join them.

A named region that matches no detected face is reported, not turned into a face: a face
the detector could not find has no landmarks to align it, so its descriptor would be
noise that could neither join its person nor pull anyone along.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from faceorganizer.core.library.edits import Change, Editor
from faceorganizer.core.metadata.embedded import file_date, read_embedded
from faceorganizer.core.metadata.orientation import Box
from faceorganizer.core.metadata.regions import photo_regions
from faceorganizer.core.store.catalog import Catalog, FileRow
from faceorganizer.wording import count


@dataclass
class MetadataReport:
    read: int = 0  # photos whose metadata was read
    regions: int = 0  # named regions found
    matched: int = 0  # ... that matched a detected face
    unmatched: list[tuple[str, str]] = field(default_factory=list)  # (photo, name)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (photo, problem)
    named: int = 0  # faces put into a person by name


def _area(box: Box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def iou(a: Box, b: Box) -> float:
    inner = _area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))
    union = _area(a) + _area(b) - inner
    return inner / union if union > 0 else 0.0


def match_regions(
    regions: list[tuple[str, Box]], faces: list[tuple[int, Box]]
) -> tuple[dict[int, str], list[str]]:
    """Each named region to the detected face whose centre lies inside it, best overlap
    (IoU) first, one face per region: (face id -> name, names left without a face)."""
    pairs = []
    for index, (_name, region) in enumerate(regions):
        for face_id, face in faces:
            cx, cy = (face[0] + face[2]) / 2, (face[1] + face[3]) / 2
            if region[0] <= cx <= region[2] and region[1] <= cy <= region[3]:
                pairs.append((iou(region, face), index, face_id))
    names: dict[int, str] = {}
    used: set[int] = set()
    for _score, index, face_id in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if index not in used and face_id not in names:
            names[face_id] = regions[index][0]
            used.add(index)
    return names, [name for i, (name, _box) in enumerate(regions) if i not in used]


def read_metadata(catalog: Catalog, root: Path, row: FileRow, report: MetadataReport) -> None:
    """Read a processed photo's date taken and named regions into the catalog."""
    path = root / row.path
    try:
        embedded = read_embedded(path)
    except Exception as exc:  # the photo decoded once; a header that fails now is odd
        report.warnings.append((row.path, f"cannot read its metadata: {exc}"))
        return
    found = photo_regions(path, embedded)
    report.read += 1
    report.warnings.extend((row.path, warning) for warning in found.warnings)
    names: dict[int, str] = {}
    size = catalog.file_size(row.id)
    if found.regions and size:
        width, height = size
        in_pixels = [
            (name, (b[0] * width, b[1] * height, b[2] * width, b[3] * height))
            for name, b in found.regions
        ]
        names, unmatched = match_regions(in_pixels, catalog.file_faces(row.id))
        report.regions += len(found.regions)
        report.matched += len(names)
        report.unmatched.extend((row.path, name) for name in unmatched)
    catalog.record_metadata(row.id, embedded.taken or file_date(row.mtime_ns), names)


def apply_region_names(catalog: Catalog) -> int:
    """Put every face with a new metadata name into the person with that name (matched
    case-insensitively, created if needed), locked. Returns how many faces moved.

    The user's word wins: a face the user placed somewhere, or said is not this
    person, stays where it is. A face this step placed follows its region when a
    rescan finds the sidecar renamed it."""
    pending = catalog.pending_region_names()
    if not pending:
        return 0
    editor = Editor(catalog)
    by_name = catalog.person_ids_by_name()
    rejected = set(catalog.rejections())
    next_id = editor.next_person_id()
    change = Change()
    for face_id, name, applied, person_id, locked, person_name in pending:
        placed_by_us = applied is not None and (person_name or "").casefold() == applied.casefold()
        if locked and not placed_by_us:
            continue
        target = by_name.get(name.casefold())
        if target is None:
            target = by_name[name.casefold()] = next_id
            next_id += 1
            change.persons[target] = (name, 0)
        if (face_id, target) in rejected or (target == person_id and locked):
            continue
        change.faces[face_id] = (target, 1, 0)
    if change.faces:
        editor.apply(f"Names from photo metadata ({count(len(change.faces), 'face')})", change)
    catalog.mark_region_names_applied(face for face, *_ in pending)
    return len(change.faces)
