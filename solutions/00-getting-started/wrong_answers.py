"""Plausible wrong answers for unit 00 (instructor side; never released to lessons/)."""
WRONG_ANSWERS = [
    dict(
        cell="pick_device",
        id="mps-before-cuda",
        description="prefers the Apple GPU over CUDA when both are available",
        source='''
def pick_device(cuda_available: bool, mps_available: bool) -> str:
    if mps_available:
        return "mps"
    if cuda_available:
        return "cuda"
    return "cpu"
''',
    ),
]
