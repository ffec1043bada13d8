"""segkit.course.kernel.capstone: the hand-in checks and the scores, against torchmetrics."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.functional.segmentation import mean_iou as tm_mean_iou

from segkit import load_model
from segkit.course.kernel import capstone
from segkit.data import load_frozen_split
from segkit.models import build_model


@pytest.fixture(autouse=True)
def _only_this_tests_processes(monkeypatch):
    """In a learner's kernel every child process is the learner's; in a pytest worker, processes
    other tests left (a multiprocessing resource tracker, a compile worker) are not this test's."""
    from segkit.course.kernel import capstone

    before = {pid for pid, _ in capstone._live_descendants(os.getpid())}
    original = capstone._live_descendants
    monkeypatch.setattr(capstone, "_live_descendants",
                        lambda root: [(pid, name) for pid, name in original(root) if pid not in before])


class Oracle(nn.Module):
    """Returns one-hot logits of fixed labels for the split it is given (found by matching images)."""

    def __init__(self, images, labels):
        super().__init__()
        self.images, self.labels = images, labels
        self.weight = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        index = [int((self.images - xi).abs().flatten(1).sum(1).argmin()) for xi in x]
        return F.one_hot(self.labels[index], capstone.NUM_CLASSES).permute(0, 3, 1, 2).float() + self.weight


def test_public_split_is_the_frozen_split_and_hidden_splits_differ():
    images, masks = capstone.street_split()
    frozen = load_frozen_split("street")
    assert images.shape == (64, 3, 96, 128) and masks.shape == (64, 96, 128) and masks.dtype == torch.int64
    assert torch.equal(images[5], frozen[5][0]) and torch.equal(masks[5], frozen[5][1])
    hidden, hidden_masks = capstone.street_split(seed=7, count=4)
    assert hidden.shape == (4, 3, 96, 128)
    assert not torch.equal(hidden[0], images[0])
    again, _ = capstone.street_split(seed=7, count=4)
    assert torch.equal(again, hidden), "a hidden split is deterministic in its seed"


@pytest.mark.parametrize("seed, count", [(0, 8), (-0, 8), ("1", 8), (True, 8), (3, 0), (3, 2.5)])
def test_bad_hidden_splits_are_refused(seed, count):
    with pytest.raises(ValueError):
        capstone.street_split(seed=seed, count=count)


def test_scores_equal_torchmetrics_on_a_known_prediction():
    images, masks = capstone.street_split(seed=11, count=6)
    labels = masks.clone()
    labels[:, :20] = 0             # the top rows all "sky": some right, some wrong
    labels[1] = 4                  # one image all "road"
    handin = capstone.check_handin(Oracle(images, labels), seed=11, count=6)
    expected = tm_mean_iou(labels, masks, num_classes=8, per_class=True, input_format="index")  # (N, C), per image
    # dataset level: pool the pixels of all images into one "image"
    pooled = tm_mean_iou(labels.reshape(1, -1, 128), masks.reshape(1, -1, 128), num_classes=8, per_class=True, input_format="index")[0]
    present = torch.bincount(torch.cat([labels.flatten(), masks.flatten()]), minlength=8) > 0
    assert handin.split == "hidden" and handin.images == 6
    assert abs(handin.miou - float(pooled[present].mean())) < 1e-6
    for k, name in enumerate(handin.iou):
        if present[k]:
            assert abs(handin.iou[name] - float(pooled[k])) < 1e-6, name
    assert expected.shape[0] == 6  # (the per-image numbers differ; the hand-in uses the pooled one)
    assert handin.latency_ms > 0 and handin.reference_ms > 0 and handin.parameters == 1


def test_a_perfect_model_reaches_every_tier_and_the_report_says_so():
    images, masks = capstone.street_split()
    handin = capstone.check_handin(Oracle(images, masks))
    assert handin.split == "public" and handin.miou == pytest.approx(1.0)
    assert handin.tier({"bronze": 0.55, "silver": 0.65, "gold": 0.76}) == "gold"
    assert "mIoU 1.000" in handin.report()
    worse = capstone.HandIn("hidden", 128, 0.6, {"sky": 0.9, "pedestrian": 0.1, "lane_marking": float("nan")}, 2.0, 4.0, 10)
    assert worse.tier({"bronze": 0.55, "silver": 0.65}) == "bronze" and worse.latency_ratio == 0.5
    assert "needs 0.65" in worse.shortfall("silver", 0.65) and "pedestrian" in worse.shortfall("silver", 0.65)


