"""Plausible wrong answers for unit 12 (instructor side; never released to lessons/)."""
WRONG_ANSWERS = [
    dict(
        cell='evaluate_miou',
        id='eval-per-image-mean',
        description='averages per-image mIoUs instead of one confusion matrix for the split',
        patch=[('    device = next(model.parameters()).device\n    cm = torch.zeros(num_classes, num_classes, dtype=torch.long)',
                '    scores, cm_all = [], torch.zeros(num_classes, num_classes, dtype=torch.long)'),
               ('        for start in range(0, len(images), batch_size):\n            logits = model(images[start:start + batch_size].to(device))      # (B, C, H, W)\n            cm += metrics.confusion_matrix(logits.argmax(1).cpu(), masks[start:start + batch_size], num_classes)',
                '        for k in range(len(images)):\n            pred = model(images[k:k + 1]).argmax(1)\n            cm = metrics.confusion_matrix(pred, masks[k:k + 1], num_classes)\n            cm_all += cm\n            scores.append(metrics.mean_iou(cm))'),
               ('    return float(metrics.mean_iou(cm)), metrics.iou_per_class(cm)',
                '    return float(np.mean(scores)), metrics.iou_per_class(cm_all)')],
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
        patch=[('    device = next(model.parameters()).device',
                ''),
               ('        for start in range(0, len(images), batch_size):\n            logits = model(images[start:start + batch_size].to(device))      # (B, C, H, W)\n            cm += metrics.confusion_matrix(logits.argmax(1).cpu(), masks[start:start + batch_size], num_classes)',
                '        for start in range(0, len(images) - batch_size + 1, batch_size):\n            logits = model(images[start:start + batch_size])\n            cm += metrics.confusion_matrix(logits.argmax(1), masks[start:start + batch_size], num_classes)')],
    ),
    dict(
        cell='evaluate_miou',
        id='eval-absent-as-zero',
        description='counts classes absent from truth and prediction as IoU 0',
        patch=[('    device = next(model.parameters()).device',
                ''),
               ('            logits = model(images[start:start + batch_size].to(device))      # (B, C, H, W)\n            cm += metrics.confusion_matrix(logits.argmax(1).cpu(), masks[start:start + batch_size], num_classes)',
                '            logits = model(images[start:start + batch_size])\n            cm += metrics.confusion_matrix(logits.argmax(1), masks[start:start + batch_size], num_classes)'),
               ('    return float(metrics.mean_iou(cm)), metrics.iou_per_class(cm)',
                '    iou = torch.nan_to_num(metrics.iou_per_class(cm), nan=0.0)\n    return float(iou.mean()), iou')],
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
        patch=[('model = build_model("fcn8s", NUM_CLASSES, backbone="tiny").to(device)',
                'model = build_model("unet", NUM_CLASSES, base_channels=32, depth=3).to(device)')],
    ),
    dict(
        cell='capstone_train',
        id='train-low-res-logits',
        description='a home-made network without the final upsampling: masks shrunk to fit its 1/8 output',
        patch=[('model = build_model("fcn8s", NUM_CLASSES, backbone="tiny").to(device)',
                'model = nn.Sequential(   # three stride-2 convolutions: logits at 1/8 of the input size\n    nn.Conv2d(3, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU(),\n    nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),\n    nn.Conv2d(64, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),\n    nn.Conv2d(64, NUM_CLASSES, 1)).to(device)'),
               ('        loss = F.cross_entropy(model(images.to(device)), masks.to(device))',
                '        logits = model(images.to(device))\n        small = F.interpolate(masks[:, None].float(), size=logits.shape[-2:], mode="nearest")[:, 0].long()\n        loss = F.cross_entropy(logits, small.to(device))')],
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
