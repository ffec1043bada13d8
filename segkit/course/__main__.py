"""``python -m segkit.course VERB``: see ``--help``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from segkit.course.config import Course, CourseError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m segkit.course", description="Course tooling for the segmentation course.")
    parser.add_argument("--root", type=Path, default=None, help="course root (default: found from the current folder)")
    verbs = parser.add_subparsers(dest="verb", required=True)

    p = verbs.add_parser("release", help="regenerate lessons/ from solutions/ (instructors; replaces lessons/UNIT)")
    p.add_argument("units", nargs="*", help="units to release (default: all)")

    p = verbs.add_parser("check", help="lint the course; exit 1 with one line per problem")
    p.add_argument("units", nargs="*", help="units to check (default: all)")
    p.add_argument("--no-sync", action="store_true", help="skip the lessons/ vs solutions/ comparison")
    p.add_argument("--private", type=Path, default=None, help="also check a private overlay folder (see grade --private-overlay)")

    p = verbs.add_parser("submit", help="grade your notebook for UNIT; exit 0 full marks, 1 points missing, 2 grading failed")
    p.add_argument("unit")
    p.add_argument("--from", dest="notebook", type=Path, default=None,
                   help="notebook to grade (default: your working copy work/UNIT/UNIT.ipynb)")
    p.add_argument("--student", default="learner", help="name used in the gradebook and feedback folder")

    p = verbs.add_parser("wrong-answers", help="prove each unit's wrong answers (solutions/UNIT/wrong_answers.py) lose points; exit 1 if one keeps full marks")
    p.add_argument("units", nargs="*", help="units to run (default: all)")
    p.add_argument("--only", nargs="+", metavar="ID", default=None, help="run only these wrong answer ids")

    verbs.add_parser("update", aliases=["sync"],
                     help="copy new units (and missing files) from lessons/ into your working copy work/; never overwrites")

    p = verbs.add_parser("reset", help="start UNIT afresh in work/: a fresh copy of the lesson, your old notebook kept as a backup")
    p.add_argument("unit")

    p = verbs.add_parser("grade", help="grade a class: each submission in its own sandbox, in parallel (instructors)")
    p.add_argument("unit")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--submitted", type=Path, default=None, help="nbgrader layout DIR/STUDENT/UNIT/UNIT.ipynb (default: submitted/)")
    source.add_argument("--zip", dest="zips", type=Path, nargs="+", default=[], help="zips, one per student (student = name before the first '_')")
    source.add_argument("--folder", type=Path, default=None, help="a folder of notebooks, one per student (student = file name)")
    p.add_argument("--jobs", type=int, default=None, help="submissions graded at once (default: the machine's cores)")
    p.add_argument("--memory", type=_megabytes, default=None, help="address space per process, e.g. 6G or 4096M (default 6G)")
    p.add_argument("--cpu-seconds", type=int, default=None, help="CPU seconds per process (default 900)")
    p.add_argument("--timeout", type=int, default=None, help="cap on any cell's timeout in seconds (default 300)")
    p.add_argument("--wall", type=int, default=None, help="wall-clock seconds per submission (default 1200)")
    p.add_argument("--private-overlay", type=Path, default=None, help="folder with private solutions/UNIT/ whose hidden tests are used")
    p.add_argument("--no-feedback", action="store_true", help="skip the feedback HTML")

    p = verbs.add_parser("new-unit", help="scaffold solutions/NN-slug from the template and generate its lesson")
    p.add_argument("unit", help="e.g. 13-video-segmentation")
    p.add_argument("title", help='e.g. "Video segmentation"')

    args = parser.parse_args(argv)
    try:
        course = Course.find(args.root)
        return _run(course, args)
    except CourseError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def _run(course: Course, args: argparse.Namespace) -> int:
    if args.verb == "release":
        from segkit.course.authoring.release import release

        units = args.units or course.units()
        cleaned = release(course, args.units)
        for unit in cleaned:
            print(f"tidied solutions/{unit}/{unit}.ipynb (outputs, editor metadata, course header)")
        print(f"released {len(units)} unit(s) to lessons/: {', '.join(units)}")
        return 0
    if args.verb == "check":
        from segkit.course.authoring.check import check_course

        problems = check_course(course, args.units, sync=not args.no_sync)
        if args.private:
            from segkit.course.authoring.private import check_private

            problems += check_private(course, args.private)
        for problem in problems:
            print(problem)
        if problems:
            print(f"{len(problems)} problem(s)", file=sys.stderr)
            return 1
        print(f"course OK ({len(args.units or course.units())} units)")
        return 0
    if args.verb == "submit":
        from segkit.course.learner.submit import submit
        from segkit.course.learner.workspace import default_submission

        notebook = args.notebook
        if notebook is None:
            notebook, note = default_submission(course, course.require_unit(args.unit))
            if note:
                print(note, file=sys.stderr)
        result = submit(course, args.unit, notebook, args.student)
        print(result.table())
        print(f"graded in {result.seconds:.1f} s")
        return result.exit_code
    if args.verb == "wrong-answers":
        from segkit.course.authoring.wrong_answers import format_table, run_unit

        reports = []
        for unit in args.units or course.units():
            reports.append(run_unit(course, unit, only=args.only))
            print(f"{reports[-1].unit}: {len(reports[-1].outcomes)} wrong answer(s) in {reports[-1].seconds:.1f} s", file=sys.stderr)
        print(format_table(reports))
        problems = [line for report in reports for line in report.problems]
        for line in problems:
            print(line)
        return 1 if problems else 0
    if args.verb in ("update", "sync"):
        from segkit.course.learner.workspace import update, work_dir

        lines = update(course).lines(course)
        print("\n".join(lines) if lines else f"{work_dir(course).relative_to(course.root)}/ is up to date with lessons/")
        return 0
    if args.verb == "reset":
        from segkit.course.learner.workspace import reset

        fresh, backup = reset(course, args.unit)
        if backup:
            print(f"your previous notebook is now {backup.relative_to(course.root)}")
        print(f"{fresh.relative_to(course.root)} is a fresh copy of the lesson")
        return 0
    if args.verb == "grade":
        return _grade(course, args)
    if args.verb == "new-unit":
        from segkit.course.authoring.scaffold import new_unit

        for path in new_unit(course, args.unit, args.title):
            print(f"wrote {path}")
        print("next: open it in JupyterLab (make lab-instructor), write the unit, then "
              f"`python -m segkit.course release {args.unit}` and `python -m segkit.course check`")
        return 0
    raise AssertionError(args.verb)


def _megabytes(text: str) -> int:
    text = text.strip().upper().removesuffix("B")
    scale = {"G": 1024, "M": 1}.get(text[-1:], None)
    try:
        return int(float(text[:-1]) * scale) if scale else int(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected a size such as 6G or 4096M, got {text!r}") from err


def _grade(course: Course, args: argparse.Namespace) -> int:
    import dataclasses
    import tempfile

    from segkit.course import grading

    unit = course.require_unit(args.unit)
    given = {"memory_mb": args.memory, "cpu_seconds": args.cpu_seconds, "cell_timeout": args.timeout, "wall_seconds": args.wall}
    limits = dataclasses.replace(grading.Limits(), **{k: v for k, v in given.items() if v is not None})
    mode = grading.detect()
    if mode.reason:
        print(f"warning: {mode.reason}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="segkit-collect-") as tmp:
        ref = None
        if args.private_overlay:
            from segkit.course.authoring.private import private_reference

            ref = private_reference(course, unit, args.private_overlay, Path(tmp) / "private")
        notebooks = grading.collect(course, unit, submitted=args.submitted, zips=args.zips, folder=args.folder, staging=Path(tmp) / "zips")
        if args.zips or args.folder:  # keep nbgrader's layout complete: formgrader shows submitted/
            for student, path in notebooks.items():
                target = course.root / "submitted" / student / unit / f"{unit}.ipynb"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(path.read_bytes())
        outcomes = grading.grade_class(course, unit, notebooks, jobs=args.jobs, limits=limits, mode=mode,
                                       feedback=not args.no_feedback, ref=ref)
    print(grading.summary(unit, outcomes, mode))
    print("gradebook: gradebook.db (nbgrader export writes grades.csv); feedback: feedback/STUDENT/" + unit)
    return 1 if any(o.review or o.rejected for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
