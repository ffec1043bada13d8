"""benchmarks/gpu_check.py runs its CPU fallbacks here, so the GPU script is itself tested."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"


@pytest.mark.slow
def test_gpu_check_cpu_fallbacks_pass(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "report.md"
    assert module.main(["--quick", "--skip-notebooks", "--out", str(out)]) == 0, capsys.readouterr().out[-3000:]
    report = out.read_text()
    for section in ("## 2. Mixed precision", "## 3. Training CLI", "## 4. predict", "## 5. segkit vs torchvision"):
        assert section in report
    assert "FAIL" not in report
