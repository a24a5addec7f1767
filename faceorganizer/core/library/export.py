"""Per-person folders: ``DEST/<person>/<photo>``, never touching the originals.

A photo with several people goes into each person's folder. Names that collide get a
suffix; nothing is ever overwritten. Files are written under a temporary name and
renamed, so an interrupted or failed export leaves no half-written photo. Exporting
again is idempotent: a destination that already holds the same photo is left alone.
Photos that are missing (an unplugged drive) are skipped and reported, not failed.
"""

from __future__ import annotations

import csv
import errno
import os
import re
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from faceorganizer.core.library.sidecars import SidecarError, SidecarWriter
from faceorganizer.core.store.catalog import Catalog, default_person_name
from faceorganizer.core.store.files import atomic_path

UNKNOWN_FOLDER = "Unknown"
MANIFEST = "manifest.csv"
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {
    f"{p}{i}" for p in ("COM", "LPT") for i in range(1, 10)
}
_UNSAFE = re.compile(r'[\x00-\x1f<>:"/\\|?*]')


class ExportError(Exception):
    """The export cannot go on (destination unwritable, disk full); the message says why."""


class Mode(StrEnum):
    COPY = "copy"
    HARDLINK = "hardlink"
    SYMLINK = "symlink"


@dataclass(frozen=True)
class Options:
    mode: Mode = Mode.COPY
    include_unknown: bool = False
    only_named: bool = False
    write_xmp: bool = False  # an XMP sidecar with the names beside every exported photo
    together: tuple[int, ...] = ()  # only the photos showing all these people, one folder


@dataclass
class ExportReport:
    written: int = 0
    already_there: int = 0
    people: int = 0
    sidecars: int = 0  # XMP sidecars written or updated
    failed: list[tuple[str, str]] = field(default_factory=list)
    missing: set[str] = field(default_factory=set)  # photos not found: skipped, not failed


def safe_folder_name(name: str, fallback: str) -> str:
    """A folder name that is valid on Windows, macOS and Linux."""
    cleaned = _UNSAFE.sub("_", name).strip().rstrip(". ")
    base, dot, rest = cleaned.partition(".")
    if base.upper().rstrip() in _WINDOWS_RESERVED:  # "NUL.txt" is reserved on Windows too
        cleaned = f"{base}_{dot}{rest}"
    if cleaned in ("", ".", ".."):
        cleaned = fallback
    return cleaned[:100].rstrip(". ") or fallback


@dataclass(frozen=True)
class Placement:
    folder: str
    person: str
    source: str  # relative to the library root
    boxes: tuple[tuple[float, ...], ...]


def plan(catalog: Catalog, options: Options) -> list[Placement]:
    """Which photo goes into which folder: one placement per (person, photo)."""
    persons = {p.id: p for p in catalog.persons()}
    boxes: dict[tuple[int | None, str], list[tuple[float, ...]]] = defaultdict(list)
    for person_id, _file_id, path, box in catalog.person_files():
        if person_id is None and not options.include_unknown:
            continue
        if person_id is not None and person_id not in persons:
            continue  # hidden person
        if person_id is not None and options.only_named and not persons[person_id].name:
            continue
        boxes[(person_id, path)].append(box)
    folders = _folder_names(persons, {p for p, _ in boxes})
    return [
        Placement(folders[person], _label(persons, person), path, tuple(found))
        for (person, path), found in boxes.items()
    ]


def plan_together(catalog: Catalog, person_ids: tuple[int, ...]) -> list[Placement]:
    """The photos that show all of ``person_ids``, in one folder named after them all."""
    persons = {p.id: p for p in catalog.persons(include_hidden=True)}
    missing = [str(p) for p in person_ids if p not in persons]
    if missing:
        raise ExportError(f"no person with id {', '.join(missing)}")
    label = " & ".join(persons[p].display_name for p in person_ids)
    folder = safe_folder_name(label, "Together")
    boxes: dict[str, list[tuple[float, ...]]] = defaultdict(list)
    wanted = set(person_ids)
    for person_id, _file_id, path, box in catalog.person_files():
        if person_id in wanted:
            boxes[path].append(box)
    return [
        Placement(folder, label, photo.path, tuple(boxes[photo.path]))
        for photo in catalog.photos_with_all(person_ids)
    ]


def _label(persons: dict, person_id: int | None) -> str:
    return UNKNOWN_FOLDER if person_id is None else persons[person_id].display_name


