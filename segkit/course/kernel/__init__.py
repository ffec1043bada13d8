"""What runs inside a learner's kernel: imported by lessons and test cells, on Colab too.

Nothing here imports the grader (``segkit.course.grading``), nbgrader or the authoring tools; a
layering test enforces it. ``testing`` holds the helpers of test cells (``expect_raises``,
``no_delegation``), ``claims`` checks the numbers a lesson's prose states against the run.
"""
