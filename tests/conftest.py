"""Shared fixtures: the real labeled photos and one real scan of them per test session."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from faceorganizer.config import Settings
from faceorganizer.core.library.scan import ScanSummary, scan
from faceorganizer.core.store.catalog import Catalog

DATA = (Path(__file__).resolve().parents[2] / "shared" / "data").resolve()  # as scans store it


@pytest.fixture(scope="session")
def faces_dev() -> Path:
    folder = DATA / "faces-dev"
    if not folder.is_dir():
        pytest.fail(f"test photos missing: {folder} (../shared/data beside the repo)")
    return folder


@pytest.fixture(scope="session")
def scanned(faces_dev: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ScanSummary]:
    """faces-dev scanned once with default settings: (catalog path, summary)."""
    path = tmp_path_factory.mktemp("scanned") / "catalog.sqlite"
    catalog = Catalog(path, root=faces_dev)
    summary = ScanSummary()
    for _ in scan(catalog, faces_dev, Settings(), summary=summary):
        pass
    catalog.close()
    return path, summary


@pytest.fixture
def catalog(scanned: tuple[Path, ScanSummary], tmp_path: Path) -> Catalog:
    """A private copy of the scanned catalog that a test may change."""
    copy = tmp_path / "catalog.sqlite"
    source = sqlite3.connect(scanned[0])
    target = sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.close()
    opened = Catalog(copy)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def scan_cfp_people(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], Catalog]:
    """scan_cfp_people(n): the first n people of cfp-dev (10 frontal and 4 profile photos
    each) copied and scanned with default settings, a small real-album library."""
    source = DATA / "cfp-dev"
    if not source.is_dir():
        pytest.fail(f"test photos missing: {source}")

    def scanned_people(people: int) -> Catalog:
        folder = tmp_path_factory.mktemp("cfp")
        root = folder / "photos"
        for person in sorted(p for p in source.iterdir() if p.is_dir())[:people]:
            shutil.copytree(person, root / person.name)
        catalog = Catalog(folder / "catalog.sqlite", root=root)
        for _ in scan(catalog, root, Settings()):
            pass
        return catalog

    return scanned_people


@pytest.fixture
def small_library(faces_dev: Path, tmp_path: Path) -> Path:
    """A writable folder with a few real photos of two people and one group photo."""
    root = tmp_path / "photos"
    for name in ("Barack_Obama", "Joe_Biden"):
        shutil.copytree(faces_dev / name, root / name)
    (root / "groups").mkdir()
    shutil.copy2(faces_dev / "_group" / "frec__obama_and_biden.jpg", root / "groups")
    return root
