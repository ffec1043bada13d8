"""Learner tools: the working copy in ``work/`` (``workspace``: update, reset) and grading one's
own notebook exactly as the instructor would (``submit``)."""
