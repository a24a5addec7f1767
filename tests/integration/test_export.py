"""Per-person export from a real scanned catalog: folders, manifest, safety."""

from __future__ import annotations

import csv
import hashlib
import os
from pathlib import Path

import pytest

from faceorganizer.core.library.edits import Editor
from faceorganizer.core.library.export import (
    MANIFEST,
    ExportError,
    Mode,
    Options,
    run_export,
    safe_folder_name,
)
from faceorganizer.core.store.catalog import Catalog


def fingerprint(root: Path) -> dict[Path, tuple[str, int]]:
    return {
        p: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Grandma", "Grandma"),
        ("a/b\\c", "a_b_c"),
        ("..", "Person 001"),
        ("CON", "CON_"),
        ("nul.txt", "nul_.txt"),
        ("Tante Anna. ", "Tante Anna"),
        ("x" * 300, "x" * 100),
        ("   ", "Person 001"),
        ("Zoë 👵", "Zoë 👵"),
        ('what?*:"<>|', "what_______"),
    ],
)
def test_safe_folder_name(name: str, expected: str) -> None:
    assert safe_folder_name(name, "Person 001") == expected


def test_export_copies_per_person_and_never_touches_originals(
    catalog: Catalog, faces_dev: Path, tmp_path: Path
) -> None:
    originals = fingerprint(faces_dev)
    top = catalog.persons()[0]
    Editor(catalog).rename(top.id, "Top/Person")
    dest = tmp_path / "out"
    report = run_export(catalog, dest, Options(include_unknown=True))

    folders = {p.name for p in dest.iterdir() if p.is_dir()}
    assert "Top_Person" in folders
    assert report.people == len(folders)
    exported = list((dest / "Top_Person").iterdir())
    expected = {catalog.root / r for r in _person_paths(catalog, top.id)}
    assert {p.name for p in exported} == {p.name for p in expected}
    for item in exported:  # copies keep bytes and mtime
        source = next(s for s in expected if s.name == item.name)
        assert item.read_bytes() == source.read_bytes()
        assert item.stat().st_mtime_ns == source.stat().st_mtime_ns
    with (dest / MANIFEST).open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) >= report.written
    assert {r["person"] for r in rows} >= {"Top/Person"}
    assert not list(dest.rglob(".*.tmp"))

    again = run_export(catalog, dest, Options(include_unknown=True))
    assert again.written == 0
    assert again.already_there == report.written + report.already_there
    assert fingerprint(faces_dev) == originals


def _person_paths(catalog: Catalog, person_id: int) -> set[str]:
    return {path for p, _f, path, _b in catalog.person_files() if p == person_id}


def test_group_photo_goes_to_each_person(catalog: Catalog, tmp_path: Path) -> None:
    run_export(catalog, tmp_path / "out", Options())
    hits = list((tmp_path / "out").rglob("frec__obama_and_biden.jpg"))
    people = {
        p for p, _f, path, _b in catalog.person_files() if path.endswith("obama_and_biden.jpg")
    }
    assert len(people) >= 2
    assert len(hits) == len(people)


def test_collision_gets_suffix_never_overwrites(catalog: Catalog, tmp_path: Path) -> None:
    person = catalog.persons()[0]
    dest = tmp_path / "out"
    run_export(catalog, dest, Options())
    folder = dest / person.display_name
    victim = next(folder.iterdir())
    victim.write_bytes(b"user's own file")
    run_export(catalog, dest, Options())
    assert victim.read_bytes() == b"user's own file"
    suffixed = folder / f"{victim.stem} (2){victim.suffix}"
    assert suffixed.is_file() and suffixed.stat().st_size > 100


@pytest.mark.parametrize("mode", [Mode.HARDLINK, Mode.SYMLINK])
def test_link_modes(catalog: Catalog, tmp_path: Path, mode: Mode) -> None:
    dest = tmp_path / "out"
    report = run_export(catalog, dest, Options(mode=mode))
    files = [p for p in dest.rglob("*") if p.name != MANIFEST and not p.is_dir()]
    assert len(files) == report.written
    if mode is Mode.SYMLINK:
        assert all(p.is_symlink() and p.resolve().is_file() for p in files)
    else:
        assert all(p.stat().st_nlink >= 2 for p in files)
    assert run_export(catalog, dest, Options(mode=mode)).written == 0


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only folders")
def test_read_only_destination_is_a_clear_error(catalog: Catalog, tmp_path: Path) -> None:
    dest = tmp_path / "ro"
    dest.mkdir()
    dest.chmod(0o500)
    with pytest.raises(ExportError, match="cannot write"):
        run_export(catalog, dest, Options())
    dest.chmod(0o700)


def test_destination_that_is_a_file_is_a_clear_error(catalog: Catalog, tmp_path: Path) -> None:
    dest = tmp_path / "file"
    dest.write_bytes(b"x")
    with pytest.raises(ExportError, match="cannot write"):
        run_export(catalog, dest, Options())
    assert dest.read_bytes() == b"x"


def test_full_disk_leaves_no_half_written_file(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injection: the disk fills up while the third photo is being copied."""
    import errno
    import shutil

    real_copy = shutil.copy2
    calls = []

    def filling_copy(source: str, target: str) -> None:
        calls.append(source)
        if len(calls) == 3:
            Path(target).write_bytes(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        real_copy(source, target)

    monkeypatch.setattr(shutil, "copy2", filling_copy)
    dest = tmp_path / "out"
    with pytest.raises(ExportError, match="No space left"):
        run_export(catalog, dest, Options())
    written = [p for p in dest.rglob("*") if p.is_file()]
    assert len(written) == 2
    assert all(p.stat().st_size > 1000 for p in written)  # only whole photos
