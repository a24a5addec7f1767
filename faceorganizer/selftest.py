"""``faceorganizer --self-test``: prove that this installation works, offline, in seconds.

Meant for the frozen bundle above all (a missing model file, Qt plugin or numba piece
shows up here and not in the source tree), but runs the same from source or a pip
install. Every check prints one line with ✓ or ✗ and its time; the exit status is 0 only
when all of them passed.

The window check runs the app in a child process (the same executable, with
``FACEORGANIZER_SELFTEST_WINDOW`` set) so that a Qt failure — which may abort the
process — is reported as a failed check, and so that the time from launch to the
window being shown is measured as a user sees it. Qt is imported only in that child.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from faceorganizer import resources_dir
from faceorganizer.wording import count

SAMPLE = Path("sample") / "eileen-collins.jpg"
# The sample's face (a 512 x 512 NASA portrait): the best detection must lie in this box.
SAMPLE_FACE_AREA = (150, 50, 290, 190)
SAMPLE_NAME = "Eileen Collins"
WINDOW_ENV = "FACEORGANIZER_SELFTEST_WINDOW"  # set in the child: ms to keep the window open
WINDOW_MS = 300
WINDOW_TIMEOUT_S = 120
SHOWN = "selftest-window-shown"  # the child's stdout line when its window is on screen


class CheckFailed(Exception):
    """A check found something wrong; the message says what."""


def sample_photo() -> Path:
    path = resources_dir() / SAMPLE
    if not path.is_file():
        raise CheckFailed(f"sample photo {path} not found")
    return path


# ---------------------------------------------------------------- checks


class SelfTest:
    """The checks in order; later ones use what earlier ones loaded."""

    def __init__(self) -> None:
        self.finder = None
        self.photo = None
        self.embedding: np.ndarray | None = None

    def models(self) -> str:
        import dlib

        from faceorganizer.config import Settings
        from faceorganizer.core.vision import model_files
        from faceorganizer.core.vision.finder import DETECTORS, FaceFinder

        self.finder = FaceFinder(Settings())  # the default detector, SFace
        for name in DETECTORS:  # older libraries keep the detector they were scanned with
            DETECTORS[name](Settings())
        dlib.face_recognition_model_v1(str(model_files.resnet_descriptor()))  # older libraries
        return "YuNet, MTCNN and HOG detectors, 5-point landmarks, SFace and ResNet descriptors"

    def sample_photo(self) -> str:
        from faceorganizer.config import Settings
        from faceorganizer.core.vision.images import load_photo

        path = sample_photo()
        self.photo = load_photo(path, Settings.max_side)
        height, width = self.photo.rgb.shape[:2]
        return f"{path.name} {width}x{height}"

    def face(self) -> str:
        if self.finder is None or self.photo is None:
            raise CheckFailed("needs the models and the sample photo (see above)")
        detections = self.finder.detector.detect(self.photo.rgb)
        if not detections:
            raise CheckFailed("no face found in the sample photo")
        best = max(detections, key=lambda d: d.score)
        x0, y0, x1, y1 = best.box
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        ax0, ay0, ax1, ay1 = SAMPLE_FACE_AREA
        if not (ax0 <= cx <= ax1 and ay0 <= cy <= ay1):
            raise CheckFailed(f"best face at {best.box}, expected inside {SAMPLE_FACE_AREA}")
        vectors = self.finder.embedder.embed(self.photo.rgb, [best.landmarks])
        if vectors.shape != (1, 128) or not np.isfinite(vectors).all():
            raise CheckFailed(f"bad descriptor: shape {vectors.shape}")
        self.embedding = vectors[0]
        return f"{len(detections)} found, best score {best.score:.2f}, 128-D descriptor"

    def clustering(self) -> str:
        from faceorganizer.core.grouping.cluster import cluster

        points, truth = _three_people(self.embedding)
        labels = cluster(points)  # Chinese whispers: exact kNN + the numba kernel
        groups = {tuple(sorted(set(labels[truth == t]))) for t in range(3)}
        if len(groups) != 3 or any(len(g) != 1 for g in groups):
            raise CheckFailed(f"expected 3 clean clusters, got labels {labels.tolist()}")
        return f"{count(len(points), 'face')} -> 3 people"

    def umap(self) -> str:
        import numba
        import umap

        points, _ = _three_people(self.embedding)
        # The numba code a frozen app is most likely to miss: pynndescent (UMAP skips it for
        # small data unless forced; the app needs it for large libraries) and, without a
        # seed, numba's parallel threading layer. pynndescent compiles for ~45 s CPU.
        reducer = umap.UMAP(n_neighbors=10, n_epochs=100, force_approximation_algorithm=True)
        xy = reducer.fit_transform(points)
        if xy.shape != (len(points), 2) or not np.isfinite(xy).all():
            raise CheckFailed(f"bad UMAP output: shape {xy.shape}")
        layer = numba.threading_layer()
        return f"{count(len(points), 'face')} -> 2-D map (pynndescent, numba {layer} threads)"

    def scan(self) -> str:
        """A real scan of a copy of the sample photo whose sidecar names its face: the
        worker process, the catalog, and the XMP reader and writer (defusedxml)."""
        from faceorganizer.config import Settings
        from faceorganizer.core.library.scan import ScanSummary, scan
        from faceorganizer.core.store.catalog import Catalog

        with tempfile.TemporaryDirectory(prefix="faceorganizer-selftest-") as tmp:
            folder = Path(tmp) / "photos"
            folder.mkdir()
            photo = folder / SAMPLE.name
            shutil.copyfile(sample_photo(), photo)
            _write_sample_sidecar(photo)
            catalog = Catalog(Path(tmp) / "catalog.sqlite", root=folder)
            summary = ScanSummary()
            try:
                for _ in scan(catalog, folder, Settings(workers=1), summary=summary):
                    pass
                stats = catalog.stats()
                names = [p.name for p in catalog.persons()]
            finally:
                catalog.close()
        if summary.skipped:
            raise CheckFailed(f"skipped: {summary.skipped}")
        if stats["faces"] < 1 or stats["people"] < 1:
            raise CheckFailed(f"scan found {stats}")
        if SAMPLE_NAME not in names or summary.metadata.warnings:
            raise CheckFailed(f"the sidecar's name was not read: {summary.metadata}")
        return (
            f"{count(stats['files'], 'photo')}, {count(stats['faces'], 'face')}, "
            f"{count(stats['people'], 'person')}, "
            "named from its XMP sidecar"
        )

    def window(self) -> str:
        env = dict(os.environ, **{WINDOW_ENV: str(WINDOW_MS)})
        headless = sys.platform.startswith("linux") and not (
            env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")
        )
        if headless:
            env["QT_QPA_PLATFORM"] = "offscreen"
        with tempfile.TemporaryDirectory(prefix="faceorganizer-selftest-") as home:
            # the app must not read or write the user's settings and libraries here
            env["XDG_CONFIG_HOME"] = env["XDG_DATA_HOME"] = home
            started = time.time()
            try:
                child = subprocess.run(
                    _self_command(),
                    env=env,
                    capture_output=True,
                    text=True,
                    errors="replace",
                    timeout=WINDOW_TIMEOUT_S,
                )
            except subprocess.TimeoutExpired as exc:
                raise CheckFailed(
                    f"the window did not close within {WINDOW_TIMEOUT_S} s "
                    "(does run_app honour --quit-after?)"
                ) from exc
        shown = [line.split() for line in child.stdout.splitlines() if line.startswith(SHOWN)]
        if child.returncode != 0 or not shown:
            tail = (child.stdout + child.stderr).strip().splitlines()[-6:]
            raise CheckFailed(f"exit status {child.returncode}: " + " | ".join(tail))
        platform = env.get("QT_QPA_PLATFORM", "default platform")
        return f"shown {float(shown[0][1]) - started:.1f} s after launch ({platform}), closed"


def _write_sample_sidecar(photo: Path) -> None:
    """An MWG sidecar naming the sample's face; checks on the way that the XML parser
    refuses a DTD (what keeps XXE and entity bombs out)."""
    from faceorganizer.core.library.sidecars import sidecar_path
    from faceorganizer.core.metadata.xmp_read import XmpError, parse_regions
    from faceorganizer.core.metadata.xmp_write import FaceName, sidecar_xmp

    try:
        parse_regions(b'<!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>')
    except XmpError:
        pass
    else:
        raise CheckFailed("the XMP parser accepted a DTD")
    x0, y0, x1, y1 = SAMPLE_FACE_AREA
    side = 512  # the sample is 512 x 512
    box = (x0 / side, y0 / side, x1 / side, y1 / side)
    sidecar_path(photo).write_bytes(
        sidecar_xmp([FaceName(SAMPLE_NAME, box)], [SAMPLE_NAME], (side, side))
    )


def _three_people(anchor: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """36 descriptor-like points: 3 people x 12 photos, the sample's face among the first."""
    rng = np.random.default_rng(7)
    centres = rng.normal(0.0, 0.09, (3, 128)).astype(np.float32)
    if anchor is not None:
        centres[0] = anchor
    truth = np.repeat(np.arange(3), 12)
    noise = rng.normal(0.0, 0.012, (36, 128)).astype(np.float32)
    return centres[truth] + noise, truth


