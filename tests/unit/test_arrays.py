"""The centroid and spread the merge, the attach steps and the review share give the
average linkage they stand for: the root mean square distance over all cross pairs."""

import numpy as np

from faceorganizer.core.grouping import arrays
from faceorganizer.core.grouping.arrays import group_stats, rms_linkage


def test_linkage_from_group_stats_is_the_rms_over_all_pairs(monkeypatch) -> None:
    monkeypatch.setattr(arrays, "CHUNK", 7)  # several chunks of faces and of pairs
    rng = np.random.default_rng(3)
    x = rng.normal(0, 0.3, (40, 16)).astype(np.float32)
    group = rng.integers(0, 5, 40)
    size, centroid, spread = group_stats(group, x, 5)
    assert size.tolist() == np.bincount(group, minlength=5).tolist()
    a, b = np.array([0, 0, 1, 2, 3, 4, 4, 1, 0, 2]), np.array([1, 2, 3, 4, 0, 1, 2, 4, 3, 3])
    brute = [
        np.sqrt(np.mean([np.sum((p - q) ** 2) for p in x[group == i] for q in x[group == j]]))
        for i, j in zip(a, b, strict=True)
    ]
    assert np.allclose(rms_linkage(centroid, spread, a, b), brute, rtol=1e-6)
    own = [np.mean(np.sum((x[group == i] - centroid[i]) ** 2, axis=1)) for i in range(5)]
    assert np.allclose(spread, own, rtol=1e-6)
