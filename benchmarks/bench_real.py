"""The course's first numbers on real images (segkit.data.samples; run the fetch first).

1. The zoo's ``cells-unet-small`` (trained only on segkit's procedural nuclei, 96x96) on the real
   DSB 2018 nuclei image (512x512): nucleus Dice and IoU, and instance scores (PQ, F1 and AP50 at
   IoU 0.5) after splitting the predicted mask into connected components.
2. MediaPipe's selfie (person) network on the Pascal VOC photo: person IoU against the union of
   the VOC person masks, and how many of the 7 people it finds.

Nothing is tuned: the models, thresholds (argmax, probability 0.5) and connectivity (4) are the
defaults, and the images are used as the loaders give them.

Usage::

    python -m segkit.data.samples fetch
    python benchmarks/bench_real.py            # markdown on stdout
    python benchmarks/bench_real.py --write    # also update the "Real data" section of benchmarks/README.md
"""
from __future__ import annotations

import argparse
import datetime
import platform
import re
import time
from pathlib import Path

import torch

import segkit
from segkit import instances, metrics
from segkit.data import samples

README = Path(__file__).resolve().parent / "README.md"
BEGIN, END = "<!-- bench_real:begin -->", "<!-- bench_real:end -->"


def binary_scores(pred: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """Foreground (class 1) IoU and Dice, and pixel accuracy, of two ``(H, W)`` 0/1 maps."""
    cm = metrics.confusion_matrix(pred, target, 2)
    return {"iou": float(metrics.iou_per_class(cm)[1]), "dice": float(metrics.dice_per_class(cm)[1]),
            "pixel_accuracy": metrics.pixel_accuracy(cm)}


def nuclei_scores(oracle: bool = False) -> dict[str, float]:
    """The zoo U-Net's scores on the real nuclei; ``oracle=True`` scores the true semantic mask
    itself, which shows what connected components alone lose where nuclei touch."""
    sample = samples.dsb_nuclei()
    model = segkit.load_model("cells-unet-small")
    start = time.process_time()
    pred = sample.semantic if oracle else model.predict(sample.image)  # (512, 512) 0/1
    seconds = time.process_time() - start
    scores = binary_scores(pred, sample.semantic)
    pred_inst, count = instances.connected_components(pred, connectivity=4)
    pq = instances.panoptic_quality(pred, pred_inst, sample.semantic, sample.instances, num_classes=2)
    nucleus = 1
    inst = instances.instance_scores(pred_inst, sample.instances, iou_threshold=0.5)
    scores.update(
        pq=float(pq["pq_per_class"][nucleus]), sq=float(pq["sq_per_class"][nucleus]), rq=float(pq["rq_per_class"][nucleus]),
        tp=int(pq["tp"][nucleus]), fp=int(pq["fp"][nucleus]), fn=int(pq["fn"][nucleus]),
        f1=inst["f1"], ap50=inst["ap50"], predicted_instances=count, true_instances=sample.num_instances,
        cpu_s=seconds,
    )
    return scores


def person_scores() -> dict[str, float]:
    sample = samples.voc_photo()
    model = segkit.load_model("mediapipe-selfie")
    person = sample.classes.index("person")
    start = time.process_time()
    pred = model.predict(sample.image)  # (375, 500) 0/1
    seconds = time.process_time() - start
    scores = binary_scores(pred, (sample.semantic == person).long())
    people = [i for i, c in sample.instance_classes.items() if c == person]
    covered = [float(pred[sample.instances == i].float().mean()) for i in people]
    scores.update(people=len(people), found=sum(c >= 0.5 for c in covered),
                  covered=covered, cpu_s=seconds)
    return scores


def _nuclei_row(label: str, n: dict) -> str:
    return (f"| {label} | DSB 2018 nuclei 512×512 (`dsb_nuclei`) "
            f"| {n['dice']:.3f} | {n['iou']:.3f} | {n['pixel_accuracy']:.3f} "
            f"| PQ {n['pq']:.3f} (SQ {n['sq']:.3f}, RQ {n['rq']:.3f}); TP {n['tp']}, FP {n['fp']}, FN {n['fn']}; "
            f"F1 {n['f1']:.3f}, AP50 {n['ap50']:.3f}; {n['predicted_instances']} components vs {n['true_instances']} nuclei |")


def report(nuclei: dict, oracle: dict, person: dict) -> str:
    covered = ", ".join(f"{c:.2f}" for c in sorted(person["covered"], reverse=True))
    return "\n".join([
        "| model | real image | Dice | IoU | pixel acc. | instances |",
        "|---|---|---:|---:|---:|---|",
        _nuclei_row("`cells-unet-small` (zoo, trained on procedural nuclei)", nuclei),
        _nuclei_row("reference: the true semantic mask itself, split the same way", oracle),
        f"| `mediapipe-selfie` (MediaPipe, pretrained on selfies) | Pascal VOC photo 375×500, person vs rest (`voc_photo`) "
        f"| {person['dice']:.3f} | {person['iou']:.3f} | {person['pixel_accuracy']:.3f} "
        f"| {person['found']} of {person['people']} people at least half covered (fraction of each person "
        f"labelled person: {covered}) |",
        "",
        "The reference row is no model: touching nuclei merge into one connected component, so even a perfect "
        "semantic mask caps the instance scores of this recipe.",
        "",
        f"Prediction CPU time: {nuclei['cpu_s']:.2f} s (U-Net, 512×512), {person['cpu_s']:.2f} s (selfie, 375×500).",
    ])


def write_section(text: str) -> None:
    """Replace (or append) this script's section of benchmarks/README.md."""
    section = f"{BEGIN}\n{text}\n{END}"
    current = README.read_text()
    pattern = re.escape(BEGIN) + r".*?" + re.escape(END)
    current = re.sub(pattern, lambda _: section, current, flags=re.S) if BEGIN in current else f"{current.rstrip()}\n\n{section}\n"
    README.write_text(current)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="update the real-data section of benchmarks/README.md")
    args = parser.parse_args()
    torch.set_num_threads(1)
    table = report(nuclei_scores(), nuclei_scores(oracle=True), person_scores())
    print(table)
    if args.write:
        machine = f"{platform.machine()}, torch {torch.__version__}, one thread"
        write_section(
            "## Real data: first numbers on real images\n\n"
            f"`python benchmarks/bench_real.py --write` ({datetime.date.today()}, {machine}). The zoo's nuclei "
            "U-Net never saw a real image; the selfie network was trained by Google on selfies and video calls, "
            "not on group photos. Defaults only, nothing tuned to these images: argmax / probability > 0.5, "
            "4-connected components, PQ with IoU > 0.5 matching (segkit.instances). Cards: "
            "[dsb_nuclei](../datasets/dsb_nuclei.md), [voc_photo](../datasets/voc_photo.md), "
            "[mediapipe_selfie](../datasets/mediapipe_selfie.md).\n\n" + table
        )


if __name__ == "__main__":
    main()
