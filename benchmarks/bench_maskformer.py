"""One mask-classification model against unit 08's post-processing, two seeds (lessons/14-masks-as-queries).

Repeats section 8 of the unit: a small MaskFormer (the zoo's nuclei U-Net as pixel decoder, 49
queries) and unit 08's boundary class (the same U-Net fine-tuned to background / interior /
boundary) are trained with the same budget (160 steps of 4 images, AdamW at 3e-3 with a poly
schedule, the same 160 procedural nuclei images); watershed splits the zoo U-Net's semantic
prediction without training. Each is scored three ways, as the notebook does: mIoU of the
semantic map, F1 and AP50 of the instances at IoU > 0.5, PQ of the nucleus class, on the 24
validation images of the procedural nuclei and on the real DSB 2018 image (shrunk by 2; the
MaskFormer sees it in 96 x 96 windows every 80 pixels). A last row trains the MaskFormer four
times longer, to show where its curve goes.

Usage::

    python benchmarks/bench_maskformer.py            # markdown on stdout (about 10 CPU minutes)
    python benchmarks/bench_maskformer.py --write    # also update its section of benchmarks/README.md
"""
from __future__ import annotations

import argparse
import datetime
import platform
import re
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import segkit
from segkit import instances, losses
from segkit.data import load_dataset, samples
from segkit.metrics import SegmentationMetrics
from segkit.models import MaskFormer
from segkit.models import maskformer as mf
from segkit.train import fit

README = Path(__file__).resolve().parent / "README.md"
BEGIN, END = "<!-- bench_maskformer:begin -->", "<!-- bench_maskformer:end -->"
STEPS, BATCH, LR = 160, 4, 3e-3  # the notebook's budget
SCORE_THRESHOLD, OVERLAP_THRESHOLD = 0.5, 0.5
SEEDS = (0, 1)


def nuclei_maskformer(seed: int) -> MaskFormer:
    segkit.seed_everything(seed)
    unet = segkit.load_model("cells-unet-small").model
    unet.outc = nn.Conv2d(unet.outc.in_channels, 32, kernel_size=1)  # 2 class scores -> 32-d embedding
    unet.num_classes = 32
    return MaskFormer(2, num_queries=49, pixel_decoder=unet, embed_dim=32, position_channels=8)


