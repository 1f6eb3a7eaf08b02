"""Checkpoints: what a render needs to continue after a crash, kill -9 or Ctrl-C.

A render writes its output in pieces of N frames inside a work folder beside
the output (`.NAME.work/`). After each piece it saves the loop's state (the
current frame, the random generator, the colour reference) and the list of
finished pieces, atomically. `--resume` restores that state, drops any
unfinished piece, and carries on; the frames come out identical.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import torch
import yaml

CHECKPOINT = "checkpoint.pt"


def work_dir(output: Path) -> Path:
    return output.with_name(f".{output.name}.work")


def fingerprint(scene_data: dict, plan_facts: dict) -> str:
    """Changes when anything that shapes the frames changes."""
    text = yaml.safe_dump({"scene": scene_data, "plan": plan_facts}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Checkpoint:
    fingerprint: str
    next_frame: int  # the first frame still to dream
    pieces: list[str] = field(default_factory=list)  # finished pieces, in order, names inside the work folder
    loop_state: dict = field(default_factory=dict)

    def save(self, folder: Path) -> None:
        temp = folder / (CHECKPOINT + ".part")
        with open(temp, "wb") as file:
            torch.save(
                {"fingerprint": self.fingerprint, "next_frame": self.next_frame, "pieces": self.pieces,
                 "loop_state": self.loop_state},
                file,
            )
            file.flush()
            os.fsync(file.fileno())  # on disk before it replaces the last one: safe across power loss
        os.replace(temp, folder / CHECKPOINT)

    @classmethod
    def load(cls, folder: Path) -> "Checkpoint | None":
        path = folder / CHECKPOINT
        if not path.is_file():
            return None
        data = torch.load(path, map_location="cpu", weights_only=True)
        return cls(data["fingerprint"], data["next_frame"], list(data["pieces"]), data["loop_state"])


def clear(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
