"""The core must stay usable headless: importing all of it must not load Qt.

The import-linter contracts in pyproject.toml check faceorganizer's own imports; this
checks what actually gets loaded, so it also catches a third-party package that pulls
Qt in behind our back (the contracts cannot look inside other packages).
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import faceorganizer.core


def test_core_imports_no_qt() -> None:
    modules = [
        m.name for m in pkgutil.walk_packages(faceorganizer.core.__path__, "faceorganizer.core.")
    ]
    assert {"faceorganizer.core.store.catalog", "faceorganizer.core.library.scan"} <= set(modules)
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "import faceorganizer.cli, faceorganizer.eval.evaluation\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
