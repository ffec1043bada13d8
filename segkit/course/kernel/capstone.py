"""The capstone's hand-in: check the learner's model, then score it on the public or a hidden split.

The capstone (lessons/12-capstone) asks for the best ``street`` model a learner can train in a
fixed CPU budget. Its test cells call :func:`check_handin` twice: once on the public frozen split
(what the learner sees locally) and, in the hidden tests, on a split drawn with a seed that only
the hidden tests know. The result, a :class:`HandIn`, is what the tier cells compare with their
thresholds.

What is checked before scoring (each failure raises ``ValueError`` with what to change):

- the model is an ``nn.Module`` mapping ``(N, 3, 96, 128)`` float images in [0, 1] to finite
  ``(N, 8, 96, 128)`` logits;
- no learner code is still running beside the test (a thread executing notebook code, or a child
  process of the kernel): work in the background would go on training after the budget;
- its weights are not segkit's zoo models (the capstone is trained from scratch in the budget).

Scoring runs on a deep copy in eval mode, so nothing done to ``model`` afterwards changes it.
Images are scored one at a time, and those same passes are timed: latency is their median, for
one 96x128 image on one CPU thread (or the model's GPU), given relative to a reference model timed
in the same call, so the ceiling means the same on a fast
laptop and a busy grader. The budget itself is enforced by the grader, not here: see the
``budget-NNN`` tag in :mod:`segkit.course.grading`.

Built for lessons/12-capstone.
"""
from __future__ import annotations

import copy
import json
import math
import os
import re
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from segkit import metrics

DATASET = "street"
IMAGE_SIZE = (96, 128)  # the frozen split's size, and the hidden split's
NUM_CLASSES = 8
PUBLIC_SEED = 0  # the frozen split is split "test" drawn with seed 0: never a hidden seed
REFERENCE_MODEL = {"name": "unet", "base_channels": 16, "depth": 3}  # the latency yardstick
ZOO_SIMILARITY = 0.9  # |cosine| above which a weight tensor counts as a zoo tensor
_WORK_PACKAGES = (f"{os.sep}torch{os.sep}", f"{os.sep}segkit{os.sep}")  # a thread in these is doing the work
_CELL_FILE = re.compile(r"(ipykernel_\d+[/\\]\d+\.py$)|(^<ipython-input-)|(^<cell line)")


@dataclass(frozen=True)
class HandIn:
    """Scores of a handed-in model on one split.

    Attributes:
        split: ``"public"`` (the frozen split everyone can see) or ``"hidden"``.
        images: number of images scored.
        miou: dataset-level mean IoU over the classes present (one confusion matrix for the split).
        iou: class name -> IoU (NaN for a class absent from both truth and prediction).
        latency_ms: median milliseconds for one image.
        reference_ms: the same for the reference model (``REFERENCE_MODEL``), timed in the same call.
        parameters: number of parameters of the model.
    """

    split: str
    images: int
    miou: float
    iou: dict[str, float]
    latency_ms: float
    reference_ms: float
    parameters: int

    @property
    def latency_ratio(self) -> float:
        """``latency_ms / reference_ms``: below 1 the model is faster than the reference."""
        return self.latency_ms / self.reference_ms

    def tier(self, thresholds: dict[str, float]) -> str | None:
        """The highest tier whose mIoU threshold is reached (``thresholds``: name -> mIoU, ascending)."""
        reached = [name for name, value in thresholds.items() if self.miou >= value]
        return reached[-1] if reached else None

    def shortfall(self, name: str, threshold: float) -> str:
        """A message for a tier test: what was measured and what the tier needs."""
        worst = min((v, k) for k, v in self.iou.items() if not math.isnan(v))
        return (f"mIoU on the {self.split} split ({self.images} images) is {self.miou:.3f}; tier {name!r} needs "
                f"{threshold:.2f}. Weakest class: {worst[1]} (IoU {worst[0]:.2f})")

    def report(self) -> str:
        """A few lines for the notebook: mIoU, per-class IoU, latency."""
        per_class = "  ".join(f"{k} {v:.2f}" for k, v in self.iou.items())
        return (f"{self.split} split, {self.images} images: mIoU {self.miou:.3f}\n  {per_class}\n"
                f"latency {self.latency_ms:.1f} ms per image = {self.latency_ratio:.2f} x the reference "
                f"U-Net ({self.reference_ms:.1f} ms); {self.parameters / 1e3:.0f}k parameters")