def test_the_model_is_scored_as_handed_in_and_not_changed():
    model = build_model("fcn8s", 8, backbone="tiny").train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    capstone.check_handin(model, seed=3, count=2)
    assert model.training, "check_handin scores a copy: the learner's model keeps its mode"
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert torch.get_num_threads() >= 1


@pytest.mark.parametrize("model, message", [
    (nn.Conv2d(3, 8, 1, stride=8), "at input resolution"),
    (nn.Conv2d(3, 5, 1), r"\(1, 8, 96, 128\)"),
])
def test_wrong_outputs_are_refused_with_what_was_expected(model, message):
    with pytest.raises(ValueError, match=message):
        capstone.check_handin(model)


def test_diverged_models_and_non_models_are_refused():
    broken = nn.Conv2d(3, 8, 1)
    with torch.no_grad():
        broken.bias.fill_(float("nan"))
    with pytest.raises(ValueError, match="NaN"):
        capstone.check_handin(broken)
    with pytest.raises(TypeError, match="nn.Module"):
        capstone.check_handin(None)


def test_zoo_weights_are_refused_even_slightly_changed():
    zoo = load_model("street-deeplabv3-tiny")
    with pytest.raises(ValueError, match="zoo model 'street-deeplabv3-tiny'"):
        capstone.check_handin(zoo)
    net = zoo.model
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.01 * torch.randn_like(p))
    assert capstone.zoo_match(net) == "street-deeplabv3-tiny"
    assert capstone.zoo_match(build_model("deeplabv3", 8, backbone="tiny")) is None, "a fresh model is not a zoo model"


def test_background_work_is_found_threads_in_notebook_code_and_child_processes():
    assert capstone.background_work() == []
    stop = threading.Event()
    # code compiled under a notebook cell's file name, as IPython does for every cell
    cell = compile("def spin(stop):\n    while not stop.wait(0.01):\n        pass\n", "/tmp/ipykernel_4242/123456.py", "exec")
    scope: dict = {}
    exec(cell, scope)
    worker = threading.Thread(target=scope["spin"], args=(stop,), name="trainer")
    worker.start()
    try:
        found = capstone.background_work()
        assert any("'trainer'" in f and "123456.py" in f for f in found), found
        with pytest.raises(ValueError, match="background"):
            capstone.check_handin(nn.Conv2d(3, 8, 1))
    finally:
        stop.set()
        worker.join()
    idle = threading.Thread(target=time.sleep, args=(0.3,))   # a thread outside notebook code, torch and segkit is fine
    idle.start()
    assert capstone.background_work() == []
    idle.join()
    # a training loop started as a thread straight on a library function
    model = build_model("fcn8s", 8, backbone="tiny")
    images, masks = capstone.street_split(seed=5, count=2)
    done = threading.Event()

    def library_loop():
        from torch.utils.data import DataLoader, TensorDataset

        loader = DataLoader(TensorDataset(images, masks), batch_size=2)
        while not done.is_set():
            segkit_fit(model, loader, epochs=1, progress=False)

    from segkit.train import fit as segkit_fit
    trainer = threading.Thread(target=library_loop, name="fit")
    trainer.start()
    try:
        time.sleep(0.5)
        assert any("'fit'" in f for f in capstone.background_work())
    finally:
        done.set()
        trainer.join()
    # a child process, and a grandchild whose parent has exited
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    grandparent = subprocess.Popen([sys.executable, "-c", "import subprocess, sys, time\n"
                                    "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])\n"
                                    "print(p.pid, flush=True)\ntime.sleep(30)"], stdout=subprocess.PIPE, text=True)
    grandchild = int(grandparent.stdout.readline())
    try:
        if sys.platform.startswith("linux"):
            found = capstone.background_work()
            assert any(str(child.pid) in f for f in found) and any(str(grandchild) in f for f in found), found
    finally:
        for proc in (child, grandparent):
            proc.kill()
            proc.wait()
        os.kill(grandchild, signal.SIGKILL)
    time.sleep(0.2)
    assert capstone.background_work() == []


