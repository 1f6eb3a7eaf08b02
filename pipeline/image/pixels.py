"""Start pictures (image, colour, noise) and frame conversion between tensors and uint8 pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps


def _on_white(image: Image.Image) -> Image.Image:
    """An image's transparent parts laid over white, as RGB."""
    if image.mode in ("RGBA", "LA", "P"):
        backdrop = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(backdrop, image.convert("RGBA"))
    return image.convert("RGB")


def cover_fit(path: Path, width: int, height: int) -> np.ndarray:
    """Load an image scaled to cover width x height and centre-cropped: (H, W, 3) uint8."""
    with Image.open(path) as image:
        fitted = ImageOps.fit(_on_white(ImageOps.exif_transpose(image)), (width, height), Image.Resampling.LANCZOS)
        return np.array(fitted, dtype=np.uint8)


def cover_fit_gray(path: Path, width: int, height: int, alpha: bool = False) -> np.ndarray:
    """An image's lightness (or with `alpha` its opacity; opaque without an alpha channel), scaled
    and cropped exactly as cover_fit does, so it lines up with the start image: (H, W) uint8."""
    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image)
        if alpha:
            image = image.convert("RGBA").getchannel("A")
        elif image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):  # 16-bit or float grey: scaled, not cut off
            values = np.asarray(image, dtype=np.float64)
            scale = 1.0 if image.mode == "F" else (65535.0 if values.max(initial=0) > 255 else 255.0)
            image = Image.fromarray(np.clip(values / scale * 255.0 + 0.5, 0, 255).astype(np.uint8))
        else:
            image = _on_white(image).convert("L")
        return np.array(ImageOps.fit(image, (width, height), Image.Resampling.LANCZOS), dtype=np.uint8)


def rgba_at_width(path: Path, width: int) -> np.ndarray:
    """An image with its transparency, scaled (Lanczos, once) to `width` pixels: (h, width, 4) uint8."""
    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image).convert("RGBA")
        height = max(1, round(image.height * width / image.width))
        return np.array(image.resize((width, height), Image.Resampling.LANCZOS), dtype=np.uint8)


def solid_color(hex_color: str, width: int, height: int) -> np.ndarray:
    digits = hex_color[1:]
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    rgb = [int(digits[i : i + 2], 16) for i in (0, 2, 4)]
    return np.broadcast_to(np.array(rgb, dtype=np.uint8), (height, width, 3)).copy()


def smooth_noise(width: int, height: int, seed: int) -> np.ndarray:
    """Soft coloured noise: random at 1/8 size, upscaled, around mid grey."""
    rng = np.random.default_rng(seed)
    small = rng.uniform(64, 192, size=(max(1, height // 8), max(1, width // 8), 3)).astype(np.uint8)
    image = Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC)
    return np.array(image, dtype=np.uint8)


def to_tensor(pixels: np.ndarray, device: torch.device | str) -> torch.Tensor:
    """(H, W, 3) uint8 -> (1, 3, H, W) float in [0, 1] on `device`."""
    tensor = torch.from_numpy(np.ascontiguousarray(pixels)).to(device)
    return tensor.permute(2, 0, 1).unsqueeze(0).float().div_(255.0)


def to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A small host tensor to `device` without making the host wait for the GPU's queue."""
    if torch.device(device).type != "cuda":
        return tensor.to(device)
    return tensor.pin_memory().to(device, non_blocking=True)


def device_pixels(image: torch.Tensor) -> torch.Tensor:
    """(1, 3, H, W) in [0, 1] -> (H, W, 3) uint8, still on the image's device."""
    return image[0].mul(255.0).round_().clamp_(0, 255).to(torch.uint8).permute(1, 2, 0)


def to_pixels(image: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) in [0, 1] -> (H, W, 3) uint8 on the host (waits for the device)."""
    return device_pixels(image).contiguous().cpu().numpy()
