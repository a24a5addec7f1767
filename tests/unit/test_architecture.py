"""The core must stay usable headless: importing it must not pull in Qt."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import faceorganizer.core


def test_core_imports_no_qt() -> None:
    modules = [m.name for m in pkgutil.iter_modules(faceorganizer.core.__path__)]
    assert {"store", "vision", "grouping", "library"} <= set(modules)
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module('faceorganizer.core.' + m)\n"
        "import faceorganizer.cli\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
