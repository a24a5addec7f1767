"""A library's own settings: kept in its catalog, changed only by what is given."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings

from faceorganizer.config import Settings
from faceorganizer.core.library.tasks import library_settings
from faceorganizer.core.store.catalog import Catalog, FaceRecord
from faceorganizer.ui.dialogs.regroup import legacy_grouping

MADE = Settings(detector="mtcnn", max_side=800, embedder="onnx", algorithm="dbscan", threshold=0.4)


def test_only_given_values_change() -> None:
    assert MADE.changed(detector=None, max_side=None, algorithm=None, threshold=None) == MADE
    assert MADE.changed(threshold=0.45) == Settings(**{**MADE.__dict__, "threshold": 0.45})
    same_algorithm = MADE.changed(algorithm="dbscan")
    assert same_algorithm.threshold == 0.4
    # Another algorithm's threshold means something else: it starts from its default.
    assert MADE.changed(algorithm="chinese-whispers").threshold is None
    assert MADE.changed(algorithm="chinese-whispers", threshold=0.5).threshold == 0.5


def test_catalog_keeps_settings(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "c.sqlite")
    assert not catalog.has_grouping() and catalog.settings() == Settings()
    catalog.save_settings(Settings(**{**MADE.__dict__, "workers": 3}))
    catalog.close()
    reopened = Catalog(tmp_path / "c.sqlite", readonly=True)
    assert reopened.has_grouping() and reopened.settings() == MADE  # workers: the machine's
    reopened.close()


def test_unusable_stored_values_fall_back_to_defaults(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "c.sqlite")
    stored = {"detector": "retinaface", "max_side": -5, "algorithm": "dbscan", "threshold": "x"}
    catalog.set_meta("settings", json.dumps({**stored, "colour": "blue"}))
    assert catalog.settings() == Settings(algorithm="dbscan")
    catalog.set_meta("settings", "{not json")
    assert catalog.settings() == Settings()
    catalog.close()


def test_older_catalog_keeps_the_apps_last_grouping(tmp_path: Path) -> None:
    """Before libraries kept their settings the app grouped every library with its last
    Regroup choice (QSettings): an older catalog goes on with that, a new one does not."""
    app = QSettings(str(tmp_path / "app.ini"), QSettings.Format.IniFormat)
    assert legacy_grouping(app) is None
    app.setValue("cluster/algorithm", "dbscan")
    app.setValue("cluster/threshold", 0.42)
    legacy = legacy_grouping(app)
    assert legacy == Settings(algorithm="dbscan", threshold=0.42)
    catalog = Catalog(tmp_path / "c.sqlite", root=tmp_path)
    assert library_settings(catalog, legacy) == Settings()  # new library: defaults
    face = FaceRecord((0, 0, 9, 9), 0.9, np.zeros((5, 2)), b"", np.ones(4), "m")
    catalog.record_faces(catalog.add_file("a.jpg", 1, 1, None), [face], (10, 10))
    assert library_settings(catalog, legacy) == legacy
    assert library_settings(catalog, None) == Settings()
    catalog.save_settings(MADE)
    assert library_settings(catalog, legacy) == MADE  # the catalog's record wins
    catalog.close()
