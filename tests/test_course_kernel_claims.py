"""segkit.course.kernel.claims: the prose's numbers checked against the run."""
from __future__ import annotations

import math

from segkit.course.kernel import claims


def test_claim_within_tolerance_prints_a_tick(capsys):
    assert claims.claim("regions in the mask", 111, 111)
    assert claims.claim("pixel accuracy", 0.817, 0.82, tol=0.005)
    assert claims.claim("parameters", 1_030_000, 1_000_000, rel=0.05)
    out = capsys.readouterr().out
    assert out.count("✓") == 3 and "the text says 111" in out


def test_claim_outside_tolerance_says_what_differs_and_never_raises(capsys):
    assert not claims.claim("regions in the mask", 111, 113)
    assert not claims.claim("mIoU", math.nan, 0.5, tol=1.0)
    assert not claims.claim_range("worst heading error", 5.2, 0, 3.6, unit="°")
    assert not claims.claim_true("most chairs' boxes are mostly other objects", False, "2 of 8")
    out = capsys.readouterr().out
    assert "✗ the text says regions in the mask ≈ 113; this run measured 111." in out
    assert "between 0 and 3.6°; this run measured 5.2°" in out
    assert "does not bear it out (2 of 8)" in out


def test_claim_time_allows_a_factor_either_way(capsys):
    assert claims.claim_time("training", 50, 40)
    assert claims.claim_time("training", 20, 40)
    assert not claims.claim_time("training", 150, 40)
    assert not claims.claim_time("training", 10, 40)
    assert "reference machine" in capsys.readouterr().out


def test_claims_leave_a_record_in_a_kernel(monkeypatch):
    shown = []

    class FakeShell:  # get_ipython() is not None: the record goes out as display data
        pass

    import IPython
    import IPython.display

    monkeypatch.setattr(IPython, "get_ipython", lambda: FakeShell())
    monkeypatch.setattr(IPython.display, "display", lambda data, raw: shown.append(data))
    claims.claim("x", 1, 2)
    (data,) = shown
    assert data[claims.MIME] == {"what": "x", "measured": 1.0, "stated": 2.0, "allowed": 0.0, "ok": False}
    assert data["text/plain"].startswith("✗")
