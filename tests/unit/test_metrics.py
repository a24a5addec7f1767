"""Clustering metrics against small hand-computed cases."""

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from faceorganizer.eval import metrics

# true classes: A A A B B C ; predicted: x x y y y noise
TRUE = np.array([0, 0, 0, 1, 1, 2])
PRED = np.array([0, 0, 1, 1, 1, -1])


def test_pairwise_hand_computed():
    # noise -> its own singleton. contingency cells: (A,x)=2 (A,y)=1 (B,y)=2 (C,noise)=1
    # same-cluster-and-same-class pairs: C(2,2)+C(1,2)+C(2,2)+C(1,2) = 1+0+1+0 = 2
    # predicted pairs: sizes x=2, y=3, noise=1 -> 1+3+0 = 4   => precision 2/4
    # true pairs: sizes A=3, B=2, C=1 -> 3+1+0 = 4             => recall 2/4, F = 0.5
    assert metrics.pairwise_prf(TRUE, PRED) == pytest.approx((0.5, 0.5, 0.5))


def test_bcubed_hand_computed():
    # precision per item |C & T| / |C|: items 0,1: 2/2; item 2: 1/3; items 3,4: 2/3; item 5: 1
    #   sum = 1 + 1 + 1/3 + 2/3 + 2/3 + 1 = 14/3 -> mean 7/9
    # recall per item |C & T| / |T|: items 0,1: 2/3; item 2: 1/3; items 3,4: 2/2; item 5: 1
    #   sum = 2/3 + 2/3 + 1/3 + 1 + 1 + 1 = 14/3 -> mean 7/9, so F = 7/9
    assert metrics.bcubed_prf(TRUE, PRED) == pytest.approx((7 / 9, 7 / 9, 7 / 9))


def test_everything_in_one_cluster():
    true = np.array([0, 0, 1, 1])
    pred = np.zeros(4, int)
    # pairs: together C(2,2)+C(2,2) = 2, predicted C(4,2) = 6, true 1+1 = 2
    assert metrics.pairwise_prf(true, pred) == pytest.approx((1 / 3, 1.0, 0.5))
    # BCubed: each item's cluster holds 4, 2 of them its class -> precision 1/2, recall 1
    assert metrics.bcubed_prf(true, pred) == pytest.approx((0.5, 1.0, 2 / 3))


def test_all_noise_is_all_singletons():
    true = np.array([0, 0, 1])
    pred = np.full(3, -1)
    # no predicted pairs: precision vacuously 1; the one true pair is missed: recall 0
    assert metrics.pairwise_prf(true, pred) == pytest.approx((1.0, 0.0, 0.0))
    # BCubed precision 1 for singletons; recall 1/2, 1/2, 1 -> 2/3
    p, r, _ = metrics.bcubed_prf(true, pred)
    assert (p, r) == pytest.approx((1.0, 2 / 3))
    assert metrics.evaluate(true, pred)["clusters"] == 3


def test_perfect_up_to_renaming():
    true = np.array([0, 0, 1, 1, 2])
    pred = np.array([7, 7, 3, 3, 5])
    scores = metrics.evaluate(true, pred)
    for key in ("nmi", "ari", "pairwise_f", "bcubed_f"):
        assert scores[key] == pytest.approx(1.0)
    assert scores["clusters"] == 3


def test_nmi_ari_match_sklearn_with_noise_as_singletons():
    rng = np.random.default_rng(1)
    true = rng.integers(0, 5, 60)
    pred = rng.integers(-1, 4, 60)
    singles = metrics.noise_as_singletons(pred)
    assert np.unique(singles[pred == -1]).size == (pred == -1).sum()
    assert metrics.nmi(true, pred) == pytest.approx(normalized_mutual_info_score(true, singles))
    assert metrics.ari(true, pred) == pytest.approx(adjusted_rand_score(true, singles))


def test_evaluate_keys_and_large_input_is_fast():
    rng = np.random.default_rng(0)
    true = rng.integers(0, 5_000, 50_000)
    pred = rng.integers(-1, 5_000, 50_000)
    scores = metrics.evaluate(true, pred)  # would need 1e9 pair checks if O(n^2)
    assert set(scores) == {
        "nmi",
        "ari",
        "pairwise_precision",
        "pairwise_recall",
        "pairwise_f",
        "bcubed_precision",
        "bcubed_recall",
        "bcubed_f",
        "clusters",
    }


def test_length_mismatch_raises():
    with pytest.raises(ValueError):
        metrics.evaluate(np.array([0, 1]), np.array([0]))


def test_empty_input():
    assert metrics.pairwise_prf(np.array([], int), np.array([], int)) == (1.0, 1.0, 1.0)


def test_end_to_end_counts_a_photo_without_a_face_or_person_as_its_own_cluster():
    from faceorganizer.eval.evaluation import score_photos

    # A's three photos: two grouped, one with no face found; B's two: one face, one
    # face that joined no person. Over the faces found: A A | B noise.
    photos = [("A", 7, True), ("A", 7, True), ("A", None, False), ("B", 9, True), ("B", None, True)]
    result = score_photos(photos)
    assert result["missed"] == result["images_without_face"] == 1
    assert result["images"] == 5
    # found faces A A B B(noise): true pairs 1 + 1, together 1 -> recall 1/2, precision 1
    assert result["pairwise_f"] == pytest.approx(2 / 3)
    # end to end A A A(alone) B B(alone): true pairs 3 + 1, together 1 -> recall 1/4
    assert result["e2e_pairwise_precision"] == pytest.approx(1.0)
    assert result["e2e_pairwise_f"] == pytest.approx(2 * 0.25 / 1.25)
    # BCubed recall per photo: 2/3 2/3 1/3 1/2 1/2 -> 8/3 / 5; precision 1
    recall = (2 / 3 + 2 / 3 + 1 / 3 + 1 / 2 + 1 / 2) / 5
    assert result["e2e_bcubed_f"] == pytest.approx(2 * recall / (1 + recall))