class StackReader(nn.Module):
    """A cheat: looks for the labels in its callers' local variables and returns them as logits."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        import traceback

        for frame, _ in traceback.walk_stack(None):
            for value in frame.f_locals.values():
                if isinstance(value, torch.Tensor) and value.dtype == torch.int64 and value.shape[-2:] == x.shape[-2:]:
                    labels = value if value.dim() == 2 else value[0]
                    return F.one_hot(labels.expand(len(x), *labels.shape[-2:]), 8).permute(0, 3, 1, 2).float() + self.weight
        return torch.zeros(len(x), 8, *x.shape[-2:]) + self.weight


def test_labels_are_out_of_reach_while_the_model_runs():
    handin = capstone.check_handin(StackReader(), seed=21, count=8)
    assert handin.miou < 0.2, f"the model found labels on the stack: mIoU {handin.miou:.3f}"


def test_float64_and_bfloat16_models_are_scored_in_their_own_dtype():
    for dtype in (torch.float64, torch.bfloat16):
        handin = capstone.check_handin(build_model("fcn8s", 8, backbone="tiny").to(dtype), seed=4, count=2)
        assert 0.0 <= handin.miou <= 1.0


# ---- graded end to end: attempts to gain tiers without a model trained in the budget -------------

EXPLOITS = {
    # a hand-made result, and no model: the hand-in must not leave it in place for the tier cells
    "forged-handin": '''
from segkit.course.kernel.capstone import HandIn
handin = public_handin = HandIn("hidden", 128, 0.99, {"sky": 0.99}, 1.0, 10.0, 1)
model = None
''',
    # training goes on in a thread after the cell returns (and would go on during the tests)
    "background-training": '''
import threading
model = build_model("fcn8s", NUM_CLASSES, backbone="tiny")
def _keep_training(seconds=20):
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        loss = F.cross_entropy(model(train_images[:4]), train_masks[:4])
        opt.zero_grad()
        loss.backward()
        opt.step()
threading.Thread(target=_keep_training, daemon=True).start()
''',
}


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.parametrize("name", sorted(EXPLOITS))
def test_capstone_exploits_earn_no_tier(name, tmp_path):
    import nbformat

    from segkit.course.config import Course
    from segkit.course.learner.submit import submit

    course = Course.find()
    unit = "12-capstone"
    notebook = nbformat.read(str(course.source_notebook(unit)), as_version=4)
    next(c for c in notebook.cells if c.get("id") == "capstone_train").source = EXPLOITS[name]
    path = tmp_path / f"{unit}.ipynb"
    nbformat.write(notebook, str(path))
    result = submit(course, unit, path, student=name, feedback_root=tmp_path / "feedback")
    points = {s.grade_id: s.points for s in result.scores}
    assert points["test_evaluate_miou"] == 3, result.table()  # the rest of the notebook is graded
    for cell in ("test_handin", "test_tier_bronze", "test_tier_silver", "test_tier_gold", "test_latency", "test_report"):
        assert points[cell] == 0, f"{name}: {cell} earned {points[cell]}\n{result.table()}"


def test_a_tier_verdict_names_the_split_and_what_follows():
    public = capstone.HandIn("public", 64, 0.70, {"sky": 0.9}, 2.0, 4.0, 10)
    hidden = capstone.HandIn("hidden", 128, 0.70, {"sky": 0.9}, 2.0, 4.0, 10)
    assert public.verdict("silver", True) == "silver: reached on the public split (64 images, mIoU 0.700)"
    assert "NOT reached on the public split" in public.verdict("gold", False)
    assert "Run All goes on" in public.verdict("gold", False)
    assert hidden.verdict("gold", False).endswith("this cell scores 0")


def test_the_tier_ladder_fails_only_when_graded_so_run_all_reaches_the_report(capsys):
    """The released tier cells: on the public split (a learner's Run All) a missed tier prints its
    verdict and the cell passes, so Run All goes on to the report; on the hidden split (the grader's
    scorer) it fails, as before."""
    import nbformat

    from segkit.course.config import Course

    course = Course.find()
    lesson = nbformat.read(str(course.release_notebook("12-capstone")), as_version=4)
    ladder = [c for c in lesson.cells if c.get("id") in ("test_tier_bronze", "test_tier_silver", "test_tier_gold",
                                                            "test_latency")]
    assert len(ladder) == 4
    low = {"miou": 0.30, "iou": {"sky": 0.9, "pedestrian": 0.0}, "latency_ms": 9.0, "reference_ms": 3.0, "parameters": 10}
    for cell in ladder:
        exec(cell.source, {"handin": capstone.HandIn("public", 64, **low)})
        assert "NOT reached on the public split" in capsys.readouterr().out, cell.id
        with pytest.raises(AssertionError):
            exec(cell.source, {"handin": capstone.HandIn("hidden", 128, **low)})
        high = {**low, "miou": 0.99, "latency_ms": 1.0}
        exec(cell.source, {"handin": capstone.HandIn("hidden", 128, **high)})
        assert "reached on the hidden split" in capsys.readouterr().out, cell.id
