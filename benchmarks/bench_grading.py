"""Grading a class in sandboxes: time per submission, 1 vs 2 jobs, overhead against plain nbgrader.

    sudo .venv/bin/python benchmarks/bench_grading.py              # 40 submissions of unit 03
    sudo .venv/bin/python benchmarks/bench_grading.py --count 12   # quicker

Builds ``--count`` submissions of unit 03 (a third honest, a third wrong, a third adversarial: the
attacks of ``tests/test_grading_adversarial.py``) in a scratch course and grades them with
``segkit.course.grading.grade_class`` at 1 and 2 jobs. The baseline is plain ``nbgrader autograde``
(in process, ``NbGraderAPI.autograde``, no sandbox) on the honest and wrong ones only: run
unconfined, the adversarial ones would damage the machine. Prints a Markdown table and the
extrapolation to 200 students x 13 units on 16 cores (assuming time per submission scales with
jobs up to the core count, which the 1 -> 2 jobs figure checks on this machine).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from segkit.course import grading  # noqa: E402
from segkit.course.config import Course  # noqa: E402
from segkit.course.authoring.release import generate, make_scratch_course, nbgrader_api  # noqa: E402
from test_grading_adversarial import ATTACKS, UNIT, _attacker, _honest  # noqa: E402

# Seconds per submission of plain serial autograde measured for the issue (units 02 and 04);
# other units are taken as the mean of the measured ones.
MEASURED_ELSEWHERE = {"02-workflow": 53.0, "04-fcn": 34.0}


def build(course: Course, count: int, root: Path) -> dict[str, tuple[str, Path]]:
    kinds = ["honest", "wrong", "adversarial"]
    attacks = list(ATTACKS.items())
    subs = {}
    for i in range(count):
        kind = kinds[i % 3]
        if kind == "honest":
            nb = _honest(course)
        elif kind == "wrong":
            nb = _attacker(course, "wrong", "pass", root / "marker")
        else:
            name, code = attacks[(i // 3) % len(attacks)]
            nb = _attacker(course, name, code, root / "marker")
        student = f"{kind}-{i:02d}"
        path = root / "submitted" / student / UNIT / f"{UNIT}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(path))
        subs[student] = (kind, path)
    return subs


def plain_nbgrader(course: Course, students: list[str]) -> list[float]:
    api = nbgrader_api(course.root)
    times = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for student in students:
            start = time.perf_counter()
            api.autograde(UNIT, student, force=True, create=True)
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=40)
    args = parser.parse_args()
    mode = grading.detect()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        course = make_scratch_course(Course(REPO), Path(tmp) / "course", [UNIT])
        generate(nbgrader_api(course.root), UNIT)
        subs = build(Course(REPO), args.count, course.root)
        benign = [s for s, (kind, _) in subs.items() if kind != "adversarial"]
        ref = grading.Reference.load(course, UNIT)
        plain = plain_nbgrader(course, benign)
        print(f"plain nbgrader: {sum(plain):.0f} s for {len(plain)}", flush=True)
        rows = {}
        for jobs in (2, 1):
            start = time.perf_counter()
            outcomes = grading.grade_class(course, UNIT, {s: p for s, (_, p) in subs.items()}, jobs=jobs, ref=ref, progress=False)
            rows[jobs] = (time.perf_counter() - start, outcomes)
            print(f"sandboxed, {jobs} job(s): {rows[jobs][0]:.0f} s for {len(outcomes)}", flush=True)
        sandboxed = [o.seconds for o in rows[1][1] if o.student in benign]
    per_plain, per_sandbox = statistics.mean(plain), statistics.mean(sandboxed)
    overhead = per_sandbox - per_plain
    wall1, wall2 = rows[1][0], rows[2][0]
    print(f"## Grading a class (unit {UNIT}, {args.count} submissions)\n")
    print(f"{platform.machine()}, {os.cpu_count()} cores shared with other jobs, load average "
          f"{load[0]:.1f} at the start: absolute times are inflated. Sandbox mode: {mode.name}.\n")
    print("| run | wall s | s / submission |")
    print("|---|---:|---:|")
    print(f"| plain `nbgrader autograde`, serial, honest + wrong only ({len(plain)}) | {sum(plain):.0f} | {per_plain:.1f} |")
    print(f"| sandboxed, 1 job, same submissions | {sum(sandboxed):.0f} | {per_sandbox:.1f} |")
    print(f"| sandboxed, 1 job, all {args.count} (incl. recording + feedback) | {wall1:.0f} | {wall1 / args.count:.1f} |")
    print(f"| sandboxed, 2 jobs, all {args.count} | {wall2:.0f} | {wall2 / args.count:.1f} |")
    print(f"\nSandbox overhead per submission: {overhead:+.1f} s ({per_sandbox / per_plain:.2f}x plain nbgrader); "
          f"2 jobs vs 1: {wall1 / wall2:.2f}x faster.\n")
    unit_times = {UNIT: per_plain, **MEASURED_ELSEWHERE}
    typical = statistics.mean(unit_times.values())
    total = sum(200 * (unit_times.get(f"u{k}", typical) + overhead) for k in range(13))
    print(f"Extrapolation, 200 students x 13 units, 16 cores (16 jobs, linear scaling assumed; "
          f"{typical:.0f} s plain per submission on average over units 02-04, + {overhead:.1f} s sandbox): "
          f"{total / 16 / 3600:.1f} h of wall-clock, vs {200 * 13 * typical / 3600:.1f} h serial without sandbox.")


if __name__ == "__main__":
    main()
