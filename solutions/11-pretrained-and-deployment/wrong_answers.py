"""Plausible wrong answers for unit 11 (instructor side; never released to lessons/)."""
WRONG_ANSWERS = [
    dict(
        cell="replace_classifier",
        id="rc-first-conv",
        description="replaces the first convolution (the input layer) instead of the classifier",
        source='''
def replace_classifier(model, num_classes, freeze=False):
    name, old = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d)][0]
    new = nn.Conv2d(old.in_channels, num_classes, old.kernel_size, bias=old.bias is not None)
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)
    model.num_classes = num_classes
    if isinstance(getattr(model, "config", None), dict):
        model.config["num_classes"] = num_classes
    return model
''',
    ),
    dict(
        cell="replace_classifier",
        id="rc-rebuild-model",
        description="builds a fresh model with the new number of classes: the trained backbone is lost",
        source='''
def replace_classifier(model, num_classes, freeze=False):
    config = dict(model.config)
    config.pop("num_classes")
    fresh = build_model(config.pop("name"), num_classes, **config)
    return fresh
''',
    ),
    dict(
        cell="replace_classifier",
        id="rc-freeze-everything",
        description="freeze=True freezes every parameter, the new classifier included",
        patch=[('    new = new.to(device=old.weight.device, dtype=old.weight.dtype)',
                ''),
               ('        for p in new.parameters():\n            p.requires_grad = True',
                '')],
    ),
    dict(
        cell="replace_classifier",
        id="rc-config-not-updated",
        description="swaps the layer but leaves num_classes / config saying the old number",
        patch=[('    new = new.to(device=old.weight.device, dtype=old.weight.dtype)',
                ''),
               ('    model.num_classes = num_classes\n    if isinstance(getattr(model, "config", None), dict):\n        model.config["num_classes"] = num_classes',
                '')],
    ),
    dict(
        cell="replace_classifier",
        id="rc-always-bias",
        description="the new classifier always has a bias",
        patch=[('    new = nn.Conv2d(old.in_channels, num_classes, old.kernel_size, bias=old.bias is not None)\n    new = new.to(device=old.weight.device, dtype=old.weight.dtype)',
                '    new = nn.Conv2d(old.in_channels, num_classes, old.kernel_size)')],
    ),
    dict(
        cell="predict_padded",
        id="pp-no-padding",
        description="no padding: the model sees the odd size as it is",
        patch=[('    height, width = batch.shape[-2:]\n    stride = model.stride\n    pad_h, pad_w = -height % stride, -width % stride\n    outputs = []',
                ''),
               ('        for start in range(0, batch.shape[0], batch_size):\n            x = F.pad(batch[start:start + batch_size], (0, pad_w, 0, pad_h), mode="reflect")\n            outputs.append(model(x)[..., :height, :width])\n    return torch.cat(outputs)',
                '        return torch.cat([model(batch[s:s + batch_size]) for s in range(0, batch.shape[0], batch_size)])')],
    ),
    dict(
        cell="predict_padded",
        id="pp-zero-padding",
        description="pads with zeros instead of reflection",
        patch=[('    stride = model.stride\n    pad_h, pad_w = -height % stride, -width % stride',
                '    pad_h, pad_w = -height % model.stride, -width % model.stride'),
               ('            x = F.pad(batch[start:start + batch_size], (0, pad_w, 0, pad_h), mode="reflect")',
                '            x = F.pad(batch[start:start + batch_size], (0, pad_w, 0, pad_h))')],
    ),
    dict(
        cell="predict_padded",
        id="pp-pad-top-left",
        description="pads the top and left, then crops the top-left corner",
        patch=[('    stride = model.stride\n    pad_h, pad_w = -height % stride, -width % stride',
                '    pad_h, pad_w = -height % model.stride, -width % model.stride'),
               ('            x = F.pad(batch[start:start + batch_size], (0, pad_w, 0, pad_h), mode="reflect")',
                '            x = F.pad(batch[start:start + batch_size], (pad_w, 0, pad_h, 0), mode="reflect")')],
    ),
    dict(
        cell="predict_padded",
        id="pp-no-eval",
        description="forgets model.eval(): BatchNorm uses the batch's statistics",
        source='''
def predict_padded(model, batch, batch_size=8):
    height, width = batch.shape[-2:]
    pad_h, pad_w = -height % model.stride, -width % model.stride
    outputs = []
    with torch.no_grad():
        for start in range(0, batch.shape[0], batch_size):
            x = F.pad(batch[start:start + batch_size], (0, pad_w, 0, pad_h), mode="reflect")
            outputs.append(model(x)[..., :height, :width])
    return torch.cat(outputs)
''',
    ),
    dict(
        cell="predict_padded",
        id="pp-drops-last-chunk",
        description="range(0, N - batch_size, batch_size): the last chunk is lost",
        patch=[('    stride = model.stride\n    pad_h, pad_w = -height % stride, -width % stride',
                '    pad_h, pad_w = -height % model.stride, -width % model.stride'),
               ('        for start in range(0, batch.shape[0], batch_size):',
                '        for start in range(0, max(batch.shape[0] - batch_size, 1), batch_size):')],
    ),
    dict(
        cell="predict_padded",
        id="pp-one-big-batch",
        description="ignores batch_size: the whole batch goes through the model at once",
        patch=[('    stride = model.stride\n    pad_h, pad_w = -height % stride, -width % stride\n    outputs = []',
                '    pad_h, pad_w = -height % model.stride, -width % model.stride'),
               ('        for start in range(0, batch.shape[0], batch_size):\n            x = F.pad(batch[start:start + batch_size], (0, pad_w, 0, pad_h), mode="reflect")\n            outputs.append(model(x)[..., :height, :width])\n    return torch.cat(outputs)',
                '        x = F.pad(batch, (0, pad_w, 0, pad_h), mode="reflect")\n        return model(x)[..., :height, :width]')],
    ),
    dict(
        cell="predict_padded",
        id="pp-delegates-to-segkit",
        description="calls segkit.inference.predict_logits",
        source='''
from segkit.inference import predict_logits as _pl


def predict_padded(model, batch, batch_size=8):
    model.eval()
    return torch.cat([_pl(model, batch[s:s + batch_size]) for s in range(0, batch.shape[0], batch_size)])
''',
    ),
    dict(
        cell="bf16_agreement",
        id="bf16-in-place",
        description="converts the caller's model to bfloat16 in place (no copy)",
        patch=[('    half = copy.deepcopy(model).to(torch.bfloat16).eval()',
                ''),
               ('        labels32 = model(batch.float()).argmax(dim=1)\n        labels16 = half(batch.to(torch.bfloat16)).argmax(dim=1)',
                '        labels32 = model(batch).argmax(dim=1)\n        labels16 = model.to(torch.bfloat16)(batch.to(torch.bfloat16)).argmax(dim=1)')],
    ),
    dict(
        cell="bf16_agreement",
        id="bf16-no-eval",
        description="forgets eval mode: BatchNorm uses the batch's statistics",
        source='''
def bf16_agreement(model, batch):
    half = copy.deepcopy(model).to(torch.bfloat16)
    with torch.no_grad():
        labels32 = model(batch).argmax(dim=1)
        labels16 = half(batch.to(torch.bfloat16)).argmax(dim=1)
    return float((labels32 == labels16).float().mean()), labels32, labels16
''',
    ),
    dict(
        cell="bf16_agreement",
        id="bf16-disagreement",
        description="returns the fraction of pixels that changed, not the fraction that agree",
        patch=[('    half = copy.deepcopy(model).to(torch.bfloat16).eval()',
                '    half = copy.deepcopy(model).to(torch.bfloat16)'),
               ('        labels32 = model(batch.float()).argmax(dim=1)',
                '        labels32 = model(batch).argmax(dim=1)'),
               ('    return float((labels32 == labels16).float().mean()), labels32, labels16',
                '    return float((labels32 != labels16).float().mean()), labels32, labels16')],
    ),
    dict(
        cell="bf16_agreement",
        id="bf16-float32-batch-rounded",
        description="rounds only the input to bfloat16 and keeps float32 weights",
        patch=[('    half = copy.deepcopy(model).to(torch.bfloat16).eval()',
                ''),
               ('        labels32 = model(batch.float()).argmax(dim=1)\n        labels16 = half(batch.to(torch.bfloat16)).argmax(dim=1)',
                '        labels32 = model(batch).argmax(dim=1)\n        labels16 = model(batch.to(torch.bfloat16).float()).argmax(dim=1)')],
    ),
]
