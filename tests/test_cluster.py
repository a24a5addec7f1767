"""Clustering: recovers clear groups, is deterministic, and never breaks user constraints."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faceorganizer.core import metrics
from faceorganizer.core.cluster import (
    ALGORITHMS,
    DEFAULT_THRESHOLD,
    Constraints,
    auto_threshold,
    cluster,
    suggest,
)

DIM = 128


def blobs(people: int = 6, per: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Face-like data: people ~1.1 apart, photos of one person ~0.16 apart."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 0.07, (people, DIM))
    truth = np.repeat(np.arange(people), per)
    x = centers[truth] + rng.normal(0, 0.01, (people * per, DIM))
    return x.astype(np.float32), truth


def check_constraints(labels: np.ndarray, c: Constraints) -> None:
    """Assert every constraint holds (anchors win over photo and forbidden ones)."""
    n = labels.shape[0]
    anchor = np.full(n, -1) if c.anchor is None else np.asarray(c.anchor)
    for a in np.unique(anchor[anchor >= 0]):
        held = np.unique(labels[anchor == a])
        assert held.size == 1 and held[0] >= 0, f"anchor {a} split or noise: {held}"
        others = labels[(anchor >= 0) & (anchor != a)]
        assert held[0] not in others, f"anchor {a} shares a cluster with another anchor"
    if c.photo is not None:
        photo = np.asarray(c.photo)
        for i in range(n):
            for j in range(i + 1, n):
                same_anchor = anchor[i] >= 0 and anchor[i] == anchor[j]
                if photo[i] == photo[j] and labels[i] >= 0 and not same_anchor:
                    assert labels[i] != labels[j], f"faces {i},{j} of one photo share a cluster"
    for face, a in c.forbidden:
        if anchor[face] >= 0 or not (anchor == a).any():
            continue
        assert labels[face] < 0 or labels[face] != labels[anchor == a][0], (face, a)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_blobs_are_recovered(algorithm):
    x, truth = blobs()
    labels = cluster(x, algorithm)
    assert metrics.ari(truth, labels) == pytest.approx(1.0)
    assert labels.tolist() == sorted(labels.tolist())  # renumbered in order of size, then index


def test_labels_ordered_by_size():
    x, _ = blobs(people=3, per=4)
    x = np.concatenate([x[:4], x[4:12], x[12:]])  # sizes 4, 4, 4
    extra = x[4:6] + 0.001  # grow the second person to 6
    labels = cluster(np.concatenate([x, extra]))
    assert np.bincount(labels).tolist() == [6, 4, 4]
    assert labels[4] == 0 and labels[0] == 1  # ties: lowest face index first


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_same_seed_same_labels(algorithm):
    rng = np.random.default_rng(3)
    x = rng.normal(0, 0.04, (300, DIM)).astype(np.float32)  # ambiguous: order matters
    t = 0.55
    first = cluster(x, algorithm, t, seed=7)
    assert np.array_equal(first, cluster(x, algorithm, t, seed=7))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_same_photo_never_shares_a_cluster(algorithm):
    x, _ = blobs(people=2, per=6)
    photo = np.arange(12)
    photo[1] = photo[0]  # two faces of person 0 in one photo (say, a mirror)
    photo[7] = photo[6]
    c = Constraints(photo=photo)
    labels = cluster(x, algorithm, constraints=c)
    check_constraints(labels, c)
    assert labels[0] != labels[1] and labels[6] != labels[7]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_anchors_hold_and_never_merge(algorithm):
    x, _ = blobs(people=3, per=6)
    anchor = np.full(18, -1)
    anchor[[0, 1]] = 10  # person 0 split by the user into two persons
    anchor[[2, 3]] = 11
    anchor[[6, 12]] = 12  # persons 1 and 2 merged by the user
    c = Constraints(anchor=anchor)
    labels = cluster(x, algorithm, constraints=c)
    check_constraints(labels, c)
    assert labels[6] == labels[12] != labels[0] != labels[2]
    assert labels[7] == labels[6] and labels[13] == labels[12]  # free faces follow


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_forbidden_face_leaves_the_person(algorithm):
    x, _ = blobs(people=2, per=6)
    anchor = np.full(12, -1)
    anchor[0] = 5
    c = Constraints(anchor=anchor, forbidden=[(3, 5)])
    labels = cluster(x, algorithm, constraints=c)
    check_constraints(labels, c)
    assert labels[1] == labels[0] and labels[3] != labels[0]


def test_dbscan_noise_and_whispers_singletons():
    x, _ = blobs(people=2, per=5)
    loner = np.full((1, DIM), 0.5, np.float32)
    x = np.concatenate([x, loner])
    assert cluster(x, "dbscan")[-1] == -1
    cw = cluster(x, "chinese-whispers")
    assert cw[-1] == 2 and (cw >= 0).all()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_empty_and_single_face(algorithm):
    assert cluster(np.empty((0, DIM)), algorithm).shape == (0,)
    one = cluster(np.zeros((1, DIM)), algorithm, constraints=Constraints(photo=np.array([4])))
    assert one.tolist() == ([0] if algorithm == "chinese-whispers" else [-1])


def test_bad_input_raises():
    with pytest.raises(ValueError):
        cluster(np.zeros((3, DIM)), "kmeans")
    with pytest.raises(ValueError):
        cluster(np.zeros((3, DIM)), constraints=Constraints(photo=np.arange(2)))


def test_auto_threshold_in_range():
    x, _ = blobs(people=20, per=5)
    t = auto_threshold(x)
    assert 0.3 <= t <= 0.7
    assert auto_threshold(x[:1]) == DEFAULT_THRESHOLD["chinese-whispers"]


def test_suggest_ranks_own_person_first():
    x, truth = blobs(people=4, per=5)
    labels = cluster(x)
    out = suggest(x, labels, [0, 7], k=2)
    assert [s[0][0] for s in out] == [labels[0], labels[7]]
    assert len(out[0]) == 2 and out[0][0][1] > out[0][1][1]


@st.composite
def problems(draw):
    n = draw(st.integers(1, 30))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.3, (n, 3)).astype(np.float32)
    photo = rng.integers(0, max(1, n // 2), n)
    anchor = np.where(rng.random(n) < 0.3, rng.integers(0, 3, n), -1)
    forbidden = [
        (int(rng.integers(n)), int(rng.integers(3))) for _ in range(draw(st.integers(0, 5)))
    ]
    return x, Constraints(photo=photo, anchor=anchor, forbidden=forbidden), seed


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.sampled_from(ALGORITHMS), st.floats(0.2, 1.5))
def test_constraints_always_hold(problem, algorithm, threshold):
    x, c, seed = problem
    labels = cluster(x, algorithm, threshold, constraints=c, seed=seed)
    assert labels.shape == (x.shape[0],)
    check_constraints(labels, c)
    if algorithm == "chinese-whispers":
        assert (labels >= 0).all()


def test_dbscan_matches_sklearn():
    from sklearn.cluster import DBSCAN

    from faceorganizer.core.cluster import dbscan, knn, neighbor_graph

    rng = np.random.default_rng(5)
    x = rng.normal(0, 0.05, (200, DIM)).astype(np.float32)
    graph = neighbor_graph(*knn(x, k=199), threshold=0.6)  # k = n - 1: the full radius graph
    ours = dbscan(graph)
    ref = DBSCAN(eps=0.6, min_samples=2, metric="precomputed").fit(graph)
    assert np.array_equal(ours == -1, ref.labels_ == -1)
    assert metrics.ari(ref.labels_[ref.labels_ >= 0], ours[ours >= 0]) == pytest.approx(1.0)


def test_cached_neighbors_give_same_labels():
    from faceorganizer.core.cluster import knn

    x, _ = blobs()
    assert np.array_equal(cluster(x, neighbors=knn(x)), cluster(x))
