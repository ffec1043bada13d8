"""The trusted grader: grade submissions you cannot trust. Scores are computed here, outside the
sandbox in which the learner's code runs.

One submission goes through, in order (one module each)::

    reference  what the trusted side knows: the released notebook and the gradebook's tests
    assemble   the notebook to run: tests from the gradebook, answers from the submission
    scan       static scan of the learner's cells for tools that tamper with tests
    execute    cell by cell in a confined kernel (segkit.course.sandbox), tripwires, replays
    budget     a hand-in's CPU budget and the block of cells scored from it
    score      points by the trusted rules, redaction of quoted hidden tests
    record     the autograded notebook (sanitize: inert in any browser), gradebook rows and feedback HTML
    classrun   grade_one (the pipeline above) and grade_class (a class, in parallel)

``environment`` holds the one kernel environment shared by the grader, ``submit`` and the
wrong-answer harness.
"""
from segkit.course.grading.assemble import assemble as assemble_notebook
from segkit.course.grading.assemble import read_submission, reattach_metadata
from segkit.course.grading.classrun import Outcome, collect, grade_class, grade_one, student_name, summary
from segkit.course.grading.execute import execute as execute_notebook
from segkit.course.grading.record import record as record_outcome
from segkit.course.grading.reference import Reference
from segkit.course.grading.scan import tamper_findings
from segkit.course.grading.score import CellScore, ScoreTotals, error_line, redact_hidden
from segkit.course.grading.score import score as score_notebook
from segkit.course.sandbox import Limits, Mode, detect

# The steps are re-exported under names that do not shadow their modules (grading.score is the
# module; grading.score_notebook its function).
__all__ = [
    "CellScore", "Limits", "Mode", "Outcome", "Reference", "ScoreTotals", "assemble_notebook", "collect", "detect",
    "error_line", "execute_notebook", "grade_class", "grade_one", "read_submission", "reattach_metadata",
    "record_outcome", "redact_hidden", "score_notebook", "student_name", "summary", "tamper_findings",
]