def street_split(seed: int | None = None, count: int = 128) -> tuple[Tensor, Tensor]:
    """Images ``(N, 3, 96, 128)`` float32 in [0, 1] and masks ``(N, 96, 128)`` int64.

    ``seed=None`` gives the public frozen split (64 images, ``count`` is ignored); any other seed
    gives ``count`` fresh ``street`` test images drawn with it, as the hidden tests do.

    Raises:
        ValueError: ``seed`` is the public split's seed, or ``count`` is not a positive int.
    """
    from segkit.data import load_dataset, load_frozen_split

    if seed is None:
        split = load_frozen_split(DATASET)
    else:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed == PUBLIC_SEED:
            raise ValueError(f"a hidden split needs an int seed other than the public split's {PUBLIC_SEED}, got {seed!r}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"count must be a positive int, got {count!r}")
        split = load_dataset(DATASET, split="test", num_samples=count, image_size=IMAGE_SIZE, seed=seed)
    pairs = [split[i] for i in range(len(split))]
    return torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])


def background_work() -> list[str]:
    """What is working beside the caller on the learner's behalf: threads inside notebook code or
    inside torch / segkit (a training loop started as ``threading.Thread(target=segkit.train.fit)``),
    and live descendants of this process (Linux). An empty list means none."""
    found = []
    me = threading.get_ident()
    names = {t.ident: t.name for t in threading.enumerate()}
    for ident, frame in sys._current_frames().items():
        if ident == me:
            continue
        while frame is not None:
            filename = frame.f_code.co_filename
            if _CELL_FILE.search(filename) or any(part in filename for part in _WORK_PACKAGES):
                found.append(f"thread {names.get(ident, ident)!r} is running {frame.f_code.co_name} ({Path(filename).name})")
                break
            frame = frame.f_back
    for pid, name in _live_descendants(os.getpid()):
        found.append(f"process {pid} ({name}) is still running")
    return found


def _live_descendants(root: int) -> list[tuple[int, str]]:
    """``(pid, name)`` of the running descendants of ``root`` (psutil ships with ipykernel)."""
    try:
        import psutil

        children = psutil.Process(root).children(recursive=True)
    except Exception:  # noqa: BLE001 - no psutil, or the process is gone: nothing to report
        return []
    found = []
    for child in children:
        try:
            if child.status() not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
                found.append((child.pid, child.name()))
        except psutil.Error:
            continue
    return found


def zoo_match(model: nn.Module) -> str | None:
    """The name of the zoo model most of whose weights ``model`` carries (|cosine| >= 0.9 between
    same-shaped tensors, weighted by size), or None."""
    from segkit.zoo import ZOO_DIR, build_zoo_model, read_manifest

    mine: dict[tuple[int, ...], list[Tensor]] = {}
    for t in model.state_dict().values():
        if t.is_floating_point() and t.numel() >= 64:
            mine.setdefault(tuple(t.shape), []).append(t.detach().flatten().float().cpu())
    for name, entry in read_manifest().items():
        zoo = build_zoo_model(entry, ZOO_DIR / entry["file"]).state_dict().values()
        total = matched = 0
        for t in zoo:
            if not t.is_floating_point() or t.numel() < 64:
                continue
            total += t.numel()
            ref = t.flatten().float()
            if any(abs(torch.nn.functional.cosine_similarity(ref, m, dim=0)) >= ZOO_SIMILARITY for m in mine.get(tuple(t.shape), [])):
                matched += t.numel()
        if total and matched / total >= 0.5:
            return name
    return None


