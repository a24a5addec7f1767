"""Clustering: recovers clear groups, is deterministic, and never breaks user constraints."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faceorganizer.config import ALGORITHMS, DEFAULT_THRESHOLD, MIN_PERSON_FACES
from faceorganizer.core.grouping.cluster import Rules, cluster
from faceorganizer.core.grouping.constraints import Constraints, prepare_constraints
from faceorganizer.core.grouping.dbscan import dbscan
from faceorganizer.core.grouping.knn import (
    MUTUAL_FROM,
    knn,
    knn_update,
    mutual_links,
    mutual_rank,
    neighbor_graph,
)
from faceorganizer.core.grouping.merge import LINKAGES, MERGE_BAND, merge_clusters
from faceorganizer.core.grouping.suggest import suggest
from faceorganizer.core.grouping.threshold import auto_threshold
from faceorganizer.eval import metrics

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


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_loner_goes_unsorted(algorithm):
    """A face like no one is -1 (the Unsorted bin); the grouping before that gave
    Chinese whispers' loner a cluster of its own."""
    x, _ = blobs(people=2, per=5)
    loner = np.full((1, DIM), 0.5, np.float32)
    x = np.concatenate([x, loner])
    labels = cluster(x, algorithm)
    assert labels[-1] == -1 and (labels[:-1] >= 0).all()
    old = cluster(x, algorithm, rules=Rules(attach=False, min_faces=1))
    assert old[-1] == (2 if algorithm == "chinese-whispers" else -1)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_empty_and_single_face(algorithm):
    assert cluster(np.empty((0, DIM)), algorithm).shape == (0,)
    one = cluster(np.zeros((1, DIM)), algorithm, constraints=Constraints(photo=np.array([4])))
    assert one.tolist() == [-1]
    anchored = cluster(np.zeros((1, DIM)), algorithm, constraints=Constraints(anchor=[3]))
    assert anchored.tolist() == [0]  # a person the user made stays a person


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
@given(problems(), st.sampled_from(tuple(ALGORITHMS)), st.floats(0.2, 1.5))
def test_constraints_always_hold(problem, algorithm, threshold):
    x, c, seed = problem
    labels = cluster(x, algorithm, threshold, constraints=c, seed=seed)
    assert labels.shape == (x.shape[0],)
    check_constraints(labels, c)
    sizes = np.bincount(labels[labels >= 0], minlength=1)
    free = np.asarray(c.anchor) < 0
    lone = (labels >= 0) & (sizes[np.maximum(labels, 0)] < MIN_PERSON_FACES) & free
    assert not (lone & ~np.isin(labels, labels[~free])).any()  # small groups hold an anchor


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.sampled_from(LINKAGES), st.floats(0.1, 3.0))
def test_merge_step_keeps_constraints(problem, linkage, threshold):
    """Merging from singletons (anchors pinned) at any threshold never breaks a constraint."""
    x, c, _ = problem
    prep = prepare_constraints(x.shape[0], c)
    start = np.where(prep.anchor_label >= 0, prep.anchor_label, np.arange(x.shape[0]))
    idx, dist = knn(x, k=5)
    labels = merge_clusters(start, idx, dist, x, threshold, prep, linkage)
    assert labels.shape == (x.shape[0],) and (labels >= 0).all()
    check_constraints(labels, c)


@pytest.mark.parametrize("linkage", LINKAGES)
def test_merge_step_joins_split_person_unless_forbidden(linkage):
    x, _ = blobs(people=3, per=6)
    split = np.repeat(np.arange(4), [3, 3, 6, 6])  # person 0 cut in two clusters
    nb = knn(x)
    merged = merge_clusters(split, *nb, x, 0.5, prepare_constraints(18, None), linkage)
    assert np.unique(merged[:6]).size == 1  # halves joined
    assert np.unique(merged).size == 3  # strangers (~1.1 apart) stay apart
    photo = np.arange(18)
    photo[4] = photo[0]  # a face of each half in one photo: they may not merge
    anchor = np.full(18, -1)
    anchor[[6, 12]] = [1, 2]
    c = Constraints(photo=photo, anchor=anchor, forbidden=[(13, 1)])
    kept = merge_clusters(
        split, *nb, x, 5.0, prepare_constraints(18, c), linkage
    )  # would merge all
    check_constraints(kept, c)
    assert kept[0] != kept[4] and kept[6] != kept[12]
    assert kept[13] != kept[6]