def train_maskformer(model: MaskFormer, images: torch.Tensor, targets: list, steps: int, seed: int) -> float:
    """The notebook's loop; returns the CPU seconds it took."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: (1 - step / steps) ** 0.9)
    order = torch.Generator().manual_seed(seed)
    start = time.process_time()
    model.train()
    for _ in range(steps):
        batch = torch.randint(0, len(images), (BATCH,), generator=order)
        out = model.forward_sets(images[batch])
        loss = losses.set_prediction_loss(out.class_logits, out.mask_logits, [targets[int(i)] for i in batch])["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    model.eval()
    return time.process_time() - start


def train_boundary(images: torch.Tensor, boundary_targets: torch.Tensor, seed: int) -> tuple[nn.Module, float]:
    """Unit 08's boundary class: the zoo U-Net with a third output, fine-tuned with the same budget."""
    segkit.seed_everything(seed)
    net = segkit.load_model("cells-unet-small").model
    old = net.outc
    net.outc = nn.Conv2d(old.in_channels, 3, kernel_size=1)
    with torch.no_grad():
        net.outc.weight[:2], net.outc.bias[:2] = old.weight, old.bias
        net.outc.weight[2], net.outc.bias[2] = old.weight[1], old.bias[1]  # boundary starts as "nucleus"
    net.num_classes = 3
    loader = DataLoader(TensorDataset(images, boundary_targets), batch_size=BATCH, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    start = time.process_time()
    fit(net, loader, epochs=STEPS * BATCH // len(images), lr=LR, scheduler="poly", device="cpu", progress=False,
        loss=nn.CrossEntropyLoss(weight=torch.tensor([1.0, 1.0, 3.0])))
    return net.eval(), time.process_time() - start


def tile(maps: list[torch.Tensor]) -> torch.Tensor:
    """Instance maps side by side, ids offset so that every instance keeps its own id."""
    out, offset = [], 0
    for m in maps:
        out.append(torch.where(m > 0, m + offset, 0))
        offset += int(m.max())
    return torch.cat(out, dim=1)


def three_scores(results: list, semantics: list, truths: list) -> dict[str, float]:
    """results: per image (semantic (H, W), instances (H, W), scores (I,) or None)."""
    miou = SegmentationMetrics(2)
    for (sem, _, _), true_sem in zip(results, semantics):
        miou.update(sem[None], true_sem[None])
    pred, truth = tile([r[1] for r in results]), tile(list(truths))
    scores = torch.cat([r[2] for r in results]) if results[0][2] is not None else None
    inst = instances.instance_scores(pred, truth, scores=scores)
    pq = instances.panoptic_quality((pred > 0).long(), pred, (truth > 0).long(), truth, num_classes=2)
    return {"miou": float(miou.compute()["mean_iou"]), "f1": inst["f1"], "ap50": inst["ap50"],
            "pq": float(pq["pq_per_class"][1])}


@torch.no_grad()
def maskformer_method(model: MaskFormer):
    def run(images: torch.Tensor) -> list:
        out = model.forward_sets(images)
        sem = mf.semantic_inference(out.class_logits, out.mask_logits).argmax(1)
        return [(sem[i], p.instances, p.scores) for i, p in enumerate(
            mf.panoptic_inference(out.class_logits[i], out.mask_logits[i], (0,), SCORE_THRESHOLD, OVERLAP_THRESHOLD)
            for i in range(len(images)))]

    def run_real(image: torch.Tensor) -> list:
        p = mf.tiled_panoptic_inference(model, image, tile=96, stride=80, stuff_classes=(0,),
                                        score_threshold=SCORE_THRESHOLD, overlap_threshold=OVERLAP_THRESHOLD)
        return [((p.semantic == 1).long(), p.instances, p.scores)]

    return run, run_real


def boundary_method(net: nn.Module):
    @torch.no_grad()
    def run(images: torch.Tensor) -> list:
        probs = net(images).softmax(1)
        return [((p.argmax(0) > 0).long(), instances.split_by_boundary_class(p), None) for p in probs]

    return run, lambda image: run(image[None])


def watershed_method():
    semantic_model = segkit.load_model("cells-unet-small")

    @torch.no_grad()
    def run(images: torch.Tensor) -> list:
        return [(s, instances.split_by_watershed(s == 1, min_distance=3), None) for s in semantic_model.predict(images)]

    return run, lambda image: run(image[None])


def evaluate(methods: dict, val: tuple, dsb) -> dict:
    """Scores on the drawn validation images and on the real DSB image (shrunk by 2, back to full size)."""
    images, semantics, truths = val
    small = F.interpolate(dsb.image[None], scale_factor=0.5, mode="bilinear", antialias=True, align_corners=False)[0].clamp(0, 1)

    def full_size(ids: torch.Tensor) -> torch.Tensor:
        return F.interpolate(ids[None, None].float(), size=dsb.image.shape[-2:], mode="nearest")[0, 0].long()

    scores = {}
    for name, (run, run_real) in methods.items():
        drawn = three_scores(run(images), semantics, truths)
        real = [(full_size(s), full_size(i), c) for s, i, c in run_real(small)]
        scores[name] = {"drawn": drawn, "real": three_scores(real, [dsb.semantic], [dsb.instances])}
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="update this benchmark's section of benchmarks/README.md")
    parser.add_argument("--long", type=int, default=4, help="the last row trains the MaskFormer this many times longer")
    args = parser.parse_args()
    torch.set_num_threads(1)
    train = load_dataset("cells", split="train", num_samples=160)
    samples_ = [train.sample(i, instances=True) for i in range(len(train))]
    images = torch.stack([s[0] for s in samples_])
    targets = [mf.set_targets(s[1], s[2], stuff_classes=(0,)) for s in samples_]
    boundary_targets = torch.stack([instances.boundary_target(s[2]) for s in samples_])
    val_set = load_dataset("cells", split="val", num_samples=24)
    val = tuple(zip(*[val_set.sample(i, instances=True) for i in range(len(val_set))]))
    val = (torch.stack(val[0]), list(val[1]), list(val[2]))
    dsb = samples.dsb_nuclei()

    rows: dict[str, list] = {}
    seconds: dict[str, list] = {}
    for seed in SEEDS:
        model = nuclei_maskformer(seed)
        t_mf = train_maskformer(model, images, targets, STEPS, seed)
        net, t_b = train_boundary(images, boundary_targets, seed)
        long_model = nuclei_maskformer(seed)
        t_long = train_maskformer(long_model, images, targets, args.long * STEPS, seed)
        methods = {"MaskFormer (one model)": maskformer_method(model),
                   "boundary class (unit 08)": boundary_method(net),
                   "semantic + watershed (unit 08)": watershed_method(),
                   f"MaskFormer, {args.long}x the steps": maskformer_method(long_model)}
        budget = {"MaskFormer (one model)": t_mf, "boundary class (unit 08)": t_b,
                  "semantic + watershed (unit 08)": 0.0, f"MaskFormer, {args.long}x the steps": t_long}
        for name, result in evaluate(methods, val, dsb).items():
            rows.setdefault(name, []).append(result)
            seconds.setdefault(name, []).append(budget[name])

    def cell(results: list, where: str, key: str) -> str:
        return " / ".join(f"{r[where][key]:.3f}" for r in results)

    lines = ["| method | training CPU s | drawn mIoU | drawn F1 | drawn AP50 | drawn PQ | real mIoU | real F1 | real AP50 | real PQ |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, results in rows.items():
        t = " / ".join(f"{s:.0f}" for s in seconds[name])
        lines.append(f"| {name} | {t} | " + " | ".join(cell(results, w, k) for w in ("drawn", "real")
                                                       for k in ("miou", "f1", "ap50", "pq")) + " |")
    table = "\n".join(lines)
    print(table)
    if args.write:
        machine = f"{platform.machine()}, {torch.get_num_threads()} thread, torch {torch.__version__}"
        section = (
            "## Masks as queries vs unit 08's post-processing (lessons/14-masks-as-queries)\n\n"
            f"`python benchmarks/bench_maskformer.py --write` ({datetime.date.today()}, {machine}). "
            f"Each cell is seed {SEEDS[0]} / seed {SEEDS[1]} (model initialisation and batch order; watershed has "
            f"no training and no seed). Budget: {STEPS} steps of {BATCH} images for both trained methods. \"drawn\": "
            "the 24 validation images of the procedural nuclei (413 nuclei); \"real\": the DSB 2018 image "
            "(125 nuclei), shrunk by 2. mIoU of background/nucleus; F1 and AP50 at IoU > 0.5 (AP ranked by the "
            "class probability for MaskFormer, single-point AP = precision x recall for the others); PQ of the "
            "nucleus class.\n\n" + table
        )
        current = README.read_text()
        block = f"{BEGIN}\n{section}\n{END}"
        pattern = re.escape(BEGIN) + r".*?" + re.escape(END)
        current = re.sub(pattern, lambda _: block, current, flags=re.S) if BEGIN in current else f"{current.rstrip()}\n\n{block}\n"
        README.write_text(current)


if __name__ == "__main__":
    main()