def check_handin(model: nn.Module, *, seed: int | None = None, count: int = 128, threads: int = 1) -> HandIn:
    """Check the rules (see the module docstring), then score a copy of ``model``.

    Args:
        model: the learner's model (CPU or GPU); it is not changed.
        seed: ``None`` scores the public frozen split; an int, a hidden split drawn with it.
        count: images in a hidden split.
        threads: CPU threads while scoring and timing (restored afterwards).

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        ValueError: a rule is broken; the message says which and what to change.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"hand in an nn.Module (your trained network), got {type(model).__name__}")
    busy = background_work()
    if busy:
        raise ValueError("stop all background work before the hand-in (it would keep training after the budget): "
                         + "; ".join(busy))
    source = zoo_match(model)
    if source is not None:
        raise ValueError(f"the model's weights are those of segkit's zoo model {source!r}: the capstone model is "
                         "trained from scratch inside the budget (no pretrained or zoo weights)")
    return _score(copy.deepcopy(model).eval(), seed, count, threads)


def _score(snapshot: nn.Module, seed: int | None, count: int, threads: int) -> HandIn:
    """Score ``snapshot`` (a copy in eval mode) on the public split or the hidden split of ``seed``."""
    param = next(snapshot.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        # The labels do not exist while the model runs (a model could search the call stack for
        # them): predict every image first, then draw the split again for its masks.
        images = street_split(seed, count)[0]
        preds, times = _predict_one_by_one(snapshot, images, device, dtype)
        reference = _reference_model().to(device).eval()
        if isinstance(snapshot, torch.fx.GraphModule):  # an exported hand-in: time an exported reference
            reference = torch.export.export(reference, (images[:1].to(device),)).module()
        with torch.inference_mode():
            reference_ms = _latency(reference, images[:16].to(device))
    finally:
        torch.set_num_threads(previous)
    masks = street_split(seed, count)[1]
    cm = metrics.confusion_matrix(preds, masks, NUM_CLASSES)  # (C, C), the whole split
    from segkit.data.street import CLASSES

    iou = metrics.iou_per_class(cm)
    return HandIn(
        split="public" if seed is None else "hidden",
        images=len(images),
        miou=float(metrics.mean_iou(cm)),
        iou={name: float(v) for name, v in zip(CLASSES, iou)},
        latency_ms=statistics.median(times) * 1000,
        reference_ms=reference_ms,
        parameters=sum(p.numel() for p in snapshot.parameters()),
    )


# ---- the hand-in outside the learner's interpreter ------------------------------------------------

HANDIN_FILE = "handin.segkit"  # what hand_in writes and the grader's scorer reads (grading/budget.py)
MAX_HANDIN_BYTES = 256 * 2**20
_MEMBERS = ("program.json", "state_dict.pt", "constants.pt", "example_inputs.pt")
_ALLOWED_TARGET = re.compile(r"^(torch\.ops\.aten\.[A-Za-z0-9_]+\.[A-Za-z0-9_]+|_operator\.getitem)$")


def hand_in(model: nn.Module, path: str | os.PathLike = HANDIN_FILE, *, threads: int = 1) -> HandIn:
    """Hand ``model`` in: check the rules and score it on the public split (:func:`check_handin`),
    then export it with ``torch.export`` to ``path``, the file the grader scores on the hidden split
    in a separate process (:func:`score_handin`), where none of your Python code runs: only the
    exported graph of PyTorch operators and its weights. Returns the public split's scores.

    Raises:
        TypeError, ValueError: as :func:`check_handin`, or the model cannot be exported (e.g. its
            ``forward`` branches on the values of its input); the message says what failed.
    """
    public = check_handin(model, threads=threads)
    snapshot = copy.deepcopy(model).eval().cpu()
    param = next(snapshot.parameters(), None)
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    example = torch.zeros(1, 3, *IMAGE_SIZE, dtype=dtype)
    try:
        with torch.no_grad():
            program = torch.export.export(snapshot, (example,))
    except Exception as err:  # noqa: BLE001 - whatever export says, the learner needs to read it
        raise ValueError(f"the model could not be exported with torch.export ({type(err).__name__}: "
                         f"{str(err).splitlines()[0] if str(err) else ''}); the grader scores the exported "
                         "graph, so forward() must not depend on the values in its input") from None
    save_exported(program, path)
    return public


def save_exported(program: "torch.export.ExportedProgram", path: str | os.PathLike) -> Path:
    """Write ``program`` as the course's hand-in file: a zip of the serialized graph (JSON) and
    its tensors (``torch.save``), which :func:`load_exported` reads without unpickling code."""
    import zipfile

    from torch._export.serde.serialize import serialize

    artifact = serialize(program)
    path = Path(path)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in zip(_MEMBERS, (artifact.exported_program, artifact.state_dict, artifact.constants,
                                         artifact.example_inputs)):
            archive.writestr(name, data)
    return path


def load_exported(path: str | os.PathLike) -> nn.Module:
    """The hand-in file at ``path`` as a runnable module, refusing anything but plain PyTorch.

    ``torch.export.load`` is not used: on a crafted file it falls back to unpickling arbitrary
    objects. Here the graph must call only ATen operators (``torch.ops.aten.*``) and
    ``operator.getitem``, with static shapes and no guard code or sub-graphs, and every tensor is
    read with ``torch.load(weights_only=True)``.

    Raises:
        ValueError: the file is missing, too large, malformed, or calls something else.
    """
    import io
    import json
    import zipfile

    from torch._export.serde import serialize as serde

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no hand-in at {path}: run the hand-in cell (hand_in(model)) first")
    if path.stat().st_size > MAX_HANDIN_BYTES:
        raise ValueError(f"the hand-in is {path.stat().st_size / 2**20:.0f} MB; at most {MAX_HANDIN_BYTES // 2**20} MB")
    try:
        with zipfile.ZipFile(path) as archive:
            if sorted(archive.namelist()) != sorted(_MEMBERS):
                raise ValueError(f"a hand-in holds exactly {', '.join(_MEMBERS)}")
            if sum(info.file_size for info in archive.infolist()) > 4 * MAX_HANDIN_BYTES:
                raise ValueError("the hand-in unpacks to too much data")
            data = {name: archive.read(name) for name in _MEMBERS}
        program = json.loads(data["program.json"])
    except (zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"the hand-in file is not one hand_in() wrote: {err}") from None
    _check_program(program)

    def strict(serialized):  # tensors only: never unpickle objects from a hand-in
        if isinstance(serialized, (dict, tuple)):
            return serialized
        return {} if len(serialized) == 0 else torch.load(io.BytesIO(serialized), weights_only=True)

    original = serde.deserialize_torch_artifact
    serde.deserialize_torch_artifact = strict
    try:
        artifact = serde.SerializedArtifact(data["program.json"], data["state_dict.pt"], data["constants.pt"],
                                            data["example_inputs.pt"])
        exported = serde.deserialize(artifact)
    except Exception as err:  # noqa: BLE001 - a malformed hand-in is refused, whatever broke
        raise ValueError(f"the hand-in could not be read: {type(err).__name__}: {err}") from None
    finally:
        serde.deserialize_torch_artifact = original
    return exported.module()


def _check_program(program: dict) -> None:
    """Refuse a serialized program that could run anything but ATen operators on static shapes."""
    if not isinstance(program, dict) or not isinstance(program.get("graph_module"), dict):
        raise ValueError("the hand-in's program has no graph")
    if program.get("guards_code") or program.get("range_constraints"):
        raise ValueError("the hand-in has guard code or symbolic shapes: export it with hand_in()")
    graph = program["graph_module"].get("graph", {})
    if any(graph.get(key) for key in ("sym_int_values", "sym_bool_values", "sym_float_values")):
        raise ValueError("the hand-in has symbolic shapes: export it with hand_in()")
    text = json.dumps(graph)
    if '"as_graph"' in text:
        raise ValueError("the hand-in's graph has sub-graphs (control flow): not allowed")
    for node in graph.get("nodes", []):
        target = str(node.get("target", ""))
        if not _ALLOWED_TARGET.match(target):
            raise ValueError(f"the hand-in's graph calls {target[:80]!r}: only PyTorch (ATen) operators are allowed")


def score_handin(path: str | os.PathLike = HANDIN_FILE, *, seed: int, count: int = 128, threads: int = 1) -> HandIn:
    """Score the exported hand-in at ``path`` on the hidden split drawn with ``seed``.

    Run by the grader in a fresh process of its own that executes no learner code: the graph is
    loaded by :func:`load_exported`, and the seed exists only in that process. Refuses zoo weights,
    as :func:`check_handin` does.
    """
    module = load_exported(path)
    source = zoo_match(module)
    if source is not None:
        raise ValueError(f"the model's weights are those of segkit's zoo model {source!r}: the capstone model is "
                         "trained from scratch inside the budget (no pretrained or zoo weights)")
    return _score(module, seed, count, threads)


def _predict_one_by_one(model: nn.Module, images: Tensor, device: torch.device, dtype: torch.dtype) -> tuple[Tensor, list[float]]:
    """Labels ``(N, H, W)`` of each image, predicted one at a time, and each pass's seconds (the
    passes that are scored are the passes that are timed). Checks the interface on the way."""
    expected = (1, NUM_CLASSES, *IMAGE_SIZE)
    preds, times = [], []
    with torch.inference_mode():
        for image in images:
            x = image[None].to(device=device, dtype=dtype)  # (1, 3, 96, 128), in the model's own dtype
            start = _synced_clock(device)
            logits = model(x)
            times.append(_synced_clock(device) - start)
            if not isinstance(logits, Tensor) or tuple(logits.shape) != expected or not logits.is_floating_point():
                got = tuple(logits.shape) if isinstance(logits, Tensor) else type(logits).__name__
                raise ValueError(f"the model should map an image (1, 3, 96, 128) to float logits {expected} "
                                 f"(one score per class and pixel, at input resolution), got {got}")
            if not torch.isfinite(logits).all():
                raise ValueError("the model's logits contain NaN or inf: training diverged (try a smaller learning rate)")
            preds.append(logits.float().argmax(1).cpu()[0])  # (H, W)
    return torch.stack(preds), times


def _reference_model() -> nn.Module:
    from segkit.models import build_model

    config = dict(REFERENCE_MODEL)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return build_model(config.pop("name"), NUM_CLASSES, **config)


def _synced_clock(device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


def _latency(model: nn.Module, images: Tensor) -> float:
    """Median milliseconds of ``model`` on each of ``images`` ``(N, 3, H, W)``, one at a time, as
    the handed-in model is timed."""
    times = []
    for image in images:
        start = _synced_clock(image.device)
        model(image[None])
        times.append((_synced_clock(image.device) - start) * 1000)
    return statistics.median(times)