def three_groups(c_at: float) -> np.ndarray:
    """Groups A, B, C of 3 faces (0.03 around their centres); B 0.5 from A, C ``c_at``
    from A on another axis."""
    rng = np.random.default_rng(5)
    centres = np.zeros((3, DIM))
    centres[1, 0], centres[2, 1] = 0.5, c_at
    offsets = rng.normal(0, 1, (9, DIM))
    offsets *= 0.03 / np.linalg.norm(offsets, axis=1, keepdims=True)
    return (centres.repeat(3, axis=0) + offsets).astype(np.float32)


def test_a_merge_just_below_the_threshold_must_be_unambiguous():
    """A is as near to C as to B (0.505 vs 0.5, both within MERGE_BAND of the threshold;
    ratio 0.99): no merge; without the band, or with C far off, A and B merge."""
    assert 0.525 - MERGE_BAND < 0.5
    start, prep = np.repeat(np.arange(3), 3), prepare_constraints(9, None)
    ambiguous = three_groups(0.505)
    nb = knn(ambiguous)
    assert np.unique(merge_clusters(start, *nb, ambiguous, 0.525, prep)).size == 3
    before = merge_clusters(start, *nb, ambiguous, 0.525, prep, band=0.0)
    assert before[0] == before[3]
    clear = three_groups(0.9)
    labels = merge_clusters(start, *knn(clear), clear, 0.525, prep)
    assert labels[0] == labels[3] != labels[6]


def test_whispers_default_merges_on_top():
    """The default Chinese whispers run includes the merge step (threshold = merge level)."""
    x, truth = blobs(people=4, per=6)
    far = x.copy()
    far[3:6] += 0.035  # half of person 0 drifts: ~0.5 from the other half
    labels = cluster(far, threshold=0.6)
    assert labels[0] == labels[3]
    assert metrics.ari(truth, labels) == pytest.approx(1.0)


def test_dbscan_matches_sklearn():
    from sklearn.cluster import DBSCAN

    rng = np.random.default_rng(5)
    x = rng.normal(0, 0.05, (200, DIM)).astype(np.float32)
    graph = neighbor_graph(*knn(x, k=199), threshold=0.6)  # k = n - 1: the full radius graph
    ours = dbscan(graph)
    ref = DBSCAN(eps=0.6, min_samples=2, metric="precomputed").fit(graph)
    assert np.array_equal(ours == -1, ref.labels_ == -1)
    assert metrics.ari(ref.labels_[ref.labels_ >= 0], ours[ours >= 0]) == pytest.approx(1.0)


def test_cached_neighbors_give_same_labels():
    x, _ = blobs()
    assert np.array_equal(cluster(x, neighbors=knn(x)), cluster(x))


def test_knn_update_matches_full_knn():
    rng = np.random.default_rng(1)
    x = rng.normal(0, 0.07, (400, DIM)).astype(np.float32)
    idx, dist = knn_update(*knn(x[:330]), x, 70)
    full_idx, full_dist = knn(x)
    assert np.array_equal(idx, full_idx)
    assert np.allclose(dist, full_dist, atol=1e-5)
    assert np.array_equal(knn_update(*knn(x[:5]), x[:20], 15)[0], knn(x[:20])[0])


