"""Face detectors compared on the labeled photos: recall against face_recognition, and speed.

The reference is what face_recognition does by default: dlib's HOG detector upsampled
once on the full-resolution image. Every other variant runs on a working-size image
(``load_photo(path, max_side)``, long side at most ``max_side``) and its boxes are mapped
back to original pixels. All variants run on each photo in turn, in this one process, so
a busy machine slows them alike: compare the ratios, not the absolute times.

Columns:
  recall    labeled photos (``<identity>/<image>``) where the variant finds the labeled face:
            a box with IoU >= 0.3 against the reference's largest face, or any face where
            the reference found none. ``--cfp`` and ``--fiw`` add those sets' photos, each
            a loose crop of one face, so there any face counts; cfp-dev's frontal and
            profile photos are counted apart
  >=1       labeled photos with at least one face
  faces     faces on all photos; both = of those, also found by the reference (IoU >= 0.3)
  noface    faces reported on ``_noface/`` photos (all false detections)
  group     faces found on ``_group/`` photos
  faces-dev ms   mean ms per faces-dev photo: decode, detect (boxes only), total, and the
                 reference's total / this total and reference's detect / this detect
  lfw ms         the same for the lfw-dev sample (250 px photos: decoding is negligible)
5-point landmarks are timed once, per face, on the reference's faces.

    python bench/detectors.py [--lfw N] [--cfp N] [--fiw N] [--only NAME,..] [--mmod] [--fit-box]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dlib
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faceorganizer.core.vision import model_files  # noqa: E402
from faceorganizer.core.vision.detect import HogDetector, iou  # noqa: E402
from faceorganizer.core.vision.detect_cascade import CascadeDetector  # noqa: E402
from faceorganizer.core.vision.detect_mtcnn import HOG_BOX, MtcnnDetector, hog_like_rect  # noqa: E402
from faceorganizer.core.vision.detect_yunet import YunetDetector  # noqa: E402
from faceorganizer.core.vision.images import is_image_path, load_photo  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
Box = tuple[float, float, float, float]
Finder = Callable[[np.ndarray, float], list[Box]]  # (working image, its scale)


@dataclass
class Variant:
    name: str
    max_side: int | None  # working size; None = full resolution
    find: Finder  # boxes in the working image's pixels
    boxes: dict[Path, list[Box]] = field(default_factory=dict)  # in original pixels
    detect_s: dict[Path, float] = field(default_factory=dict)


def matched(first: list[Box], second: list[Box]) -> int:
    """Faces of ``first`` that have their own partner in ``second`` (greedy, IoU >= 0.3)."""
    others, both = list(second), 0
    for box in first:
        match = max(others, key=lambda o: iou(box, o), default=None)
        if match is not None and iou(box, match) >= 0.3:
            others.remove(match)
            both += 1
    return both


def largest(boxes: list[Box]) -> Box | None:
    return max(boxes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), default=None)


def hog(upsample: int | None) -> Finder:
    """dlib HOG boxes; ``None`` = HogDetector's default rule (upsample small images only)."""
    detector, rule = dlib.get_frontal_face_detector(), HogDetector()

    def find(rgb: np.ndarray, scale: float) -> list[Box]:
        times = rule._upsample_for(rgb) if upsample is None else upsample
        return [(r.left(), r.top(), r.right() + 1, r.bottom() + 1) for r in detector(rgb, times)]

    return find


def mtcnn(min_face: int) -> Finder:
    detector = MtcnnDetector(min_face=min_face)
    return lambda rgb, scale: [tuple(map(float, b)) for b in detector.detect_boxes(rgb)[0]]


def yunet(side: int, threshold: float) -> Finder:
    detector = YunetDetector(side=side, threshold=threshold)
    return lambda rgb, scale: [d.box for d in detector.detect(rgb, scale)]


def cascade() -> Finder:
    """The default detector: MTCNN proposals confirmed by HOG (boxes only, no landmarks)."""
    detector = CascadeDetector()
    return lambda rgb, scale: [d.box for d in detector.detect(rgb, scale)]


def mmod(upsample: int) -> Finder:
    detector = dlib.cnn_face_detection_model_v1(str(model_files.mmod_detector()))

    def find(rgb: np.ndarray, scale: float) -> list[Box]:
        rects = [d.rect for d in detector(rgb, upsample)]
        return [(r.left(), r.top(), r.right() + 1, r.bottom() + 1) for r in rects]

    return find