def _folder_names(persons: dict, used: set[int | None]) -> dict[int | None, str]:
    """Distinct folder names even when two people share a name."""
    names: dict[int | None, str] = {}
    taken: set[str] = set()
    for person_id in sorted(used, key=lambda p: (p is None, p or 0)):
        base = safe_folder_name(_label(persons, person_id), default_person_name(person_id or 0))
        name, n = base, 2
        while name.casefold() in taken:
            name, n = f"{base} ({n})", n + 1
        taken.add(name.casefold())
        names[person_id] = name
    return names


def _same_file(source: Path, target: Path, mode: Mode) -> bool:
    """Is ``target`` already this export of ``source``? (Makes re-export idempotent.)"""
    if mode is Mode.SYMLINK:
        return target.is_symlink() and Path(os.readlink(target)) == source
    if target.is_symlink() or not target.is_file():
        return False
    if mode is Mode.HARDLINK:
        return os.path.samefile(source, target)
    a, b = source.stat(), target.stat()
    return a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns


def _place(source: Path, folder: Path, mode: Mode) -> tuple[Path, bool]:
    """Put ``source`` into ``folder`` under a free name; returns (target, newly written)."""
    stem, suffix = source.stem, source.suffix
    n = 1
    while True:
        target = folder / (source.name if n == 1 else f"{stem} ({n}){suffix}")
        if not os.path.lexists(target):
            _write(source, target, mode)
            return target, True
        if _same_file(source, target, mode):
            return target, False
        n += 1


def _write(source: Path, target: Path, mode: Mode) -> None:
    if mode is Mode.SYMLINK:
        target.symlink_to(source)
    elif mode is Mode.HARDLINK:
        os.link(source, target)
    else:
        with atomic_path(target) as temp:
            shutil.copy2(source, temp)  # copy2 keeps the mtime


def export(
    catalog: Catalog,
    destination: Path,
    options: Options | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> Iterator[tuple[int, int]]:
    """Export per-person folders, yielding (done, total); raises ExportError on a
    destination problem. The report is returned as the generator's value."""
    options = options or Options()
    root = catalog.root
    if root is None:
        raise ExportError("this catalog has no photo folder yet: scan one first")
    destination = destination.expanduser().absolute()
    try:
        destination.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=destination, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise ExportError(f"cannot write to {destination}: {exc.strerror or exc}") from exc

    if options.together:
        placements = plan_together(catalog, options.together)
    else:
        placements = plan(catalog, options)
    report = ExportReport(people=len({p.folder for p in placements}))
    missing = catalog.missing_paths()
    sidecars = SidecarWriter(catalog, root) if options.write_xmp else None
    rows: list[list[str]] = []
    for done, item in enumerate(placements, start=1):
        if cancelled():
            break
        source = root / item.source
        if item.source in missing or not source.exists():
            report.missing.add(item.source)
            yield done, len(placements)
            continue
        folder = destination / item.folder
        try:
            folder.mkdir(exist_ok=True)
            target, written = _place(source, folder, options.mode)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EACCES):
                raise ExportError(f"cannot write to {destination}: {exc.strerror}") from exc
            report.failed.append((item.source, exc.strerror or str(exc)))
            continue
        report.written += written
        report.already_there += not written
        sidecar = ""
        if sidecars is not None:
            try:
                path, changed = sidecars.write(target, item.source)
                sidecar = path.relative_to(destination).as_posix()
                report.sidecars += changed
            except (SidecarError, OSError) as exc:
                report.failed.append((item.source, f"sidecar: {exc}"))
        for box in item.boxes:
            rows.append(
                [item.source, target.relative_to(destination).as_posix(), item.person]
                + [f"{v:.0f}" for v in box]
                + [sidecar]
            )
        yield done, len(placements)
    _write_manifest(destination, rows)
    return report


def _write_manifest(destination: Path, rows: list[list[str]]) -> None:
    try:
        with (
            atomic_path(destination / MANIFEST) as temp,
            temp.open("w", newline="", encoding="utf-8") as stream,
        ):
            writer = csv.writer(stream)
            writer.writerow(["source", "destination", "person", "x0", "y0", "x1", "y1", "sidecar"])
            writer.writerows(rows)
    except OSError as exc:
        raise ExportError(f"cannot write the manifest: {exc.strerror}") from exc


def run_export(catalog: Catalog, destination: Path, options: Options | None = None) -> ExportReport:
    """Export to the end and return the report (for callers that need no progress)."""
    steps = export(catalog, destination, options)
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value
