"""How many review answers a user needs: a simulated user answers every question truthfully.

    python bench/review_effort.py LABELED_FOLDER [LABELED_FOLDER ...]
        [--cache DIR] [--catalog SCANNED.sqlite] [--max-answers N]

Scans each LABELED_FOLDER (``<identity>/<image>``) with default settings into a temporary
catalog. ``--cache DIR`` keeps that scan (faces and descriptors) in DIR, one file per
folder and detector, and later runs start from a copy of it, grouped again with today's
grouping; ``--catalog`` starts from a copy of an already scanned catalog as it is grouped
(one folder only). The given or cached file is never written.

Then it asks the review's questions as the dialog does (:func:`review.next_questions`:
the queue closest first, then, when it has run out, the questions the answers opened, and
further ones while the answers are mostly yes) and answers them as a user who knows every
labeled face would: a face carries its folder's label when it is the largest face of a
labeled photo; a person is who most of their labeled faces are. The questions come from
the app's code alone; only the answers read the labels.

* "Is this X?", or "Who is this?" with more people offered (the next nearest): the right
  one puts the face there (``Editor.move``), "none of them" rejects it from every one
  offered. One answer either way: one click on the person, or on None.
* "Are these the same person?", or "Who is X?" with more groups offered: the right one
  merges the two, "none of them" rejects X's faces from every one offered
  (``Editor.none_of``).
* A question about a face or a person without a label is skipped; it still counts as an
  answer, as the user had to look at it, and as a "no" for whether to look further (a
  real user knows a stranger of a group photo is none of their people).

Prints the end-to-end BCubed F (a labeled photo with no face, or whose face is in no
person, is a cluster of its own) before any answer and after every 10, then a table over
all folders: the F at 0 answers and after as many answers as 5 % of the photos (the
goal's budget), the answers that reached 0.95 and 0.99 (the goal: at most 5 % of the
photos), and the F when the questions ran out.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faceorganizer.config import Settings  # noqa: E402
from faceorganizer.core.library.edits import Editor  # noqa: E402
from faceorganizer.core.library.people import (  # noqa: E402
    GROUPING_KEY,
    GROUPING_VERSION,
    recluster,
)
from faceorganizer.core.library.review import (  # noqa: E402
    PAIR_BAND,
    Key,
    PairSuggestion,
    Suggestion,
    key_of,
    next_questions,
)
from faceorganizer.core.library.scan import scan  # noqa: E402
from faceorganizer.core.store.catalog import SCHEMA_VERSION, Catalog  # noqa: E402
from faceorganizer.eval.evaluation import labeled_photos, score_photos  # noqa: E402

GOAL = 0.99
MILESTONES = (0.95, GOAL)
BUDGET = 0.05  # the goal: answers at most 5 % of the photos


class Truth:
    """What the simulated user knows: the label of the largest face of each labeled photo."""

    def __init__(self, catalog: Catalog) -> None:
        largest: dict[str, tuple[float, int]] = {}
        for face_id in catalog.embeddings()[0].tolist():
            info = catalog.face_info(face_id)
            path = str(info["path"])
            area = (info["x1"] - info["x0"]) * (info["y1"] - info["y0"])
            if "/" in path and not path.startswith("_") and area > largest.get(path, (-1, 0))[0]:
                largest[path] = (area, face_id)
        self.face_of = {path: face for path, (_, face) in largest.items()}
        self.label = {face: path.split("/")[0] for path, face in self.face_of.items()}
        self.photos = len(labeled_photos(catalog))

    @staticmethod
    def e2e_bcubed(catalog: Catalog) -> float:
        """As ``faceorganizer eval`` scores it."""
        return float(score_photos(labeled_photos(catalog))["e2e_bcubed_f"])

    def who(self, catalog: Catalog, person_id: int) -> str | None:
        labels = [self.label[f] for f in catalog.faces_of_person(person_id) if f in self.label]
        return Counter(labels).most_common(1)[0][0] if labels else None


def answer(catalog: Catalog, editor: Editor, truth: Truth, q: Suggestion | PairSuggestion) -> str:
    """Apply the truthful answer as the dialog's buttons do (ui.commands); 'yes', 'no',
    'skip' or 'stale' (earlier answers settled it, as the dialog skips it: not counted)."""
    persons = {p.id for p in catalog.persons()}
    choices = [p for p in q.choices if p in persons]  # the dialog shows those still there
    if isinstance(q, Suggestion):
        if catalog.assignments()[q.face_id][1] or not choices:
            return "stale"
        subject = truth.label.get(q.face_id)
    else:
        if q.other_id not in persons or not choices:
            return "stale"
        subject = truth.who(catalog, q.other_id)
    who = {p: truth.who(catalog, p) for p in choices}
    right = [p for p in choices if who[p] == subject]
    if subject is not None and right:
        if isinstance(q, Suggestion):
            editor.move([q.face_id], right[0], "Yes, this is them")
        else:
            editor.merge([right[0], q.other_id])
        return "yes"
    if subject is None or None in who.values():
        return "skip"  # the user cannot know it is none of them
    if isinstance(q, Suggestion):
        editor.reject(q.face_id, *choices)
    else:
        editor.none_of(q.other_id, choices)
    return "no"


@dataclass
class Run:
    """One folder's simulation: the F before any answer and after each one."""

    name: str
    photos: int
    curve: list[float] = field(default_factory=list)
    tally: Counter[tuple[str, str]] = field(default_factory=Counter)

    def reached(self, goal: float) -> int | None:
        return next((n for n, f in enumerate(self.curve) if f >= goal), None)

    def at(self, answers: int) -> float:
        return self.curve[min(answers, len(self.curve) - 1)]

    @property
    def budget(self) -> int:
        return int(BUDGET * self.photos)


def simulate(catalog: Catalog, name: str, max_answers: int) -> Run:
    truth = Truth(catalog)
    editor = Editor(catalog)
    run = Run(name, truth.photos, [truth.e2e_bcubed(catalog)])
    print(f"# {name}: {run.photos} labeled photos; goal {GOAL} within {run.budget} answers")
    print(f"answers {0:4d}  e2e BCubed F {run.curve[0]:.4f}")
    asked: set[Key] = set()
    bands: Counter[tuple[str, float, str]] = Counter()
    # the answers, whether to look further: a skip is a "no" there (the user skips what
    # has no label: a stranger of a group photo, whom a real user knows is none of them)
    said: list[bool] = []
    reach: float | None = PAIR_BAND
    while len(run.curve) <= max_answers:
        reach, fresh = next_questions(catalog, asked, said, reach)
        if reach is None:
            break
        for q in fresh:
            asked.add(key_of(q))
            kind = "face" if isinstance(q, Suggestion) else "pair"
            result = answer(catalog, editor, truth, q)
            if result == "stale":
                continue
            run.tally[(kind, result)] += 1
            said.append(result == "yes")
            bands[(kind, min(int(q.distance * 40), 40) / 40, result)] += 1
            run.curve.append(truth.e2e_bcubed(catalog))
            if (len(run.curve) - 1) % 10 == 0:
                print(f"answers {len(run.curve) - 1:4d}  e2e BCubed F {run.curve[-1]:.4f}")
            if len(run.curve) > max_answers:
                break
    print(f"answers {len(run.curve) - 1:4d}  e2e BCubed F {run.curve[-1]:.4f}  (no more questions)")
    print("answers by kind:", ", ".join(f"{k} {r}: {n}" for (k, r), n in sorted(run.tally.items())))
    print("yes / no / skip by the question's distance:")
    for kind, low in sorted({(k, d) for k, d, _ in bands}):
        counts = " / ".join(str(bands[(kind, low, r)]) for r in ("yes", "no", "skip"))
        print(f"  {kind} {low:.3f}-{low + 0.025:.3f}: {counts}")
    for goal in MILESTONES:
        n = run.reached(goal)
        share = "" if n is None else f" = {100 * n / run.photos:.1f} % of the photos"
        print(f"answers to reach {goal}: {'not reached' if n is None else n}{share}")
    return run


def table(runs: list[Run]) -> None:
    """One line per folder, in the README's form."""
    goals = " | ".join(f"answers to {g}" for g in MILESTONES)
    print(f"\n| data set | 0 | at 5 % of the photos | {goals} | when the questions ran out |")
    print("|---" * (4 + len(MILESTONES)) + "|")
    for run in runs:
        cells = []
        for goal in MILESTONES:
            n = run.reached(goal)
            cells.append("not reached" if n is None else f"{n} ({100 * n / run.photos:.1f} %)")
        yes = sum(n for (_, r), n in run.tally.items() if r == "yes")
        print(
            f"| {run.name} ({run.photos:,} photos) | {run.curve[0]:.3f} "
            f"| {run.at(run.budget):.3f} ({run.budget} answers) | {' | '.join(cells)} "
            f"| {run.curve[-1]:.3f} after {len(run.curve) - 1} ({yes} yes) |"
        )


def cached_scan(folder: Path, cache: Path) -> Path:
    """The scan of ``folder`` kept in ``cache`` (made now if missing), per detector,
    descriptor and catalog schema, as these decide what a scan stores (schema 6 added the
    faces' yaw); the grouping is redone on each copy."""
    s = Settings()
    name = f"{folder.name}-{s.detector}-{s.max_side}-{s.embedder}-schema{SCHEMA_VERSION}"
    path = cache / f"{name}.sqlite"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        catalog = Catalog(path.with_suffix(".partial"), root=folder)
        for _ in scan(catalog, folder, s):
            pass
        catalog.close()
        path.with_suffix(".partial").rename(path)
    return path


def run_folder(folder: Path, source: Path | None, regroup: bool, max_answers: int) -> Run:
    with tempfile.TemporaryDirectory(prefix="review-effort-") as temp:
        path = Path(temp) / "catalog.sqlite"
        if source:
            reader = Catalog(source, readonly=True)
            reader.backup_to(path)
            reader.close()
        catalog = Catalog(path, root=folder)
        try:
            if not source:
                for _ in scan(catalog, folder, Settings()):
                    pass
            elif regroup:  # today's grouping, not the one the scan was made with
                catalog.set_meta(GROUPING_KEY, str(GROUPING_VERSION))
                recluster(catalog)
            return simulate(catalog, folder.name, max_answers)
        finally:
            catalog.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", type=Path, nargs="+", metavar="LABELED_FOLDER")
    parser.add_argument("--cache", type=Path, help="keep and reuse the scans in this folder")
    parser.add_argument("--catalog", type=Path, help="start from a copy of this scanned catalog")
    parser.add_argument("--max-answers", type=int, default=1000)
    args = parser.parse_args(argv)
    if args.catalog and len(args.folders) > 1:
        parser.error("--catalog goes with one folder")
    runs = []
    for folder in args.folders:
        source = args.catalog or (cached_scan(folder, args.cache) if args.cache else None)
        regroup = not args.catalog
        runs.append(run_folder(folder, source, regroup, args.max_answers))
    table(runs)


if __name__ == "__main__":
    main()
