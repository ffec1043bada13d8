"""The numbers a lesson's prose states about its own run, checked against that run.

A lesson says "111 regions" or "about 82 % of the pixels are road". Instead of trusting the text,
the cell that measures the number calls :func:`claim`, which shows one line under the cell::

    ✓ regions in the mask: 111 (the text says 111)
    ✗ the text says regions in the mask ≈ 113 (± 0); this run measured 111.

A learner's run can differ from the text for good reasons (their own answer to an exercise, a
different machine, a GPU), so a claim never raises: it only says so. Each call also leaves a
machine-readable record in the cell's output (MIME type :data:`MIME`): the course's tests read
every record of every solution notebook and fail on one that does not hold, so the prose cannot
drift from what the reference run gives.

Times are stated for the course's reference machine (2 CPU cores, idle); :func:`claim_time`
accepts a factor either way, wide enough for an idle 2-core laptop and for the test suite running
two notebooks side by side.
"""
from __future__ import annotations

import math
from typing import Any

MIME = "application/vnd.segkit.claim+json"
REFERENCE_MACHINE = "the course's reference machine (2 CPU cores, idle)"


def claim(what: str, measured: float, stated: float, *, tol: float = 0.0, rel: float = 0.0, unit: str = "") -> bool:
    """The text says ``what`` is ``stated``; True when ``measured`` is within
    ``max(tol, rel * |stated|)`` of it. Shows a ✓ line, or a ✗ note when it is not."""
    measured, stated = float(measured), float(stated)
    allowed = max(float(tol), float(rel) * abs(stated))
    ok = math.isfinite(measured) and abs(measured - stated) <= allowed + 1e-12
    margin = f" (± {_fmt(allowed)}{unit})" if allowed else ""
    if ok:
        line = f"✓ {what}: {_fmt(measured)}{unit} (the text says {_fmt(stated)}{unit}{margin})"
    else:
        line = f"✗ the text says {what} ≈ {_fmt(stated)}{unit}{margin}; this run measured {_fmt(measured)}{unit}."
    return _show(line, ok, what=what, measured=measured, stated=stated, allowed=allowed)


def claim_range(what: str, measured: float, low: float, high: float, *, unit: str = "") -> bool:
    """The text says ``what`` lies between ``low`` and ``high`` (inclusive)."""
    measured = float(measured)
    ok = math.isfinite(measured) and low <= measured <= high
    line = (f"✓ {what}: {_fmt(measured)}{unit} (the text says {_fmt(low)}–{_fmt(high)}{unit})" if ok else
            f"✗ the text says {what} is between {_fmt(low)} and {_fmt(high)}{unit}; this run measured {_fmt(measured)}{unit}.")
    return _show(line, ok, what=what, measured=measured, low=float(low), high=float(high))


def claim_true(what: str, holds: bool, measured: str = "") -> bool:
    """A claim that is not one number ("most chairs' boxes are mostly other objects"):
    ``holds`` is whether this run bears it out, ``measured`` what the run shows."""
    ok = bool(holds)
    detail = f" ({measured})" if measured else ""
    line = f"✓ {what}{detail}" if ok else f"✗ the text says: {what}; this run does not bear it out{detail}."
    return _show(line, ok, what=what, measured=measured)


def claim_time(what: str, seconds: float, stated: float, *, factor: float = 2.5) -> bool:
    """A time the text states for :data:`REFERENCE_MACHINE`: True when ``seconds`` is within
    ``factor`` of ``stated`` either way (other machines differ; the note says so)."""
    seconds = float(seconds)
    ok = math.isfinite(seconds) and stated / factor <= seconds <= stated * factor
    if ok:
        line = f"✓ {what}: {seconds:.1f} s (the text says about {_fmt(stated)} s on {REFERENCE_MACHINE})"
    else:
        line = (f"✗ the text says {what} takes about {_fmt(stated)} s on {REFERENCE_MACHINE}; "
                f"this run took {seconds:.1f} s (another machine, a GPU or a busy CPU changes times).")
    return _show(line, ok, what=what, measured=seconds, stated=float(stated), factor=float(factor))


def _fmt(x: float) -> str:
    if float(x).is_integer() and abs(x) < 1e12:
        return str(int(x))
    return f"{x:.4g}"


def _show(line: str, ok: bool, **record: Any) -> bool:
    record["ok"] = ok
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python: the line is all there is
        print(line)
        return ok
    if get_ipython() is None:
        print(line)
    else:
        display({"text/plain": line, MIME: record}, raw=True)
    return ok
