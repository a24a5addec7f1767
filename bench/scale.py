"""Clustering time, memory and quality on synthetic libraries of 10^4 .. 10^6 faces.

    python bench/scale.py [--sizes 1e4 1e5 [1e6]] [--incremental 1000] [--seed 0]
                          [--catalog SCANNED.sqlite [--face-spread 0.1]]

Synthetic dlib-like embeddings, fitted on the lfw-dev bench cache (bench/quality.py makes
it), or like the faces of ``--catalog`` (a scanned labeled folder, <identity>/<image>: the
default SFace descriptors of `faceorganizer eval --catalog`): identity centres are
isotropic Gaussians whose spread, scaled per identity by a log-normal factor, reproduces
the real between-identity distances; faces add Gaussian noise, scaled per identity the
same way, matching the real within-identity distances.
Identity sizes are Zipf-like (a few people with hundreds of faces, most with 1-3).
``--face-spread`` sets that per-identity log-normal spread of the faces' noise instead:
SFace's within-identity distances vary so much (lfw-dev: 0.52 +- 0.15) that the fitted
spread (0.29) widens the between-identity distances to 0.67 +- 0.09 (real: +- 0.035),
0.1 gives +- 0.05.

Per size: kNN seconds, clustering seconds (default Chinese whispers + merge, reusing the
kNN), process peak memory so far (ru_maxrss), kNN recall (of each face's links
shorter than the clustering threshold, on a sample, against exact search), pairwise/BCubed
F; then the log-log growth slope. Last, the incremental case: a library of the largest size
plus ``--incremental`` new faces, with the stored kNN extended by ``knn_update``, then
re-clustered in full and incrementally (``cluster(previous=...)``), with both F scores.
Timings are wall clock; the 2 cores may be shared with other jobs.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faceorganizer.config import DEFAULT_THRESHOLD  # noqa: E402
from faceorganizer.core.grouping.cluster import cluster  # noqa: E402
from faceorganizer.core.grouping.knn import knn, knn_update  # noqa: E402
from faceorganizer.eval import metrics  # noqa: E402

DIM = 128
MAX_SIZE = 500  # faces of the most photographed person
ZIPF = 2.0  # size exponent: P(size = s) ~ s^-ZIPF


def real_cache() -> Path:
    from platformdirs import user_cache_dir

    # dlib caches only: lfw-dev-<16 hex digits>.npz (other embedders add their name)
    found = sorted(
        (Path(user_cache_dir("faceorganizer")) / "bench").glob("lfw-dev-" + "?" * 16 + ".npz")
    )
    if not found:
        raise SystemExit("no lfw-dev cache: run bench/quality.py --datasets lfw-dev first")
    return found[-1]


def cached_faces() -> tuple[np.ndarray, np.ndarray]:
    """(embeddings, identity per face) of the labeled faces in the dlib bench cache."""
    with np.load(real_cache()) as data:
        labeled = data["label"] != ""
        _, truth = np.unique(data["label"][labeled], return_inverse=True)
        return data["emb"][labeled], truth


def catalog_faces(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(embeddings, identity per face) of a scanned labeled folder's catalog: a face's
    identity is its photo's folder."""
    from faceorganizer.core.store.catalog import Catalog

    catalog = Catalog(path, readonly=True)
    try:
        _ids, files, emb = catalog.embeddings()
        folder = {f.id: f.path.split("/")[0] for f in catalog.files(include_missing=True)}
    finally:
        catalog.close()
    _, truth = np.unique([folder[f] for f in files.tolist()], return_inverse=True)
    return emb, truth


def distance_stats(
    x: np.ndarray, truth: np.ndarray, rng: np.random.Generator, pairs: int = 200_000
) -> tuple[float, float, float, float]:
    """Mean/std of within- and between-identity distances over random face pairs.

    Within pairs are drawn uniformly among same-identity pairs (face, then a mate).
    """
    order = np.argsort(truth, kind="stable")
    sizes = np.bincount(truth)
    start = np.r_[0, np.cumsum(sizes)[:-1]]
    multi = sizes[truth] > 1
    weight = np.where(multi, sizes[truth] - 1, 0).astype(np.float64)
    a = rng.choice(x.shape[0], pairs, p=weight / weight.sum())
    t = truth[a]
    pick = rng.integers(0, sizes[t] - 1)
    b = order[start[t] + pick]
    b = np.where(b == a, order[start[t] + sizes[t] - 1], b)  # skip itself
    within = np.linalg.norm(x[a] - x[b], axis=1)
    c, d = rng.integers(0, x.shape[0], (2, pairs))
    c, d = c[truth[c] != truth[d]], d[truth[c] != truth[d]]
    between = np.linalg.norm(x[c] - x[d], axis=1)
    return within.mean(), within.std(), between.mean(), between.std()


