"""How a scene's render went, and the exit codes a pipeline can rely on.

0 done, 1 the render failed, 2 bad input (scene, arguments, a refused
overwrite), 75 busy: another render holds the output, retry later; stopped
by a signal, 128 + its number: 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP (a
playable partial video and the checkpoint are kept). A batch exits with the
worst of its scenes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_BUSY = 75  # another render holds the output: retry later (sysexits' EX_TEMPFAIL)


@dataclass
class Outcome:
    """How one scene went: for the exit code and the batch summary."""

    scene: Path
    status: str  # done, kept (--resume: already rendered), invalid, refused, busy, failed, interrupted, skipped,
    # planned, storyboard
    code: int
    frames: int = 0
    seconds: float = 0.0
    output: Path | None = None
    warnings: list[str] = field(default_factory=list)
    row: str | None = None  # a batch row or variant: where its values come from ('rows.csv:3')
    values: dict | None = None  # the values it puts in the scene, by column or key path
    loudness: dict | None = None  # the finished file's sound: {"integrated": LUFS, "true_peak": dBTP}


def status_of(code: int) -> str:
    """A run's or a child's status from its exit code alone."""
    if code > 128:
        return "interrupted"
    return {EXIT_OK: "done", EXIT_FAILED: "failed", EXIT_BAD_INPUT: "refused", EXIT_BUSY: "busy"}.get(code, "failed")
