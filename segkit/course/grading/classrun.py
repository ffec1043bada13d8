"""Grading submissions: one through the whole pipeline (:func:`grade_one`), and a class in
parallel, each submission in its own sandbox (:func:`grade_class`), recorded as it finishes."""
from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from segkit.course.config import Course, CourseError
from segkit.course.grading.assemble import assemble, read_submission
from segkit.course.grading.environment import kernel_argv_python, segkit_pythonpath
from segkit.course.grading.execute import execute
from segkit.course.grading.record import record
from segkit.course.grading.reference import Reference
from segkit.course.grading.scan import tamper_findings
from segkit.course.grading.feedback import compose, visible_notebook
from segkit.course.grading.score import CellScore, ScoreTotals, learner_lines, redact_hidden, score
from segkit.course.sandbox import Limits, Mode, detect


@dataclass
class Outcome(ScoreTotals):
    """What grading one submission gave; plain data, sent back from a worker process."""

    student: str
    scores: list[CellScore] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # repairs made to the submission
    review: list[str] = field(default_factory=list)  # why the score is withheld
    rejected: str = ""  # why nothing could be graded
    executed: dict | None = None  # the graded run (JSON): the instructor's autograded notebook
    feedback: dict | None = None  # the learner's feedback notebook (JSON), when it is not the graded run
    seconds: float = 0.0
    sandbox: str = ""

    @property
    def recorded_points(self) -> float:
        return 0.0 if self.review or self.rejected else self.points


def grade_one(student: str, notebook_path: Path, ref: Reference, unit_dir: Path, limits: Limits, mode: Mode,
              pythonpath: str, home_seed: Path | None = None, *, feedback_run: bool = False,
              progress=None) -> Outcome:
    """Grade one submission: assemble, scan, execute confined (test cells sealed), score. With
    ``feedback_run`` the learner's feedback comes from a second run without hidden tests
    (:mod:`segkit.course.grading.feedback`). Never raises for the submission's sake: a submission
    that cannot be graded comes back ``rejected`` with the reason."""
    start = time.perf_counter()
    outcome = Outcome(student=student, sandbox=mode.name)
    try:
        submission = read_submission(notebook_path)
        notebook, outcome.notes = assemble(submission, ref)
        outcome.review = tamper_findings(notebook, ref)
        tag = f"segkit-tamper-{secrets.token_hex(6)}"
        executed, nonces, events = execute(notebook, ref, unit_dir, limits, mode, pythonpath, home_seed, guard_tag=tag,
                                           progress=progress)
        outcome.notes += events
        outcome.scores, tripped = score(executed, ref, nonces, tag)
        outcome.review += tripped
        if redact_hidden(executed, ref, learner_lines(notebook)):
            outcome.review.append("an output quoted hidden tests (removed from the feedback)")
        outcome.executed = json.loads(nbformat.writes(executed))
        if feedback_run:
            visible, visible_nonces, _ = execute(visible_notebook(notebook, ref), ref, unit_dir, limits, mode,
                                                 pythonpath, home_seed)
            outcome.feedback = json.loads(nbformat.writes(compose(visible, executed, ref, outcome.scores,
                                                                  visible_nonces)))
    except CourseError as err:
        outcome.rejected = str(err)
    except Exception as err:  # noqa: BLE001 - one submission must never stop a class run
        outcome.rejected = f"grading failed: {type(err).__name__}: {err}"
    if not outcome.scores:
        outcome.scores = [CellScore(g, 0.0, ref.points[g], outcome.rejected) for g in ref.grade_ids()]
    outcome.seconds = time.perf_counter() - start
    return outcome


STUDENT = re.compile(r"[^A-Za-z0-9_.-]+")


def student_name(text: str) -> str:
    return STUDENT.sub("-", text).strip("-.")[:64] or "student"


def collect(course: Course, unit: str, *, submitted: Path | None = None, zips: list[Path] = (), folder: Path | None = None,
            staging: Path) -> dict[str, Path]:
    """``{student: notebook}`` from nbgrader's ``submitted/STUDENT/UNIT/UNIT.ipynb``, zips, or a folder
    of notebooks (student = file name without ``.ipynb``). Zips are unpacked into ``staging``."""
    import zipfile

    found: dict[str, Path] = {}
    origin: dict[str, Path] = {}

    def add(student: str, source: Path, notebook: Path | None = None) -> None:
        if student in origin:
            raise CourseError(f"{origin[student]} and {source} both belong to student {student!r} once their names "
                              "are cleaned: rename one and grade again (nothing was graded)")
        origin[student] = source
        found[student] = notebook or source

    if zips:
        for z in zips:
            student = student_name(Path(z).stem.split("_")[0] if "_" in Path(z).stem else Path(z).stem)
            if student in origin:
                add(student, Path(z))  # raises: two zips for one student
            target = staging / student
            with zipfile.ZipFile(z) as archive:
                names = [n for n in archive.namelist() if n.endswith(".ipynb") and "/." not in f"/{n}" and not n.startswith("__MACOSX")]
                pick = [n for n in names if Path(n).name == f"{unit}.ipynb"] or names
                if not pick:
                    raise CourseError(f"{z}: no notebook inside")
                target.mkdir(parents=True, exist_ok=True)
                info = archive.getinfo(pick[0])
                if info.file_size > 64 * 2**20:
                    raise CourseError(f"{z}: {pick[0]} is larger than 64 MB")
                (target / f"{unit}.ipynb").write_bytes(archive.read(info))
            add(student, Path(z), target / f"{unit}.ipynb")
    elif folder is not None:
        for path in sorted(Path(folder).glob("*.ipynb")):
            add(student_name(path.stem), path)
    else:
        root = Path(submitted or course.root / "submitted")
        for path in sorted(root.glob(f"*/{unit}/{unit}.ipynb")):
            add(path.parent.parent.name, path)
    if not found:
        raise CourseError("no submissions found")
    return found


