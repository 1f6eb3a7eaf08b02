"""Checkpoints: what a render needs to continue after a crash, kill -9 or a stop signal.

A render writes its output in pieces of N frames inside a work folder beside
the output (`.NAME.work/`, marked as ours by a small file). After each piece
it saves the loop's state (the current frame, the random generator, the
colour reference), the list of finished pieces and the facts that decide the
pixels (the resolved scene, the hashes of its input files, precision,
device type), atomically. `--resume` continues only a render with the same
facts, and names what changed otherwise.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
import yaml


CHECKPOINT = "checkpoint.pt"
MARKER = "dreamzoom-work"  # in every work folder a render made: only those are ever cleared


class CheckpointError(OSError):
    """A checkpoint that cannot be read or saved; the message is one line for the user."""


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def is_ours(work: Path) -> bool:
    return (work / MARKER).is_file()


def make_work_dir(work: Path) -> None:
    """A fresh work folder; an old one is cleared only if a render made it."""
    clear(work)
    work.mkdir(parents=True)
    (work / MARKER).write_text("A dreamzoom render's pieces and checkpoint; removed when the render finishes.\n")


def fingerprint(facts: dict) -> str:
    """Changes when anything that shapes the frames changes."""
    return hashlib.sha256(yaml.safe_dump(facts, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class Checkpoint:
    fingerprint: str
    next_frame: int  # the first frame still to dream
    pieces: list[str] = field(default_factory=list)  # finished pieces, in order, names inside the work folder
    loop_state: dict = field(default_factory=dict)
    facts: dict = field(default_factory=dict)  # what the fingerprint was made of, to say what changed

    def save(self, folder: Path) -> None:
        """Atomically: a failed save (disk full) leaves the previous checkpoint as it was."""
        temp = folder / (CHECKPOINT + ".part")
        try:
            with open(temp, "wb") as file:
                torch.save({"fingerprint": self.fingerprint, "next_frame": self.next_frame, "pieces": self.pieces,
                            "loop_state": self.loop_state, "facts": self.facts}, file)
                file.flush()
                os.fsync(file.fileno())  # on disk before it replaces the last one: safe across power loss
            os.replace(temp, folder / CHECKPOINT)
        except (OSError, RuntimeError) as error:  # torch.save reports a full disk as a RuntimeError
            temp.unlink(missing_ok=True)
            raise CheckpointError(f"cannot save the checkpoint in {folder}: {first_line(error)}") from None

    @classmethod
    def load(cls, folder: Path) -> "Checkpoint | None":
        """The checkpoint in `folder`, None if there is none; CheckpointError if it cannot be read.
        Whatever the file holds (truncated, overwritten, another program's), the error is ours."""
        path = folder / CHECKPOINT
        if not path.is_file():
            return None
        try:
            with warnings.catch_warnings():  # torch's notes on odd bytes are not the user's business
                warnings.simplefilter("ignore")
                data = torch.load(path, map_location="cpu", weights_only=True)
            checkpoint = cls(data["fingerprint"], data["next_frame"], data["pieces"], data["loop_state"],
                             data.get("facts", {}))
        except OSError as error:
            raise CheckpointError(f"the checkpoint {path} cannot be read ({first_line(error)[:200]})") from None
        except Exception:  # noqa: BLE001 - any bytes at all may reach the unpickler
            checkpoint = None
        if checkpoint is None or not checkpoint.well_formed():
            raise CheckpointError(f"the checkpoint {path} is damaged") from None
        return checkpoint

    def well_formed(self) -> bool:
        return (isinstance(self.fingerprint, str) and type(self.next_frame) is int and self.next_frame >= 0
                and isinstance(self.pieces, list) and all(isinstance(p, str) for p in self.pieces)
                and isinstance(self.loop_state, dict) and isinstance(self.facts, dict))


def clear(folder: Path) -> None:
    """Remove a work folder, but only one a render made (it holds the marker)."""
    if folder.is_dir() and is_ours(folder):
        shutil.rmtree(folder, ignore_errors=True)
