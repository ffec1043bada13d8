"""Real pretrained networks made by others, behind the zoo's interface (``segkit.load_model(name)``).

    mediapipe-selfie   Google's MediaPipe selfie segmentation (general 256x256 model, Apache-2.0),
                       run with ai-edge-litert (the TensorFlow Lite runtime on PyPI); classes
                       background / person.

The ``.tflite`` file comes from the ``mediapipe==0.10.21`` wheel, fetched by :mod:`segkit.assets`
(``python -m segkit.data.samples fetch``); the runtime is ``pip install ai-edge-litert`` (in the
course's requirements.txt, and ``segkit[real]``). Card: datasets/mediapipe_selfie.md.
Used in lessons/11-pretrained-and-deployment.
"""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from segkit.assets import require
from segkit.inference import to_batch

PRETRAINED = ("mediapipe-selfie",)  # the names segkit.load_model hands to load_pretrained
PERSON_CLASSES = ("background", "person")
PERSON_PALETTE = np.array([[0, 0, 0], [255, 105, 180]], dtype=np.uint8)


@contextlib.contextmanager
def _quiet_runtime_info() -> Iterator[None]:
    """Drop the runtime's C-level "INFO: Created TensorFlow Lite XNNPACK delegate" line from fd 2
    (a notebook shows it as stderr, which fails a graded test cell); other output is passed on."""
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 (some embedded interpreters)
        yield
        return
    with tempfile.TemporaryFile(mode="w+b") as captured:
        sys.stderr.flush()
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode(errors="replace").splitlines(keepends=True)
            rest = "".join(line for line in lines if not line.startswith("INFO: Created TensorFlow Lite"))
            if rest:
                sys.stderr.write(rest)


class SelfieSegmenter:
    """MediaPipe's selfie (person) segmentation network; a :class:`segkit.inference.Predictor`.

    The network takes a 1x256x256x3 float RGB image in [0, 1] and returns a 1x256x256x1 person
    probability. Any image is stretched to 256x256 (bilinear, aspect ratio not kept, like
    MediaPipe's selfie graph), and the probability is resized back to the image's size.

    Args:
        model_path: the ``.tflite`` file (default: the fetched one in the samples cache).
        threshold: probability above which a pixel is labelled person.
        num_threads: CPU threads for the interpreter.
    """

    input_size = (256, 256)

    def __init__(self, model_path: str | os.PathLike | None = None, threshold: float = 0.5, num_threads: int = 1) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as err:
            raise ImportError(
                "mediapipe-selfie runs with the TensorFlow Lite runtime: pip install ai-edge-litert "
                "(it is in the course's requirements.txt; `pip install segkit[real]` elsewhere)"
            ) from err
        if model_path is None:
            model_path = require("mediapipe_selfie")["selfie_segmentation.tflite"]
        self.name = "mediapipe-selfie"
        self.classes = PERSON_CLASSES
        self.palette = PERSON_PALETTE.copy()
        self.threshold = threshold
        self.model_path = str(model_path)
        self.interpreter = Interpreter(model_path=self.model_path, num_threads=num_threads)
        with _quiet_runtime_info():
            self.interpreter.allocate_tensors()
        self._input = self.interpreter.get_input_details()[0]["index"]
        self._output = self.interpreter.get_output_details()[0]["index"]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def run_raw(self, tensor: np.ndarray) -> np.ndarray:
        """The interpreter itself: float32 ``(1, 256, 256, 3)`` in [0, 1] -> float32 ``(1, 256, 256, 1)``."""
        self.interpreter.set_tensor(self._input, np.ascontiguousarray(tensor, dtype=np.float32))
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self._output).copy()

    def predict_proba(self, image: Any) -> torch.Tensor:
        """Person probability, float32 ``(H, W)`` in [0, 1] (``(N, H, W)`` for a batch).

        ``image`` is a PIL image, a numpy ``(H, W, 3)`` uint8 array or a float tensor
        ``(3, H, W)`` / ``(N, 3, H, W)`` in [0, 1].
        """
        batch, batched = to_batch(image)  # (N, 3, H, W) in [0, 1]
        height, width = batch.shape[-2:]
        small = F.interpolate(batch, size=self.input_size, mode="bilinear", align_corners=False)
        probs = []
        for one in small.clamp(0, 1).permute(0, 2, 3, 1).numpy():  # (256, 256, 3)
            probs.append(torch.from_numpy(self.run_raw(one[None]))[0, :, :, 0])  # (256, 256)
        prob = torch.stack(probs)[:, None]  # (N, 1, 256, 256)
        prob = F.interpolate(prob, size=(height, width), mode="bilinear", align_corners=False)[:, 0].clamp(0, 1)
        return prob if batched else prob[0]

    def predict(self, image: Any) -> torch.Tensor:
        """Labels int64 ``(H, W)`` (``(N, H, W)`` for a batch): 1 person where the probability > threshold."""
        return (self.predict_proba(image) > self.threshold).long()

    def __repr__(self) -> str:
        return f"SelfieSegmenter(model_path={self.model_path!r}, threshold={self.threshold})"


def load_pretrained(name: str, **kwargs: Any) -> SelfieSegmenter:
    """A real pretrained network by name (one of ``PRETRAINED``)."""
    if name != "mediapipe-selfie":
        raise ValueError(f"unknown pretrained network {name!r}; choose one of {PRETRAINED}")
    return SelfieSegmenter(**kwargs)
