"""The model zoo: every shipped model matches its manifest (sha256, recipe) and its recorded mIoU.

Each zoo model is re-evaluated on its dataset's frozen split and must reproduce the mIoU written
into ``segkit/zoo/manifest.json`` when ``python -m segkit.train --export`` made it.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader
from torchmetrics.classification import MulticlassJaccardIndex

import segkit
from segkit.assets import sha256
from segkit.data import load_frozen_split
from segkit.inference import Predictor, Segmenter
from segkit.pretrained import PRETRAINED
from segkit.zoo import ZOO_DIR, zoo_entry

MANIFEST = json.loads((ZOO_DIR / "manifest.json").read_text())
NAMES = sorted(MANIFEST)


def test_the_zoo_covers_street_shapes_and_cells():
    assert segkit.list_models() == sorted(NAMES + list(PRETRAINED)), "every name load_model accepts"
    assert {MANIFEST[name]["dataset"] for name in NAMES} >= {"street", "shapes", "cells"}
    total = sum((ZOO_DIR / MANIFEST[name]["file"]).stat().st_size for name in NAMES)
    assert total < 8 * 2**20, f"the zoo weighs {total / 2**20:.1f} MiB; keep it to a few MB"


@pytest.mark.parametrize("name", NAMES)
def test_manifest_records_the_file_hash_and_the_cli_recipe(name):
    entry = MANIFEST[name]
    assert sha256(ZOO_DIR / entry["file"]) == entry["sha256"]
    assert entry["recipe"].startswith("python -m segkit.train ")
    assert f"--dataset {entry['dataset']}" in entry["recipe"] and f"--export segkit/zoo/{name}.pt" in entry["recipe"]
    assert entry["train_time_s"] > 0


@pytest.mark.parametrize("name", NAMES)
def test_zoo_model_reproduces_its_frozen_split_miou(name):
    entry = MANIFEST[name]
    model = segkit.load_model(name)
    split = load_frozen_split(entry["dataset"])
    jaccard = MulticlassJaccardIndex(model.num_classes, average="macro")
    for images, masks in DataLoader(split, batch_size=16):
        jaccard.update(model.predict(images), masks)
    miou = jaccard.compute().item()
    assert miou == pytest.approx(entry["frozen_miou"], abs=2e-3)
    # clearly better than the trivial baseline that labels every pixel with the most common class
    masks = torch.stack([m for _, m in split])
    majority = torch.full_like(masks, int(masks.flatten().bincount().argmax()))
    trivial = MulticlassJaccardIndex(model.num_classes, average="macro")(majority, masks).item()
    assert miou > trivial + 0.2, f"{name}: mIoU {miou:.3f} vs trivial {trivial:.3f}"


def test_two_line_demo_on_a_street_scene():
    name = next(n for n in NAMES if n.startswith("street-"))
    model = segkit.load_model(name)
    image = (load_frozen_split("street")[0][0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    labels = model.predict(image)
    assert labels.shape == image.shape[:2] and labels.dtype == torch.int64
    assert 0 <= int(labels.min()) and int(labels.max()) < len(model.classes)
    assert model.classes[0] == "sky" and model.palette.shape == (len(model.classes), 3)
    assert not model.training
    assert isinstance(model, Segmenter) and isinstance(model, Predictor)


def test_unknown_model_names_list_the_valid_ones():
    with pytest.raises(ValueError, match=NAMES[0]) as raised:
        segkit.load_model("imagenet-resnet152")
    assert "mediapipe-selfie" in str(raised.value)
    with pytest.raises(ValueError, match="unknown model"):
        zoo_entry("nope")


def test_corrupted_weights_are_refused(tmp_path, monkeypatch):
    import segkit.zoo as zoo

    name = NAMES[0]
    bad = tmp_path / MANIFEST[name]["file"]
    bad.write_bytes((ZOO_DIR / MANIFEST[name]["file"]).read_bytes()[:-10] + b"0" * 10)
    (tmp_path / "manifest.json").write_text(json.dumps(MANIFEST))
    monkeypatch.setattr(zoo, "ZOO_DIR", tmp_path)
    with pytest.raises(ValueError, match="SHA-256"):
        segkit.load_model(name)


def test_export_writes_weights_and_a_record_that_load_model_reads_back(tmp_path, monkeypatch):
    import segkit.zoo as zoo
    from segkit.models import build_model
    from segkit.train.export import evaluate_frozen, export_to_zoo

    torch.manual_seed(0)
    model = build_model("fcn32s", 4)
    entry = export_to_zoo(model, tmp_path / "shapes-test.pt", dataset="shapes", architecture="fcn32s",
                          classes=["background", "circle", "square", "triangle"], recipe="a test", train_time_s=1.0)
    monkeypatch.setattr(zoo, "ZOO_DIR", tmp_path)
    loaded = segkit.load_model("shapes-test")
    assert entry["sha256"] == sha256(tmp_path / "shapes-test.pt") and loaded.classes[1] == "circle"
    assert float(evaluate_frozen(loaded, "shapes")["mean_iou"]) == pytest.approx(entry["frozen_miou"], abs=1e-6)


def test_the_names_lessons_imported_from_segkit_inference_still_resolve():
    # work/ copies of lessons made before the zoo moved import load_model from segkit.inference
    import segkit.inference
    import segkit.zoo

    for name in ("load_model", "list_models", "ZOO_DIR", "read_manifest", "build_zoo_model"):
        assert getattr(segkit.inference, name) is getattr(segkit.zoo, name)
    with pytest.raises(AttributeError, match="zoo_entry"):
        segkit.inference.zoo_entry  # noqa: B018 - only the names old code used are forwarded
