"""Small groups' faces join the person they clearly belong to, never a look-alike's, and
never against the user's constraints."""

import numpy as np

from faceorganizer.core.grouping.attach import RATIO, attach_small, unsorted
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
