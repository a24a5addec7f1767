"""Walking a photo folder and syncing it with the catalog, incrementally.

A file is reprocessed only when it is new or its size/mtime changed and its content
hash differs. A file that moved or was renamed is recognised by its hash and keeps its
faces (and the user's edits on them). A file that is gone is marked missing, never
forgotten: the library may sit on a drive that is not plugged in. When it comes back, at
its path or (same content) elsewhere, it is the same file again. Only ``forget-missing``
removes missing files. A folder that looks unplugged (empty, or most photos gone) is
left alone entirely, with a message.
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
from faceorganizer.wording import count


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
    missing: int = 0  # gone since the last scan (kept, marked missing)
    returned: int = 0  # missing before, found again where it was
    unchanged: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    refused: str = ""  # why nothing was changed: the folder looks unplugged


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


def unplugged_message(found: int, present: int, vanished: int) -> str:
    """Why a folder looks like an unplugged drive, or "" when it does not.

    An unmounted drive leaves an empty mount point; a share or cloud folder not yet
    synced shows a fraction of the photos. Marking them all missing would lose nothing,
    but it would be wrong, so the scan asks instead (how to answer is the caller's to
    say: a flag on the command line, a button in the window)."""
    if present and not found:
        return "the folder is empty — is the drive connected? Nothing was changed."
    if vanished * 2 > present:
        return (
            f"{vanished:,} of the {count(present, 'photo')} are gone — is the drive connected? "
            "Nothing was changed."
        )
    return ""


def sync_catalog(catalog: Catalog, root: Path, *, accept_missing: bool = False) -> SyncReport:
    """Bring the catalog's file list in line with the folder; mark what needs processing."""
    report = SyncReport()
    found = {f.path: f for f in walk_images(root, report.unreadable)}
    known = {row.path: row for row in catalog.files(include_missing=True)}
    vanished = [row for row in known.values() if not row.missing and row.path not in found]
    present = sum(not row.missing for row in known.values())
    if not accept_missing:
        report.refused = unplugged_message(len(found), present, len(vanished))
        if report.refused:
            return report

    for path, item in found.items():  # files where the catalog expects them
        row = known.get(path)
        if row is None:
            continue
        touched = (row.size, row.mtime_ns) != (item.size, item.mtime_ns)
        digest = content_hash(root / path) if touched else row.hash
        if digest is None or digest != row.hash:
            catalog.reset_file(row.id, item.size, item.mtime_ns, digest)
            report.changed += 1
            continue
        if row.missing or touched:
            catalog.touch_file(row.id, item.size, item.mtime_ns)  # back, or only touched
        report.returned += row.missing
        report.unchanged += not row.missing

    # A new path with the content of a file not found at its own path is that file, moved
    # (or back from a drive): its faces, people and edits come with it.
    lost = {row.hash: row for row in known.values() if row.path not in found and row.hash}
    moved: set[int] = set()
    for path, item in found.items():
        if path in known:
            continue
        digest = content_hash(root / path)
        row = lost.pop(digest, None) if digest else None
        if row is not None:
            catalog.move_file(row.id, path, item.size, item.mtime_ns)
            moved.add(row.id)
        else:
            catalog.add_file(path, item.size, item.mtime_ns, digest)
            report.new += 1
    report.moved = len(moved)
    gone = [row.id for row in vanished if row.id not in moved]
    catalog.mark_missing(gone)
    report.missing = len(gone)
    catalog.update_sidecar_signatures({path: item.sidecars for path, item in found.items()})
    return report


@dataclass(frozen=True)
class Forgotten:
    files: int
    faces: int
    backup: Path | None  # the copy made first (None when nothing was missing)
    names: tuple[str, ...] = ()  # of named people who went with them (kept in the backup)


def names_only_in_missing(catalog: Catalog) -> tuple[str, ...]:
    """The names users gave to people whose every face is in a missing photo: forgetting
    the photos takes those people away, so the question and the answer both name them."""
    return going_with_missing(catalog)[0]


def going_with_missing(catalog: Catalog) -> tuple[tuple[str, ...], int]:
    """(the names of :func:`names_only_in_missing`, how many people go in all, unnamed
    ones too): what Forget Missing's question says, from one read of those people."""
    people = catalog.people_only_in_missing()
    given = catalog.given_names()
    return tuple(given[p] for p in people if p in given), len(people)


def forget_missing(catalog: Catalog) -> Forgotten:
    """Remove the missing files and their faces, after a backup: the explicit step that
    a scan never takes on its own. Undo cannot take it back (the rows are gone); the
    backup can, and the names that go are said."""
    if not catalog.missing_count():
        return Forgotten(0, 0, None)
    names = names_only_in_missing(catalog)
    saved = catalog.backup("before-forget-missing")
    files, faces = catalog.forget_missing()
    return Forgotten(files, faces, saved, names)