def test_approximate_knn_finds_close_neighbours(monkeypatch):
    """Above EXACT_KNN_LIMIT the cell search keeps the short links clustering uses."""
    from faceorganizer.core.grouping import knn as knn_module

    x, _ = blobs(people=60, per=20, seed=2)
    exact_idx, exact_dist = knn(x)
    monkeypatch.setattr(knn_module, "EXACT_KNN_LIMIT", 100)
    idx, dist = knn(x)
    assert idx.shape == exact_idx.shape and (idx != np.arange(x.shape[0])[:, None]).all()
    assert (np.diff(dist, axis=1) >= 0).all()
    found = (exact_idx[:, :, None] == idx[:, None, :]).any(axis=2)
    assert found[exact_dist < 0.3].mean() > 0.95
    assert np.array_equal(cluster(x, neighbors=(idx, dist)), cluster(x))


def test_incremental_matches_full_recluster():
    x, truth = blobs(people=8, per=6, seed=4)
    keep = np.r_[np.arange(40), 45]  # the last faces arrive later: some known, one new
    order = np.r_[keep, np.setdiff1d(np.arange(48), keep)]
    x, truth = x[order], truth[order]
    before = cluster(x[:41], neighbors=knn(x[:41]))
    nb = knn_update(*knn(x[:41]), x, 7)
    part = cluster(x, neighbors=nb, previous=before)
    assert metrics.ari(cluster(x, neighbors=nb), part) == pytest.approx(1.0)
    assert metrics.ari(truth, part) == pytest.approx(1.0)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.sampled_from(tuple(ALGORITHMS)), st.integers(0, 10))
def test_incremental_keeps_constraints(problem, algorithm, new):
    x, c, seed = problem
    old = max(0, x.shape[0] - new)
    before = cluster(x[:old], algorithm, constraints=_first(c, old), seed=seed)
    labels = cluster(x, algorithm, constraints=c, seed=seed, previous=before)
    check_constraints(labels, c)


def _first(c: Constraints, n: int) -> Constraints:
    """The constraints among the first ``n`` faces."""
    return Constraints(c.photo[:n], c.anchor[:n], [(f, a) for f, a in c.forbidden if f < n])


def test_mutual_rank_is_the_larger_of_both_ranks():
    x, _ = blobs(people=3, per=6, seed=3)
    idx, _ = knn(x, k=5)
    rank = mutual_rank(idx)
    for i in range(idx.shape[0]):
        for c, j in enumerate(idx[i].tolist()):
            back = idx[j].tolist().index(i) if i in idx[j] else 5
            assert rank[i, c] == max(c, back)


def crowd_and_pair() -> np.ndarray:
    """Person P: 5 faces 0.2 apart; person S: 3 faces 0.3 apart, each 0.44 from P's first
    face, which has its own four faces nearer (a baby among look-alikes)."""
    x = np.zeros((8, DIM), np.float32)
    x[np.arange(5), 1 + np.arange(5)] = 0.2 / np.sqrt(2)
    x[5:, 1] = 0.3
    x[5:, 20] = np.sqrt(0.44**2 - 0.045 - (0.3 - 0.2 / np.sqrt(2)) ** 2)
    x[5 + np.arange(3), 10 + np.arange(3)] = 0.3 / np.sqrt(2)
    return x


def test_mutual_links_keep_short_links_and_drop_one_sided_long_ones():
    x = crowd_and_pair()
    idx, dist = knn(x, k=7)
    links = mutual_links(idx, dist, rank=3)
    assert np.isclose(dist[5, 2], 0.44, atol=1e-3) and idx[5, 2] == 0  # S's link to P's face
    assert np.isinf(links[5, 2])  # ... ranks 4th from P's face: dropped
    short = dist < MUTUAL_FROM
    assert np.array_equal(links[short], dist[short])


def test_a_one_sided_long_link_does_not_join_two_people():
    """DBSCAN's radius graph chained them through the link before the rule; Chinese
    whispers' merge step may still join two such groups (average linkage, all links)."""
    x = crowd_and_pair()
    labels = cluster(x, "dbscan")
    assert len(set(labels[:5].tolist())) == 1 and len(set(labels[5:].tolist())) == 1
    assert labels[0] != labels[5]
    assert len(set(cluster(x, "dbscan", rules=Rules(mutual=False)).tolist())) == 1
