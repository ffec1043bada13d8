"""Plausible wrong answers for unit 12 (instructor side; never released to lessons/)."""
WRONG_ANSWERS = [
    dict(
        cell='evaluate_miou',
        id='eval-per-image-mean',
        description='averages per-image mIoUs instead of one confusion matrix for the split',
        source='''
def evaluate_miou(model, images, masks, num_classes=8, batch_size=16):
    was_training = model.training
    model.eval()
    scores, cm_all = [], torch.zeros(num_classes, num_classes, dtype=torch.long)
    with torch.no_grad():
        for k in range(len(images)):
            pred = model(images[k:k + 1]).argmax(1)
            cm = metrics.confusion_matrix(pred, masks[k:k + 1], num_classes)
            cm_all += cm
            scores.append(metrics.mean_iou(cm))
    model.train(was_training)
    return float(np.mean(scores)), metrics.iou_per_class(cm_all)
''',
    ),
    dict(
        cell='evaluate_miou',
        id='eval-train-mode',
        description='scores the model in the mode it is in (no model.eval())',
        source='''
def evaluate_miou(model, images, masks, num_classes=8, batch_size=16):
    cm = torch.zeros(num_classes, num_classes, dtype=torch.long)
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            logits = model(images[start:start + batch_size])
            cm += metrics.confusion_matrix(logits.argmax(1), masks[start:start + batch_size], num_classes)
    return float(metrics.mean_iou(cm)), metrics.iou_per_class(cm)
''',
    ),
    dict(
        cell='evaluate_miou',
        id='eval-stays-eval',
        description='switches to eval mode and leaves the model there',
        source='''
def evaluate_miou(model, images, masks, num_classes=8, batch_size=16):
    model.eval()
    cm = torch.zeros(num_classes, num_classes, dtype=torch.long)
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            logits = model(images[start:start + batch_size])
            cm += metrics.confusion_matrix(logits.argmax(1), masks[start:start + batch_size], num_classes)
    return float(metrics.mean_iou(cm)), metrics.iou_per_class(cm)
''',
    ),
    dict(
        cell='evaluate_miou',
        id='eval-drops-last-batch',
        description='stops before a short last batch (range up to len - batch_size)',
        source='''
def evaluate_miou(model, images, masks, num_classes=8, batch_size=16):
    was_training = model.training
    model.eval()
    cm = torch.zeros(num_classes, num_classes, dtype=torch.long)
    with torch.no_grad():
        for start in range(0, len(images) - batch_size + 1, batch_size):
            logits = model(images[start:start + batch_size])
            cm += metrics.confusion_matrix(logits.argmax(1), masks[start:start + batch_size], num_classes)
    model.train(was_training)
    return float(metrics.mean_iou(cm)), metrics.iou_per_class(cm)
''',
    ),
    dict(
        cell='evaluate_miou',
        id='eval-absent-as-zero',
        description='counts classes absent from truth and prediction as IoU 0',
        source='''
def evaluate_miou(model, images, masks, num_classes=8, batch_size=16):
    was_training = model.training
    model.eval()
    cm = torch.zeros(num_classes, num_classes, dtype=torch.long)
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            logits = model(images[start:start + batch_size])
            cm += metrics.confusion_matrix(logits.argmax(1), masks[start:start + batch_size], num_classes)
    model.train(was_training)
    iou = torch.nan_to_num(metrics.iou_per_class(cm), nan=0.0)
    return float(iou.mean()), iou
''',
    ),
    dict(
        cell='evaluate_miou',
        id='eval-delegates',
        description='calls segkit.train.evaluate, the function the exercise asks for',
        source='''
def evaluate_miou(model, images, masks, num_classes=8, batch_size=16):
    from torch.utils.data import DataLoader, TensorDataset
    import segkit.train
    was_training = model.training
    scores = segkit.train.evaluate(model, DataLoader(TensorDataset(images, masks), batch_size=batch_size), num_classes)
    model.train(was_training)
    return float(scores["mean_iou"]), scores["iou_per_class"]
''',
    ),
    dict(
        cell='capstone_train',
        id='train-zoo-model',
        description="hands in segkit's trained zoo model instead of training one",
        source='''
TRAIN_CPU_SECONDS = 60
from segkit import load_model
model = load_model("street-deeplabv3-tiny").model.eval()   # already trained: why train again?
''',
    ),
    dict(
        cell='capstone_train',
        id='train-big-unet',
        description='spends the budget on a large U-Net (base 32): few steps, and too slow to run',
        source='''
TRAIN_CPU_SECONDS = 60
# The baseline: FCN-8s on the tiny backbone, plain cross-entropy, random left-right flips,
# AdamW with a poly schedule that runs on the budget's clock. It reaches the silver tier.
segkit.seed_everything(0)
model = build_model("unet", NUM_CLASSES, base_channels=32, depth=3).to(device)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
generator = torch.Generator().manual_seed(0)
budget = TimeBudget(TRAIN_CPU_SECONDS, clock=time.process_time)   # CPU time, as the grader counts
steps = 0
model.train()
with tqdm(total=TRAIN_CPU_SECONDS, unit="cpu s", bar_format="{l_bar}{bar}| {n:.0f}/{total} cpu s [{postfix}]") as bar:
    while not budget.expired:
        for group in optimizer.param_groups:                           # poly decay over the budget
            group["lr"] = 3e-3 * (1 - budget.fraction) ** 0.9
        index = torch.randint(len(train_images), (8,), generator=generator)
        images, masks = train_images[index], train_masks[index]       # (8, 3, 96, 128), (8, 96, 128)
        flip = torch.rand(8, generator=generator) < 0.5                # the same flip for image and mask
        images = torch.where(flip[:, None, None, None], images.flip(-1), images)
        masks = torch.where(flip[:, None, None], masks.flip(-1), masks)
        loss = F.cross_entropy(model(images.to(device)), masks.to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        steps += 1
        bar.n = min(budget.elapsed, TRAIN_CPU_SECONDS)
        bar.set_postfix_str(f"step {steps}, loss {loss.item():.3f}", refresh=False)
        bar.update(0)
model.eval()
print(f"{steps} steps in {budget.elapsed:.1f} CPU seconds")
''',
    ),
    dict(
        cell='capstone_train',
        id='train-low-res-logits',
        description='a home-made network without the final upsampling: masks shrunk to fit its 1/8 output',
        source='''
TRAIN_CPU_SECONDS = 60
# The baseline: FCN-8s on the tiny backbone, plain cross-entropy, random left-right flips,
# AdamW with a poly schedule that runs on the budget's clock. It reaches the silver tier.
segkit.seed_everything(0)
model = nn.Sequential(   # three stride-2 convolutions: logits at 1/8 of the input size
    nn.Conv2d(3, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
    nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
    nn.Conv2d(64, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
    nn.Conv2d(64, NUM_CLASSES, 1)).to(device)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
generator = torch.Generator().manual_seed(0)
budget = TimeBudget(TRAIN_CPU_SECONDS, clock=time.process_time)   # CPU time, as the grader counts
steps = 0
model.train()
with tqdm(total=TRAIN_CPU_SECONDS, unit="cpu s", bar_format="{l_bar}{bar}| {n:.0f}/{total} cpu s [{postfix}]") as bar:
    while not budget.expired:
        for group in optimizer.param_groups:                           # poly decay over the budget
            group["lr"] = 3e-3 * (1 - budget.fraction) ** 0.9
        index = torch.randint(len(train_images), (8,), generator=generator)
        images, masks = train_images[index], train_masks[index]       # (8, 3, 96, 128), (8, 96, 128)
        flip = torch.rand(8, generator=generator) < 0.5                # the same flip for image and mask
        images = torch.where(flip[:, None, None, None], images.flip(-1), images)
        masks = torch.where(flip[:, None, None], masks.flip(-1), masks)
        logits = model(images.to(device))
        small = F.interpolate(masks[:, None].float(), size=logits.shape[-2:], mode="nearest")[:, 0].long()
        loss = F.cross_entropy(logits, small.to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        steps += 1
        bar.n = min(budget.elapsed, TRAIN_CPU_SECONDS)
        bar.set_postfix_str(f"step {steps}, loss {loss.item():.3f}", refresh=False)
        bar.update(0)
model.eval()
print(f"{steps} steps in {budget.elapsed:.1f} CPU seconds")
''',
    ),
    dict(
        cell='capstone_report',
        id='report-swapped',
        description='reports the training-pool mIoU as the public one',
        source='''
public_miou, public_iou = evaluate_miou(model, val_images, val_masks)
train_miou, _ = evaluate_miou(model, train_images[:64], train_masks[:64])
present = ~torch.isnan(public_iou)
weakest = int(torch.where(present, public_iou, torch.inf).argmin())
REPORT = {"public_miou": train_miou, "train_miou": public_miou, "weakest_class": classes[weakest]}
''',
    ),
    dict(
        cell='capstone_report',
        id='report-percent',
        description='reports mIoU in percent',
        source='''
public_miou, public_iou = evaluate_miou(model, val_images, val_masks)
train_miou, _ = evaluate_miou(model, train_images[:64], train_masks[:64])
present = ~torch.isnan(public_iou)
weakest = int(torch.where(present, public_iou, torch.inf).argmin())
REPORT = {"public_miou": 100 * public_miou, "train_miou": 100 * train_miou, "weakest_class": classes[weakest]}
''',
    ),
    dict(
        cell='capstone_report',
        id='report-class-index',
        description="gives the weakest class's index, not its name",
        source='''
public_miou, public_iou = evaluate_miou(model, val_images, val_masks)
train_miou, _ = evaluate_miou(model, train_images[:64], train_masks[:64])
present = ~torch.isnan(public_iou)
REPORT = {"public_miou": public_miou, "train_miou": train_miou,
          "weakest_class": int(torch.where(present, public_iou, torch.inf).argmin())}
''',
    ),
    dict(
        cell='capstone_report',
        id='report-strongest',
        description='takes argmax: the strongest class, not the weakest',
        source='''
public_miou, public_iou = evaluate_miou(model, val_images, val_masks)
train_miou, _ = evaluate_miou(model, train_images[:64], train_masks[:64])
REPORT = {"public_miou": public_miou, "train_miou": train_miou,
          "weakest_class": classes[int(torch.nan_to_num(public_iou, nan=-1.0).argmax())]}
''',
    ),
]
