"""Catalog backups: what stands between a user's hours of naming people and a bad day.

A copy is made with SQLite's online backup API (consistent even while another
connection reads or writes) before every schema migration and every destructive step:
forgetting missing photos, regrouping a library the user has edited, restoring another
backup. The newest ``KEEP`` copies are kept, next to the catalog in
``backups/<catalog file name>/``, named by time and reason so they sort and explain
themselves.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

KEEP = 5
SUFFIX = ".sqlite"


class BackupError(Exception):
    """A backup cannot be made or put back; the message says why."""


def backups_folder(catalog_path: Path) -> Path:
    catalog_path = Path(catalog_path).absolute()
    return catalog_path.parent / "backups" / catalog_path.name


def catalog_of(backup: Path) -> Path:
    """The catalog a backup in its usual place was made of."""
    backup = Path(backup).absolute()
    return backup.parent.parent.parent / backup.parent.name


def backups(catalog_path: Path) -> list[Path]:
    """This catalog's backups, newest first."""
    folder = backups_folder(catalog_path)
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"*{SUFFIX}"), reverse=True)


def is_intact(path: Path) -> bool:
    """Does this file hold an SQLite database that passes ``PRAGMA integrity_check``?"""
    try:
        db = sqlite3.connect(f"{Path(path).absolute().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    except sqlite3.DatabaseError:
        return False
    finally:
        db.close()


def newest_good_backup(catalog_path: Path) -> Path | None:
    return next((b for b in backups(catalog_path) if is_intact(b)), None)


def copy_database(source: sqlite3.Connection, target: Path) -> None:
    """A consistent copy of an open database at ``target``, written whole or not at all."""
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)
        finally:
            copy.close()
        os.replace(partial, target)
    except (OSError, sqlite3.Error) as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"cannot write the backup {target}: {exc}") from exc


def make_backup(source: sqlite3.Connection, catalog_path: Path, reason: str) -> Path:
    """Copy the catalog before ``reason`` happens; keeps the newest KEEP copies."""
    folder = backups_folder(catalog_path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"cannot make the backup folder {folder}: {exc}") from exc
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = folder / f"{stamp}-{reason}{SUFFIX}"
    copy_database(source, target)
    for old in backups(catalog_path)[KEEP:]:
        old.unlink(missing_ok=True)
    return target


def restore(backup: Path, catalog_path: Path) -> Path | None:
    """Put ``backup`` in place of the catalog; returns the backup of the catalog it
    replaced (None when that one was too damaged to open: it is kept as ``*.damaged``,
    its write-ahead log as ``*.damaged-wal``).

    The catalog must not be open elsewhere (the app closed)."""
    backup, catalog_path = Path(backup), Path(catalog_path)
    if not is_intact(backup):
        raise BackupError(f"{backup} is not an intact faceorganizer catalog backup")
    staged = catalog_path.with_name(f".{catalog_path.name}.restoring")
    source = sqlite3.connect(f"{backup.absolute().as_uri()}?mode=ro", uri=True)
    try:
        copy_database(source, staged)  # first: saving the current one may prune ``backup``
    finally:
        source.close()
    saved: Path | None = None
    if catalog_path.exists():
        if is_intact(catalog_path):
            current = sqlite3.connect(catalog_path)
            try:
                saved = make_backup(current, catalog_path, "before-restore")
            finally:
                current.close()
        else:  # kept as it was, with the log that may hold its last writes
            for part in ("", "-wal"):
                source = Path(f"{catalog_path}{part}")
                kept = catalog_path.with_name(f"{catalog_path.name}.damaged{part}")
                if source.exists():
                    shutil.copy2(source, kept)
    for leftover in ("-wal", "-shm"):  # the old catalog's log must not replay onto the new
        Path(f"{catalog_path}{leftover}").unlink(missing_ok=True)
    os.replace(staged, catalog_path)
    return saved