def _self_command() -> list[str]:
    if getattr(sys, "frozen", False):
        return [sys.executable, "--self-test"]
    return [sys.executable, "-m", "faceorganizer", "--self-test"]


def _window_child(quit_after_ms: int) -> int:
    """Child side of the window check: run the app, report when its window shows."""
    from PySide6 import QtCore, QtWidgets

    class ShowWatcher(QtCore.QObject):
        seen = False

        def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
            if (
                event.type() == QtCore.QEvent.Type.Show
                and isinstance(obj, QtWidgets.QWidget)
                and obj.isWindow()
                and not self.seen
            ):
                self.seen = True
                print(f"{SHOWN} {time.time():.3f} {obj.windowTitle()}", flush=True)
            return False

    class WatchedApplication(QtWidgets.QApplication):
        def __init__(self, *args: object) -> None:
            super().__init__(*args)
            self.watcher = ShowWatcher(self)
            self.installEventFilter(self.watcher)

    QtWidgets.QApplication = WatchedApplication  # before the app module imports it
    try:
        from faceorganizer.ui.app import run_app
    except ImportError as exc:
        print(f"faceorganizer.ui.app is not importable: {exc!r}", flush=True)
        return 4
    try:
        status = run_app(["--quit-after", str(quit_after_ms)])
    except SystemExit as exc:
        status = 0 if exc.code is None else exc.code
    return status if isinstance(status, int) else 1


