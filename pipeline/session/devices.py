"""Choosing the device a render runs on."""

from __future__ import annotations

import torch


CUDA_WITHOUT_GPU = "CUDA build of PyTorch without a GPU: the CPU build is smaller; see README"


def cuda_build_without_gpu() -> bool:
    """torch was built for CUDA (gigabytes of GPU libraries) but no GPU is visible: the CPU build would do."""
    return torch.version.cuda is not None and not torch.cuda.is_available()


def pick_device(requested: str) -> torch.device:
    """Resolve --device (auto, cpu, cuda, cuda:N); raises ValueError with a hint when it cannot work."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(requested)
    except RuntimeError:
        raise ValueError(f"--device {requested}: not a device; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"--device {requested}: no CUDA GPU is visible here; use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(
                f"--device {requested}: only {torch.cuda.device_count()} GPU(s) visible (cuda:0..)"
            )
    elif device.type != "cpu":
        raise ValueError(f"--device {requested}: only cpu and cuda are supported")
    return device
