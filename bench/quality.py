"""Clustering quality on the labeled photo sets: algorithm x threshold x dataset.

    python bench/quality.py [--datasets faces-dev lfw-dev cfp-dev fiw-dev]
                            [--thresholds 0.45 0.5 auto]
                            [--algorithms chinese-whispers dbscan] [--embedder sface]
    python bench/quality.py --merge-grid [--whispers 0.45 0.475 0.5] [--merges 0.5 0.525]
                            [--linkage rms] [--seeds 10]

For Chinese whispers the threshold is the merge step's (whispers run MERGE_GAP lower);
``--merge-grid`` instead scores every (whispers threshold, merge threshold) pair, "none"
being whispers alone, as mean pairwise F / mean BCubed F (min pairwise F) over seeds.

Embeddings are computed once (HOG detector upsampled once, 5-point alignment, then dlib's
ResNet or, with ``--embedder sface``, SFace) and cached under
``user_cache_dir('faceorganizer')/bench``; the cache is keyed by the dataset's file list,
sizes and mtimes, so editing a set recomputes it.

The datasets are every labeled set under ``../shared/data`` (faces-dev, lfw-dev, and the
research-only cfp-dev and fiw-dev). HOG finds few of cfp-dev's profiles, so its scores here
are over the faces found; ``faceorganizer eval`` scores every photo end to end.

Labels: a face carries its folder's identity only if it is the largest face of an image in
a labeled folder; other faces (background people, ``_group`` and ``_noface`` folders) are
clustered with the rest but left out of the scores, as a real library would be.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faceorganizer.config import ALGORITHMS, DEFAULT_THRESHOLD  # noqa: E402
from faceorganizer.core.grouping.cluster import cluster, renumber  # noqa: E402
from faceorganizer.core.grouping.constraints import (  # noqa: E402
    Constraints,
    prepare_constraints,
)
from faceorganizer.core.grouping.knn import knn, neighbor_graph  # noqa: E402
from faceorganizer.core.grouping.merge import LINKAGES, merge_clusters  # noqa: E402
from faceorganizer.core.grouping.threshold import auto_threshold  # noqa: E402
from faceorganizer.core.grouping.whispers import chinese_whispers  # noqa: E402
from faceorganizer.eval import metrics  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}
COLUMNS = ("nmi", "ari", "pairwise_precision", "pairwise_recall", "pairwise_f")
COLUMNS += ("bcubed_precision", "bcubed_recall", "bcubed_f", "clusters")

_models = None


def labeled_sets(root: Path = DATA) -> list[str]:
    """Folders of ``<identity>/<image>`` with at least one identity (non-underscore) folder."""
    return sorted(
        d.name
        for d in root.iterdir()
        if d.is_dir() and any(s.is_dir() and not s.name.startswith("_") for s in d.iterdir())
    )


def image_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTS)


def _load_models(embedder: str) -> None:
    """Per worker process: dlib models are not picklable."""
    global _models
    import dlib

    from faceorganizer.core.vision import model_files

    if embedder == "sface":
        from faceorganizer.core.vision.embed_sface import SfaceEmbedder

        sface = SfaceEmbedder(threads=1)

        def encode(img: np.ndarray, shape) -> np.ndarray:
            return sface.embed(img, [np.array([(p.x, p.y) for p in shape.parts()], float)])[0]
    else:
        net = dlib.face_recognition_model_v1(str(model_files.resnet_descriptor()))

        def encode(img: np.ndarray, shape) -> np.ndarray:
            return np.asarray(net.compute_face_descriptor(img, shape), np.float32)

    _models = (
        dlib.get_frontal_face_detector(),
        dlib.shape_predictor(str(model_files.shape_predictor_5())),
        encode,
    )


def _faces_in(path: Path) -> list[tuple[tuple[int, int, int, int], np.ndarray]]:
    """(box, 128-D descriptor) for every face dlib finds; [] for unreadable files."""
    from PIL import Image, ImageOps

    detector, shaper, encoder = _models
    try:
        with Image.open(path) as im:
            img = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    except OSError:
        return []
    faces = []
    for r in detector(img, 1):
        vec = encoder(img, shaper(img, r))
        faces.append(((r.left(), r.top(), r.right(), r.bottom()), vec))
    return faces


def _fingerprint(files: list[Path], root: Path) -> str:
    h = hashlib.sha1()
    for f in files:
        st = f.stat()
        h.update(f"{f.relative_to(root)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def embed_dataset(
    name: str, root: Path = DATA, workers: int | None = None, embedder: str = "dlib"
) -> dict[str, np.ndarray]:
    """Embeddings of every face in a dataset, computed once and cached as .npz.

    embedder "dlib" (dlib's ResNet) or "sface" (the app's default); both see the same
    faces: dlib's HOG boxes and 5 points.

    Returns arrays path, label ('' when unlabeled), photo (image index), box, emb.
    """
    from platformdirs import user_cache_dir

    folder = root / name
    files = image_files(folder)
    cache = (
        Path(user_cache_dir("faceorganizer"))
        / "bench"
        / f"{name}-{'' if embedder == 'dlib' else embedder + '-'}{_fingerprint(files, folder)}.npz"
    )
    if cache.exists():
        with np.load(cache) as data:
            return dict(data)
    t0 = time.perf_counter()
    with Pool(workers or os.cpu_count() or 1, _load_models, (embedder,)) as pool:
        found = pool.map(_faces_in, files, chunksize=4)
    out = _face_table(files, folder, found)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **out)
    print(
        f"# embedded {name}: {len(files)} images, {out['emb'].shape[0]} faces, "
        f"{time.perf_counter() - t0:.0f}s -> {cache}",
        file=sys.stderr,
    )
    return out


def _face_table(files: list[Path], folder: Path, found: list) -> dict[str, np.ndarray]:
    """Flatten per-image faces; only the largest face of a labeled image gets the label."""
    path, label, photo, box, emb = [], [], [], [], []
    for i, (file, faces) in enumerate(zip(files, found, strict=True)):
        parts = file.relative_to(folder).parts
        identity = parts[0] if len(parts) > 1 else "_"  # loose files at the top: unlabeled
        areas = [(b[2] - b[0]) * (b[3] - b[1]) for b, _ in faces]
        largest = int(np.argmax(areas)) if faces else -1
        for j, (b, vec) in enumerate(faces):
            labeled = j == largest and not identity.startswith("_")
            path.append(str(file))
            label.append(identity if labeled else "")
            photo.append(i)
            box.append(b)
            emb.append(vec)
    return {
        "path": np.array(path, dtype=str),
        "label": np.array(label, dtype=str),
        "photo": np.array(photo, dtype=np.int64),
        "box": np.array(box, dtype=np.int64).reshape(-1, 4),
        "emb": np.array(emb, dtype=np.float32).reshape(-1, 128),
    }


def score(data: dict[str, np.ndarray], algorithm: str, threshold: float) -> dict[str, float]:
    """Cluster every face (same-photo cannot-link on), score the labeled ones."""
    t0 = time.perf_counter()
    labels = cluster(data["emb"], algorithm, threshold, Constraints(photo=data["photo"]))
    seconds = time.perf_counter() - t0
    labeled = data["label"] != ""
    _, truth = np.unique(data["label"][labeled], return_inverse=True)
    result = metrics.evaluate(truth, labels[labeled])
    result["seconds"] = seconds
    return result


def parse_thresholds(values: list[str], algorithm: str, emb: np.ndarray) -> list[tuple[str, float]]:
    """Numbers as given; 'default' and 'auto' resolved per algorithm and dataset."""
    out = []
    for v in values:
        if v == "default":
            out.append((f"def {DEFAULT_THRESHOLD[algorithm]:.3f}", DEFAULT_THRESHOLD[algorithm]))
        elif v == "auto":
            if algorithm == "chinese-whispers":  # auto_threshold is tuned for it only
                t = auto_threshold(emb)
                out.append((f"auto {t:.3f}", t))
        else:
            out.append((f"{float(v):.3f}", float(v)))
    return out


def merge_grid(
    data: dict[str, np.ndarray],
    whispers: list[float],
    merges: list[float],
    linkage: str,
    seeds: int,
) -> list[str]:
    """One line per whispers threshold: 'none' then every merge threshold."""
    x = data["emb"]
    idx, dist = knn(x)
    prep = prepare_constraints(x.shape[0], Constraints(photo=data["photo"]))
    labeled = data["label"] != ""
    _, truth = np.unique(data["label"][labeled], return_inverse=True)
    lines = []
    for cw in whispers:
        graph = neighbor_graph(idx, dist, cw)
        base = [chinese_whispers(graph, cw, prep, seed=s) for s in range(seeds)]
        cells = []
        for mt in [None, *merges]:
            runs = (
                base
                if mt is None
                else [merge_clusters(b, idx, dist, x, mt, prep, linkage) for b in base]
            )
            scores = [metrics.evaluate(truth, renumber(r)[labeled]) for r in runs]
            pf = [r["pairwise_f"] for r in scores]
            bf = float(np.mean([r["bcubed_f"] for r in scores]))
            tag = "none" if mt is None else f"{mt:.3f}"
            cells.append(f"{tag} {np.mean(pf):.3f}/{bf:.3f} ({min(pf):.3f})")
        lines.append(f"cw {cw:.3f}: " + " | ".join(cells))
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=labeled_sets())
    parser.add_argument(
        "--thresholds",
        nargs="+",
        default=["0.35", "0.4", "0.45", "0.5", "0.55", "0.6", "default", "auto"],
        help="numbers, 'default' or 'auto'",
    )
    parser.add_argument("--algorithms", nargs="+", choices=ALGORITHMS, default=list(ALGORITHMS))
    parser.add_argument("--workers", type=int, default=None, help="embedding processes")
    parser.add_argument("--embedder", choices=("dlib", "sface"), default="dlib")
    parser.add_argument("--merge-grid", action="store_true", help="whispers x merge grid")
    parser.add_argument("--whispers", nargs="+", type=float, default=[0.45, 0.475, 0.5])
    parser.add_argument("--merges", nargs="+", type=float, default=[0.5, 0.525, 0.55])
    parser.add_argument("--linkage", choices=LINKAGES, default="rms")
    parser.add_argument("--seeds", type=int, default=1, help="merge grid: seeds 0..N-1")
    args = parser.parse_args(argv)

    if args.merge_grid:
        for name in args.datasets:
            data = embed_dataset(name, workers=args.workers, embedder=args.embedder)
            print(
                f"# {name}: {args.linkage} linkage, mean pw F/b3 F (min pw F), {args.seeds} seeds"
            )
            for line in merge_grid(data, args.whispers, args.merges, args.linkage, args.seeds):
                print(line)
        return

    short = ("nmi", "ari", "pw_P", "pw_R", "pw_F", "b3_P", "b3_R", "b3_F", "clust")
    print(
        f"{'dataset':<10} {'algorithm':<16} {'threshold':<10} "
        + " ".join(f"{c:>6}" for c in short)
        + f" {'sec':>6}"
    )
    for name in args.datasets:
        data = embed_dataset(name, workers=args.workers, embedder=args.embedder)
        for algorithm in args.algorithms:
            for label, t in parse_thresholds(args.thresholds, algorithm, data["emb"]):
                r = score(data, algorithm, t)
                cells = " ".join(f"{r[c]:6.3f}" for c in COLUMNS[:-1])
                print(
                    f"{name:<10} {algorithm:<16} {label:<10} {cells} {r['clusters']:6d} "
                    f"{r['seconds']:6.2f}"
                )


if __name__ == "__main__":
    main()
