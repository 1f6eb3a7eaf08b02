"""`--report FILE.json`: how a run went, for pipelines that should not parse the log.

One record per scene, or per row of a --batch or variant of --vary (with the row and its values):
status, exit code, frames, seconds, the output with its size and SHA-256, warnings, the loudness
measured in a finished video's sound; and the run's exit code, written atomically.
A PNG-folder output's hash covers its frames' names and bytes in order.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .outcome import Outcome, status_of


def content_hash(path: Path) -> tuple[int, str]:
    """(bytes, SHA-256) of a file, or of a folder's files in name order (names included)."""
    digest, size = hashlib.sha256(), 0
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(file.name.encode() + b"\0")
        with open(file, "rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
    return size, digest.hexdigest()


def record(outcome: Outcome) -> dict:
    data = {
        "scene": str(outcome.scene), "status": outcome.status, "exit_code": outcome.code,
        "frames": outcome.frames, "seconds": round(outcome.seconds, 3),
        "output": str(outcome.output) if outcome.output else None, "output_bytes": None, "output_sha256": None,
        "warnings": list(outcome.warnings),
    }
    if outcome.loudness is not None:
        data["loudness"] = dict(outcome.loudness)
    if outcome.row is not None:
        data["row"], data["values"] = outcome.row, dict(outcome.values or {})
    if outcome.status in ("done", "kept") and outcome.output is not None and outcome.output.exists():
        data["output_bytes"], data["output_sha256"] = content_hash(outcome.output)
    return data


def from_record(data: dict) -> Outcome:
    output = Path(data["output"]) if data.get("output") else None
    return Outcome(Path(data["scene"]), data["status"], data["exit_code"], data["frames"], data["seconds"], output,
                   list(data.get("warnings", [])), data.get("row"), data.get("values"), data.get("loudness"))


def write_report(path: Path, outcomes: list[Outcome], code: int) -> None:
    report = {"exit_code": code, "status": status_of(code),
              "scenes": [record(o) for o in outcomes]}
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.part")
    temp.write_text(json.dumps(report, indent=2) + "\n")
    os.replace(temp, path)


def read_report(path: Path) -> list[Outcome]:
    """The scenes of a report a child wrote; [] if it wrote none (it was killed)."""
    try:
        return [from_record(data) for data in json.loads(path.read_text())["scenes"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []
