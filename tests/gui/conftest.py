"""Fixtures of the GUI tests: a real main window with private settings and data dir,
and the same window showing a private copy of the scanned faces-dev library."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from faceorganizer.core.store.catalog import Catalog
from faceorganizer.ui.app import create_application
from faceorganizer.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MainWindow:
    """A main window with private settings and a private per-user data dir."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    create_application([])
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture
def library(qtbot, window: MainWindow, catalog: Catalog) -> MainWindow:
    with qtbot.waitSignal(window.browser.refreshed, timeout=10_000):
        assert window.open_catalog(catalog.path)
    return window
