"""Every setting name and default, declared once: the CLI, the GUI and the core read them here.

Cheap to import (no numpy, no models), so the CLI parser and the window can use it at start.
A library's own settings (how it was scanned and grouped) are stored in its catalog; these
are only the defaults a new library starts with.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

APP_NAME = "faceorganizer"

# Grouping algorithms: key -> what the GUI calls it.
ALGORITHMS: dict[str, str] = {"chinese-whispers": "Chinese whispers", "dbscan": "DBSCAN"}
# Chinese whispers: the "same person" distance of the merge step (average linkage); the
# whispers themselves run MERGE_GAP lower. DBSCAN: the neighbourhood radius.
DEFAULT_THRESHOLD: dict[str, float] = {"chinese-whispers": 0.525, "dbscan": 0.45}
# A group needs this many faces to become a person; a face that joins no one goes to the
# Unsorted bin (see README: of the two-face groups the dev sets give, 88 % are one person,
# so Immich's three would scatter real people).
MIN_PERSON_FACES = 2
# A face this turned (|yaw|, see vision.detect_yunet.yaw_of) is "turned": the scan also
# describes it from a wider crop, and the grouping lets groups of such faces join their
# person more readily (grouping.attach).
TURNED_YAW = 0.2

# "yunet": OpenCV Zoo's YuNet finds faces, frontal, turned, small and blurred; HOG checks
# each, and faces it confirms keep HOG's box and dlib's points, the others YuNet's own
# (the default: finds 99 % of cfp-dev's photos, profiles included). "cascade": MTCNN
# proposes, HOG confirms (face_recognition's faces, no profiles; the default before
# YuNet); "hog": dlib's HOG alone; "mtcnn": MTCNN alone, dlib's points on its boxes.
DETECTORS: tuple[str, ...] = ("yunet", "cascade", "hog", "mtcnn")
# "sface": OpenCV Zoo's SFace (groups best); "onnx": dlib's ResNet, our conversion (12 ms
# a face against SFace's 20); "dlib": dlib itself (the reference, ~10x slower than onnx).
EMBEDDERS: tuple[str, ...] = ("sface", "onnx", "dlib")


@dataclass(frozen=True)
class Settings:
    """How faces are found and grouped. Defaults come from measurements (README)."""

    detector: str = "yunet"
    max_side: int = 1600  # long side of the working image for detection
    workers: int = 0  # processes for detection/embedding; 0 = one per core
    # A catalog keeps the descriptor space it started in (library.scan.embedder_for).
    embedder: str = "sface"
    algorithm: str = "chinese-whispers"
    threshold: float | None = None  # None = the algorithm's default

    def record(self) -> dict[str, Any]:
        """What a library's catalog keeps of these settings (LIBRARY_SETTINGS)."""
        return {key: getattr(self, key) for key in LIBRARY_SETTINGS}

    def worker_count(self) -> int:
        return self.workers or max(1, os.cpu_count() or 1)

    def changed(self, **given: Any) -> Settings:
        """These settings with every given value that is not None (a command-line flag
        that was given). A new algorithm without a threshold gets that algorithm's own
        default: thresholds of two algorithms mean different things."""
        values = {key: value for key, value in given.items() if value is not None}
        new_algorithm = values.get("algorithm", self.algorithm) != self.algorithm
        if new_algorithm and "threshold" not in values:
            values["threshold"] = None
        return replace(self, **values)


# What a library remembers in its catalog: how it was scanned and grouped. (``workers``
# belongs to the machine, not the library.)
LIBRARY_SETTINGS: tuple[str, ...] = ("detector", "max_side", "embedder", "algorithm", "threshold")
