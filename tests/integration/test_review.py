"""The "Is this X?" review on the real scanned faces-dev catalog: sound questions, and the
answers stick (and undo). dlib's descriptors get a wider question band than SFace's."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from faceorganizer.config import DEFAULT_THRESHOLD, Settings
from faceorganizer.core.library.edits import Editor
from faceorganizer.core.library.people import recluster
from faceorganizer.core.library.review import (
    CHOICE_REACH,
    CHOICES,
    MAX_REACH,
    PAIR_BAND,
    REACH_STEP,
    RECENT,
    SMALL_GROUP,
    PairSuggestion,
    Suggestion,
    _closer_than,
    _group_stats,
    _library,
    further,
    key_of,
    min_score,
    next_questions,
    pair_suggestions,
    review_queue,
    review_suggestions,
)
from faceorganizer.core.library.scan import scan
from faceorganizer.core.store.catalog import Catalog
from faceorganizer.core.vision.model_files import DLIB_RESNET, SFACE
from faceorganizer.eval.evaluation import labeled_photos, score_photos


@pytest.fixture(scope="module")
def dlib_catalog(faces_dev: Path, tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """faces-dev scanned with dlib's descriptors and the cascade: a catalog started before
    SFace (and so before YuNet)."""
    catalog = Catalog(tmp_path_factory.mktemp("dlib") / "catalog.sqlite", root=faces_dev)
    for _ in scan(catalog, faces_dev, Settings(embedder="onnx", detector="cascade")):
        pass
    yield catalog
    catalog.close()


def folder_of(catalog: Catalog) -> dict[int, str]:
    rows = catalog.db.execute(
        "SELECT faces.id, files.path FROM faces JOIN files ON file_id = files.id"
    )
    return {int(face): path.split("/")[0] for face, path in rows}


@pytest.mark.parametrize("which", ["catalog", "dlib_catalog"])
def test_questions_respect_every_rule(which: str, request: pytest.FixtureRequest) -> None:
    catalog = request.getfixturevalue(which)
    if which == "catalog":  # SFace at the default leaves no near miss on faces-dev
        recluster(catalog, threshold=0.5)
    questions = review_suggestions(catalog)
    assert questions
    assert [q.score for q in questions] == sorted((q.score for q in questions), reverse=True)
    sizes = {p.id: p.faces for p in catalog.persons()}
    assignments = catalog.assignments()
    photo = dict(catalog.db.execute("SELECT id, file_id FROM faces").fetchall())
    for q in questions:
        band = DEFAULT_THRESHOLD["chinese-whispers"] + PAIR_BAND
        assert q.score >= min_score(catalog.dominant_model()) or q.distance < band
        person, locked = assignments[q.face_id]
        assert not locked and person != q.person_id
        if person is not None:  # a small group's face: only a bigger person is offered
            assert sizes[person] <= SMALL_GROUP < sizes[q.person_id]
        same_photo = [
            f for f in catalog.faces_of_person(q.person_id) if photo[f] == photo[q.face_id]
        ]
        assert same_photo == []


def test_question_bands_follow_the_model() -> None:
    assert min_score(SFACE) == 0.5  # SFace: only faces within the grouping distance
    assert min_score(DLIB_RESNET) < 0.5


def test_most_questions_name_the_right_person(dlib_catalog: Catalog) -> None:
    """dlib's descriptors, whose wider face band asks more: on faces-dev 2 of its 3
    labeled questions are right (Celine Dion's photo, deepface's person 4 in two groups;
    Kate Siegel, a one-photo stranger, is not deepface's person 1)."""
    catalog = dlib_catalog
    folder = folder_of(catalog)
    majority = {
        p.id: Counter(folder[f] for f in catalog.faces_of_person(p.id)).most_common(1)[0][0]
        for p in catalog.persons()
    }
    answers = [
        (folder[q.face_id], majority[q.person_id])
        if isinstance(q, Suggestion)
        else (majority[q.other_id], majority[q.person_id])
        for q in review_queue(catalog)
    ]
    labeled = [(a, b) for a, b in answers if not a.startswith("_")]
    right = sum(a == b for a, b in labeled)
    assert len(labeled) >= 3
    assert right >= 2 / 3 * len(labeled)


def test_answers_are_kept_and_undone(dlib_catalog: Catalog) -> None:
    catalog = dlib_catalog
    editor = Editor(catalog)
    first, second = review_suggestions(catalog)[:2]
    editor.move([first.face_id], first.person_id, "Yes, this is them")
    editor.reject(second.face_id, second.person_id)
    assert catalog.assignments()[first.face_id] == (first.person_id, True)
    assert (second.face_id, second.person_id) in catalog.rejections()
    asked = {(q.face_id, q.person_id) for q in review_suggestions(catalog)}
    assert (first.face_id, first.person_id) not in asked
    assert (second.face_id, second.person_id) not in asked
    editor.undo()
    editor.undo()
    asked = {(q.face_id, q.person_id) for q in review_suggestions(catalog)}
    assert {(first.face_id, first.person_id), (second.face_id, second.person_id)} <= asked


def majority(catalog: Catalog, person_id: int) -> str:
    folder = folder_of(catalog)
    return Counter(folder[f] for f in catalog.faces_of_person(person_id)).most_common(1)[0][0]


def test_review_finds_the_split_people(catalog: Catalog) -> None:
    """faces-dev's Paul Allen comes out of a slightly tighter grouping (0.5) in groups of
    four and one: a pair question (grouping version 3 split Madonna there too, 3 + 2 + 1;
    version 4 joins her groups whole); Elton John's sixth photo stays unsorted: a face
    question beyond the nearest-face band. Neither was asked before pair questions."""
    recluster(catalog, threshold=0.5)
    folder = folder_of(catalog)
    pairs = pair_suggestions(catalog)
    assert [p.distance for p in pairs] == sorted(p.distance for p in pairs)
    same = {
        majority(catalog, p.person_id)
        for p in pairs
        if majority(catalog, p.person_id) == majority(catalog, p.other_id)
    }
    assert "Paul_Allen" in same
    elton = [
        q
        for q in review_suggestions(catalog)
        if folder[q.face_id] == "Elton_John" == majority(catalog, q.person_id)
    ]
    assert elton and elton[0].score < min_score(catalog.dominant_model())
    photo = dict(catalog.db.execute("SELECT id, file_id FROM faces").fetchall())
    for p in pairs:
        a, b = catalog.faces_of_person(p.person_id), catalog.faces_of_person(p.other_id)
        assert len(a) >= len(b)
        assert {photo[f] for f in a}.isdisjoint(photo[f] for f in b)
        assert p.distance < DEFAULT_THRESHOLD["chinese-whispers"] + PAIR_BAND


def test_pair_answers_merge_or_keep_apart_and_are_not_asked_again(catalog: Catalog) -> None:
    editor = Editor(catalog)
    first, second = pair_suggestions(catalog)[:2]
    editor.merge([first.person_id, first.other_id])
    editor.none_of(second.other_id, [second.person_id])
    assert catalog.faces_of_person(first.other_id) == []
    asked = {(p.person_id, p.other_id) for p in pair_suggestions(catalog)}
    assert (second.person_id, second.other_id) not in asked
    assert all(catalog.assignments()[f][1] for f in catalog.faces_of_person(second.other_id))
    editor.undo()
    editor.undo()
    asked = {(p.person_id, p.other_id) for p in pair_suggestions(catalog)}
    assert {(first.person_id, first.other_id), (second.person_id, second.other_id)} <= asked


def test_queue_holds_both_kinds_closest_first(catalog: Catalog) -> None:
    """Closest first; a pair question about a small group may come earlier than its own
    distance (where its first face question would have been), never later."""
    queue = review_queue(catalog)
    assert {type(q) for q in queue} == {Suggestion, PairSuggestion}
    for i, q in enumerate(queue):
        if isinstance(q, Suggestion):
            assert all(later.distance >= q.distance for later in queue[i + 1 :])
        else:
            faces = [e for e in queue[:i] if isinstance(e, Suggestion)]
            assert all(earlier.distance <= q.distance for earlier in faces)


def test_queue_asks_about_a_small_group_once(catalog: Catalog) -> None:
    """faces-dev's two grouped strangers of its group photos, near one person: one pair
    question, not that and a face question for each."""
    pairs = [q for q in review_queue(catalog) if isinstance(q, PairSuggestion)]
    small = [q for q in pairs if len(catalog.faces_of_person(q.other_id)) == SMALL_GROUP]
    assert small
    restated = {(f, q.person_id) for q in small for f in catalog.faces_of_person(q.other_id)}
    asked = {(q.face_id, q.person_id) for q in review_suggestions(catalog)}
    assert restated & asked  # the face questions exist
    faces = {(q.face_id, q.person_id) for q in review_queue(catalog) if isinstance(q, Suggestion)}
    assert not restated & faces  # but the queue asks the pair question alone


def e2e_bcubed(catalog: Catalog) -> float:
    return float(score_photos(labeled_photos(catalog))["e2e_bcubed_f"])


@pytest.mark.parametrize(
    ("threshold", "first", "people", "before", "after"),
    [
        # today's grouping: Madonna is one group; Elton John's sixth photo is question 5
        (None, 5, {"Elton_John"}, 0.989, 0.994),
        # a tighter one splits Paul Allen (4 + 1) too: questions 1 and 6 (version 3 also
        # split Madonna there, 0.970 before the answers; version 4 joins her groups)
        (0.5, 6, {"Paul_Allen", "Elton_John"}, 0.983, 0.994),
    ],
)
def test_split_people_are_asked_first_and_the_answers_reach_the_goal(
    catalog: Catalog,
    threshold: float | None,
    first: int,
    people: set[str],
    before: float,
    after: float,
) -> None:
    """faces-dev's split people are among the first questions, and the truthful "yes"
    answers to them take the end-to-end BCubed F past the goal of 0.99 with at most 5 %
    of its 146 labeled photos in answers (the others are about strangers of its group
    photos and a one-photo person)."""
    if threshold is not None:
        recluster(catalog, threshold=threshold)
    folder = folder_of(catalog)
    same = [
        q
        for q in review_queue(catalog)[:first]
        if majority(catalog, q.person_id)
        == (folder[q.face_id] if isinstance(q, Suggestion) else majority(catalog, q.other_id))
    ]
    assert {majority(catalog, q.person_id) for q in same} == people
    assert e2e_bcubed(catalog) == pytest.approx(before, abs=0.001)
    editor = Editor(catalog)
    for q in same:
        if isinstance(q, Suggestion):
            editor.move([q.face_id], q.person_id, "Yes, this is them")
        else:
            editor.merge([q.person_id, q.other_id])
    assert e2e_bcubed(catalog) >= after


def test_the_review_looks_further_while_enough_answers_are_yes() -> None:
    assert further(PAIR_BAND, [True] * 4 + [False] * 6) == PAIR_BAND + REACH_STEP
    assert further(PAIR_BAND, [True] * 3 + [False] * 7) is None  # under YES_SHARE: stop
    assert further(PAIR_BAND, [False] * (RECENT - 1)) is not None  # too few to tell: on
    assert further(PAIR_BAND, []) is not None  # nothing asked in the band
    assert further(PAIR_BAND, [False] * 20 + [True] * RECENT) is not None  # the last ones count
    assert further(MAX_REACH, [True] * RECENT) is None


def test_next_questions_are_new_and_reach_further_only_after_yes(catalog: Catalog) -> None:
    """faces-dev: once its queue is asked, mostly "no" ends the review; mostly "yes" opens
    the faces a little farther off (there are some past the band)."""
    reach, first = next_questions(catalog, set(), [], PAIR_BAND)
    assert reach == PAIR_BAND and first == review_queue(catalog)
    asked = {key_of(q) for q in first}
    assert next_questions(catalog, asked, [False] * len(first), PAIR_BAND) == (None, [])
    reach, more = next_questions(catalog, asked, [True] * RECENT, PAIR_BAND)
    assert reach is not None and reach > PAIR_BAND and more
    assert all(isinstance(q, Suggestion) for q in more)  # pair questions keep their band
    assert not asked & {key_of(q) for q in more}


def test_an_unsorted_face_is_offered_a_small_group(catalog: Catalog) -> None:
    """A person whose photos came out as a pair and unsorted faces (lfw-dev after today's
    grouping): the unsorted face is asked about the pair. Made here from the biggest
    person of faces-dev: two faces split off as a pair, a third sent to the bin."""
    editor = Editor(catalog)
    biggest = max(catalog.persons(), key=lambda p: p.faces)
    first, second, third = catalog.faces_of_person(biggest.id)[:3]
    pair = editor.split([first, second])
    editor.not_this_person([third])  # unsorted, and never offered the rest of them
    offered = {q.person_id for q in review_suggestions(catalog) if q.face_id == third}
    assert offered == {pair}


def test_who_is_this_offers_the_next_nearest_people(catalog: Catalog) -> None:
    """faces-dev: face questions offer up to CHOICES people, the asked person first, then
    the next by average linkage within CHOICE_REACH past the threshold, never one the face
    was rejected from or one already in its photo; the pair questions about one group are
    one question with its candidate groups, each larger than it."""
    queue = review_queue(catalog)
    photo = dict(catalog.db.execute("SELECT id, file_id FROM faces").fetchall())
    ids, files, vectors = catalog.embeddings()
    vector = {int(f): v.astype(np.float64) for f, v in zip(ids.tolist(), vectors, strict=True)}

    def linkage(face: int, person: int) -> float:
        members = np.array([vector[f] for f in catalog.faces_of_person(person)])
        return float(np.sqrt(((members - vector[face]) ** 2).sum(axis=1).mean()))

    faces = [q for q in queue if isinstance(q, Suggestion)]
    assert sum(len(q.choices) > 1 for q in faces) >= 5
    limit = DEFAULT_THRESHOLD["chinese-whispers"] + CHOICE_REACH
    for q in faces:
        assert len(set(q.choices)) == len(q.choices) <= CHOICES
        distances = [linkage(q.face_id, p) for p in q.others]
        assert distances == sorted(distances) and all(d < limit for d in distances)
        for p in q.choices:
            assert photo[q.face_id] not in {photo[f] for f in catalog.faces_of_person(p)}
    pairs = [q for q in queue if isinstance(q, PairSuggestion)]
    assert any(q.others for q in pairs)
    about: dict[int, list[PairSuggestion]] = {}
    for q in pairs:
        size = len(catalog.faces_of_person(q.other_id))
        assert all(len(catalog.faces_of_person(p)) >= size for p in q.choices)
        about.setdefault(q.other_id, []).append(q)
    for folded in about.values():  # a second question about a group: the first was full
        assert all(len(q.choices) == CHOICES for q in folded[:-1])


def test_none_of_them_is_one_edit_that_every_regroup_keeps(catalog: Catalog) -> None:
    """ "None of them" rejects the face from every person offered in one undoable edit:
    the review offers it none of them again, and a regroup puts it in none of them."""
    q = next(q for q in review_queue(catalog) if isinstance(q, Suggestion) and q.others)
    editor = Editor(catalog)
    editor.reject(q.face_id, *q.choices)
    assert editor.undo_label() == "None of these people"
    assert {(q.face_id, p) for p in q.choices} <= set(catalog.rejections())
    offered = [s for s in review_queue(catalog) if isinstance(s, Suggestion)]
    assert all(set(s.choices).isdisjoint(q.choices) for s in offered if s.face_id == q.face_id)
    recluster(catalog)
    assert catalog.assignments()[q.face_id][0] not in q.choices
    editor.undo()
    assert set(catalog.rejections()).isdisjoint({(q.face_id, p) for p in q.choices})


@pytest.mark.parametrize("cut", [0.6, 0.7])  # the band and the choices' reach
def test_face_questions_see_every_group_within_reach(catalog: Catalog, cut: float) -> None:
    """The face questions read each face's exact linkage only for the groups that the
    dot-product expansion finds near: on faces-dev's faces those are every group whose
    exact average-linkage distance is below the cut, and no group farther than a hair."""
    lib = _library(catalog)
    assert lib is not None
    ids, centroid, spread = _group_stats(lib.vectors, lib.person)
    ids, centroid, spread = ids[ids >= 0], centroid[ids >= 0], spread[ids >= 0]
    x = lib.vectors.astype(np.float64)
    exact = np.sqrt(((x[:, None, :] - centroid[None]) ** 2).sum(axis=2) + spread[None])
    found = _closer_than(lib.vectors, centroid, spread, cut)
    assert sum(len(f) > 1 for f in found) > 10  # many faces have several groups near
    for row, columns in zip(exact, found, strict=True):
        assert set(np.flatnonzero(row < cut).tolist()) <= set(columns.tolist())
        assert (row[columns] < cut + 1e-5).all()
        assert (np.diff(columns) > 0).all()


def test_none_of_them_about_a_group_keeps_it_from_each_but_not_them_apart(
    catalog: Catalog,
) -> None:
    """ "Who is X?" answered "None of them": X's faces are rejected from every group
    offered and theirs from X, in one undoable edit, and X is locked whole; the groups
    offered are left as they were, not locked (the answer says nothing about them). A
    looser regroup, which puts X with them unasked, keeps X apart from every one after
    the answer."""
    q = next(q for q in review_queue(catalog) if isinstance(q, PairSuggestion) and q.others)
    faces = catalog.faces_of_person(q.other_id)
    offered = {p: catalog.faces_of_person(p) for p in q.choices}
    before = catalog.assignments()
    editor = Editor(catalog)

    def with_them() -> set[int]:
        """The groups offered whose faces share a person with X's faces."""
        now = catalog.assignments()
        mine = {now[f][0] for f in faces}
        return {p for p, theirs in offered.items() if mine & {now[f][0] for f in theirs}}

    recluster(catalog, threshold=0.7, undoable=True)
    assert with_them()  # unasked, the looser grouping puts X with one of them
    editor.undo()
    assert catalog.assignments() == before

    editor.none_of(q.other_id, q.choices)
    assert editor.undo_label() == "None of these people"
    theirs = {(f, q.other_id) for faces_of in offered.values() for f in faces_of}
    assert {(f, p) for f in faces for p in q.choices} | theirs <= set(catalog.rejections())
    after = catalog.assignments()
    assert all(after[f] == (q.other_id, True) for f in faces)
    assert all(after[f] == before[f] for theirs in offered.values() for f in theirs)
    asked = [s for s in review_queue(catalog) if isinstance(s, PairSuggestion)]
    assert all(
        q.other_id not in (s.other_id, *s.choices) or set(s.choices).isdisjoint(q.choices)
        for s in asked
    )
    recluster(catalog, threshold=0.7, undoable=True)
    assert not with_them()
    assert len({catalog.assignments()[f][0] for f in faces}) == 1  # X stays whole
    editor.undo()
    editor.undo()
    assert catalog.assignments() == before
    assert set(catalog.rejections()).isdisjoint({(f, p) for f in faces for p in q.choices})
    assert set(catalog.rejections()).isdisjoint(theirs)
