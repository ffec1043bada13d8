"""Plausible wrong answers for unit 00 (instructor side; never released to lessons/)."""
WRONG_ANSWERS = [
    # ---- pick_device -------------------------------------------------------------------------
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
    dict(
        cell="pick_device",
        id="forgets-mps",
        description="only the two visible rows of the table: CUDA or CPU, the Apple GPU is never chosen",
        source='''
def pick_device(cuda_available: bool, mps_available: bool) -> str:
    return "cuda" if cuda_available else "cpu"
''',
    ),
    dict(
        cell="pick_device",
        id="both-is-ambiguous",
        description="treats 'both available' as a conflict and falls back to the CPU",
        source='''
def pick_device(cuda_available: bool, mps_available: bool) -> str:
    if cuda_available and not mps_available:
        return "cuda"
    if mps_available and not cuda_available:
        return "mps"
    return "cpu"
''',
    ),
    dict(
        cell="pick_device",
        id="returns-torch-device",
        description="returns a torch.device instead of the plain str the statement asks for",
        patch=[('        return "cuda"',
                '        return torch.device("cuda")'),
               ('        return "mps"\n    return "cpu"',
                '        return torch.device("mps")\n    return torch.device("cpu")')],
    ),
    dict(
        cell="pick_device",
        id="delegates-get-device",
        description="asks segkit.get_device() about this machine instead of using the two arguments",
        source='''
def pick_device(cuda_available: bool, mps_available: bool) -> str:
    return segkit.get_device().type
''',
    ),
    # ---- to_tensor_image ---------------------------------------------------------------------
    dict(
        cell="to_tensor_image",
        id="reshape-not-permute",
        description="reshape(3, H, W): the right shape with the pixels scrambled",
        patch=[('        raise TypeError(f"expected a uint8 numpy array, got {type(array).__name__} of dtype {getattr(array, \'dtype\', None)}")',
                '        raise TypeError(f"expected a uint8 numpy array, got {getattr(array, \'dtype\', type(array))}")'),
               ('    return torch.tensor(array).permute(2, 0, 1).float() / 255.0  # (3, H, W)',
                '    h, w, _ = array.shape\n    return torch.tensor(array).reshape(3, h, w).float() / 255.0')],
    ),
    dict(
        cell="to_tensor_image",
        id="transpose-swaps-h-w",
        description="transpose(0, 2) moves the channels first but swaps height and width",
        patch=[('        raise TypeError(f"expected a uint8 numpy array, got {type(array).__name__} of dtype {getattr(array, \'dtype\', None)}")',
                '        raise TypeError(f"expected a uint8 numpy array, got {getattr(array, \'dtype\', type(array))}")'),
               ('    return torch.tensor(array).permute(2, 0, 1).float() / 255.0  # (3, H, W)',
                '    return torch.tensor(array).transpose(0, 2).float() / 255.0')],
    ),
    dict(
        cell="to_tensor_image",
        id="no-scaling",
        description="converts to float but forgets to divide by 255 (values 0..255)",
        patch=[('        raise TypeError(f"expected a uint8 numpy array, got {type(array).__name__} of dtype {getattr(array, \'dtype\', None)}")',
                '        raise TypeError(f"expected a uint8 numpy array, got {getattr(array, \'dtype\', type(array))}")'),
               ('    return torch.tensor(array).permute(2, 0, 1).float() / 255.0  # (3, H, W)',
                '    return torch.tensor(array).permute(2, 0, 1).float()')],
    ),
    dict(
        cell="to_tensor_image",
        id="float64",
        description="divides the numpy array by 255.0 first: float64, not float32",
        patch=[('        raise TypeError(f"expected a uint8 numpy array, got {type(array).__name__} of dtype {getattr(array, \'dtype\', None)}")',
                '        raise TypeError(f"expected a uint8 numpy array, got {getattr(array, \'dtype\', type(array))}")'),
               ('    return torch.tensor(array).permute(2, 0, 1).float() / 255.0  # (3, H, W)',
                '    return torch.from_numpy(array / 255.0).permute(2, 0, 1)')],
    ),
    dict(
        cell="to_tensor_image",
        id="no-validation",
        description="converts without checking dtype or shape (the visible tests only use a good picture)",
        source='''
def to_tensor_image(array: np.ndarray) -> torch.Tensor:
    return torch.tensor(array).permute(2, 0, 1).float() / 255.0
''',
    ),
    dict(
        cell="to_tensor_image",
        id="valueerror-for-dtype",
        description="raises ValueError for every bad input, also for a wrong dtype (the statement asks TypeError)",
        source='''
def to_tensor_image(array: np.ndarray) -> torch.Tensor:
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"expected a uint8 array of shape (H, W, 3), got {array.dtype} {array.shape}")
    return torch.tensor(array).permute(2, 0, 1).float() / 255.0
''',
    ),
    dict(
        cell="to_tensor_image",
        id="delegates-to-batch",
        description="calls segkit.inference.to_batch, segkit's version of this conversion",
        source='''
from segkit.inference import to_batch


def to_tensor_image(array: np.ndarray) -> torch.Tensor:
    batch, _ = to_batch(array)
    return batch[0]
''',
    ),
]
