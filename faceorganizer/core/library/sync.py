"""Walking a photo folder and syncing it with the catalog, incrementally.

A file is reprocessed only when it is new or its size/mtime changed and its content
hash differs. A file that moved or was renamed is recognised by its hash and keeps its
faces (and the user's edits on them). Files that are gone are forgotten.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from faceorganizer.core.metadata.xmp_read import sidecar_signature
from faceorganizer.core.store.catalog import Catalog
from faceorganizer.core.store.files import content_hash
from faceorganizer.core.vision.images import is_image_path


@dataclass(frozen=True)
class FoundFile:
    path: str  # relative to the root, '/' separated
    size: int
    mtime_ns: int
    sidecars: str = ""  # which XMP sidecars it has, with their sizes and mtimes


@dataclass
class SyncReport:
    new: int = 0
    changed: int = 0
    moved: int = 0
    removed: int = 0
    unchanged: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)


def walk_images(root: Path, problems: list[tuple[str, str]] | None = None) -> Iterator[FoundFile]:
    """Every image file under ``root`` (recursively, following no symlinked folders, so
    link loops cannot trap the walk). Folders that cannot be read go to ``problems``."""

    def on_error(error: OSError) -> None:
        if problems is not None:
            where = Path(error.filename or root)
            problems.append((_relative(where, root), f"cannot read folder: {error.strerror}"))

    for folder, dirs, names in os.walk(root, onerror=on_error, followlinks=False):
        dirs.sort()
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        listing = set(names)
        for name in sorted(names):
            path = Path(folder, name)
            if name.startswith(".") or not is_image_path(path):
                continue
            try:
                info = path.stat()
            except OSError as exc:
                if problems is not None:
                    problems.append((_relative(path, root), f"cannot read: {exc.strerror}"))
                continue
            if path.is_file():
                sidecars = sidecar_signature(Path(folder), name, listing)
                yield FoundFile(_relative(path, root), info.st_size, info.st_mtime_ns, sidecars)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def sync_catalog(catalog: Catalog, root: Path) -> SyncReport:
    """Bring the catalog's file list in line with the folder; mark what needs processing."""
    report = SyncReport()
    found = {f.path: f for f in walk_images(root, report.unreadable)}
    known = {row.path: row for row in catalog.files()}
    gone = {path: row for path, row in known.items() if path not in found}
    gone_by_hash = {row.hash: row for row in gone.values() if row.hash}

    for path, item in found.items():
        row = known.get(path)
        if row is not None and (row.size, row.mtime_ns) == (item.size, item.mtime_ns):
            report.unchanged += 1
            continue
        digest = content_hash(root / path)
        if row is None:
            moved = gone_by_hash.pop(digest, None) if digest else None
            if moved is not None:
                catalog.move_file(moved.id, path, item.size, item.mtime_ns)
                del gone[moved.path]
                report.moved += 1
            else:
                catalog.add_file(path, item.size, item.mtime_ns, digest)
                report.new += 1
        elif digest is not None and digest == row.hash:
            catalog.touch_file(row.id, item.size, item.mtime_ns)  # touched, not changed
            report.unchanged += 1
        else:
            catalog.reset_file(row.id, item.size, item.mtime_ns, digest)
            report.changed += 1
    catalog.remove_files(row.id for row in gone.values())
    catalog.update_sidecar_signatures({path: item.sidecars for path, item in found.items()})
    report.removed = len(gone)
    return report
