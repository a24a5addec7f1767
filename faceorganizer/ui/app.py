"""Application entry: ``faceorganizer [FOLDER] [--catalog PATH]`` opens the window.

Only Qt, numpy and the catalog are imported before the window shows; the pipeline
(dlib), umap and scipy load later inside workers, which keeps startup well under 2 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from faceorganizer import resources_dir
from faceorganizer.config import APP_NAME
from faceorganizer.ui.qt_check import check_qt_platform

_STARTED = time.perf_counter()


def clean_qt_environment() -> None:
    """opencv-python points QT_QPA_PLATFORM_PLUGIN_PATH (and QT_QPA_FONTDIR) at its own
    Qt 5 files when cv2 is imported; PySide6 would then load incompatible plugins and
    abort ("could not load the Qt platform plugin xcb")."""
    for name in ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_PLUGIN_PATH", "QT_QPA_FONTDIR"):
        value = os.environ.get(name, "")
        if "cv2" in value:
            os.environ.pop(name)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=APP_NAME, description="Open the faceorganizer app.")
    parser.add_argument("folder", nargs="?", help="photo folder to open and scan")
    parser.add_argument("--catalog", metavar="PATH", help="catalog file (default: per folder)")
    parser.add_argument("--quit-after", type=int, metavar="MS", help=argparse.SUPPRESS)
    parser.add_argument("--report-startup", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--settings", metavar="INI", help=argparse.SUPPRESS)
    args, _qt_args = parser.parse_known_args(argv)  # leave Qt's own options to Qt
    # The same switches as environment variables: `faceorganizer --option` without a
    # folder is routed to the CLI by __main__, so tests and benchmarks use these.
    if args.quit_after is None and os.environ.get("FACEORGANIZER_QUIT_AFTER"):
        args.quit_after = int(os.environ["FACEORGANIZER_QUIT_AFTER"])
    if os.environ.get("FACEORGANIZER_REPORT_STARTUP"):
        args.report_startup = True
    if args.catalog is None and os.environ.get("FACEORGANIZER_CATALOG"):
        args.catalog = os.environ["FACEORGANIZER_CATALOG"]
    return args


def create_application(argv: list[str]) -> object:
    """The QApplication with the app's name, icon and style (shared with tests)."""
    clean_qt_environment()
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else APP_NAME, *argv])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationDisplayName("faceorganizer")
    app.setDesktopFileName(APP_NAME)
    app.setStyle("Fusion")
    resources = resources_dir()
    icon = QIcon()
    for name in ("faceorganizer.svg", "faceorganizer-256.png"):
        if (resources / "icons" / name).is_file():
            icon.addFile(str(resources / "icons" / name))
    app.setWindowIcon(icon)
    style = resources / "style.qss"
    if style.is_file():
        app.setStyleSheet(style.read_text(encoding="utf-8"))
    return app


def make_settings(path: str | None = None) -> object:
    from PySide6.QtCore import QSettings

    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(APP_NAME, APP_NAME)


def run_app(argv: list[str]) -> int:
    """Open the main window; with FOLDER, open and scan it. Returns the exit code."""
    args = parse_args(argv)
    problem = check_qt_platform()
    if problem:  # Qt would abort with a message that names no package
        print(problem, file=sys.stderr)
        return 1
    app = create_application(argv)
    from PySide6.QtCore import QTimer

    from faceorganizer.ui.main_window import MainWindow

    catalog = Path(args.catalog).expanduser() if args.catalog else None
    window = MainWindow(make_settings(args.settings), catalog, app.windowIcon())  # type: ignore[attr-defined]
    window.show()
    app.aboutToQuit.connect(window.close)  # type: ignore[attr-defined] # stop workers first

    def shown() -> None:
        if args.report_startup:
            print(f"shown {time.time():.3f} {time.perf_counter() - _STARTED:.3f}", flush=True)
        if args.folder:
            window.open_folder(Path(args.folder))
        elif catalog is not None:
            if catalog.is_file():
                window.open_catalog(catalog)
            else:
                window.statusBar().showMessage(f"No catalog at {catalog}", 8000)
        else:
            reopen_last_library(window)
        if args.quit_after is not None:
            QTimer.singleShot(max(0, args.quit_after), window.close)

    QTimer.singleShot(0, shown)  # after the first paint: the window appears at once
    return int(app.exec())  # type: ignore[attr-defined]


def reopen_last_library(window: object) -> bool:
    """A launch without a folder continues with the last library, as photo managers do,
    and looks for new photos. If its folder is gone (a drive not plugged in), the
    library still opens from its catalog; with no catalog either, the start page
    lists the recent folders."""
    from faceorganizer.core.store.catalog import default_catalog_path

    recent = window.recent_folders()  # type: ignore[attr-defined]
    if not recent:
        return False
    folder = Path(recent[0])
    if folder.is_dir():
        return bool(window.open_folder(folder))  # type: ignore[attr-defined]
    catalog = default_catalog_path(folder)
    if not catalog.is_file() or not window.open_catalog(catalog):  # type: ignore[attr-defined]
        return False
    window.statusBar().showMessage(  # type: ignore[attr-defined]
        f"{folder} is not there (a drive not connected?): showing what was found before", 10000
    )
    return True


def main() -> int:
    return run_app(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
