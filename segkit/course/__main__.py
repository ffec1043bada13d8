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
        from segkit.course.release import release

        units = args.units or course.units()
        cleaned = release(course, args.units)
        for unit in cleaned:
            print(f"tidied solutions/{unit}/{unit}.ipynb (outputs, editor metadata, course header)")
        print(f"released {len(units)} unit(s) to lessons/: {', '.join(units)}")
        return 0
    if args.verb == "check":
        from segkit.course.check import check_course

        problems = check_course(course, args.units, sync=not args.no_sync)
        for problem in problems:
            print(problem)
        if problems:
            print(f"{len(problems)} problem(s)", file=sys.stderr)
            return 1
        print(f"course OK ({len(args.units or course.units())} units)")
        return 0
    if args.verb == "submit":
        from segkit.course.submit import submit
        from segkit.course.workspace import default_submission

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
        from segkit.course.wrong_answers import format_table, run_unit

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
        from segkit.course.workspace import update, work_dir

        lines = update(course).lines(course)
        print("\n".join(lines) if lines else f"{work_dir(course).relative_to(course.root)}/ is up to date with lessons/")
        return 0
    if args.verb == "reset":
        from segkit.course.workspace import reset

        fresh, backup = reset(course, args.unit)
        if backup:
            print(f"your previous notebook is now {backup.relative_to(course.root)}")
        print(f"{fresh.relative_to(course.root)} is a fresh copy of the lesson")
        return 0
    if args.verb == "new-unit":
        from segkit.course.scaffold import new_unit

        for path in new_unit(course, args.unit, args.title):
            print(f"wrote {path}")
        print("next: open it in JupyterLab (make lab-instructor), write the unit, then "
              f"`python -m segkit.course release {args.unit}` and `python -m segkit.course check`")
        return 0
    raise AssertionError(args.verb)


if __name__ == "__main__":
    sys.exit(main())
