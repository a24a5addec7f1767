"""Small groups' faces, and groups of turned faces, join the person they clearly belong
to, never a look-alike's, and never against the user's constraints."""

import numpy as np

from faceorganizer.core.grouping.attach import (
    GROUP_RATIO,
    GROUP_REACH,
    RATIO,
    TURNED_GROUP,
    TURNED_RATIO,
    attach_groups,
    attach_small,
    unsorted,
)
from faceorganizer.core.grouping.cluster import cluster
from faceorganizer.core.grouping.constraints import Constraints, prepare_constraints

DIM = 16


def people(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two people of 5 faces, 1.0 apart, faces 0.1 from their person's centre."""
    rng = np.random.default_rng(seed)
    centres = np.zeros((2, DIM))
    centres[1, 0] = 1.0
    offsets = rng.normal(0, 1, (10, DIM))
    offsets *= 0.1 / np.linalg.norm(offsets, axis=1, keepdims=True)
    return (centres.repeat(5, axis=0) + offsets).astype(np.float32), np.repeat([0, 1], 5)


def with_face(x: np.ndarray, labels: np.ndarray, at: float) -> tuple[np.ndarray, np.ndarray]:
    """One more face, alone in cluster 9, at ``at`` along the line between the people."""
    face = np.zeros((1, DIM), np.float32)
    face[0, 0], face[0, 1] = at, 0.45
    return np.concatenate([x, face]), np.r_[labels, 9]


def test_a_lone_face_joins_the_clearly_nearest_person():
    x, labels = with_face(*people(), at=0.0)  # ~0.45 from person 0, ~1.1 from person 1
    assert attach_small(labels, x, 0.525, prepare_constraints(11, None))[-1] == 0


def test_a_face_between_two_people_stays_alone():
    x, labels = with_face(*people(), at=0.5)  # as near to one as to the other
    assert attach_small(labels, x, 0.525, prepare_constraints(11, None))[-1] == 9


def test_too_far_stays_alone_even_if_nearest():
    x, labels = with_face(*people(), at=0.0)
    assert attach_small(labels, x, 0.3, prepare_constraints(11, None))[-1] == 9


def test_ratio_test_decides():
    x, labels = with_face(*people(), at=0.2)
    d = np.linalg.norm(x[:10] - x[-1], axis=1)
    near, far = d[:5].min(), d[5:].min()
    joined = attach_small(labels, x, 1.0, prepare_constraints(11, None))[-1] == 0
    assert joined == (near < RATIO * far)


def test_constraints_hold():
    x, labels = with_face(*people(), at=0.0)
    photo = np.arange(11)
    photo[-1] = photo[2]  # the face shares a photo with a face of person 0
    kept = attach_small(labels, x, 0.525, prepare_constraints(11, Constraints(photo=photo)))
    assert kept[-1] == 9
    anchor = np.full(11, -1)
    anchor[0] = 7
    forbidden = Constraints(anchor=anchor, forbidden=[(10, 7)])
    assert attach_small(labels, x, 0.525, prepare_constraints(11, forbidden))[-1] == 9
    anchor[-1] = 8  # an anchored face stays where the user put it
    pinned = prepare_constraints(11, Constraints(anchor=anchor))
    assert attach_small(labels, x, 0.525, pinned)[-1] == 9


def test_faces_join_the_big_group_not_each_other():
    """Two faces of one pair each join on their own; the pair itself never merges a
    person into another."""
    x, labels = people()
    labels = np.r_[labels[:3], 5, 5, labels[5:]]  # person 0 cut into 3 + a pair
    out = attach_small(labels, x, 0.525, prepare_constraints(10, None))
    assert (out[:5] == 0).all() and (out[5:] == 1).all()


def test_unsorted_keeps_anchored_loners():
    labels = np.array([0, 0, 1, 2, 3])
    anchor = np.array([-1, -1, -1, 4, -1])
    out = unsorted(labels, prepare_constraints(5, Constraints(anchor=anchor)), 2)
    assert out.tolist() == [0, 0, -1, 2, -1]


def big_people(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two people of 8 faces (more than TURNED_GROUP), 1.0 apart, faces 0.1 from centre."""
    rng = np.random.default_rng(seed)
    offsets = rng.normal(0, 1, (16, DIM))
    offsets *= 0.1 / np.linalg.norm(offsets, axis=1, keepdims=True)
    centres = np.zeros((16, DIM))
    centres[8:, 0] = 1.0
    return (centres + offsets).astype(np.float32), np.repeat([0, 1], 8)


def with_group(
    x: np.ndarray, labels: np.ndarray, at: float, size: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """A group of ``size`` faces, cluster 9, around ``at`` on the line between the people
    and 0.5 off it (so it is far from both, as a profile is)."""
    group = np.zeros((size, DIM), np.float32)
    group[:, 0], group[:, 1] = at, 0.5
    group[:, 2] = np.linspace(-0.05, 0.05, size)
    return np.concatenate([x, group]), np.r_[labels, np.full(size, 9)]


def linkage(a: np.ndarray, b: np.ndarray) -> float:
    """Root mean square of the distances of all pairs, one face of each."""
    return float(np.sqrt(((a[:, None] - b[None]) ** 2).sum(-1).mean()))


def ratio_of(x: np.ndarray, labels: np.ndarray) -> float:
    group = x[labels == 9]
    near, far = sorted(linkage(group, x[labels == person]) for person in (0, 1))
    return near / far


def test_a_turned_pair_joins_where_a_frontal_pair_would_not():
    """Between the two ratios (0.9 and 0.95), only turned faces join: the average over a
    whole person is a firmer witness than one face for faces that sit far from all."""
    x, labels = with_group(*big_people(), at=0.46)
    assert GROUP_RATIO < ratio_of(x, labels) < TURNED_RATIO
    prep = prepare_constraints(18, None)
    assert (attach_groups(labels, x, 1.0, prep)[16:] == 9).all()
    turned = np.r_[np.zeros(16, bool), True, True]
    assert (attach_groups(labels, x, 1.0, prep, turned)[16:] == 0).all()


def test_a_group_between_two_people_stays():
    x, labels = with_group(*big_people(), at=0.5)
    turned = np.ones(18, bool)
    assert (attach_groups(labels, x, 1.0, prepare_constraints(18, None), turned)[16:] == 9).all()


def test_group_linkage_must_be_within_reach():
    x, labels = with_group(*big_people(), at=0.0)
    assert linkage(x[16:], x[:8]) > 0.3 + GROUP_REACH
    assert (attach_groups(labels, x, 0.3, prepare_constraints(18, None))[16:] == 9).all()
    assert (attach_groups(labels, x, 0.525, prepare_constraints(18, None))[16:] == 0).all()


def test_turned_faces_join_only_a_large_person():
    """A group of turned faces never joins a group of TURNED_GROUP faces or fewer (a few
    profiles of one person are not a person to join), nor a farther person instead."""
    x, labels = with_group(*big_people(), at=0.0)
    keep = np.r_[0:TURNED_GROUP, 8:18]  # person 0 with TURNED_GROUP faces only
    x, labels, n = x[keep], labels[keep], keep.size
    turned = np.r_[np.zeros(n - 2, bool), True, True]
    for threshold in (0.525, 1.0):
        out = attach_groups(labels, x, threshold, prepare_constraints(n, None), turned)
        assert (out[-2:] == 9).all()
    assert (attach_groups(labels, x, 0.525, prepare_constraints(n, None))[-2:] == 0).all()


def test_only_small_or_turned_groups_move():
    x, labels = with_group(*big_people(), at=0.0, size=3)
    prep = prepare_constraints(19, None)
    assert (attach_groups(labels, x, 0.525, prep)[16:] == 9).all()  # three frontal faces
    assert (attach_groups(labels, x, 0.525, prep, np.ones(19, bool))[16:] == 0).all()


def test_group_constraints_hold():
    x, labels = with_group(*big_people(), at=0.0)
    photo = np.arange(18)
    photo[17] = photo[3]  # a face of the group shares a photo with a face of person 0
    shared = prepare_constraints(18, Constraints(photo=photo))
    assert (attach_groups(labels, x, 0.525, shared)[16:] == 9).all()
    anchor = np.full(18, -1)
    anchor[0] = 7
    forbidden = prepare_constraints(18, Constraints(anchor=anchor, forbidden=[(16, 7)]))
    assert (attach_groups(labels, x, 0.525, forbidden)[16:] == 9).all()
    anchor[16] = 8  # a group holding a face the user placed stays
    pinned = prepare_constraints(18, Constraints(anchor=anchor))
    assert (attach_groups(labels, x, 0.525, pinned)[16:] == 9).all()


def test_lone_faces_that_join_no_one_stay_noise():
    x, labels = with_group(*big_people(), at=0.5, size=1)
    labels[-1] = -1
    assert attach_groups(labels, x, 0.525, prepare_constraints(17, None))[-1] == -1
    labels[-1], x[-1, :2] = -1, (0.0, 0.3)
    assert attach_groups(labels, x, 0.525, prepare_constraints(17, None))[-1] == 0


def test_groups_turned_vectors_the_descriptors_given_for_it():
    """``cluster(turned_vectors=...)``: a group of turned faces joins judged by other
    descriptors of the same faces (the app's wider crops); everything else reads the
    embeddings.
    A turned pair halfway between the people stays; described as near person 1, it joins
    person 1, also when only the new faces are clustered (``previous``); a frontal pair is
    judged by its embeddings alone."""
    x, _ = with_group(*big_people(), at=0.5)
    turned = np.r_[np.zeros(16, bool), True, True]
    turned_vectors = x.copy()
    turned_vectors[16:, 0], turned_vectors[16:, 1] = 1.0, 0.3
    alone = cluster(x, turned=turned)
    assert alone[16] == alone[17] and alone[16] not in (alone[0], alone[8])
    labels = cluster(x, turned=turned, turned_vectors=turned_vectors)
    assert (labels[16:] == labels[8]).all() and labels[8] != labels[0]
    previous = cluster(x[:16])
    again = cluster(x, turned=turned, turned_vectors=turned_vectors, previous=previous)
    assert (again[16:] == again[8]).all()
    frontal = cluster(x, turned=np.zeros(18, bool), turned_vectors=turned_vectors)
    assert frontal[16] not in (frontal[0], frontal[8])