def fit(real: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """Noise and centre scales (and log-normal spreads) matching the real distances.

    In 128-D the distance between two Gaussian points is sigma * sqrt(2 d) with relative
    spread 1 / sqrt(4 d); the rest of the real spread comes from per-identity scales.
    """
    wm, ws, bm, bs = real
    base_cv = 1 / np.sqrt(4 * DIM)
    sigma_w = wm / np.sqrt(2 * DIM)
    sigma_c = np.sqrt(max(bm**2 / (2 * DIM) - sigma_w**2, 1e-6))
    spread_w = np.sqrt(max((ws / wm) ** 2 - base_cv**2, 0.0))
    spread_c = np.sqrt(max((bs / bm) ** 2 - base_cv**2, 0.0)) * np.sqrt(2)  # two centres
    return sigma_w, sigma_c, spread_w, spread_c


def zipf_sizes(n: int, rng: np.random.Generator) -> np.ndarray:
    sizes = []
    total = 0
    while total < n:
        s = int(min(rng.zipf(ZIPF), MAX_SIZE, n - total))
        sizes.append(s)
        total += s
    return np.array(sizes)


def synthesize(
    n: int, params: tuple[float, float, float, float], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    sigma_w, sigma_c, spread_w, spread_c = params
    sizes = zipf_sizes(n, rng)
    people = sizes.size
    scale_c = np.exp(rng.normal(-(spread_c**2) / 2, spread_c, people))
    scale_w = np.exp(rng.normal(-(spread_w**2) / 2, spread_w, people))
    centres = rng.normal(0, sigma_c, (people, DIM)) * scale_c[:, None]
    truth = np.repeat(np.arange(people), sizes)[rng.permutation(n)]
    x = centres.astype(np.float32)[truth]
    for lo in range(0, n, 2**16):  # float32 chunks: the data, not its temporaries, sets the peak
        rows = slice(lo, lo + 2**16)
        noise = rng.standard_normal((x[rows].shape[0], DIM), dtype=np.float32)
        x[rows] += noise * (sigma_w * scale_w[truth[rows], None]).astype(np.float32)
    return x, truth


def link_recall(
    x: np.ndarray, idx: np.ndarray, rng: np.random.Generator, sample: int = 500
) -> float:
    """Share of a sample's exact neighbours closer than the threshold that kNN found."""
    q = rng.choice(x.shape[0], min(sample, x.shape[0]), replace=False)
    d = np.sqrt(np.maximum(((x[q] ** 2).sum(1)[:, None] + (x**2).sum(1) - 2 * x[q] @ x.T), 0))
    d[np.arange(q.size), q] = np.inf
    true = np.argsort(d, axis=1)[:, : idx.shape[1]]
    close = np.take_along_axis(d, true, axis=1) < DEFAULT_THRESHOLD["chinese-whispers"]
    found = (true[:, :, None] == idx[q][:, None, :]).any(axis=2)
    return float((found & close).sum() / max(close.sum(), 1))


def peak_mb() -> float:
    """Process peak memory (Python, libraries and data included): what the 4 GiB goal counts."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e4, 1e5])
    parser.add_argument("--incremental", type=int, default=1000, help="new faces; 0: skip")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--catalog", type=Path, help="fit on this scanned labeled folder")
    parser.add_argument("--face-spread", type=float, help="per-identity noise spread")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)

    emb, real_truth = catalog_faces(args.catalog) if args.catalog else cached_faces()
    real = distance_stats(emb, real_truth, rng)
    params = fit(real)
    if args.face_spread is not None:
        params = (*params[:2], args.face_spread, params[3])
    for _ in range(3):  # the closed-form fit is approximate: rescale to the real means
        probe = synthesize(20_000, params, np.random.default_rng(args.seed + 1))
        synth = distance_stats(*probe, rng)
        sigma_w, sigma_c, spread_w, spread_c = params
        sigma_w *= real[0] / synth[0]
        sigma_c *= real[2] / synth[2]
        params = (sigma_w, sigma_c, spread_w, spread_c)
    probe = synthesize(20_000, params, np.random.default_rng(args.seed + 1))
    synth = distance_stats(*probe, rng)
    print("distances      within mean/std   between mean/std")
    name = args.catalog.stem if args.catalog else "lfw-dev"
    print(f"real {name:<9} {real[0]:.3f} / {real[1]:.3f}     {real[2]:.3f} / {real[3]:.3f}")
    print(f"synthetic      {synth[0]:.3f} / {synth[1]:.3f}     {synth[2]:.3f} / {synth[3]:.3f}")
    print("fit: sigma_w {:.4f} sigma_c {:.4f} spread_w {:.3f} spread_c {:.3f}".format(*params))

    print(f"\n{'faces':>9} {'people':>7} {'knn s':>7} {'clust s':>7} {'peak MB':>8}", end="")
    print(f" {'recall':>6} {'pw_F':>6} {'b3_F':>6}")
    rows = []
    last = None
    for size in sorted(int(s) for s in args.sizes):
        x, truth = synthesize(size, params, rng)
        t0 = time.perf_counter()
        neighbors = knn(x)
        t1 = time.perf_counter()
        labels = cluster(x, neighbors=neighbors)
        t2 = time.perf_counter()
        peak = peak_mb()
        pf = metrics.pairwise_prf(truth, labels)[2]
        bf = metrics.bcubed_prf(truth, labels)[2]
        recall = link_recall(x, neighbors[0], rng)
        rows.append((size, t1 - t0, t2 - t1))
        print(
            f"{size:>9} {truth.max() + 1:>7} {t1 - t0:7.2f} {t2 - t1:7.2f} {peak:8.0f} "
            f"{recall:6.3f} {pf:6.3f} {bf:6.3f}",
            flush=True,
        )
        last = (x, truth, neighbors, labels)
    if len(rows) > 1:
        n, tk, tc = (np.log(np.array(c, float)) for c in zip(*rows, strict=True))
        print(
            f"growth exponent (log-log slope): kNN {np.polyfit(n, tk, 1)[0]:.2f}, "
            f"clustering {np.polyfit(n, tc, 1)[0]:.2f}"
        )

    if args.incremental and last is not None:
        incremental(*last, args.incremental, params, rng)


def incremental(
    x: np.ndarray,
    truth: np.ndarray,
    neighbors: tuple[np.ndarray, np.ndarray],
    labels: np.ndarray,
    count: int,
    params: tuple[float, float, float, float],
    rng: np.random.Generator,
) -> None:
    """Add ``count`` faces (half new people, half new photos of known ones) and re-cluster."""
    new_x, new_truth = synthesize(count - count // 2, params, rng)
    known = rng.choice(x.shape[0], count // 2, replace=False)
    # a known face plus one more face's worth of noise: another photo of the same person
    again = (x[known] + rng.normal(0, params[0], (known.size, DIM))).astype(np.float32)
    grown = np.concatenate([x, new_x, again])
    grown_truth = np.r_[truth, new_truth + truth.max() + 1, truth[known]]
    t0 = time.perf_counter()
    updated = knn_update(*neighbors, grown, count)
    t1 = time.perf_counter()
    full = cluster(grown, neighbors=updated)
    t2 = time.perf_counter()
    part = cluster(grown, neighbors=updated, previous=labels)
    t3 = time.perf_counter()
    scores = [metrics.pairwise_prf(grown_truth, lab)[2] for lab in (full, part)]
    print(
        f"incremental: {x.shape[0]} + {count} faces: knn_update {t1 - t0:.2f}s; "
        f"re-cluster in full {t2 - t1:.2f}s (pw_F {scores[0]:.3f}), "
        f"incrementally {t3 - t2:.2f}s (pw_F {scores[1]:.3f}); "
        f"total {t1 - t0 + t3 - t2:.2f}s"
    )


if __name__ == "__main__":
    main()
