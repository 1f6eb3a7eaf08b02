"""One network per process: the loaded networks kept for the next render.

Loading a network (reading its weights, building it, folding its batch norms)
takes seconds; a batch of scenes, a storyboard followed by its render, or a
notebook rendering again would pay it every time. So renders, storyboards and
the atlas ask `network()`, which loads each (model, weights, device) once and
keeps it. A render never changes a network (the dream engine works on its own
prepared copy, kept beside the network: dream/engine.py), so a kept one gives
the same pixels as a fresh one.

The cache is small and bounded (NETWORKS_KEPT, least recently used goes first):
each network, with its prepared copies, holds GPU memory, and a long-running
service that renders many models must not keep them all. `clear()` (also
`pipeline.models.clear_cache()`) lets go of them all.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections import OrderedDict
from pathlib import Path

import torch

from . import network as networks
from .network import DreamNet

log = logging.getLogger("dreamzoom.models")
NETWORKS_KEPT = 2  # a batch or a notebook rarely switches between more models; each one holds (GPU) memory
_kept: "OrderedDict[tuple, DreamNet]" = OrderedDict()
_lock = threading.Lock()  # renders on several threads load a network once, not once each


def network(name: str, device: torch.device | str = "cpu", weights: str | Path = "pretrained",
            seed: int = 0) -> DreamNet:
    """`load_model(name, device, weights, seed)`, loaded once per process while it stays among the
    NETWORKS_KEPT most recently used. A weights file is known by its path, size and time of change,
    so a file replaced between renders is read again."""
    key = _key(name, torch.device(device), weights, seed)
    with _lock:
        if key is None:  # a weights file that cannot be read: load_model says why
            return networks.load_model(name, device, weights, seed=seed)
        if key in _kept:
            _kept.move_to_end(key)
            return _kept[key]
        net = networks.load_model(name, device, weights, seed=seed)
        log.debug("loaded %s (%s) on %s", name, weights, device)
        _kept[key] = net
        while len(_kept) > NETWORKS_KEPT:
            _kept.popitem(last=False)
        return net


def clear() -> None:
    """Let go of every kept network (and, with them, the engine's prepared copies)."""
    with _lock:
        _kept.clear()
    gc.collect()  # the prepared copies go with their network, which a reference cycle may still hold
    if torch.cuda.is_initialized():
        torch.cuda.empty_cache()  # hand the freed GPU memory back, for other programs to use


def _key(name: str, device: torch.device, weights: str | Path, seed: int) -> tuple | None:
    """What a loaded network depends on. The seed matters only to random weights (pretrained and
    file weights replace every parameter: load_state_dict is strict)."""
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    if weights in ("pretrained", "random"):
        return name, str(weights), seed if weights == "random" else None, str(device)
    try:
        path = Path(weights).resolve()
        stat = path.stat()
    except OSError:
        return None
    return name, str(path), (stat.st_size, stat.st_mtime_ns), str(device)
