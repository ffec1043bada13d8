"""A unit's hand-in budget: a released test cell tagged ``budget-NNN`` (the capstone's).

Every cell up to and including the hand-in spends the budget, test cells too (they run learner
functions), counted in CPU seconds of the kernel's whole process tree. The hand-in's *block* is
the graded cells that follow it in the release up to the next answer cell (the capstone's tiers):
:func:`pin_hand_in_block` keeps them right after the hand-in, in the release's order, whatever order
the submission has, so no learner cell runs between the hand-in and its scores. Over budget, or
when the kernel dies or times out during the hand-in or its block, the block scores 0 (a fresh
kernel would replay the learner's cells, results they forged included).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from segkit.course import cells

# The file a hand-in cell writes into the learner's folder (segkit.course.kernel.capstone.hand_in):
# the grader copies only this file out, for its scorer. The hand-in cell's hidden tests and the
# cells of its block run in that scorer, a second sandbox that runs no learner code.
HAND_IN_FILE = "handin.segkit"

if TYPE_CHECKING:
    from segkit.course.grading.reference import Reference


class Phase(Enum):
    BEFORE = "before the hand-in"  # cells spend the budget
    BLOCK = "the hand-in's block"  # the graded cells scored from the hand-in
    AFTER = "after the block"


@dataclass
class Budget:
    """The hand-in budget of a unit and its spending during one run."""

    hand_in: str  # grade id of the hand-in cell
    seconds: int
    block: tuple[str, ...]  # grade ids of the graded cells scored from the hand-in's result
    spent: float = 0.0
    phase: Phase = Phase.BEFORE
    failure: str = ""  # why the block scores 0 (over budget, the kernel died during the hand-in)

    @classmethod
    def of(cls, ref: "Reference") -> "Budget | None":
        """The budget the *released* notebook sets (a submission's own tags never count)."""
        code = [c for c in ref.release.cells if c.cell_type == "code"]
        for k, cell in enumerate(code):
            seconds, gid = cells.budget(cell), cells.grade_id(cell)
            if seconds is None or gid not in ref.points:
                continue
            block = []
            for after in code[k + 1:]:
                if cells.is_answer(after):
                    break
                if cells.is_graded(after):
                    block.append(cells.grade_id(after))
            return cls(gid, seconds, tuple(block))
        return None

    @property
    def counting(self) -> bool:
        return self.phase is Phase.BEFORE

    def over(self) -> bool:
        return self.spent > self.seconds

    def message(self) -> str:
        return (f"the notebook used {self.spent:.1f} CPU seconds up to the end of the hand-in ({self.hand_in}); "
                f"the budget is {self.seconds} s")

    def refusal(self, gid: str | None) -> str:
        """Why the cell ``gid`` must not run now ('' when it may). Moves past the block when the
        run leaves it."""
        if self.phase is Phase.BLOCK and gid not in self.block:
            self.phase = Phase.AFTER
        if self.failure and gid in self.block:
            return self.failure
        if gid == self.hand_in and self.phase is Phase.BEFORE and self.over():
            self.phase, self.failure = Phase.BLOCK, self.message()
            return self.failure
        return ""

    def handed_in(self) -> str:
        """The hand-in cell has run: the block begins. Returns the event line to report."""
        self.phase = Phase.BLOCK
        if self.over():
            self.failure = self.message()
            return f"budget: {self.message()}"
        return f"budget: the notebook used {self.spent:.1f} of {self.seconds} CPU seconds up to the end of the hand-in"

    def interrupted(self, gid: str | None, reason: str) -> None:
        """A timeout or kernel death in cell ``gid``: during the hand-in or its block, the block fails."""
        if (gid == self.hand_in or self.phase is Phase.BLOCK) and not self.failure:
            self.phase, self.failure = Phase.BLOCK, f"the hand-in ({self.hand_in}) did not finish: {reason}"


def pin_hand_in_block(notebook_cells: list, budget: Budget) -> list:
    """``notebook_cells`` with the hand-in's block moved right after the hand-in, in the
    release's order, so no learner cell runs between the hand-in and its scores."""
    block = {cells.grade_id(c): c for c in notebook_cells if cells.grade_id(c) in budget.block}
    rest = [c for c in notebook_cells if cells.grade_id(c) not in budget.block]
    at = next((k for k, c in enumerate(rest) if cells.grade_id(c) == budget.hand_in), None)
    if at is None:
        return notebook_cells
    return rest[: at + 1] + [block[g] for g in budget.block if g in block] + rest[at + 1:]
