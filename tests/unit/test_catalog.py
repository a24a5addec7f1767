"""Catalog schema: migrations from nothing, WAL, refusing foreign files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from faceorganizer.core.store.backup import backups
from faceorganizer.core.store.catalog import (
    _MIGRATIONS,
    SCHEMA_VERSION,
    Catalog,
    CatalogError,
    default_catalog_path,
)


def test_new_catalog_is_migrated_and_in_wal_mode(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "new.sqlite", root=tmp_path)
    assert catalog.schema_version() == SCHEMA_VERSION
    assert catalog.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert catalog.integrity_ok()
    assert catalog.root == tmp_path.resolve()
    catalog.close()


def test_reader_sees_writes_while_writer_is_open(tmp_path: Path) -> None:
    writer = Catalog(tmp_path / "c.sqlite")
    writer.add_file("a.jpg", 1, 2, None)
    reader = Catalog(tmp_path / "c.sqlite", readonly=True)
    assert [f.path for f in reader.files()] == ["a.jpg"]
    reader.close()
    writer.close()


def test_not_a_catalog_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "photo.jpg"
    bogus.write_bytes(b"\xff\xd8\xff\xe0 not a database" * 100)
    with pytest.raises(CatalogError):
        Catalog(bogus)
    assert bogus.read_bytes().startswith(b"\xff\xd8\xff\xe0 not a database")


def test_default_catalog_is_outside_the_photo_folder(tmp_path: Path) -> None:
    path = default_catalog_path(tmp_path / "Fotos ✨ 2024")
    assert tmp_path not in path.parents
    assert path.suffix == ".sqlite"
    assert default_catalog_path(tmp_path / "a") != default_catalog_path(tmp_path / "b")


def test_failed_migration_leaves_version_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE files (x)")  # clashes with migration 1
    db.commit()
    db.close()
    with pytest.raises(CatalogError, match="cannot upgrade"):
        Catalog(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 0
    db.close()


def _old_catalog(path: Path, version: int) -> Catalog:
    """A catalog as release ``version`` left it, holding one processed photo, opened
    (and so upgraded) by this release."""
    db = sqlite3.connect(path)
    db.executescript("".join(_MIGRATIONS[:version]) + f"PRAGMA user_version = {version};")
    db.execute("INSERT INTO files(path, size, mtime_ns, status) VALUES ('a.jpg', 1, 2, 'done')")
    db.commit()
    db.close()
    return Catalog(path)


def test_version_1_catalog_is_upgraded_keeping_its_data_after_a_backup(tmp_path: Path) -> None:
    """A catalog written by the first release (schema 1) is backed up, then upgraded."""
    path = tmp_path / "v1.sqlite"
    upgraded = _old_catalog(path, 1)
    assert upgraded.schema_version() == SCHEMA_VERSION
    assert [(f.path, f.missing) for f in upgraded.files()] == [("a.jpg", False)]
    names = {r[0] for r in upgraded.db.execute("SELECT name FROM sqlite_master")}
    assert {"faces_person_order", "files_missing"} <= names
    upgraded.close()
    (saved,) = backups(path)
    assert saved.name.endswith(f"-before-schema-{SCHEMA_VERSION}.sqlite")
    old = sqlite3.connect(saved)
    assert old.execute("PRAGMA user_version").fetchone()[0] == 1
    assert old.execute("SELECT path FROM files").fetchall() == [("a.jpg",)]
    old.close()


def test_version_2_catalog_gains_dates_and_metadata_names(tmp_path: Path) -> None:
    """A schema-2 catalog's processed photos keep their faces and are due for a metadata
    read (date taken, XMP names) on the next scan."""
    upgraded = _old_catalog(tmp_path / "v2.sqlite", 2)
    assert upgraded.schema_version() == SCHEMA_VERSION
    assert [f.path for f in upgraded.files_needing_metadata()] == ["a.jpg"]
    upgraded.update_sidecar_signatures({"a.jpg": ""})
    upgraded.record_metadata(upgraded.files()[0].id, "2020-01-02 03:04:05", {})
    assert upgraded.files_needing_metadata() == []
    upgraded.update_sidecar_signatures({"a.jpg": "a.jpg.xmp:10:20"})
    assert [f.path for f in upgraded.files_needing_metadata()] == ["a.jpg"]
    upgraded.close()