def photos(samples: dict[str, int]) -> list[Path]:
    """faces-dev, plus every k-th photo of each other set so that about N of it are used."""
    files = sorted(p for p in (DATA / "faces-dev").rglob("*") if p.is_file() and is_image_path(p))
    for name, n in samples.items():
        pool = sorted(p for p in (DATA / name).rglob("*") if is_image_path(p))
        files += pool[:: max(1, len(pool) // n)][:n] if n else []
    return files


SETS = {"lfw-dev": "lfw", "fiw-dev": "fiw"}
ANY_FACE = ("cfp frontal", "cfp profile", "fiw")  # one face per photo, no reference box


def kind(path: Path) -> str:
    """'labeled' (faces-dev), 'group', 'noface', 'lfw', 'fiw', 'cfp frontal' or
    'cfp profile', from the photo's folders and name."""
    dataset = path.parents[1].name
    if dataset == "cfp-dev":
        return f"cfp {path.name.split('_')[0]}"
    if dataset in SETS:
        return SETS[dataset]
    return {"_group": "group", "_noface": "noface"}.get(path.parent.name, "labeled")


Decode = dict[tuple[int | None, Path], float]


def run(files: list[Path], reference: Variant, variants: list[Variant]) -> Decode:
    """Every variant on every photo; returns decode seconds by (working size, photo)."""
    decode: Decode = {}
    sizes = list(dict.fromkeys(v.max_side for v in [reference, *variants]))
    for number, path in enumerate(files, 1):
        print(f"\r{number}/{len(files)} {path.name[:40]:<40}", end="", file=sys.stderr)
        for size in sizes:
            started = time.perf_counter()
            photo = load_photo(path, size)
            decode[size, path] = time.perf_counter() - started
            for variant in (v for v in [reference, *variants] if v.max_side == size):
                started = time.perf_counter()
                found = variant.find(photo.rgb, photo.scale)
                variant.detect_s[path] = time.perf_counter() - started
                variant.boxes[path] = [tuple(v / photo.scale for v in box) for box in found]
    print(file=sys.stderr)
    return decode


def landmark_ms(files: list[Path], reference: Variant) -> tuple[float, int]:
    """dlib's 5-point predictor on the reference's faces: ms per face, and faces timed."""
    predictor = dlib.shape_predictor(str(model_files.shape_predictor_5()))
    seconds, faces = 0.0, 0
    for path in files:
        rgb = load_photo(path).rgb
        for x0, y0, x1, y1 in reference.boxes[path]:
            rect = dlib.rectangle(round(x0), round(y0), round(x1) - 1, round(y1) - 1)
            started = time.perf_counter()
            predictor(rgb, rect)
            seconds += time.perf_counter() - started
            faces += 1
    return 1000 * seconds / max(faces, 1), faces


def timing(variant: Variant, decode: Decode, files: list[Path]) -> tuple[float, float]:
    """Mean ms per photo over ``files``: decode, detect."""
    dec = 1000 * np.mean([decode[variant.max_side, p] for p in files])
    return dec, 1000 * np.mean([variant.detect_s[p] for p in files])


def report(files: list[Path], reference: Variant, variants: list[Variant], decode: Decode) -> None:
    kinds = {path: kind(path) for path in files}
    dev = [p for p in files if kinds[p] in ("labeled", "group", "noface")]
    lfw = [p for p in files if kinds[p] == "lfw"]
    recall_sets = [k for k in ("labeled", "lfw", *ANY_FACE) if k in kinds.values()]
    ref_dev, ref_lfw = timing(reference, decode, dev), lfw and timing(reference, decode, lfw)
    header = f"{'detector':<22} {'size':>5} "
    for name in recall_sets:
        header += f"{'recall ' + name:>19} {'>=1':>4} "
    header += f"{'faces':>5} {'both':>5} {'noface':>6} {'group':>5} | faces-dev ms: "
    header += f"{'decode':>6} {'detect':>6} {'total':>6} {'x ref':>5} {'x det':>5}"
    if lfw:
        header += f" | lfw ms: {'total':>5} {'x det':>5}"
    print(header)
    for variant in [reference, *variants]:
        line = f"{variant.name:<22} {variant.max_side or 'full':>5} "
        for name in recall_sets:
            labeled = [p for p in files if kinds[p] == name]
            hits, any_face = 0, 0
            for path in labeled:
                found = variant.boxes[path]
                target = None if name in ANY_FACE else largest(reference.boxes[path])
                any_face += bool(found)
                hits += bool(found) if target is None else any(iou(target, b) >= 0.3 for b in found)
            line += f"{hits:>9}/{len(labeled):<3} {100 * hits / len(labeled):4.0f}% {any_face:>4} "
        faces = sum(len(b) for b in variant.boxes.values())
        both = sum(matched(variant.boxes[p], reference.boxes[p]) for p in files)
        noface = sum(len(variant.boxes[p]) for p in files if kinds[p] == "noface")
        group = sum(len(variant.boxes[p]) for p in files if kinds[p] == "group")
        line += f"{faces:>5} {both:>5} {noface:>6} {group:>5} |               "
        dec, det = timing(variant, decode, dev)
        line += f"{dec:6.1f} {det:6.1f} {dec + det:6.1f} {sum(ref_dev) / (dec + det):5.1f} "
        line += f"{ref_dev[1] / det:5.1f}"
        if lfw:
            dec, det = timing(variant, decode, lfw)
            line += f" |         {dec + det:5.1f} {ref_lfw[1] / det:5.1f}"
        print(line)


def fit_box(files: list[Path], size: int = 1024) -> None:
    """Where dlib's HOG box sits relative to MTCNN's, and what that does to the landmarks.

    Prints median offsets (the values for ``HOG_BOX``) and the 5-point landmark error,
    in interocular distances, of dlib's predictor on MTCNN's raw box and on
    ``hog_like_rect`` against the predictor on the HOG box of the same face."""
    detector, finder = dlib.get_frontal_face_detector(), MtcnnDetector(min_face=20)
    predictor = dlib.shape_predictor(str(model_files.shape_predictor_5()))
    shifts, errors = [], {"raw MTCNN box": [], "hog_like_rect": []}

    def points(rgb: np.ndarray, rect: dlib.rectangle) -> np.ndarray:
        return np.array([(p.x, p.y) for p in predictor(rgb, rect).parts()], dtype=np.float64)

    for path in files:
        rgb = load_photo(path, size).rgb
        boxes = [tuple(map(float, b)) for b in finder.detect_boxes(rgb)[0]]
        for rect in detector(rgb, 1):
            hog_box = (rect.left(), rect.top(), rect.right() + 1, rect.bottom() + 1)
            box = max(boxes, key=lambda b, h=hog_box: iou(h, b), default=None)
            if box is None or iou(hog_box, box) < 0.3:
                continue
            w, h = box[2] - box[0], box[3] - box[1]
            shifts.append(
                (
                    (hog_box[0] + hog_box[2] - box[0] - box[2]) / 2 / w,
                    (hog_box[1] + hog_box[3] - box[1] - box[3]) / 2 / h,
                    (hog_box[2] - hog_box[0]) / np.sqrt(w * h),
                )
            )
            truth = points(rgb, rect)
            eyes = np.linalg.norm(truth[:2].mean(axis=0) - truth[2:4].mean(axis=0))
            raw = dlib.rectangle(*(round(v) for v in box))
            for name, candidate in (("raw MTCNN box", raw), ("hog_like_rect", hog_like_rect(box))):
                error = np.linalg.norm(points(rgb, candidate) - truth, axis=1).mean() / eyes
                errors[name].append(error)
    median = np.median(shifts, axis=0)
    print(f"faces found by both at {size} px: {len(shifts)}")
    print(f"median HOG box vs MTCNN box: dx {median[0]:.3f} w, dy {median[1]:.3f} h, "
          f"side {median[2]:.3f} sqrt(w h); HOG_BOX in use: {HOG_BOX}")  # fmt: skip
    for name, values in errors.items():
        p50, p90, p99 = np.percentile(values, [50, 90, 99])
        print(f"landmark error, {name:<14} median {p50:.3f}  p90 {p90:.3f}  p99 {p99:.3f}  "
              f"max {max(values):.3f} interocular distances")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lfw", type=int, default=0, help="add about N lfw-dev photos")
    parser.add_argument("--cfp", type=int, default=0, help="add about N cfp-dev photos")
    parser.add_argument("--fiw", type=int, default=0, help="add about N fiw-dev photos")
    parser.add_argument("--only", default="", help="variants whose name has one of these")
    parser.add_argument("--mmod", action="store_true", help="add dlib's MMOD CNN (slow)")
    parser.add_argument("--fit-box", action="store_true", help="measure HOG_BOX instead")
    parser.add_argument("--limit", type=int, default=0, help="only every k-th photo, ~N in all")
    args = parser.parse_args()
    files = photos({"lfw-dev": args.lfw, "cfp-dev": args.cfp, "fiw-dev": args.fiw})
    if args.limit:
        files = files[:: max(1, len(files) // args.limit)]
    if args.fit_box:
        fit_box(files)
        return 0

    reference = Variant("face_recognition hog", None, hog(1))
    variants = [Variant("cascade (default)", 1600, cascade())]
    variants += [Variant("hog default", 1600, hog(None)), Variant("hog default", 1024, hog(None))]
    variants += [
        Variant(f"hog up{up}", size, hog(up))
        for size in (640, 800, 1024, 1280, 1600)
        for up in (0, 1)
    ]
    variants += [
        Variant(f"mtcnn min{min_face}", size, mtcnn(min_face))
        for size in (640, 800, 1024)
        for min_face in (20, 40)
    ]
    variants += [
        Variant(f"yunet {side} t{threshold}", 1600, yunet(side, threshold))
        for side in (640, 800, 1024)
        for threshold in (0.5, 0.6, 0.7, 0.9)
    ]
    if args.mmod:
        variants.append(Variant("mmod up0", 640, mmod(0)))
    if args.only:
        variants = [v for v in variants if any(n in v.name for n in args.only.split(","))]
    decode = run(files, reference, variants)
    kinds = [kind(p) for p in files]
    print(
        f"photos: {len(files)} ({', '.join(f'{kinds.count(k)} {k}' for k in dict.fromkeys(kinds))})"
    )
    report(files, reference, variants, decode)
    per_face, faces = landmark_ms(files, reference)
    print(f"5-point landmarks (dlib shape predictor): {per_face:.2f} ms per face ({faces} faces)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
