"""The review's "Who is this?" questions on real photos: turned faces whose nearest group
is someone else get their person among the choices, and the simulated truthful user of
bench/review_effort.py needs no more answers on faces-dev than measured."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from faceorganizer.core.library.review import MAX_REACH, Suggestion, review_queue
from faceorganizer.core.store.catalog import Catalog

CFP_PEOPLE = 16  # of cfp-dev's 48: 224 photos, 8 faces the grouping leaves unsorted


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """bench/review_effort.py, whose simulated user the README's numbers come from."""
    path = Path(__file__).resolve().parents[2] / "bench" / "review_effort.py"
    spec = importlib.util.spec_from_file_location("review_effort", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cfp_catalog(scan_cfp_people: Callable[[int], Catalog]) -> Catalog:
    """The first CFP_PEOPLE people of cfp-dev, scanned."""
    catalog = scan_cfp_people(CFP_PEOPLE)
    yield catalog
    catalog.close()


def test_turned_faces_find_their_person_among_the_choices(
    cfp_catalog: Catalog, bench: ModuleType
) -> None:
    """Measured (grouping version 5): of the 8 labeled faces asked about at the review's
    widest reach, the nearest group is the person for 1 and one of the (up to six)
    choices for 5 (version 4 left 12 unsorted here: 3 and 10)."""
    catalog = cfp_catalog
    truth = bench.Truth(catalog)
    asked = [
        q
        for q in review_queue(catalog, reach=MAX_REACH)
        if isinstance(q, Suggestion) and q.face_id in truth.label
    ]
    lead = sum(truth.who(catalog, q.person_id) == truth.label[q.face_id] for q in asked)
    right = sum(truth.label[q.face_id] in {truth.who(catalog, p) for p in q.choices} for q in asked)
    assert len(asked) >= 6
    assert right >= 4 and right >= lead + 3


def test_faces_dev_reaches_the_goal_in_four_answers(catalog: Catalog, bench: ModuleType) -> None:
    """bench/review_effort.py's user on faces-dev: 0.99 after 4 answers (5 with yes/no
    questions alone), 0.995 when the questions run out."""
    run = bench.simulate(catalog, "faces-dev", 30)
    assert run.reached(bench.GOAL) is not None and run.reached(bench.GOAL) <= 4
    assert run.curve[-1] >= 0.994


def test_a_small_library_of_profiles_is_asked_about_them(
    cfp_catalog: Catalog, bench: ModuleType
) -> None:
    """16 people of cfp-dev: no near miss within the band, so the review asked nothing and
    stayed at 0.966 (grouping version 5); it now looks further while too few answers
    tell: measured 0.99 after 8 answers (3.6 % of the 224 photos), 0.996 after 10. Runs
    last: its answers change the catalog."""
    run = bench.simulate(cfp_catalog, "cfp-dev, 16 people", 11)
    assert run.curve[0] == pytest.approx(0.966, abs=0.003)
    reached = run.reached(bench.GOAL)
    assert reached is not None and reached <= 9
