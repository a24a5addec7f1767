"""The Qt binding we install must not leak references to None (PySide6 6.12.0 does, and
Python 3.11 then aborts the app after ~10k calls): pyproject pins it below 6.12."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def test_void_qt_calls_keep_none_refcount(qapp) -> None:  # noqa: ANN001 - pytest-qt fixture
    from PySide6.QtWidgets import QWidget

    widget = QWidget()
    before = sys.getrefcount(None)
    for _ in range(2000):
        widget.update()
    assert abs(sys.getrefcount(None) - before) < 100
