"""Speed of faceorganizer's default pipeline against the classic face_recognition one.

Both run in this one process run, on the same photos:

(a) reference: exactly what face_recognition does by default: the full-resolution image
    (``load_image_file``: PIL, RGB, no EXIF rotation), HOG with one upsampling, 5-point
    landmarks, the ResNet descriptor, one process; then dlib's Chinese whispers at 0.5;
(b) faceorganizer: a full ``scan`` (sync, decode, detect, embed, thumbnails, catalog
    writes, clustering) with default settings into a temporary catalog.

Prints photos/s of both and the ratio, faces each found and how many both found (same
face = boxes overlapping with IoU >= 0.3), and the pairwise F of both on labeled images
(largest face carries the folder's label, as in ``faceorganizer eval``).

    python bench/pipeline.py [FOLDER] [--limit N]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import dlib
import numpy as np
from detectors import matched  # bench/ is on sys.path when run as a script
from PIL import Image

from faceorganizer.config import DETECTORS, Settings
from faceorganizer.core.library.scan import scan
from faceorganizer.core.store.catalog import Catalog
from faceorganizer.core.vision import model_files
from faceorganizer.core.vision.images import is_image_path
from faceorganizer.eval.evaluation import labeled_photos, score, score_photos

DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces-dev"
Box = tuple[float, float, float, float]


def reference(files: list[Path]) -> tuple[dict[str, list[Box]], dict[str, list[np.ndarray]]]:
    """face_recognition's defaults, written out with the same dlib calls it makes."""
    detector = dlib.get_frontal_face_detector()
    landmarks = dlib.shape_predictor(str(model_files.shape_predictor_5()))
    net = dlib.face_recognition_model_v1(str(model_files.resnet_descriptor()))
    boxes: dict[str, list[Box]] = {}
    vectors: dict[str, list[np.ndarray]] = {}
    for path in files:
        try:
            image = np.array(Image.open(path).convert("RGB"))
        except OSError:
            continue
        found = detector(image, 1)
        key = path.as_posix()
        boxes[key] = [(r.left(), r.top(), r.right(), r.bottom()) for r in found]
        vectors[key] = [
            np.array(net.compute_face_descriptor(image, landmarks(image, r), 1)) for r in found
        ]
    return boxes, vectors


def reference_quality(root: Path, boxes: dict, vectors: dict) -> dict[str, float]:
    """Scores of dlib's Chinese whispers at 0.5 over the reference descriptors."""
    keys = [(k, i) for k in sorted(vectors) for i in range(len(vectors[k]))]
    if not keys:
        return {"pairwise_f": 0.0, "bcubed_f": 0.0}
    labels = dlib.chinese_whispers_clustering(
        [dlib.vector(vectors[k][i].tolist()) for k, i in keys], 0.5
    )
    by_face = dict(zip(keys, labels, strict=True))
    truth, predicted = [], []
    for key in sorted(vectors):
        relative = Path(key).relative_to(root).as_posix()
        label = relative.split("/", 1)[0]
        if "/" not in relative or label.startswith("_") or not boxes[key]:
            continue
        areas = [(b[2] - b[0]) * (b[3] - b[1]) for b in boxes[key]]
        truth.append(label)
        predicted.append(by_face[(key, int(np.argmax(areas)))])
    return score(truth, predicted)


def ours(root: Path, catalog_path: Path, settings: Settings) -> dict[str, list[Box]]:
    catalog = Catalog(catalog_path)
    for _ in scan(catalog, root, settings):
        pass
    rows = catalog.face_boxes()
    catalog.close()
    boxes: dict[str, list[Box]] = {}
    for path, box in rows:
        boxes.setdefault((root / path).as_posix(), []).append(box)
    return boxes


def found_by_both(first: dict[str, list[Box]], second: dict[str, list[Box]]) -> int:
    return sum(matched(boxes, second.get(key, [])) for key, boxes in first.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--limit", type=int, default=0, help="only the first N photos")
    parser.add_argument("--detector", choices=tuple(DETECTORS), default=Settings.detector)
    parser.add_argument("--max-side", type=int, default=Settings.max_side)
    args = parser.parse_args()
    root = args.folder.resolve()
    files = sorted(p for p in root.rglob("*") if p.is_file() and is_image_path(p))
    if args.limit:
        files = files[: args.limit]
    with tempfile.TemporaryDirectory() as temp:
        subset = Path(temp) / "photos"
        for path in files:  # links, so both pipelines read exactly these files
            target = subset / path.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)
        for path in files:  # both start with the files in the page cache
            path.read_bytes()
        started = time.perf_counter()
        settings = Settings(detector=args.detector, max_side=args.max_side)
        our_boxes = ours(subset, Path(temp) / "bench.sqlite", settings)
        our_seconds = time.perf_counter() - started
        our_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        catalog = Catalog(Path(temp) / "bench.sqlite")
        our_f = score_photos(labeled_photos(catalog))
        catalog.close()

        started = time.perf_counter()
        ref_boxes, ref_vectors = reference(sorted(subset.rglob("*.*")))
        ref_seconds = time.perf_counter() - started
        ref_f = reference_quality(subset, ref_boxes, ref_vectors)

    n = len(files)
    ref_faces = sum(len(b) for b in ref_boxes.values())
    our_faces = sum(len(b) for b in our_boxes.values())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"photos: {n} in {root}; ours: {args.detector} at {args.max_side} px")
    print(f"{'pipeline':<28} {'seconds':>8} {'photos/s':>9} {'faces':>6} {'pairwise F':>11} "
          f"{'BCubed F':>9}")  # fmt: skip
    for name, seconds, faces, quality in (
        ("face_recognition defaults", ref_seconds, ref_faces, ref_f),
        ("faceorganizer", our_seconds, our_faces, our_f),
    ):
        print(f"{name:<28} {seconds:8.1f} {n / seconds:9.2f} {faces:6d} "
              f"{quality['pairwise_f']:11.3f} {quality['bcubed_f']:9.3f}")  # fmt: skip
    print(f"speed-up: {ref_seconds / our_seconds:.1f}x")
    print(f"faces found by both: {found_by_both(ref_boxes, our_boxes)}")
    # workers are separate processes (spawned: RUSAGE_CHILDREN would report this process's
    # size at fork time, not theirs)
    print(f"peak memory of this process: after our scan {our_peak_mb:.0f} MB, "
          f"after the reference {peak_mb:.0f} MB")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
