"""Instructor tools: build notebooks (``notebook``), regenerate lessons (``release``), lint the
course (``check``), verify private hidden tests (``private``), scaffold a unit (``scaffold``) and
prove that plausible wrong answers lose points (``wrong_answers``, the harness)."""