# ---------------------------------------------------------------- runner

CHECKS: list[tuple[str, str]] = [
    ("models", "load the face models"),
    ("sample_photo", "decode the sample photo"),
    ("face", "detect and describe its face"),
    ("clustering", "group faces into people"),
    ("umap", "UMAP map of the faces"),
    ("scan", "scan, names from XMP"),
    ("window", "open and close the main window"),
]


def _marks() -> tuple[str, str]:
    try:
        "✓✗".encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return "ok", "FAIL"
    return "✓", "✗"


def run_self_test(checks: list[tuple[str, str]] | None = None) -> int:
    """Run the checks, print one line each, return the exit status (0 = all passed)."""
    quit_after = os.environ.get(WINDOW_ENV)
    if quit_after:
        return _window_child(int(quit_after))
    from faceorganizer import __version__

    where = "frozen bundle" if getattr(sys, "frozen", False) else "Python"
    print(f"faceorganizer {__version__} self-test ({where}: {sys.executable})", flush=True)
    ok_mark, fail_mark = _marks()
    test = SelfTest()
    failed = 0
    began = time.perf_counter()
    for method, title in checks or CHECKS:
        step: Callable[[], str] = getattr(test, method)
        started = time.perf_counter()
        try:
            detail, passed = step(), True
        except Exception as exc:  # noqa: BLE001 - every failure becomes a ✗ line
            detail, passed = f"{type(exc).__name__}: {exc}", False
            failed += 1
        seconds = time.perf_counter() - started
        mark = ok_mark if passed else fail_mark
        print(f"{mark} {title:<32} {seconds:6.2f} s  {detail}", flush=True)
    total = time.perf_counter() - began
    if failed:
        print(f"{failed} of {len(checks or CHECKS)} checks failed ({total:.1f} s).")
        return 1
    print(f"All {len(checks or CHECKS)} checks passed in {total:.1f} s.")
    return 0
