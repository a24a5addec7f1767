"""Shared fixtures: the real labeled photos and one real scan of them per test session."""

from __future__ import annotations

import shutil
import sqlite3
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


@pytest.fixture
def small_library(faces_dev: Path, tmp_path: Path) -> Path:
    """A writable folder with a few real photos of two people and one group photo."""
    root = tmp_path / "photos"
    for name in ("Barack_Obama", "Joe_Biden"):
        shutil.copytree(faces_dev / name, root / name)
    (root / "groups").mkdir()
    shutil.copy2(faces_dev / "_group" / "frec__obama_and_biden.jpg", root / "groups")
    return root