def _worker(args, kwargs):
    return grade_one(*args, **kwargs)


def matplotlib_seed(directory: Path) -> Path:
    """A matplotlib font cache built once by the parent and copied into each sandbox's $HOME."""
    import subprocess

    seed = directory / "home"
    (seed / ".matplotlib").mkdir(parents=True, exist_ok=True)
    env = {"MPLCONFIGDIR": str(seed / ".matplotlib"), "PATH": os.environ.get("PATH", ""), "HOME": str(seed)}
    subprocess.run([kernel_argv_python(), "-c", "import matplotlib.font_manager"], env=env, capture_output=True, timeout=300)
    return seed


def grade_class(course: Course, unit: str, notebooks: dict[str, Path], *, jobs: int | None = None,
                limits: Limits = Limits(), mode: Mode | None = None, feedback: bool = True,
                progress: bool = True, ref: Reference | None = None, feedback_run: bool = True,
                keep_notebooks: bool = False, cell_progress=None) -> list[Outcome]:
    """Grade every notebook in its own sandbox, ``jobs`` at a time, recording each student as soon as
    graded (a crash later loses nothing already graded).

    ``feedback_run``: the learner's feedback comes from a second run without hidden tests (see
    :mod:`segkit.course.grading.feedback`; ``submit`` turns it off). ``keep_notebooks``: keep the
    executed notebooks in the returned outcomes (otherwise they are dropped once recorded, so the
    grader's memory does not grow with the class). ``cell_progress``: called before each code cell
    (see :func:`segkit.course.grading.execute.execute`), with ``jobs=1`` only.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from tqdm.auto import tqdm

    unit = course.require_unit(unit)
    mode = mode or detect()
    ref = ref or Reference.load(course, unit)
    jobs = max(1, jobs or os.cpu_count() or 1)
    pythonpath = segkit_pythonpath()
    outcomes: list[Outcome] = []

    def done(outcome: Outcome) -> None:
        record(course, unit, outcome, feedback=feedback)
        if not keep_notebooks:
            outcome.executed = outcome.feedback = None
        outcomes.append(outcome)
        bar.update()

    with tempfile.TemporaryDirectory(prefix="segkit-grade-") as tmp:
        seed = matplotlib_seed(Path(tmp))
        kwargs = {"feedback_run": feedback_run}
        args = [(s, p, ref, course.release_dir / unit, limits, mode, pythonpath, seed) for s, p in notebooks.items()]
        bar = tqdm(total=len(args), desc=f"grading {unit}", unit="nb", disable=not progress)
        if jobs == 1:
            for a in args:
                done(grade_one(*a, **kwargs, progress=cell_progress))
        else:
            with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
                futures = {pool.submit(_worker, a, kwargs): a[0] for a in args}
                for future in as_completed(futures):
                    try:
                        outcome = future.result()
                    except Exception as err:  # noqa: BLE001 - a worker crash costs that submission only
                        outcome = Outcome(futures[future], rejected=f"grading failed: {err}",
                                          scores=[CellScore(g, 0.0, ref.points[g]) for g in ref.grade_ids()])
                    done(outcome)
        bar.close()
    outcomes.sort(key=lambda o: o.student)
    return outcomes


def summary(unit: str, outcomes: list[Outcome], mode: Mode) -> str:
    width = max([len("student"), *(len(o.student) for o in outcomes)])
    lines = [f"{unit}: {len(outcomes)} submission(s), sandbox: {mode.name}" + (f" ({mode.reason})" if mode.reason else ""),
             f"{'student':<{width}}  {'points':>9}  {'time':>6}  status", "-" * (width + 40)]
    for o in outcomes:
        status = ("rejected: " + o.rejected) if o.rejected else ("NEEDS REVIEW: " + "; ".join(o.review)) if o.review else "ok"
        shown = f"{o.recorded_points:g} / {o.max_points:g}"
        if o.review and not o.rejected:
            status += f" (would be {o.points:g})"
        if o.notes:
            status += " · " + "; ".join(o.notes)
        lines.append(f"{o.student:<{width}}  {shown:>9}  {o.seconds:5.1f}s  {status[:300]}")
    return "\n".join(lines)
